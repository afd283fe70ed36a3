"""The client list, the client page (everything on one screen) and its forms (htmx inline validation)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingantong.core.access import user_may, user_may_in_region
from pingantong.core.audit import log_read, purpose_of
from pingantong.core.masking import mask_phone
from pingantong.core.views import RestrictedDetailView, RestrictedListView, require_object_access
from pingantong.regions.models import Region, RegionLevel, prefix_of

from .. import actions, selectors
from ..choices import Category, ClientStatus, ConsentPurpose, RiskTier
from ..forms import ClientForm, ConsentForm, ContactForm, FrequencyRequestForm, TerminationForm
from ..idnumber import IDNumberError
from ..models import Agreement, Client, Contact, FrequencyChangeRequest
from .common import apply_errors

PAGE_SIZE = 50


class ClientListView(RestrictedListView):
    """Search and filter the clients of the user's regions; pages without COUNT(*) (fast at 100,000)."""

    model = Client
    template_name = "clients/client_list.html"
    paginate_by = None  # type: ignore[assignment]

    def get_queryset(self):
        qs = super().get_queryset().select_related("region")
        return selectors.search_clients(qs, self.request.GET)

    def get_context_data(self, **kwargs):
        try:
            page = max(1, int(self.request.GET.get("page", "1")))
        except ValueError:
            page = 1
        rows, has_next = selectors.page_of(self.object_list, page, PAGE_SIZE)
        query = self.request.GET.copy()
        query.pop("page", None)
        user = self.request.user
        can_add = (
            any(user_may_in_region(user, "add", Client, code) for _role, code in user.role_regions())
            or user.is_superuser
        )
        return {
            "rows": rows,
            "page": page,
            "has_next": has_next,
            "query": query.urlencode(),
            "params": self.request.GET,
            "categories": Category.choices,
            "risk_tiers": RiskTier.choices,
            "statuses": ClientStatus.choices,
            "can_export": user.is_superuser
            or any(r in Client.access_policy.roles_for("export") for r, _c in user.role_regions()),
            "regions": _visible_regions(user),
            "can_add": can_add,
        }


def _visible_regions(user) -> list[Region]:
    """Towns and villages under the user's regions, for the region filter."""
    from django.db.models import Q

    regions = Region.objects.filter(level__in=[RegionLevel.TOWN, RegionLevel.VILLAGE]).order_by("code")
    if user.is_superuser:
        return list(regions.filter(code__startswith="350404"))
    prefixes = {prefix_of(code) for _role, code in user.role_regions()}
    if not prefixes:
        return []
    q = Q()
    for prefix in prefixes:
        q |= Q(code__startswith=prefix)
    return list(regions.filter(q))


class ClientDetailView(RestrictedDetailView):
    """Everything about one client on one screen: record, contacts, consent, agreement, applications."""

    model = Client
    template_name = "clients/client_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("region", "region__parent", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        client: Client = self.object
        user = self.request.user
        reveal_phone = user_may(user, "reveal_phone", client)
        # The page shows address, health notes and (for those who call) phones: log the read (X2).
        fields = ["address", "health"] + (["phone"] if reveal_phone else [])
        log_read(user=user, obj=client, fields=fields, purpose=purpose_of(self.request), request=self.request)
        contacts = list(client.contacts.all())
        context.update(
            reveal_phone=reveal_phone,
            can_reveal_id=user_may(user, "reveal_id", client),
            can_change=user_may(user, "change", client),
            can_terminate=user_may(user, "terminate", client) and not hasattr(client, "termination"),
            can_add_contact=user_may(user, "add", Contact(client=client)),
            phone_display=client.phone if reveal_phone else mask_phone(client.phone),
            contacts=[(c, c.phone if reveal_phone else mask_phone(c.phone)) for c in contacts],
            can_change_contacts=user_may(user, "change", Contact(client=client)),
            consents=[
                (ConsentPurpose(purpose).label, record)
                for purpose, record in selectors.consent_states(client).items()
            ],
            frequency_requests=FrequencyChangeRequest.objects.filter(client=client)[:10],
            agreements=Agreement.objects.filter(client=client).prefetch_related("items")[:5],
            can_add_agreement=user_may(user, "add", Agreement(client=client)),
            applications=client.applications.prefetch_related("steps__actor").all(),
            termination=getattr(client, "termination", None),
            devices=_devices_of(client),
            consent_form=ConsentForm(),
            frequency_form=FrequencyRequestForm(),
            contact_form=ContactForm(),
            termination_form=TerminationForm(),
        )
        return context


