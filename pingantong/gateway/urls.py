"""Web pages and endpoints of the gateway app (mounted at /gateway/)."""

from django.urls import path

from pingantong.gateway import views
from pingantong.gateway.webhook import webhook_view

app_name = "gateway"
urlpatterns: list = [
    path("", views.gateway_page, name="status"),
    path("panel/", views.gateway_panel, name="panel"),
    path("inbox/<int:pk>/bind/", views.bind_unknown_device, name="bind-unknown"),
    path("webhook/<slug:vendor>/", webhook_view, name="webhook"),
]
