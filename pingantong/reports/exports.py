"""Downloads in Chinese: .xlsx streamed from a write-only workbook, and PDF through WeasyPrint.

The workbook is written row by row (openpyxl write-only mode) to a temporary file which is then
streamed to the browser in chunks, so a 100,000-line settlement never sits in memory whole.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence

from django.http import FileResponse, HttpResponse
from django.template.loader import render_to_string


def xlsx_response(
    *, filename: str, sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence]]]
) -> FileResponse:
    """`sheets` is [(title, header, rows)]; rows may be a generator (consumed once)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        bold_header = []
        for value in header:
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = Font(bold=True)
            bold_header.append(cell)
        sheet.append(bold_header)
        for row in rows:
            sheet.append(list(row))
    spool = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def pdf_response(*, filename: str, template: str, context: dict) -> HttpResponse:
    from weasyprint import HTML

    html = render_to_string(template, context)
    pdf = HTML(string=html).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def iter_settlement_lines(settlement) -> Iterator[list]:
    for line in settlement.lines.order_by("kind", "region_id", "client_name").iterator(chunk_size=2000):
        counts = (line.evidence or {}).get("counts", {})
        yield [
            line.get_kind_display(),
            line.region_id,
            line.client_name,
            float(line.amount),
            line.evidence_count,
            "、".join(f"{k}:{v}" for k, v in sorted(counts.items())),
            line.query,
            line.answer,
        ]