def _devices_of(client: Client) -> list:
    """The client's devices, if the devices app exposes a relation (optional)."""
    related = getattr(client, "devices", None)
    try:
        return list(related.all()[:10]) if related is not None else []
    except Exception:
        return []


@login_required
def client_create(request: HttpRequest) -> HttpResponse:
    """The agency enrols a client directly (e.g. a self-paid client): validated like an application."""
    return _client_form(request, None)


@login_required
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(Client.objects.restrict(request.user, "change"), pk=pk)
    if request.method == "GET":  # the form shows phone, address and health notes in full
        log_read(
            user=request.user,
            obj=client,
            fields=["phone", "address", "health", "location"],
            purpose=purpose_of(request, "edit"),
            request=request,
        )
    return _client_form(request, client)


def _client_form(request: HttpRequest, client: Client | None) -> HttpResponse:
    validate_url = reverse("clients:validate-id") + (f"?exclude={client.pk}" if client else "")
    regions = Region.objects.filter(level=RegionLevel.VILLAGE, code__startswith="350404")
    # The form gets its own copy: ModelForm validation writes into its instance, and the action must
    # see the stored values to know what changed.
    form_instance = Client.objects.get(pk=client.pk) if client else None
    form = ClientForm(
        request.POST or None, instance=form_instance, regions=regions, validate_url=validate_url
    )
    if request.method == "POST" and form.is_valid():
        values = form.action_values()
        # The record's current region and the one it is put in must both be within reach.
        action = "change" if client else "add"
        for probe in filter(None, [client, Client(region_id=values["region_id"])]):
            if not user_may(request.user, action, probe):
                raise PermissionDenied
        try:
            if client is None:
                client = actions.register_client(
                    id_number=form.cleaned_data["id_number"],
                    by=request.user,
                    status=ClientStatus.ACTIVE,
                    **values,
                )
                messages.success(request, _("Client registered."))
            else:
                actions.update_client(
                    client=client, by=request.user, id_number=form.cleaned_data.get("id_number"), **values
                )
                messages.success(request, _("Saved."))
            return redirect("clients:detail", pk=client.pk)
        except ValidationError as exc:
            apply_errors(form, exc)
    from django.conf import settings

    tile_url = str(getattr(settings, "PINGANTONG_MAP_TILE_URL", ""))
    return render(request, "clients/client_form.html", {"form": form, "client": client, "tile_url": tile_url})


@login_required
def validate_id(request: HttpRequest) -> HttpResponse:
    """htmx: check an ID number as it is typed (valid, 60+, region, duplicate) and say what is wrong."""
    value = request.POST.get("id_number", "") or request.GET.get("id_number", "")
    exclude = request.GET.get("exclude")
    if not value.strip():
        return HttpResponse("")
    try:
        number = actions.check_id_number(
            value, exclude_pk=int(exclude) if exclude and exclude.isdigit() else None
        )
    except ValidationError as exc:
        message = " ".join(exc.message_dict.get("id_number", exc.messages))
        return HttpResponse(
            format_html('<span class="text-danger" data-testid="id-check">{}</span>', message)
        )
    except IDNumberError as exc:  # pragma: no cover - check_id_number converts these
        return HttpResponse(format_html('<span class="text-danger">{}</span>', exc.message))
    from ..idnumber import parse_id_number

    facts = parse_id_number(number)
    text = _("Valid: born %(date)s, %(place)s.") % {
        "date": facts.birth_date.isoformat(),
        "place": facts.birth_place,
    }
    return HttpResponse(format_html('<span class="text-success" data-testid="id-check">{}</span>', text))


