"""Renderers: one neutral :class:`~engine.reports.model.Report` → DOCX, XLSX, HTML or PDF.

:func:`render` is the one entry point every door uses (CLI today, the web's downloads
later), so a report looks the same whichever way it is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from engine.core.errors import MeasuresError
from engine.reports.model import Report
from engine.reports.render.pdf import Converter

Format = Literal["docx", "xlsx", "html", "pdf"]
FORMATS: tuple[Format, ...] = get_args(Format)
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class Rendered:
    """A finished file: its bytes, a file name to offer, its media type."""

    content: bytes
    filename: str
    media_type: str
    made_by: str = ""  # PDF: the converter that made it, to tell the person


def check_format(text: str, allowed: tuple[str, ...] = FORMATS) -> Format:
    value = text.strip().lower().lstrip(".")
    if value not in allowed:
        raise MeasuresError(
            f"--format: формат «{text}» не поддерживается; возможные: {', '.join(allowed)}"
        )
    return value  # type: ignore[return-value]  # checked against the literal's values


def render(
    report: Report,
    fmt: Format,
    *,
    template: Path | None = None,
    pdf_converter: Converter = "auto",
) -> Rendered:
    """The report in one format; heavy libraries are imported only for the format asked."""
    made_by = ""
    if fmt == "docx":
        from engine.reports.render.docx import render_docx

        content = render_docx(report, template)
    elif fmt == "xlsx":
        from engine.reports.render.xlsx import render_xlsx

        content = render_xlsx(report)
    elif fmt == "html":
        from engine.reports.render.html import render_html

        content = render_html(report).encode("utf-8")
    else:
        from engine.reports.render.docx import render_docx
        from engine.reports.render.html import render_html
        from engine.reports.render.pdf import find_converter, render_pdf

        found = find_converter(pdf_converter)
        content = render_pdf(
            found, lambda: render_docx(report, template), lambda: render_html(report)
        )
        made_by = f"{found.kind} ({found.program})"
    return Rendered(content, f"{report.filename}.{fmt}", MEDIA_TYPES[fmt], made_by)
