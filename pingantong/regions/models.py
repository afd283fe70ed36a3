"""Administrative divisions keyed by the 12-digit statistical division code (统计用区划代码).

The code itself carries the tree: 35 04 04 001 001 is 福建省 → 三明市 → 三元区 → a town/street → a
village/residents' committee. A region's *prefix* (the code without the trailing zero groups of
its level) is therefore the prefix of every descendant's code, so "everything in my region" is
one indexed `code__startswith` on SQLite and PostgreSQL alike; this is what region-scoped access
(pingantong.core.access) is built on.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.IntegerChoices):
    PROVINCE = 1, _("Province")
    CITY = 2, _("City")
    COUNTY = 3, _("District/County")
    TOWN = 4, _("Town/Street")
    VILLAGE = 5, _("Village/Community")


# Number of significant leading digits of a code at each level.
PREFIX_LENGTH = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWN: 9,
    RegionLevel.VILLAGE: 12,
}


def level_of(code: str) -> int:
    """The level a 12-digit code denotes, read from its trailing zero groups."""
    if len(code) != 12 or not code.isdigit():
        raise ValueError(f"not a 12-digit division code: {code!r}")
    if code[9:] != "000":
        return RegionLevel.VILLAGE
    if code[6:9] != "000":
        return RegionLevel.TOWN
    if code[4:6] != "00":
        return RegionLevel.COUNTY
    if code[2:4] != "00":
        return RegionLevel.CITY
    return RegionLevel.PROVINCE


def prefix_of(code: str) -> str:
    return code[: PREFIX_LENGTH[RegionLevel(level_of(code))]]


class Region(models.Model):
    """One administrative division: province, city, district, town/street or village/community."""

    code = models.CharField(_("division code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=RegionLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    # Urban-rural classification code of villages (111 main urban area … 220 village); blank above.
    urban_rural_code = models.CharField(_("urban-rural code"), max_length=3, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return PREFIX_LENGTH_BY_LEVEL[self.level](self.code)

    def full_name(self) -> str:
        """The name with its ancestors below the province, e.g. 三明市三元区城关街道."""
        names = []
        node: Region | None = self
        while node is not None and node.level > RegionLevel.PROVINCE:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))

    def ancestors(self) -> list[Region]:
        result = []
        node = self.parent
        while node is not None:
            result.append(node)
            node = node.parent
        return list(reversed(result))

    def contains(self, code: str) -> bool:
        return code.startswith(self.prefix)


PREFIX_LENGTH_BY_LEVEL = {level: (lambda n: lambda code: code[:n])(n) for level, n in PREFIX_LENGTH.items()}
