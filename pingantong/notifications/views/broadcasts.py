"""Broadcast pages: list, new fraud/policy notice, CAP upload, review and approval, progress
(polled by htmx while the worker sends) and the delivery report."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pingantong.core.access import user_may, user_may_in_region
from pingantong.core.views import RestrictedListView
from pingantong.regions.models import Region

from ..broadcasts import approve_broadcast, cancel_broadcast, create_broadcast, import_weather_warning
from ..cap import CapError
from ..choices import BroadcastKind, BroadcastStatus, ChannelKind
from ..models import Broadcast
from ..selectors import broadcast_report

CATEGORY_CHOICES = [
    ("childless", "孤寡"),
    ("living_alone", "独居"),
    ("empty_nest", "空巢"),
    ("left_behind", "留守"),
    ("incapacitated", "失能"),
    ("severe_disability", "重残"),
    ("family_planning", "计划生育特殊家庭"),
]


def _device_type_choices() -> list[tuple[str, str]]:
    from pingantong.devices.models import DeviceType

    return [(t.code, t.name) for t in DeviceType.objects.order_by("code")]


class BroadcastListView(RestrictedListView):
    model = Broadcast
    template_name = "notifications/broadcast_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("region", "template")


class BroadcastForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=[
            (BroadcastKind.FRAUD, BroadcastKind.FRAUD.label),
            (BroadcastKind.POLICY, BroadcastKind.POLICY.label),
        ],
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    region = forms.CharField(label=gettext_lazy("Region code"), max_length=12, initial="350404000000")
    text = forms.CharField(
        label=gettext_lazy("What to tell (fraud: the scam; policy: the plain-language explanation)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=300,
    )
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("Client categories (none = all)"),
        choices=CATEGORY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    device_types = forms.MultipleChoiceField(
        label=gettext_lazy("Device types (none = all)"),
        choices=_device_type_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    include_contacts = forms.BooleanField(label=gettext_lazy("Also send to their contacts"), required=False)
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        choices=[(ChannelKind.SMS, ChannelKind.SMS.label), (ChannelKind.VOICE, ChannelKind.VOICE.label)],
        initial=ChannelKind.SMS,
        required=False,
    )

    def clean_region(self) -> str:
        code = self.cleaned_data["region"].strip()
        if not Region.objects.filter(pk=code).exists():
            raise ValidationError(gettext_lazy("Unknown region code."))
        return code


@login_required
def broadcast_create(request: HttpRequest) -> HttpResponse:
    form = BroadcastForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not user_may_in_region(request.user, "add", Broadcast, data["region"]):
            raise PermissionDenied
        text = data["text"]
        params = (
            {"summary": text}
            if data["kind"] == BroadcastKind.FRAUD
            else {"title": data["title"], "explanation": text}
        )
        try:
            broadcast = create_broadcast(
                kind=data["kind"],
                title=data["title"],
                region=data["region"],
                params=params,
                categories=data["categories"],
                include_contacts=data["include_contacts"],
                explanation=text,
                device_types=list(data["device_types"]),
                channel=data["channel"] or ChannelKind.SMS,
                created_by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("notifications:broadcast-detail", pk=broadcast.pk)
    return render(request, "notifications/broadcast_form.html", {"form": form})


@login_required
def broadcast_upload_cap(request: HttpRequest) -> HttpResponse:
    """S13: upload (or paste) a CAP 1.2 warning; an extreme one yields day-before drafts to review."""
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        data = upload.read() if upload else request.POST.get("xml", "").encode()
        user: Any = request.user
        if not (user.is_superuser or user.has_role(*Broadcast.access_policy.roles_for("add"))):
            raise PermissionDenied
        try:
            warning, drafts = import_weather_warning(data=data, created_by=request.user)
        except CapError as exc:
            error = str(exc)
        else:
            if drafts:
                flash.success(request, _("%(n)d reminder(s) drafted for review.") % {"n": len(drafts)})
                return redirect("notifications:broadcast-detail", pk=drafts[0].pk)
            flash.info(
                request,
                _(
                    "Warning %(id)s recorded; it is not extreme or was already received, so "
                    "no reminder was drafted."
                )
                % {"id": warning.identifier},
            )
            return redirect("notifications:broadcast-list")
    return render(request, "notifications/broadcast_cap.html", {"error": error}, status=400 if error else 200)


def _broadcast(request: HttpRequest, pk: int) -> Broadcast:
    return get_object_or_404(
        Broadcast.objects.restrict(request.user, "view").select_related(
            "template", "region", "warning", "created_by", "approved_by"
        ),
        pk=pk,
    )


@login_required
def broadcast_detail(request: HttpRequest, pk: int) -> HttpResponse:
    broadcast = _broadcast(request, pk)
    sample = dict(broadcast.params)
    sample.setdefault("name", "张三")
    from .. import rules

    preview = rules.PLACEHOLDER.sub(lambda m: sample.get(m.group(1), ""), broadcast.template.text)
    return render(
        request,
        "notifications/broadcast_detail.html",
        {
            "object": broadcast,
            "preview": preview,
            "report": broadcast_report(broadcast),
            "can_approve": broadcast.status == BroadcastStatus.DRAFT
            and user_may(request.user, "approve", broadcast),
            "can_cancel": broadcast.status in {BroadcastStatus.DRAFT, BroadcastStatus.APPROVED}
            and user_may(request.user, "change", broadcast),
        },
    )


@login_required
def broadcast_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx partial, polled while sending."""
    broadcast = _broadcast(request, pk)
    return render(
        request,
        "notifications/_broadcast_progress.html",
        {"object": broadcast, "report": broadcast_report(broadcast)},
    )


@login_required
@require_POST
def broadcast_approve(request: HttpRequest, pk: int) -> HttpResponse:
    broadcast = _broadcast(request, pk)
    try:
        approve_broadcast(broadcast=broadcast, user=request.user)
        flash.success(request, _("Approved: sending runs in the background."))
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
    return redirect("notifications:broadcast-detail", pk=pk)


@login_required
@require_POST
def broadcast_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    broadcast = _broadcast(request, pk)
    try:
        cancel_broadcast(broadcast=broadcast, user=request.user)
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
    return redirect("notifications:broadcast-detail", pk=pk)
