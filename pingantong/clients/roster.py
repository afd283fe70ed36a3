"""The roster (摸排 baseline survey) as .xlsx: import with a full preview, and export.

Import is two-phase: `read_roster` checks every row and names each bad one (row number, column,
reason) without writing anything; `apply_roster` writes all rows in one transaction, and refuses when
any row is bad. A row whose ID number is already registered updates that client (matched by the blind
index) instead of creating a duplicate. The export uses the same columns, so an unmasked export can be
corrected in Excel and imported again.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook

from pingantong.core.access import user_may_in_region
from pingantong.core.masking import mask_address, mask_phone
from pingantong.regions.models import Region, RegionLevel

from . import crypto
from .choices import AbilityGrade, Category, ClientStatus, LivingSituation, PayingScheme, Relation, RiskTier
from .idnumber import IDNumberError, validate_client_id_number
from .models import Client, Contact

# (header, field) in sheet order.
COLUMNS: list[tuple[str, str]] = [
    ("姓名", "name"),
    ("身份证号", "id_number"),
    ("户籍区划代码", "household_region_code"),
    ("村(居)区划代码", "region_id"),
    ("家庭住址", "address"),
    ("联系电话", "phone"),
    ("备用电话", "phone2"),
    ("方言", "dialect"),
    ("居住情况", "living_situation"),
    ("类别", "categories"),
    ("风险等级", "risk_tier"),
    ("能力等级", "ability_grade"),
    ("病史", "medical_notes"),
    ("过敏", "allergies"),
    ("入户说明", "access_notes"),
    ("付费方式", "paying_scheme"),
    ("月费(元)", "monthly_price"),
    ("紧急联系人", "contact_name"),
    ("联系人电话", "contact_phone"),
    ("联系人关系", "contact_relation"),
]
HEADER_TO_FIELD = dict(COLUMNS)
FIELD_TO_HEADER = {f: h for h, f in COLUMNS}
REQUIRED = ("name", "id_number", "region_id")
CATEGORY_WORDS = {
    "孤寡": "childless",
    "独居": "living_alone",
    "空巢": "empty_nest",
    "留守": "left_behind",
    "失能": "incapacitated",
    "重残": "severe_disability",
    "计划生育特殊家庭": "family_planning",
    "计生特殊家庭": "family_planning",
}
RISK_WORDS = {"高风险": "high", "高": "high", "重点": "key", "一般": "general"}
LIVING_WORDS = {
    "独居": "alone",
    "与配偶同住": "with_spouse",
    "与配偶": "with_spouse",
    "与子女同住": "with_family",
    "与家人同住": "with_family",
    "与护工同住": "with_carer",
    "其他": "other",
}
ABILITY_WORDS = {
    "未评估": "unassessed",
    "能力完好": "intact",
    "轻度受损": "mild",
    "中度受损": "moderate",
    "重度受损": "severe",
    "完全丧失": "total",
}
RELATION_WORDS = {
    "配偶": "spouse",
    "老伴": "spouse",
    "子女": "child",
    "儿子": "child",
    "女儿": "child",
    "亲属": "relative",
    "邻居": "neighbour",
    "朋友": "friend",
    "村干部": "village_cadre",
    "社区干部": "village_cadre",
    "街道指定联系人": "street_designated",
}
SCHEME_WORDS = {"基本套餐": "basic_package", "政府购买": "basic_package", "自费": "self_paid"}
MAX_ROWS = 20000


@dataclass
class RowResult:
    number: int  # the spreadsheet row number (header is row 1)
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column header, reason)
    existing_id: int | None = None

    @property
    def action(self) -> str:
        return "update" if self.existing_id else "create"


@dataclass
class RosterReport:
    rows: list[RowResult]
    errors: list[str] = field(default_factory=list)  # file-level problems

    @property
    def bad_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.errors]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.bad_rows and bool(self.rows)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _choice(raw: str, words: dict[str, str], values: list[str]) -> str | None:
    if not raw:
        return None
    value = words.get(raw, raw.lower())
    return value if value in values else ""


def _check_row(row: RowResult, user: Any, seen: dict[str, int], regions: set[str]) -> None:
    v = row.values
    err = row.errors.append
    for name in REQUIRED:
        if not v.get(name):
            err((FIELD_TO_HEADER[name], _("required")))
    if v.get("id_number"):
        try:
            facts = validate_client_id_number(v["id_number"])
            v["id_number"] = facts.number
            if facts.number in seen:
                err(("身份证号", _("same ID number as row %(n)d") % {"n": seen[facts.number]}))
            seen.setdefault(facts.number, row.number)
            row.existing_id = (
                Client.objects.filter(id_number_hmac=crypto.blind_index(facts.number))
                .values_list("pk", flat=True)
                .first()
            )
        except IDNumberError as exc:
            err(("身份证号", exc.message))
    region = v.get("region_id", "")
    if region:
        if region not in regions:
            err(("村(居)区划代码", _("unknown village/community code %(c)s") % {"c": region}))
        elif not user_may_in_region(user, "change" if row.existing_id else "add", Client, region):
            err(("村(居)区划代码", _("outside the regions you may edit")))
    for name in ("phone", "phone2", "contact_phone"):
        phone = v.get(name, "")
        if phone and not (phone.replace("-", "").isdigit() and 7 <= len(phone.replace("-", "")) <= 20):
            err((FIELD_TO_HEADER[name], _("not a phone number: %(p)s") % {"p": phone}))
    cats = []
    for word in [
        w.strip()
        for w in v.get("categories", "").replace("，", ",").replace("、", ",").split(",")
        if w.strip()
    ]:
        value = CATEGORY_WORDS.get(word, word)
        if value not in Category.values:
            err(("类别", _("unknown category %(w)s") % {"w": word}))
        cats.append(value)
    v["categories"] = cats
    for name, words, values in (
        ("risk_tier", RISK_WORDS, RiskTier.values),
        ("living_situation", LIVING_WORDS, LivingSituation.values),
        ("ability_grade", ABILITY_WORDS, AbilityGrade.values),
        ("paying_scheme", SCHEME_WORDS, PayingScheme.values),
    ):
        value = _choice(v.get(name, ""), words, values)
        if value == "":
            err((FIELD_TO_HEADER[name], _("unknown value %(v)s") % {"v": v[name]}))
        v[name] = value
    if v.get("monthly_price"):
        try:
            v["monthly_price"] = Decimal(v["monthly_price"])
        except InvalidOperation:
            err(("月费(元)", _("not a number")))
    if bool(v.get("contact_name")) != bool(v.get("contact_phone")):
        err(("紧急联系人", _("give both the contact's name and phone")))


def read_roster(data: bytes, *, user: Any) -> RosterReport:
    """Check every row; write nothing."""
    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    except Exception:
        return RosterReport(rows=[], errors=[_("This is not a readable .xlsx workbook.")])
    rows_iter = sheet.iter_rows(values_only=True)
    header = [_text(h) for h in next(rows_iter, ())]
    missing = [h for h in ("姓名", "身份证号", "村(居)区划代码") if h not in header]
    if missing:
        return RosterReport(rows=[], errors=[_("Missing columns: %(c)s") % {"c": ", ".join(missing)}])
    fields = [HEADER_TO_FIELD.get(h) for h in header]
    regions = set(Region.objects.filter(level=RegionLevel.VILLAGE).values_list("code", flat=True))
    report = RosterReport(rows=[])
    seen: dict[str, int] = {}
    for number, raw in enumerate(rows_iter, start=2):
        if number > MAX_ROWS + 1:
            report.errors.append(_("More than %(n)d rows: split the file.") % {"n": MAX_ROWS})
            break
        if not any(_text(c) for c in raw):
            continue
        row = RowResult(number=number, values={f: _text(c) for f, c in zip(fields, raw, strict=False) if f})
        _check_row(row, user, seen, regions)
        report.rows.append(row)
    if not report.rows and not report.errors:
        report.errors.append(_("The sheet has no data rows."))
    return report


@transaction.atomic
def apply_roster(report: RosterReport, *, user: Any) -> dict[str, int]:
    """Write a clean report: create new clients, update matched ones. Refuses any bad row."""
    from . import actions

    if not report.ok:
        raise ValidationError(_("The roster has errors; nothing was written."))
    counts = {"created": 0, "updated": 0}
    for row in report.rows:
        v = dict(row.values)
        id_number = v.pop("id_number")
        contact = (v.pop("contact_name", ""), v.pop("contact_phone", ""), v.pop("contact_relation", ""))
        values = {k: val for k, val in v.items() if val not in ("", None) or k == "categories"}
        if row.existing_id:
            client = Client.objects.get(pk=row.existing_id)
            actions.update_client(client=client, by=user, **values)
            counts["updated"] += 1
        else:
            client = actions.register_client(
                id_number=id_number, by=user, status=ClientStatus.ACTIVE, **values
            )
            counts["created"] += 1
        name, phone, relation = contact
        if name and not Contact.objects.filter(client=client, phone=phone).exists():
            actions.add_contact(
                client=client,
                by=user,
                name=name,
                phone=phone,
                relation=RELATION_WORDS.get(
                    relation, relation if relation in Relation.values else Relation.OTHER
                ),
                is_street_designated=relation == "街道指定联系人",
            )
    return counts


def export_roster(queryset, *, unmasked: bool) -> bytes:
    """The clients of `queryset` as .xlsx, ID numbers and phones masked unless `unmasked`."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("服务对象")
    sheet.append([h for h, _f in COLUMNS])
    for client in queryset.select_related("region").prefetch_related("contacts").iterator(chunk_size=2000):
        first = next(iter(client.contacts.all()), None)
        categories = "、".join(
            k for k, v in CATEGORY_WORDS.items() if v in client.categories and k != "计生特殊家庭"
        )
        phone = client.phone if unmasked else mask_phone(client.phone)
        sheet.append(
            [
                client.name,
                client.id_number if unmasked else client.id_number_masked,
                client.household_region_code,
                client.region_id,
                client.address if unmasked else mask_address(client.address),
                phone,
                client.phone2 if unmasked else mask_phone(client.phone2),
                client.dialect,
                client.living_situation,
                categories,
                client.risk_tier,
                client.ability_grade,
                client.medical_notes if unmasked else "",
                client.allergies if unmasked else "",
                client.access_notes if unmasked else "",
                client.paying_scheme,
                str(client.monthly_price or ""),
                first.name if first else "",
                (first.phone if unmasked else mask_phone(first.phone)) if first else "",
                first.get_relation_display() if first else "",
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
