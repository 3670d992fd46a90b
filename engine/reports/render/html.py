"""A report as one self-contained HTML page (Jinja2): styles inline, the chart as a data URL.

The same page is what Chromium prints to PDF, and what the web app will serve; the
``@page`` rules make the print landscape A4 with repeated table headers.
"""

from __future__ import annotations

import base64
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from engine.reports.model import Chart, Report, Row, Table, text_of
from engine.reports.render.chart import chart_png

_environment = Environment(
    loader=PackageLoader("engine.reports", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["cell"] = text_of


def _groups(rows: list[Row]) -> list[tuple[str, list[Row]]]:
    found: list[tuple[str, list[Row]]] = []
    for row in rows:
        if not found or (row.group and row.group != found[-1][0]):
            found.append((row.group, []))
        found[-1][1].append(row)
    return found


def render_html(report: Report) -> str:
    blocks: list[tuple[str, Any]] = []
    for block in report.blocks:
        if isinstance(block, Table):
            if block.where != "workbook":
                blocks.append(("table", (block, _groups(list(block.rows)))))
        elif isinstance(block, Chart):
            png = base64.b64encode(chart_png(block)).decode("ascii")
            blocks.append(("chart", (block, f"data:image/png;base64,{png}")))
        else:
            blocks.append((type(block).__name__.lower(), block))
    return _environment.get_template("report.html").render(report=report, blocks=blocks)
