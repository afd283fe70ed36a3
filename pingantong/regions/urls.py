"""Web pages of the regions app (mounted at /regions/)."""

from django.urls import path  # noqa: F401

app_name = "regions"
urlpatterns: list = []
