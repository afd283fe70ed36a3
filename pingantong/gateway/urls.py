"""Web pages of the gateway app (mounted at /gateway/)."""

from django.urls import path  # noqa: F401

app_name = "gateway"
urlpatterns: list = []
