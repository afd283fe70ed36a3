"""Web pages and endpoints of the gateway app (mounted at /gateway/)."""

from django.urls import path

from pingantong.gateway.webhook import webhook_view

app_name = "gateway"
urlpatterns: list = [
    path("webhook/<slug:vendor>/", webhook_view, name="webhook"),
]
