from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_sanyuan(sender, *, using: str = "default", apps=None, **kwargs) -> None:
    """Put 三元区 back after a `flush` (which empties tables but re-sends post_migrate).

    The data migration loads the district on a fresh database; this keeps it there when a database
    is flushed: by `pingantong flush`, or between transactional tests, whose users and clients all
    point at 三元区. It does nothing when the district is present.
    """
    from .loading import SANYUAN, load_regions, shipped_rows

    try:
        model = (apps or sender.apps).get_model("regions", "Region")
    except LookupError:  # the regions migrations are not applied yet
        return
    if using != "default" or model.objects.filter(code=SANYUAN).exists():
        return
    load_regions(shipped_rows(), under=SANYUAN, model=model)


class RegionsConfig(AppConfig):
    name = "pingantong.regions"
    label = "regions"
    verbose_name = _("Regions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from pingantong.accounts.choices import Role
        from pingantong.core import navigation

        navigation.register(_("Regions"), "regions:tree", list(Role), order=800)
        post_migrate.connect(ensure_sanyuan, sender=self, dispatch_uid="regions.ensure_sanyuan")
