"""The PDF summary of an export: what a person reading the package on paper needs.

Written with ReportLab in DejaVu Sans (Debian's fonts-dejavu-core), which has Cyrillic; the text
is the export's own (redacted) words only, never an original.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT = "DejaVuSans"


@dataclass(frozen=True)
class SummaryItem:
    item_id: str
    kind: str
    consent: str
    text: str  # the redacted text


@dataclass(frozen=True)
class SummaryEvent:
    title: str
    when: str
    acts: str  # "Arrest / Задержание; Torture / Пытки"


def _styles() -> tuple[ParagraphStyle, ParagraphStyle, ParagraphStyle]:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE)))
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=13)
    heading = ParagraphStyle("heading", fontName=FONT, fontSize=14, leading=18, spaceAfter=6)
    small = ParagraphStyle("small", fontName=FONT, fontSize=8, leading=10)
    return heading, body, small


def summary_pdf(
    *,
    organisation: str,
    recipient: str,
    created_at: datetime,
    fingerprint: str,
    items: Sequence[SummaryItem],
    events: Sequence[SummaryEvent],
) -> bytes:
    heading, body, small = _styles()
    story = [
        Paragraph(escape(f"{organisation}: evidence for {recipient} / доказательства для: {recipient}"), heading),
        Paragraph(escape(f"Made / Составлено: {created_at:%Y-%m-%d %H:%M} UTC"), body),
        Spacer(1, 4 * mm),
    ]
    for item in items:
        story += [
            Paragraph(
                escape(f"Item / Материал {item.item_id} ({item.kind}); consent / согласие: {item.consent}"), body
            ),
            Paragraph(escape(item.text).replace("\n", "<br/>"), body),
            Spacer(1, 3 * mm),
        ]
    if events:
        story.append(Paragraph("Events / События", heading))
        story += [Paragraph(escape(f"{e.when}: {e.title}. {e.acts}"), body) for e in events]
    story += [
        Spacer(1, 6 * mm),
        Paragraph(
            escape(
                "Check this package offline / Проверка пакета без сети: python -m redaction verify PACKAGE.zip "
                f"--public-key '{fingerprint}'. Names are replaced by pseudonyms; identifying details by "
                "placeholders. / Имена заменены псевдонимами, опознавательные данные удалены."
            ),
            small,
        ),
    ]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title="Evidence summary", author=organisation).build(story)
    return out.getvalue()
