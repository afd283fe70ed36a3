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
from django.utils.translation import pgettext_lazy


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
    """The significant leading digits of a code: every descendant's code starts with them."""
    return code[: PREFIX_LENGTH[RegionLevel(level_of(code))]]


def parent_code_of(code: str) -> str | None:
    """The code of the division directly above, derived from the code alone (None for a province).

    The parent is the code cut to the prefix length of the level above and padded with zeros. For a
    town of a city without counties (东莞市 441900003000) that is the city itself, as it should be.
    """
    level = level_of(code)
    if level == RegionLevel.PROVINCE:
        return None
    return code[: PREFIX_LENGTH[RegionLevel(level - 1)]].ljust(12, "0")


def ancestor_codes_of(code: str) -> list[str]:
    """The codes of every division above `code`, from the province down."""
    result = []
    parent = parent_code_of(code)
    while parent is not None:
        result.append(parent)
        parent = parent_code_of(parent)
    return list(reversed(result))


# Official names end in the body's formal title; lists and the tree show the everyday name.
_SHORT_NAME_SUFFIXES = (
    ("村村民委员会", "村"),
    ("村民委员会", "村"),
    ("村委会", "村"),
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居民委员会", "社区"),
    ("居委会", "社区"),
    ("街道办事处", "街道"),
)


def short_name_of(name: str) -> str:
    """The everyday name: 列东村村民委员会 → 列东村, 红印山社区居委会 → 红印山社区, 白沙村委会 → 白沙村."""
    for suffix, replacement in _SHORT_NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            return stem if stem.endswith(replacement) else stem + replacement
    return name


class Region(models.Model):
    """One administrative division: province, city, district, town/street or village/community."""

    code = models.CharField(_("division code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    # The everyday name (列东村 for 列东村村民委员会); derived by the loader, see short_name_of().
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    level = models.PositiveSmallIntegerField(
        pgettext_lazy("level of a region", "level"), choices=RegionLevel.choices, db_index=True
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    # Urban-rural classification code of villages (111 main urban area … 220 village); blank above.
    urban_rural_code = models.CharField(_("urban-rural code"), max_length=3, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = pgettext_lazy("administrative division", "region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    @property
    def prefix(self) -> str:
        return prefix_of(self.code)

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
