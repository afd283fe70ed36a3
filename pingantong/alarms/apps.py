from django.apps import AppConfig


class AlarmsConfig(AppConfig):
    name = "pingantong.alarms"
    label = "alarms"
    default_auto_field = "django.db.models.BigAutoField"
