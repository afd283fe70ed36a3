"""Websocket routes of the alarm centre (collected by pingantong.core.routing)."""

from django.urls import path

from .consumers import AlarmConsumer

websocket_urlpatterns = [path("ws/alarms/", AlarmConsumer.as_asgi())]
