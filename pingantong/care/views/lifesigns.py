"""The client page's life-sign widget (S04, S05): an htmx fragment the client page can include
with `hx-get="{% url 'care:client-life-sign' client.pk %}"`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from pingantong.clients.models import Client
from pingantong.core.views import require_role

from ..choices import ACTIVE_STATUSES
from ..models import CARE_VIEW, Task
from ..selectors.lifesigns import life_status


@login_required
def client_life_sign(request: HttpRequest, client_id: int) -> HttpResponse:
    require_role(request, *CARE_VIEW)
    client = get_object_or_404(Client.objects.restrict(request.user, "view"), pk=client_id)
    tasks = Task.objects.restrict(request.user, "view").filter(client=client, status__in=ACTIVE_STATUSES)
    return render(
        request,
        "care/_life_sign.html",
        {
            "client": client,
            "life": life_status(client.pk),
            "now": timezone.now(),
            "tasks": tasks[:10],
        },
    )
