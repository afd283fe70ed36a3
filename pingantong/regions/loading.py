"""Loading administrative divisions from the shipped data or a file: validated, idempotent upserts.

Input is a sequence of rows, each a mapping (`{"code", "name", "urban_rural_code"?}`) or a sequence
(`[code, name, urban_rural_code?]`). The level and the parent of every row are derived from its code,
so a file cannot contradict the code's structure. The whole batch is validated before anything is
written; a bad batch raises `RegionDataError` naming each bad row and changes nothing.

The loader takes the model class as an argument so that the data migration can pass the historical
model; it only touches `code`, `name`, `short_name`, `level`, `parent` and `urban_rural_code`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from .models import Region, RegionLevel, ancestor_codes_of, level_of, parent_code_of, short_name_of

DATA_DIR = Path(__file__).resolve().parent / "data"
SHIPPED_FILE = DATA_DIR / "fujian.json"
FILE_FORMAT = "pingantong-regions/1"

# The district the platform is built for; the data migration loads it (and its ancestors).
SANYUAN = "350404000000"

# Codes that the shipped vintage (2023) no longer has, with the code that replaced them.
RETIRED_CODES = {
    "350402000000": ("350404000000", "梅列区 was merged into 三元区 (350404) in 2021"),
    "350403000000": ("350404000000", "the old 三元区 (350403) became the merged 三元区 (350404) in 2021"),
    "350427000000": ("350405000000", "沙县 became 沙县区 (350405) in 2021"),
    "350625000000": ("350605000000", "长泰县 became 长泰区 (350605) in 2021"),
    "350681000000": ("350604000000", "龙海市 became 龙海区 (350604) in 2021"),
}

CODE_LENGTHS = (2, 4, 6, 9, 12)
BATCH_SIZE = 500
MAX_REPORTED_ERRORS = 20


class RegionDataError(ValueError):
    """A batch of regions that cannot be loaded; `errors` names every bad row (up to a limit)."""

    def __init__(self, errors: Sequence[str]):
        self.errors = list(errors)
        shown = self.errors[:MAX_REPORTED_ERRORS]
        more = len(self.errors) - len(shown)
        text = "\n".join(shown) + (f"\n… and {more} more" if more > 0 else "")
        super().__init__(text)


@dataclass(frozen=True)
class RegionRow:
    """One validated input row; `urban_rural_code` is None when the input did not say."""

    code: str
    name: str
    level: int
    parent_code: str | None
    urban_rural_code: str | None
    line: int


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    by_level: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        levels = ", ".join(
            f"{RegionLevel(level).label}: {count}" for level, count in sorted(self.by_level.items())
        )
        return _(
            "%(total)d regions (%(created)d new, %(updated)d updated, %(unchanged)d unchanged); %(levels)s"
        ) % {
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "levels": levels,
        }


def normalise_code(value: Any) -> str:
    """A 12-digit code from a 2/4/6/9/12-digit one (GB/T 2260 county codes are 6 digits)."""
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or len(text) not in CODE_LENGTHS:
        raise ValueError(_("%(code)r is not a division code (2, 4, 6, 9 or 12 digits)") % {"code": text})
    code = text.ljust(12, "0")
    if code[:2] == "00":
        raise ValueError(_("%(code)r has no province part") % {"code": text})
    if code[2:4] == "00" and code[4:] != "0" * 8:
        raise ValueError(_("%(code)r has lower parts under a zero city part") % {"code": text})
    return code


def retired_hint(code: str) -> str | None:
    if code in RETIRED_CODES:
        successor, why = RETIRED_CODES[code]
        return _("%(code)s is not in the %(vintage)s data: %(why)s; use %(successor)s.") % {
            "code": code,
            "vintage": "2023",
            "why": why,
            "successor": successor[:6],
        }
    return None


def _row_fields(raw: Any) -> tuple[Any, Any, Any]:
    if isinstance(raw, Mapping):
        return raw.get("code"), raw.get("name"), raw.get("urban_rural_code")
    if isinstance(raw, Sequence) and not isinstance(raw, str | bytes):
        items = [*raw, None, None, None]
        return items[0], items[1], items[2]
    raise ValueError(_("a row must be an object or a list, not %(type)s") % {"type": type(raw).__name__})


def validate_rows(rows: Iterable[Any], *, first_line: int = 1) -> list[RegionRow]:
    """Parse and check every row; raise RegionDataError listing all the problems found."""
    errors: list[str] = []
    result: list[RegionRow] = []
    seen: dict[str, int] = {}
    for line, raw in enumerate(rows, start=first_line):
        try:
            code_value, name_value, urc_value = _row_fields(raw)
            code = normalise_code(code_value)
        except ValueError as exc:
            errors.append(_("row %(line)d, code: %(error)s") % {"line": line, "error": exc})
            continue
        name = str(name_value).strip() if name_value is not None else ""
        if not name:
            errors.append(
                _("row %(line)d, name: the name of %(code)s is empty") % {"line": line, "code": code}
            )
            continue
        if len(name) > 100:
            errors.append(_("row %(line)d, name: longer than 100 characters") % {"line": line})
            continue
        urc = None if urc_value is None else str(urc_value).strip()
        if urc and (len(urc) != 3 or not urc.isdigit()):
            errors.append(
                _("row %(line)d, urban_rural_code: %(value)r is not a 3-digit code")
                % {"line": line, "value": urc}
            )
            continue
        if code in seen:
            errors.append(
                _("row %(line)d, code: %(code)s is a duplicate of row %(other)d")
                % {"line": line, "code": code, "other": seen[code]}
            )
            continue
        seen[code] = line
        result.append(RegionRow(code, name, level_of(code), parent_code_of(code), urc, line))
    if errors:
        raise RegionDataError(errors)
    return result


def select_under(rows: list[RegionRow], under: str) -> list[RegionRow]:
    """The rows in the subtree of `under`, with the rows of its ancestors (for the parent links)."""
    root = normalise_code(under)
    prefix = Region(code=root).prefix
    keep = set(ancestor_codes_of(root))
    return [row for row in rows if row.code.startswith(prefix) or row.code in keep]


def _existing(model: type[Region], codes: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for start in range(0, len(codes), BATCH_SIZE):
        for obj in model.objects.filter(code__in=codes[start : start + BATCH_SIZE]):
            found[obj.code] = obj
    return found


def load_regions(
    rows: Iterable[Any], *, under: str | None = None, model: type[Region] | None = None, first_line: int = 1
) -> LoadResult:
    """Create or update the given regions in one transaction; running it twice changes nothing.

    `under` (a division code) keeps only that region's subtree and its ancestors from `rows`. Raises
    RegionDataError for bad codes, empty names, duplicate codes, a parent that is neither in the
    batch nor in the database, or an `under` code with no row. Errors number rows from `first_line`
    (2 for a CSV file, whose line 1 is the header).
    """
    model = model or Region
    parsed = validate_rows(rows, first_line=first_line)
    if under is not None:
        try:
            root = normalise_code(under)
        except ValueError as exc:
            raise RegionDataError([str(exc)]) from None
        parsed = select_under(parsed, root)
        if not any(row.code == root for row in parsed):
            raise RegionDataError([retired_hint(root) or _("%(code)s is not in the data") % {"code": root}])
    parsed.sort(key=lambda row: (row.level, row.code))
    codes = [row.code for row in parsed]
    batch = set(codes)

    with transaction.atomic():
        wanted_parents = sorted(
            {row.parent_code for row in parsed if row.parent_code and row.parent_code not in batch}
        )
        present = set(_existing(model, wanted_parents)) if wanted_parents else set()
        missing = [
            _("row %(line)d, code: the parent %(parent)s of %(code)s %(name)s is not in the data or database")
            % {"line": row.line, "parent": row.parent_code, "code": row.code, "name": row.name}
            for row in parsed
            if row.parent_code and row.parent_code not in batch and row.parent_code not in present
        ]
        if missing:
            raise RegionDataError(missing)

        has_short_name = any(f.name == "short_name" for f in model._meta.get_fields())
        existing = _existing(model, codes)
        result = LoadResult()
        to_create, to_update = [], []
        for row in parsed:
            values: dict[str, Any] = {"name": row.name, "level": row.level, "parent_id": row.parent_code}
            if has_short_name:
                values["short_name"] = short_name_of(row.name)
            if row.urban_rural_code is not None:
                values["urban_rural_code"] = row.urban_rural_code
            result.by_level[row.level] = result.by_level.get(row.level, 0) + 1
            obj = existing.get(row.code)
            if obj is None:
                to_create.append(model(code=row.code, **values))
                result.created += 1
            elif any(getattr(obj, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(obj, key, value)
                to_update.append(obj)
                result.updated += 1
            else:
                result.unchanged += 1
        # Sorted by level, so a parent is always inserted before its children.
        model.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        if to_update:
            fields = ["name", "level", "parent", "urban_rural_code"] + (
                ["short_name"] if has_short_name else []
            )
            model.objects.bulk_update(to_update, fields, batch_size=BATCH_SIZE)
    return result


# --- Reading files -------------------------------------------------------------------------------


def read_region_file(path: str | Path) -> list[Any]:
    """Rows from a JSON or CSV file in the documented format (docs/regions.md).

    JSON: `{"format": "pingantong-regions/1", "columns": ["code", "name", ...], "rows": [[...], ...]}`
    or a plain list of objects/lists. CSV: a header with `code` and `name` (and optionally
    `urban_rural_code`), UTF-8 with or without a byte-order mark.
    """
    path = Path(path)
    if not path.is_file():
        raise RegionDataError([_("%(path)s: no such file") % {"path": path}])
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            return _read_json(path)
        if suffix == ".csv":
            return _read_csv(path)
    except UnicodeDecodeError:
        raise RegionDataError([_("%(path)s: not UTF-8 text") % {"path": path}]) from None
    raise RegionDataError([_("%(path)s: the file name must end in .json or .csv") % {"path": path}])


def _read_json(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise RegionDataError(
            [_("%(path)s: invalid JSON: %(error)s") % {"path": path, "error": exc}]
        ) from None
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        columns = data.get("columns") or ["code", "name"]
        if "code" not in columns or "name" not in columns:
            raise RegionDataError([_("%(path)s: columns must include code and name") % {"path": path}])
        return [
            dict(zip(columns, row, strict=False)) if isinstance(row, list) else row for row in data["rows"]
        ]
    raise RegionDataError([_("%(path)s: expected a list of rows or an object with rows") % {"path": path}])


def _read_csv(path: Path) -> list[Any]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        if "code" not in header or "name" not in header:
            raise RegionDataError(
                [_("%(path)s: the header must name the columns code and name") % {"path": path}]
            )
        reader.fieldnames = header
        return [
            {"code": r.get("code"), "name": r.get("name"), "urban_rural_code": r.get("urban_rural_code")}
            for r in reader
        ]


def shipped_rows() -> list[Any]:
    """The rows of the data shipped with the platform (福建省, 2023 vintage; see docs/regions.md)."""
    return read_region_file(SHIPPED_FILE)


def shipped_source() -> dict[str, Any]:
    return json.loads(SHIPPED_FILE.read_text(encoding="utf-8")).get("source", {})
