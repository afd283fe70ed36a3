"""Scheduling data of the care app: holiday overrides (Q2: avoid disturbing routines)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class HolidayOverride(models.Model):
    """A correction to the `holidays` package's China calendar from the State Council's notice:
    a day that is a holiday (is_holiday=True) or a make-up working day (调休, is_holiday=False)."""

    day = models.DateField(_("day"), unique=True)
    is_holiday = models.BooleanField(_("public holiday"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("holiday override")
        verbose_name_plural = _("holiday overrides")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {'holiday' if self.is_holiday else 'working day'}"
