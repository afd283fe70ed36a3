from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegionsConfig(AppConfig):
    name = "pingantong.regions"
    label = "regions"
    verbose_name = _("Regions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from pingantong.accounts.choices import Role
        from pingantong.core import navigation

        navigation.register(_("Regions"), "regions:tree", list(Role), order=800)
