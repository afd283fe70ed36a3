"""Reports pages (mounted at /reports/)."""

from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("prepare/", views.prepare, name="prepare"),
    path("progress/", views.progress, name="progress"),
    path("settlements/<int:pk>/", views.settlement_detail, name="settlement"),
    path("settlements/<int:pk>/xlsx/", views.settlement_xlsx, name="settlement-xlsx"),
    path("settlements/<int:pk>/<str:action>/", views.settlement_action, name="settlement-action"),
    path("lines/<int:pk>/<str:action>/", views.line_action, name="line-action"),
]
