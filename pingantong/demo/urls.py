"""Web pages of the demo app (mounted at /demo/)."""

from django.urls import path  # noqa: F401

app_name = "demo"
urlpatterns: list = []
