"""Web pages of the sync app (mounted at /sync/)."""

from django.urls import path  # noqa: F401

app_name = "sync"
urlpatterns: list = []
