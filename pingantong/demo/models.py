"""What the demonstration loader left behind, so that it never loads twice."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DemoLoad(models.Model):
    """One load of the demonstration district: when, with which seed, and what each part created.

    Its existence is the "demo data is loaded" flag that `pingantong run` (first run), `loaddemo`
    (refuses a second load) and the living demo fleet (only runs over demo data) read.
    """

    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)
    seed = models.PositiveIntegerField(_("seed"))
    counts = models.JSONField(_("what was created"), default=dict)
    skipped = models.JSONField(_("parts skipped, with the reason"), default=dict)

    class Meta:
        verbose_name = _("demo load")
        verbose_name_plural = _("demo loads")

    def __str__(self) -> str:
        return f"demo (seed {self.seed}) at {self.loaded_at:%Y-%m-%d %H:%M}"
