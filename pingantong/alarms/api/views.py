"""`/api/v1/alarms/`: the queue as data (public contract), and claim / step / close / review."""

from __future__ import annotations

from django.db.models import Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pingantong.core.api import RestrictedGenericViewSet, RestrictedReadOnlyViewSet
from pingantong.core.audit import log_read, purpose_of
from pingantong.core.drf import NoCountPagination

from .. import actions, selectors
from ..choices import AlarmStatus
from ..models import Alarm, AlarmStep, Signal
from .serializers import (
    AlarmCloseInput,
    AlarmDetailSerializer,
    AlarmReviewInput,
    AlarmSerializer,
    AlarmStepInput,
    SignalSerializer,
)


class AlarmFilter(filters.FilterSet):
    # distinct=False: a status is a column of the row, no join can repeat it (DISTINCT would make
    # the page count a sort over every matching alarm).
    status = filters.MultipleChoiceFilter(choices=AlarmStatus.choices, distinct=False)
    escalated = filters.BooleanFilter(field_name="escalated_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Alarm
        fields = ["status", "alarm_type", "priority", "device_ident", "client", "review_required"]


class AlarmViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedGenericViewSet):
    """Alarms the caller may see, priority then age. `?status=open` is the live queue."""

    queryset = Alarm.objects.select_related("claimed_by").order_by("priority", "raised_at", "pk")
    serializer_class = AlarmSerializer
    filterset_class = AlarmFilter
    restrict_action = {
        "claim": "claim",
        "step": "change",
        "close": "change",
        "review": "review",
        "kpis": "view",
    }

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "retrieve":
            qs = qs.prefetch_related(Prefetch("steps", AlarmStep.objects.select_related("actor")))
        return qs

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        """One alarm with its timeline; its position is location data, so the read is logged (X2)."""
        response = super().retrieve(request, *args, **kwargs)
        if response.data.get("latitude") is not None:
            log_read(
                user=request.user,
                obj=self.get_object(),
                fields=["location"],
                request=request,
                purpose=purpose_of(request, "alarm handling"),
            )
        return response

    def get_serializer_class(self):
        return AlarmDetailSerializer if self.action == "retrieve" else AlarmSerializer

    def _done(self, alarm: Alarm, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().model.objects.prefetch_related("steps__actor").get(pk=alarm.pk)
        return Response(AlarmDetailSerializer(fresh).data, status=code)

    @extend_schema(request=None, responses=AlarmDetailSerializer)
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, pk: str | None = None) -> Response:
        alarm = self.get_object()
        try:
            alarm = actions.claim_alarm(alarm_id=alarm.pk, user=request.user)
        except actions.AlarmAlreadyClaimed as exc:
            return Response({"detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
        return self._done(alarm)

    @extend_schema(request=AlarmStepInput, responses=AlarmDetailSerializer)
    @action(detail=True, methods=["post"])
    def step(self, request: Request, pk: str | None = None) -> Response:
        alarm = self.get_object()
        data = AlarmStepInput(data=request.data)
        data.is_valid(raise_exception=True)
        extra = {"result": data.validated_data["result"]} if data.validated_data["result"] else None
        actions.record_manual_step(
            alarm_id=alarm.pk,
            user=request.user,
            kind=data.validated_data["kind"],
            note=data.validated_data["note"],
            data=extra,
        )
        return self._done(alarm, status.HTTP_201_CREATED)

    @extend_schema(request=AlarmCloseInput, responses=AlarmDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        alarm = self.get_object()
        data = AlarmCloseInput(data=request.data)
        data.is_valid(raise_exception=True)
        alarm = actions.close_alarm(alarm_id=alarm.pk, user=request.user, **data.validated_data)
        return self._done(alarm)

    @extend_schema(request=AlarmReviewInput, responses=AlarmDetailSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        alarm = self.get_object()
        data = AlarmReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        alarm = actions.review_alarm(alarm_id=alarm.pk, user=request.user, **data.validated_data)
        return self._done(alarm)

    @extend_schema(responses=dict)
    @action(detail=False, methods=["get"])
    def kpis(self, request: Request) -> Response:
        """The supervisor's live figures (open by age, answered within 60/180 s, time to close…)."""
        data = selectors.kpis(request.user)
        data["now"] = data["now"].isoformat()
        return Response(data)


class SignalViewSet(RestrictedReadOnlyViewSet):
    """Recorded device conditions that interrupted nobody (low battery, powered off …), newest first."""

    queryset = Signal.objects.order_by("-recorded_at", "-pk")
    # Signals pile up (every low battery of every device): pages without COUNT(*).
    pagination_class = NoCountPagination
    serializer_class = SignalSerializer
    filterset_fields = ["signal_type", "device_ident", "client"]
