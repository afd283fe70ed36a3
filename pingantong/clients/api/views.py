"""API endpoints of the clients app (under /api/v1/): clients, contacts, consents, applications."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from pingantong.core.access import user_may
from pingantong.core.api import RestrictedGenericViewSet, RestrictedModelViewSet, RestrictedReadOnlyViewSet
from pingantong.core.audit import log_read, purpose_of
from pingantong.core.drf import NoCountPagination
from pingantong.core.masking import mask_phone

from .. import actions, selectors
from ..models import Agreement, Application, Client, Consent, Contact, FrequencyChangeRequest, Termination
from . import serializers as s


class ClientPagination(NoCountPagination):
    max_page_size = 200


class ClientViewSet(RestrictedModelViewSet):
    """Search with ?q= (name, phone, full ID number, village) and filter by category, risk_tier, status,
    region. Writes go through the actions (ID validation, duplicates); clients are never deleted."""

    queryset = Client.objects.select_related("region")
    pagination_class = ClientPagination
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    restrict_action = {"reveal": "reveal_id", "terminate": "terminate"}

    def get_serializer_class(self):
        return s.ClientListSerializer if self.action == "list" else s.ClientDetailSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        return selectors.search_clients(qs, self.request.query_params) if self.action == "list" else qs

    def retrieve(self, request, *args, **kwargs):
        client = self.get_object()
        data = s.ClientDetailSerializer(client).data
        reveal = user_may(request.user, "reveal_phone", client)
        if not reveal:
            data["phone"], data["phone2"] = mask_phone(client.phone), mask_phone(client.phone2)
        fields = ["address", "health", "location"] + (["phone"] if reveal else [])
        log_read(user=request.user, obj=client, fields=fields, purpose=purpose_of(request), request=request)
        return Response(data)

    def create(self, request, *args, **kwargs):
        serializer = s.ClientDetailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        id_number = values.pop("id_number", "")
        region = values.pop("region")
        self.check_new_object(Client(region=region))
        client = actions.register_client(
            id_number=id_number, by=request.user, status="active", region_id=region.pk, **values
        )
        return Response(s.ClientDetailSerializer(client).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        client = self.get_object()
        serializer = s.ClientDetailSerializer(client, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        id_number = values.pop("id_number", None)
        if "region" in values:
            region = values.pop("region")
            self.check_new_object(Client(region=region))
            values["region_id"] = region.pk
        client = actions.update_client(client=client, by=request.user, id_number=id_number, **values)
        return Response(s.ClientDetailSerializer(client).data)

    @action(detail=True, methods=["get"])
    def reveal(self, request, pk=None):
        """The full ID number, for permitted roles; the read is audit-logged with its purpose."""
        client = self.get_object()
        log_read(
            user=request.user, obj=client, fields=["id_number"], purpose=purpose_of(request), request=request
        )
        return Response({"id_number": client.id_number})

    @action(detail=True, methods=["post"])
    def terminate(self, request, pk=None):
        from datetime import date

        client = self.get_object()
        try:
            effective = date.fromisoformat(str(request.data.get("effective_date", "")))
        except ValueError:
            return Response({"effective_date": ["Give a date, YYYY-MM-DD."]}, status=400)
        termination = actions.terminate_client(
            client=client,
            reason=str(request.data.get("reason", "")),
            effective_date=effective,
            by=request.user,
            details=str(request.data.get("details", "")),
        )
        return Response(
            {"reason": termination.reason, "effective_date": termination.effective_date.isoformat()}
        )


class ContactViewSet(RestrictedModelViewSet):
    """Contacts: phones masked in lists (X2); one contact's full phones for roles that call, logged."""

    queryset = Contact.objects.all()
    serializer_class = s.ContactSerializer

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        rows = response.data["results"] if isinstance(response.data, dict) else response.data
        for row in rows:
            row["phone"], row["phone2"] = mask_phone(row["phone"]), mask_phone(row["phone2"])
        return response

    def retrieve(self, request, *args, **kwargs):
        contact = self.get_object()
        data = s.ContactSerializer(contact).data
        if user_may(request.user, "reveal_phone", contact):
            log_read(
                user=request.user, obj=contact, fields=["phone"], purpose=purpose_of(request), request=request
            )
        else:
            data["phone"], data["phone2"] = mask_phone(contact.phone), mask_phone(contact.phone2)
        return Response(data)

    def get_queryset(self):
        qs = super().get_queryset()
        client = self.request.query_params.get("client")
        return qs.filter(client_id=client) if client and client.isdigit() else qs


class ConsentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, RestrictedGenericViewSet
):
    """Consent records are appended, never edited: a withdrawal is a new record with granted=false."""

    queryset = Consent.objects.select_related("client")
    serializer_class = s.ConsentSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        client = self.request.query_params.get("client")
        return qs.filter(client_id=client) if client and client.isdigit() else qs

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        client = get_object_or_404(Client.objects.restrict(request.user, "view"), pk=values.pop("client").pk)
        self.check_new_object(Consent(client=client))
        consent = actions.record_consent(client=client, by=request.user, **values)
        return Response(s.ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedGenericViewSet):
    """P1 over the API: POST files (village), then approve/return (township) and record (district)."""

    queryset = Application.objects.select_related("client").prefetch_related("steps")
    serializer_class = s.ApplicationSerializer
    restrict_action = {"approve": "view", "return_": "view", "record": "view"}

    def create(self, request, *args, **kwargs):
        data = s.ApplicationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        application = actions.file_application(
            by=request.user,
            id_number=values.pop("id_number"),
            statement=values.pop("statement"),
            requested_scheme=values.pop("requested_scheme"),
            region_id=values.pop("region"),
            **values,
        )
        return Response(s.ApplicationSerializer(application).data, status=status.HTTP_201_CREATED)

    def _decide(self, request, func, extra):
        application = self.get_object()
        note = s.DecisionSerializer(data=request.data)
        note.is_valid(raise_exception=True)
        application = func(application=application, by=request.user, **extra(note.validated_data["note"]))
        return Response(s.ApplicationSerializer(application).data)

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, actions.approve_application, extra=lambda n: {"note": n})

    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        return self._decide(request, actions.return_application, extra=lambda n: {"reason": n})

    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        return self._decide(request, actions.record_application, extra=lambda n: {"note": n})


class AgreementViewSet(RestrictedReadOnlyViewSet):
    """Service agreements (P2); drafted and signed through the web pages, printable as PDF there."""

    queryset = Agreement.objects.prefetch_related("items")
    serializer_class = s.AgreementSerializer


class TerminationViewSet(RestrictedReadOnlyViewSet):
    """Terminations (P4); recorded with POST /clients/{id}/terminate/."""

    queryset = Termination.objects.order_by("-effective_date", "-pk")  # the latest first, pages stable
    serializer_class = s.TerminationSerializer


class FrequencyChangeRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, RestrictedGenericViewSet
):
    """Q2: a client's request to change call/visit frequency; `confirm` records the client's confirmation."""

    queryset = FrequencyChangeRequest.objects.all()
    serializer_class = s.FrequencyChangeRequestSerializer
    restrict_action = {"confirm": "change"}

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        client = get_object_or_404(Client.objects.restrict(request.user, "view"), pk=values.pop("client").pk)
        self.check_new_object(FrequencyChangeRequest(client=client))
        item = actions.request_frequency_change(client=client, by=request.user, **values)
        return Response(s.FrequencyChangeRequestSerializer(item).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        item = actions.confirm_frequency_change(
            request=self.get_object(),
            method=str(request.data.get("method", "verbal_recorded")),
            by=request.user,
        )
        return Response(s.FrequencyChangeRequestSerializer(item).data)
