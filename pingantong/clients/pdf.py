"""The service agreement as a PDF in Chinese (P2), rendered from a Django template by WeasyPrint.

The CJK font comes from the system (fonts-wqy-microhei or Noto CJK, installed by the bootstrap);
WeasyPrint embeds the subset used, so the PDF reads the same on any viewer."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from .models import Agreement


def agreement_pdf(agreement: Agreement) -> bytes:
    from weasyprint import HTML

    client = agreement.client
    with translation.override("zh-hans"):
        html = render_to_string(
            "clients/agreement_pdf.html",
            {
                "agreement": agreement,
                "client": client,
                "id_number": client.id_number,
                "items": list(agreement.items.order_by("code")),
                "contacts": list(client.contacts.all()[:3]),
                "total": agreement.basic_monthly_fee + agreement.extended_monthly_fee,
            },
        )
    return HTML(string=html).write_pdf()
