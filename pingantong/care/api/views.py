"""The care API: worklists and task actions, calls, visits, life signs, coverage, support and
referrals. Every viewset inherits the restricted bases; writes go through the care actions."""

from __future__ import annotations

from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_date
from rest_framework import exceptions, mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pingantong.clients.models import Client
from pingantong.core.access import user_may
from pingantong.core.api import RestrictedGenericViewSet, RestrictedModelViewSet, RestrictedReadOnlyViewSet

from .. import actions
from ..choices import ACTIVE_STATUSES
from ..models import (
    Activity,
    CareCall,
    CounsellingSession,
    DailyCoverage,
    DirectoryEntry,
    InterventionFlag,
    LifeSign,
    PartnerOrganisation,
    Referral,
    Task,
    Visit,
)
from ..selectors.coverage import coverage_by_region
from ..selectors.lifesigns import life_status
from ..selectors.worklist import worklist, worklist_page
from . import serializers as s
from .pagination import NoCountPagination


def _client(request: Request, client_id: int, model: type = Task) -> Client:
    """The client, if the user may see them and may add `model` records in their region."""
    client = get_object_or_404(Client.objects.restrict(request.user, "view"), pk=client_id)
    if not user_may(request.user, "add", model(region_id=client.region_id)):
        raise exceptions.PermissionDenied("You may not record this for clients of this region.")
    return client


class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedGenericViewSet):
    """Tasks. `GET` lists the worklist (active tasks by due time; `?scope=mine|team|all`,
    `?region=<code>`, `?kind=`, `?status=done` for closed ones); `POST` opens a task; actions
    `start`, `call`, `complete`, `escalate` move it on."""

    queryset = Task.objects.all()
    serializer_class = s.TaskSerializer
    pagination_class = NoCountPagination
    restrict_action = {"start": "change", "call": "change", "complete": "change", "escalate": "change"}

    def get_queryset(self):
        if self.action == "list":
            params = self.request.query_params
            statuses = tuple(params.getlist("status")) or ACTIVE_STATUSES
            return worklist(
                self.request.user,
                scope=params.get("scope") or "all",
                region=params.get("region"),
                kind=params.get("kind"),
                statuses=statuses,
            )
        qs = super().get_queryset().select_related("client")
        return qs.prefetch_related("events") if self.action == "retrieve" else qs

    def get_serializer_class(self):
        return s.TaskDetailSerializer if self.action == "retrieve" else s.TaskSerializer

    def paginate_queryset(self, queryset):
        """Worklist pages come from `worklist_page` (index walk per status, no sort of the district)."""
        paginator = self.paginator
        assert isinstance(paginator, NoCountPagination)
        params = self.request.query_params
        statuses = tuple(params.getlist("status")) or ACTIVE_STATUSES
        return paginator.paginate_with(
            lambda page, size: worklist_page(queryset, page=page, size=size, statuses=statuses), self.request
        )

    def create(self, request: Request) -> Response:
        data = s.OpenTaskInput(data=request.data)
        data.is_valid(raise_exception=True)
        client = _client(request, data.validated_data["client"])
        task = actions.open_task(
            kind=data.validated_data["kind"],
            client=client,
            due_at=data.validated_data["due_at"],
            reason=data.validated_data["reason"],
            team=data.validated_data["team"],
            created_by=request.user,
        )
        return Response(s.TaskSerializer(task).data, status=201)

    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk=None) -> Response:
        task = actions.start_task(task=self.get_object(), by=request.user)
        return Response(s.TaskSerializer(task).data)

    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk=None) -> Response:
        data = s.CompleteInput(data=request.data)
        data.is_valid(raise_exception=True)
        task = actions.complete_task(
            task=self.get_object(),
            outcome=data.validated_data["outcome"],
            notes=data.validated_data["notes"],
            by=request.user,
        )
        return Response(s.TaskSerializer(task).data)

    @action(detail=True, methods=["post"])
    def escalate(self, request: Request, pk=None) -> Response:
        data = s.EscalateInput(data=request.data)
        data.is_valid(raise_exception=True)
        task = actions.escalate_task(
            task=self.get_object(), reason=data.validated_data["reason"], by=request.user
        )
        return Response(s.TaskSerializer(task).data)

    @action(detail=True, methods=["post"])
    def call(self, request: Request, pk=None) -> Response:
        """Record the agent's call for this task (structured notes: mood, health, needs, concerns)."""
        task = self.get_object()
        if task.client is None:
            raise exceptions.ValidationError({"task": "This task has no client to call."})
        data = s.CareCallInput(data=request.data)
        data.is_valid(raise_exception=True)
        call = actions.record_care_call(client=task.client, by=request.user, task=task, **data.validated_data)
        return Response(s.CareCallSerializer(call).data, status=201)


