"""Web pages of the devices app (mounted at /devices/)."""

from django.urls import path  # noqa: F401

app_name = "devices"
urlpatterns: list = []
