"""Worklists and the task page: what agents, field workers and supervisors work through."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingantong.core.access import user_may
from pingantong.core.audit import log_read
from pingantong.core.views import RestrictedDetailView, RestrictedListView, require_object_access

from .. import actions
from ..choices import ACTIVE_STATUSES, TaskKind, TaskOutcome, TaskStep
from ..forms import CareCallForm, CompleteTaskForm, EscalateForm
from ..models import Task
from ..selectors.lifesigns import life_status, life_statuses
from ..selectors.worklist import SCOPES, default_scope, worklist, worklist_page

CALL_KINDS = (TaskKind.CONFIRMATION, TaskKind.CARE_CALL, TaskKind.FOLLOW_UP, TaskKind.REFERRAL)


def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


class WorklistView(RestrictedListView):
    """Tasks by due time: the user's own and their team's (agents, field workers), or everything in
    their regions (supervisors), filtered by region, kind and scope."""

    model = Task
    template_name = "care/worklist.html"
    paginate_by = 0  # paged below without COUNT(*): a district's worklist can be very long
    page_size = 50

    def get_queryset(self):
        params = self.request.GET
        return worklist(
            self.request.user,
            scope=params.get("scope") or None,
            region=params.get("region") or None,
            kind=params.get("kind") or None,
        )

    def get_context_data(self, **kwargs):
        try:
            page = max(1, int(self.request.GET.get("page", 1)))
        except ValueError:
            page = 1
        tasks, has_next = worklist_page(self.object_list, page=page, size=self.page_size)
        context = super().get_context_data(object_list=tasks, **kwargs)
        statuses = life_statuses({t.client_id for t in tasks if t.client_id})
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            rows=[(t, statuses.get(t.client_id)) for t in tasks],
            now=timezone.now(),
            scope=self.request.GET.get("scope") or default_scope(self.request.user),
            scopes=SCOPES,
            kinds=TaskKind.choices,
            params=self.request.GET,
            regions=sorted({code for _role, code in self.request.user.role_regions()}),
            page=page,
            has_next=has_next,
            query=query.urlencode(),
        )
        return context


class TaskDetailView(RestrictedDetailView):
    """One task: the client, their last life sign, the history, and what to do next (the call
    script and its structured notes for calls)."""

    model = Task
    template_name = "care/task_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("client", "region", "owner")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        task = self.object
        phone = ""
        if (
            task.client is not None
            and task.kind in CALL_KINDS
            and user_may(self.request.user, "reveal_phone", task.client)
        ):
            phone = task.client.phone
            if phone:  # the agent dials it: an unmasked read, recorded with its purpose (X2)
                log_read(
                    user=self.request.user,
                    obj=task.client,
                    fields=["phone"],
                    purpose="care call",
                    request=self.request,
                )
        context.update(
            phone=phone,
            events=task.events.select_related("actor"),
            life=life_status(task.client_id) if task.client_id else None,
            call_form=CareCallForm() if task.kind in CALL_KINDS and task.is_active else None,
            complete_form=CompleteTaskForm(initial={"outcome": TaskOutcome.COMPLETED}),
            escalate_form=EscalateForm(),
            is_visit=task.kind in (TaskKind.VISIT, TaskKind.EMERGENCY_VISIT) or task.step == TaskStep.VISIT,
            now=timezone.now(),
        )
        return context


@login_required
@require_POST
def task_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Start, record a call, complete, escalate or note a task; errors are shown, nothing changes."""
    task = get_object_or_404(
        Task.objects.restrict(request.user, "view").select_related("client"),
        pk=pk,
        status__in=ACTIVE_STATUSES,
    )
    require_object_access(request, "change", task)
    try:
        if action == "start":
            actions.start_task(task=task, by=request.user)
        elif action == "call":
            form = CareCallForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors.get_json_data())
            data = form.cleaned_data
            actions.record_care_call(
                client=task.client,
                by=request.user,
                task=task,
                result=data["result"],
                mood=data["mood"],
                health=data["health"],
                needs=data["needs"],
                concerns=data["concerns"],
                notes=data["notes"],
            )
        elif action == "complete":
            done = CompleteTaskForm(request.POST)
            if not done.is_valid():
                raise ValidationError(done.errors.get_json_data())
            actions.complete_task(
                task=task,
                outcome=done.cleaned_data["outcome"],
                by=request.user,
                notes={"summary": done.cleaned_data["summary"]},
            )
        elif action == "escalate":
            up = EscalateForm(request.POST)
            if not up.is_valid():
                raise ValidationError(_("Give a reason to escalate."))
            actions.escalate_task(task=task, reason=up.cleaned_data["reason"], by=request.user)
        elif action == "note":
            actions.add_task_note(task=task, text=request.POST.get("text", ""), by=request.user)
        else:
            raise ValidationError(_("Unknown action."))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect("care:task-detail", pk=task.pk)