class CareCallViewSet(RestrictedReadOnlyViewSet):
    queryset = CareCall.objects.all()
    serializer_class = s.CareCallSerializer
    filterset_fields = ["client", "mode", "result"]


class VisitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedGenericViewSet):
    """Visits; `POST /checkin/` with the task and the location, then `POST /<id>/complete/`."""

    queryset = Visit.objects.all()
    serializer_class = s.VisitSerializer
    filterset_fields = ["client", "status", "verified"]
    restrict_action = {"checkin": "view", "complete": "change"}

    @action(detail=False, methods=["post"])
    def checkin(self, request: Request) -> Response:
        data = s.CheckInInput(data=request.data)
        data.is_valid(raise_exception=True)
        task = get_object_or_404(
            Task.objects.restrict(request.user, "change").select_related("client"),
            pk=data.validated_data["task"],
        )
        if task.client is None:
            raise exceptions.ValidationError({"task": "This task has no client to visit."})
        visit = actions.check_in_visit(
            client=task.client,
            by=request.user,
            task=task if task.is_active else None,
            latitude=data.validated_data["latitude"],
            longitude=data.validated_data["longitude"],
            accuracy_m=data.validated_data["accuracy_m"],
            reason=data.validated_data["reason"],
        )
        return Response(s.VisitSerializer(visit).data, status=201)

    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk=None) -> Response:
        data = s.CompleteVisitInput(data=request.data)
        data.is_valid(raise_exception=True)
        visit = actions.complete_visit(visit=self.get_object(), by=request.user, **data.validated_data)
        return Response(s.VisitSerializer(visit).data)


class LifeSignViewSet(RestrictedReadOnlyViewSet):
    """Life signs recorded by care work; `GET status/?client=<id>` merges them with the devices' (the
    last life sign, its source and evidence, and when the device alone was last seen)."""

    queryset = LifeSign.objects.all()
    serializer_class = s.LifeSignSerializer
    filterset_fields = ["client", "source"]

    @action(detail=False, methods=["get"])
    def status(self, request: Request) -> Response:
        try:
            client_id = int(request.query_params.get("client", ""))
        except ValueError:
            raise exceptions.ValidationError({"client": "Give the client's id."}) from None
        client = get_object_or_404(Client.objects.restrict(request.user, "view"), pk=client_id)
        life = life_status(client.pk)
        return Response(
            {
                "client": client.pk,
                "last_life_sign_at": life.last_life_sign_at,
                "source": life.source,
                "origin": life.origin,
                "evidence": life.evidence,
                "last_device_seen_at": life.last_device_seen_at,
                "device_only": life.device_only,
            }
        )


class CoverageViewSet(mixins.ListModelMixin, RestrictedGenericViewSet):
    """Daily confirmation coverage: `GET ?day=YYYY-MM-DD&region=<code>` gives confirmed / due per
    region one level below `region` and the total (aggregates only, restricted to the user's regions)."""

    queryset = DailyCoverage.objects.order_by("-day", "region")
    serializer_class = s.CoverageSerializer

    def list(self, request: Request, *args, **kwargs) -> Response:
        day = parse_date(request.query_params.get("day", "") or "") or timezone.localdate()
        try:
            rows, total = coverage_by_region(
                request.user, day=day, region=request.query_params.get("region") or None
            )
        except (ValueError, KeyError):
            raise exceptions.ValidationError({"region": "Not a 12-digit division code."}) from None

        def shape(row):
            return {
                "region": row.region_code,
                "name": row.region_name,
                "due": row.due,
                "confirmed": row.confirmed,
                "confirmed_by_life_sign": row.confirmed_by_life_sign,
                "confirmed_by_task": row.confirmed_by_task,
                "open_tasks": row.open_tasks,
                "rate": row.rate,
            }

        return Response({"day": day.isoformat(), "total": shape(total), "results": [shape(r) for r in rows]})


class CounsellingSessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedGenericViewSet):
    """Counselling sessions (S16); `POST` records one (with `needs_intervention`: S17 flag + referral)."""

    queryset = CounsellingSession.objects.all()
    serializer_class = s.CounsellingSessionSerializer
    filterset_fields = ["client", "needs_intervention"]

    def create(self, request: Request) -> Response:
        data = s.CounsellingInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        client = _client(request, values.pop("client"), CounsellingSession)
        session = actions.record_counselling_session(client=client, by=request.user, **values)
        return Response(s.CounsellingSessionSerializer(session).data, status=201)


class InterventionFlagViewSet(RestrictedReadOnlyViewSet):
    """Active S17 warnings; `POST <id>/clear/` (supervisors) ends one once the station has taken over."""

    queryset = InterventionFlag.objects.filter(cleared_at__isnull=True)
    serializer_class = s.InterventionFlagSerializer
    restrict_action = {"clear": "change"}

    @action(detail=True, methods=["post"])
    def clear(self, request: Request, pk=None) -> Response:
        flag = actions.clear_intervention_flag(flag=self.get_object(), by=request.user)
        return Response(s.InterventionFlagSerializer(flag).data)


class ReferralViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedGenericViewSet):
    """Referrals (S17, S20, S21); `POST` refers a client, `POST <id>/outcome/` records the outcome."""

    queryset = Referral.objects.all()
    serializer_class = s.ReferralSerializer
    filterset_fields = ["client", "kind", "status"]
    restrict_action = {"outcome": "change"}

    def create(self, request: Request) -> Response:
        data = s.ReferralInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        client = _client(request, values.pop("client"), Referral)
        partner_id = values.pop("partner")
        partner = (
            get_object_or_404(PartnerOrganisation.objects.restrict(request.user, "view"), pk=partner_id)
            if partner_id
            else None
        )
        referral = actions.refer_client(client=client, by=request.user, partner=partner, **values)
        return Response(s.ReferralSerializer(referral).data, status=201)

    @action(detail=True, methods=["post"])
    def outcome(self, request: Request, pk=None) -> Response:
        data = s.ReferralOutcomeInput(data=request.data)
        data.is_valid(raise_exception=True)
        referral = actions.record_referral_outcome(
            referral=self.get_object(), by=request.user, **data.validated_data
        )
        return Response(s.ReferralSerializer(referral).data)


class PartnerOrganisationViewSet(RestrictedModelViewSet):
    queryset = PartnerOrganisation.objects.all()
    serializer_class = s.PartnerOrganisationSerializer
    filterset_fields = ["kind", "active"]


class DirectoryEntryViewSet(RestrictedModelViewSet):
    """The information directory (S19): care homes, community services, policies."""

    queryset = DirectoryEntry.objects.all()
    serializer_class = s.DirectoryEntrySerializer
    filterset_fields = ["category"]


class ActivityViewSet(RestrictedModelViewSet):
    """Offline activities (S18); `POST <id>/signup/` signs a client up, `POST <id>/attendance/`
    records who came."""

    # Meta.ordering does not apply to a GROUP BY query: ordered here, or pages may repeat rows.
    queryset = Activity.objects.annotate(signed_up=Count("signups")).order_by("-starts_at", "-pk")
    serializer_class = s.ActivitySerializer
    restrict_action = {"signup": "view", "attendance": "change"}

    @action(detail=True, methods=["post"])
    def signup(self, request: Request, pk=None) -> Response:
        client = _client(request, int(request.data.get("client") or 0))
        signup = actions.sign_up_for_activity(activity=self.get_object(), client=client, by=request.user)
        return Response(s.ActivitySignupSerializer(signup).data, status=201)

    @action(detail=True, methods=["post"])
    def attendance(self, request: Request, pk=None) -> Response:
        activity = self.get_object()
        signup = get_object_or_404(activity.signups.all(), client_id=request.data.get("client"))
        actions.record_attendance(signup=signup, attended=bool(request.data.get("attended", True)))
        return Response(s.ActivitySignupSerializer(signup).data)
