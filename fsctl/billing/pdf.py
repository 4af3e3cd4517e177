"""The invoice PDF (Japanese, A4) with reportlab and an embedded TrueType CJK font (fonts-ipafont).

Rendered from the stored statement document only, with reportlab's `invariant` mode, so the same
statement always gives the same bytes (closing twice, downloading later from the panel).

Every text of the document (a company name, an address, a line's description) is text, never markup:
a Paragraph parses its string as reportlab's mini-HTML, where `<b>` without its end is a parse error
and `<img src="http://...">` makes reportlab fetch that URL. `_text` escapes each value, so the only
tags a Paragraph ever sees are the `<br/>` written here.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "KumoGothic"
_registered: str | None = None


def register_font(path: str) -> str:
    """The name of the embedded CJK font (registered with reportlab once per file)."""
    global _registered
    if _registered != path:
        pdfmetrics.registerFont(TTFont(FONT, path))
        _registered = path
    return FONT


def _text(value: object) -> str:
    """A document value as Paragraph-safe text (tenant-controlled strings are never markup)."""
    return escape(str(value if value is not None else ""))


def yen(amount: int) -> str:
    return f"¥{amount:,}"


def _date_ja(iso: str) -> str:
    year, month, day = (int(part) for part in iso.split("-"))
    return f"{year}年{month}月{day}日"


def render_invoice(doc: dict, font_path: str) -> bytes:
    """PDF bytes of one statement document."""
    font = register_font(font_path)
    style = ParagraphStyle("ja", fontName=font, fontSize=9.5, leading=14)
    title = ParagraphStyle("title", parent=style, fontSize=20, leading=26, alignment=1)
    big = ParagraphStyle("big", parent=style, fontSize=14, leading=20)
    right = ParagraphStyle("right", parent=style, alignment=2)
    issuer = doc["issuer"]
    month_year, month_num = doc["month"].split("-")
    story = [
        Paragraph("請求書 (適格請求書)", title),
        Spacer(1, 6 * mm),
        Table(
            [
                [
                    Paragraph(
                        f"{_text(doc['tenant']['name'])} 御中<br/>({_text(doc['tenant']['domain'])})", big
                    ),
                    Paragraph(
                        f"請求書番号: {_text(doc['invoice_number'])}<br/>発行日: {_date_ja(doc['issued_on'])}"
                        f"<br/><br/>{_text(issuer['name'])}<br/>{_text(issuer['address'])}<br/>"
                        f"登録番号: {_text(issuer['registration_number'])}",
                        right,
                    ),
                ]
            ],
            colWidths=[95 * mm, 75 * mm],
            style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]),
        ),
        Spacer(1, 6 * mm),
        Paragraph(
            f"{int(month_year)}年{int(month_num)}月分 ご利用料金 "
            f"(対象期間 {_date_ja(doc['period']['from'])}〜{_date_ja(doc['period']['to'])})",
            style,
        ),
        Spacer(1, 2 * mm),
        Paragraph(f"ご請求金額 {yen(doc['total_yen'])} (税込)", big),
        Spacer(1, 5 * mm),
    ]
    rows = [["品目", "数量", "単価", "金額", "備考"]]
    for line in doc["lines"]:
        rows.append(
            [
                Paragraph(_text(line["description"]), style),
                f"{line['quantity']:,}",
                yen(line["unit_yen"]) if line["unit_yen"] else "",
                yen(line["amount_yen"]),
                Paragraph(_text(line.get("note")), style),
            ]
        )
    for tax in doc["tax"]:
        rows.append([f"小計 ({tax['rate_percent']}%対象)", "", "", yen(tax["taxable_yen"]), ""])
        rows.append([f"消費税 ({tax['rate_percent']}%)", "", "", yen(tax["tax_yen"]), ""])
    rows.append(["合計 (税込)", "", "", yen(doc["total_yen"]), ""])
    footer = len(doc["tax"]) * 2 + 1
    table = Table(rows, colWidths=[62 * mm, 16 * mm, 22 * mm, 26 * mm, 44 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 9.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
                ("ALIGN", (1, 1), (3, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("LINEABOVE", (0, -footer), (-1, -footer), 1.0, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story += [
        table,
        Spacer(1, 5 * mm),
        Paragraph(
            "価格はすべて税抜です。消費税は税率ごとの合計額に対して計算し、1円未満を切り捨てています。"
            "通話料は応答後の通話秒数 (固定電話 3分ごと、携帯電話 1分ごと、開始した単位を1単位) で計算しています。",
            style,
        ),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"請求書 {doc['invoice_number']}",
        author=str(issuer["name"]),
        invariant=1,
    ).build(story)
    return buffer.getvalue()
