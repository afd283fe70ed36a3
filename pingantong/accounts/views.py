"""Pages of the accounts app: my account, staff roles in my regions, the seat roster."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingantong.core.views import RestrictedListView, require_role

from . import actions, selectors
from .choices import Role
from .forms import GrantRoleForm, ProfileForm
from .models import ROLE_MANAGERS, RoleAssignment, Shift, User


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


@login_required
def my_account(request: HttpRequest) -> HttpResponse:
    """Who I am, which roles I hold where, and my contact details."""
    form = ProfileForm(request.POST or None, instance=_user(request))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your details are saved."))
        return redirect("accounts:me")
    assignments = _user(request).role_assignments.select_related("region").order_by("role")
    return render(request, "accounts/me.html", {"form": form, "assignments": assignments})


class PasswordChangeView(auth_views.PasswordChangeView):
    """Password change with the platform's password policy (AUTH_PASSWORD_VALIDATORS)."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:me")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password is changed."))
        return response


class StaffRolesView(RestrictedListView):
    """Staff accounts and their roles in the regions I administer (restricted like every list);
    agency and system administrators grant roles from the same page."""

    model = RoleAssignment
    template_name = "accounts/staff_roles.html"
    allowed_roles = (*ROLE_MANAGERS, Role.AUDITOR)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require_role(request, *self.allowed_roles)
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        search, role = self.request.GET.get("q", "").strip(), self.request.GET.get("role", "")
        return selectors.filter_role_assignments(super().get_queryset(), search=search, role=role)

    def get_form(self) -> GrantRoleForm:
        grantable = actions.grantable_roles(_user(self.request))
        return GrantRoleForm(self.request.POST or None, grantable=grantable)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            form=kwargs.get("form") or self.get_form(),
            page=context["page_obj"],
            can_grant=bool(actions.grantable_roles(_user(self.request))),
            roles=Role.choices,
            query=self.request.GET,
        )
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        form = self.get_form()
        if not actions.grantable_roles(_user(request)):
            raise PermissionDenied
        if form.is_valid():
            try:
                actions.grant_role(
                    actor=_user(request),
                    user=form.cleaned_data["username"],
                    role=form.cleaned_data["role"],
                    region=form.cleaned_data["region"],
                )
            except PermissionDenied as exc:
                form.add_error(None, str(exc) or _("You may not grant this role in this region."))
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Role granted."))
                return redirect("accounts:staff-roles")
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(form=form))


@login_required
@require_POST
def revoke_role(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(RoleAssignment.objects.restrict(_user(request), "delete"), pk=pk)
    try:
        actions.revoke_role(actor=_user(request), assignment=assignment)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Role revoked."))
    return redirect("accounts:staff-roles")


class ShiftListView(RestrictedListView):
    """The seat roster: this week's shifts in my regions, and who is on duty now (O1)."""

    model = Shift
    template_name = "accounts/shift_list.html"

    def get_queryset(self):
        start = timezone.now() - timedelta(days=1)
        return (
            super()
            .get_queryset()
            .select_related("user", "region")
            .filter(ends_at__gt=start)
            .order_by("starts_at")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["on_duty"] = list(selectors.on_duty_now(_user(self.request)))
        return context
