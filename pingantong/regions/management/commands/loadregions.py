"""`pingantong loadregions CODE [CODE …] [--file PATH] [--all] [--dry-run]`: load districts.

Without --file, the regions come from the data shipped with the platform (福建省, see
docs/regions.md); with --file, from a JSON or CSV file in the documented format. CODE keeps one
region's subtree (and its ancestors); --all loads everything in the source.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from pingantong.regions.loading import (
    LoadResult,
    RegionDataError,
    load_regions,
    normalise_code,
    read_region_file,
    shipped_rows,
    shipped_source,
)


class DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


class Command(BaseCommand):
    help = (
        "Load administrative divisions (12-digit statistical division codes) from the shipped data "
        "or a JSON/CSV file. Example: pingantong loadregions 350405"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "codes", nargs="*", metavar="CODE", help="a division code (6, 9 or 12 digits): load its subtree"
        )
        parser.add_argument("--file", type=Path, help="a .json or .csv file in the format of docs/regions.md")
        parser.add_argument("--all", action="store_true", help="load every region of the source")
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")

    def handle(self, *args, codes: list[str], file: Path | None, all: bool, dry_run: bool, **options) -> None:
        if not codes and not all:
            raise CommandError(_("name at least one division code (e.g. 350405) or pass --all"))
        if codes and all:
            raise CommandError(_("pass division codes or --all, not both"))
        try:
            roots = [normalise_code(code) for code in codes]
        except ValueError as exc:
            raise CommandError(str(exc)) from None

        try:
            if file is not None:
                rows = read_region_file(file)
                first_line = 2 if file.suffix.lower() == ".csv" else 1
                source = str(file)
            else:
                rows, first_line = shipped_rows(), 1
                meta = shipped_source()
                source = f"{meta.get('package', '?')} {meta.get('version', '')} ({meta.get('vintage', '?')})"
            results = self._load(rows, roots, first_line=first_line, dry_run=dry_run)
        except RegionDataError as exc:
            raise CommandError(_("nothing was loaded:\n%(errors)s") % {"errors": exc}) from None
        except DatabaseError as exc:
            raise CommandError(_("the database refused the regions: %(error)s") % {"error": exc}) from None

        prefix = _("[dry run] ") if dry_run else ""
        for root, result in results:
            what = root or _("all")
            self.stdout.write(
                _("%(prefix)s%(what)s from %(source)s: %(summary)s")
                % {"prefix": prefix, "what": what, "source": source, "summary": result.summary()}
            )

    def _load(
        self, rows: list, roots: list[str], *, first_line: int, dry_run: bool
    ) -> list[tuple[str | None, LoadResult]]:
        results: list[tuple[str | None, LoadResult]] = []
        try:
            with transaction.atomic():
                targets: list[str | None] = list(roots) or [None]
                for root in targets:
                    results.append((root, load_regions(rows, under=root, first_line=first_line)))
                if dry_run:
                    raise DryRun
        except DryRun:
            pass
        return results
