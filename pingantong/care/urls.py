"""Web pages of the care app (mounted at /care/)."""

from django.urls import path

from .views import coverage, lifesigns, support, tasks, visits

app_name = "care"
urlpatterns = [
    path("", tasks.WorklistView.as_view(), name="worklist"),
    path("tasks/<int:pk>/", tasks.TaskDetailView.as_view(), name="task-detail"),
    path("tasks/<int:pk>/<str:action>/", tasks.task_action, name="task-action"),
    path("visits/", visits.VisitsTodayView.as_view(), name="visits-today"),
    path("visits/<int:pk>/", visits.visit_page, name="visit"),
    path("coverage/", coverage.coverage_page, name="coverage"),
    path("support/", support.support_page, name="support"),
    path("activities/<int:pk>/", support.activity_page, name="activity"),
    path("clients/<int:client_id>/life-sign/", lifesigns.client_life_sign, name="client-life-sign"),
    path("clients/<int:client_id>/support/", support.client_support, name="client-support"),
]
