"""Roster import (preview, then confirm) and export (region-scoped, masked unless permitted, logged)."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from pingantong.core.audit import log_export, purpose_of

from .. import roster, selectors
from ..forms import RosterUploadForm
from ..models import Client

MAX_UPLOAD = 10 * 1024 * 1024


def _upload_dir() -> Path:
    base = Path(getattr(settings, "VAR_DIR", "/tmp")) / "roster-uploads"  # noqa: S108
    base.mkdir(parents=True, exist_ok=True)
    return base


def _holds(user, action: str) -> bool:
    """Does the user hold, somewhere, a role the client policy allows `action` to?"""
    roles = Client.access_policy.roles_for(action)
    return user.is_superuser or any(role in roles for role, _code in user.role_regions())


def _may_import(user) -> bool:
    return _holds(user, "add")


@login_required
def roster_import(request: HttpRequest) -> HttpResponse:
    """Upload → preview (every bad row named; nothing written) → confirm (all rows, one transaction)."""
    if not _may_import(request.user):
        raise PermissionDenied
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and "token" in request.POST:
        token = request.POST["token"]
        if token != request.session.get("roster_token"):
            messages.error(request, _("This preview has expired; upload the file again."))
            return redirect("clients:roster-import")
        path = _upload_dir() / f"{token}.xlsx"
        report = roster.read_roster(path.read_bytes(), user=request.user)
        try:
            counts = roster.apply_roster(report, user=request.user)
        except ValidationError as exc:
            return render(
                request,
                "clients/roster_import.html",
                {"form": form, "report": report, "error": " ".join(exc.messages)},
            )
        path.unlink(missing_ok=True)
        request.session.pop("roster_token", None)
        messages.success(request, _("Imported: %(created)d new, %(updated)d updated.") % counts)
        return redirect("clients:list")
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            form.add_error("file", _("The file is larger than 10 MB."))
        else:
            data = upload.read()
            report = roster.read_roster(data, user=request.user)
            token = ""
            if report.ok:
                token = uuid.uuid4().hex
                (_upload_dir() / f"{token}.xlsx").write_bytes(data)
                request.session["roster_token"] = token
            return render(
                request, "clients/roster_import.html", {"form": form, "report": report, "token": token}
            )
    return render(request, "clients/roster_import.html", {"form": form, "columns": roster.COLUMNS})


@login_required
def roster_export(request: HttpRequest) -> HttpResponse:
    """The user's exportable clients (with the list's filters) as .xlsx; unmasked only if permitted."""
    unmasked = request.GET.get("unmasked") == "1"
    qs = selectors.search_clients(
        Client.objects.restrict(request.user, "export_unmasked" if unmasked else "export"), request.GET
    )
    if not _holds(request.user, "export_unmasked" if unmasked else "export"):
        raise PermissionDenied
    count = qs.count()
    data = roster.export_roster(qs, unmasked=unmasked)
    fields = ["id_number", "phone", "address", "health"] if unmasked else ["masked"]
    filters = {k: v for k, v in request.GET.items() if k != "unmasked"}
    log_export(
        user=request.user,
        model=Client,
        count=count,
        fields=fields,
        purpose=purpose_of(request, "roster"),
        filters=filters,
        request=request,
    )
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="clients-{stamp}.xlsx"'
    return response
