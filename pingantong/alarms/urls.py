"""Web pages of the alarms app (mounted at /alarms/)."""

from django.urls import path  # noqa: F401

app_name = "alarms"
urlpatterns: list = []
