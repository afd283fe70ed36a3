"""Web pages of the bench app (mounted at /bench/)."""

from django.urls import path  # noqa: F401

app_name = "bench"
urlpatterns: list = []
