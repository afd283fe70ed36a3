"""Provincial sync pages (mounted at /sync/)."""

from django.urls import path

from . import views

app_name = "sync"
urlpatterns = [
    path("", views.index, name="index"),
    path("events/<int:pk>/requeue/", views.requeue_event, name="requeue"),
    path("handover/", views.handover, name="handover"),
]