@login_required
def reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: show one client's full ID number to a permitted role, and log the read (X2)."""
    client = get_object_or_404(Client.objects.restrict(request.user, "view"), pk=pk)
    require_object_access(request, "reveal_id", client)
    log_read(
        user=request.user, obj=client, fields=["id_number"], purpose=purpose_of(request), request=request
    )
    return HttpResponse(format_html('<span data-testid="id-number">{}</span>', client.id_number))


def _client_for(request: HttpRequest, pk: int, action: str) -> Client:
    client = get_object_or_404(Client.objects.restrict(request.user, "view"), pk=pk)
    return client if action == "view" else _checked(request, action, client)


def _checked(request: HttpRequest, action: str, obj):
    require_object_access(request, action, obj)
    return obj


@login_required
@require_POST
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_for(request, pk, "view")
    require_object_access(request, "add", Contact(client=client))
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            actions.add_contact(client=client, by=request.user, **form.cleaned_data)
            messages.success(request, _("Contact added."))
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    else:
        messages.error(request, _("Contact not saved: %(e)s") % {"e": form.errors.as_text()})
    return redirect("clients:detail", pk=client.pk)


@login_required
@require_POST
def contact_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a contact up or down the calling order, or remove it (`action` = up | down | remove)."""
    contact = get_object_or_404(
        Contact.objects.restrict(request.user, "view").select_related("client"), pk=pk
    )
    what = request.POST.get("action")
    if what == "remove":
        require_object_access(request, "delete", contact)
        actions.remove_contact(contact=contact, by=request.user)
    elif what in ("up", "down"):
        require_object_access(request, "change", contact)
        actions.move_contact(contact=contact, by=request.user, up=what == "up")
    return redirect("clients:detail", pk=contact.client_id)


@login_required
@require_POST
def consent_add(request: HttpRequest, pk: int) -> HttpResponse:
    from ..models import Consent

    client = _client_for(request, pk, "view")
    require_object_access(request, "add", Consent(client=client))
    form = ConsentForm(request.POST)
    if form.is_valid():
        actions.record_consent(client=client, by=request.user, **form.cleaned_data)
        messages.success(request, _("Consent recorded; it applies from now on."))
    else:
        messages.error(request, form.errors.as_text())
    return redirect("clients:detail", pk=client.pk)


@login_required
@require_POST
def frequency_request(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_for(request, pk, "view")
    require_object_access(request, "add", FrequencyChangeRequest(client=client))
    form = FrequencyRequestForm(request.POST)
    if form.is_valid():
        actions.request_frequency_change(client=client, by=request.user, **form.cleaned_data)
        messages.success(request, _("Request recorded; it applies once the client confirms it."))
    else:
        messages.error(request, form.errors.as_text())
    return redirect("clients:detail", pk=client.pk)


@login_required
@require_POST
def frequency_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(FrequencyChangeRequest.objects.restrict(request.user, "change"), pk=pk)
    try:
        actions.confirm_frequency_change(
            request=item, method=request.POST.get("method", "verbal_recorded"), by=request.user
        )
        messages.success(request, _("Confirmed by the client; the new frequency applies."))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("clients:detail", pk=item.client_id)


@login_required
@require_POST
def terminate(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_for(request, pk, "terminate")
    form = TerminationForm(request.POST)
    if form.is_valid():
        try:
            actions.terminate_client(client=client, by=request.user, **form.cleaned_data)
            messages.success(
                request, _("The service ends on %(d)s.") % {"d": form.cleaned_data["effective_date"]}
            )
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    else:
        messages.error(request, form.errors.as_text())
    return redirect("clients:detail", pk=client.pk)
