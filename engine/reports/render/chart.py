"""The chart of a report as a PNG picture, for documents (DOCX, HTML, PDF).

matplotlib's object API with the Agg canvas: no pyplot, so no global figure state and no
display is needed (the web app may draw charts in several threads). DejaVu Sans, the
library's own font, has Cyrillic.
"""

from __future__ import annotations

import io
from typing import Any, cast

from engine.reports.model import Chart


def chart_png(chart: Chart, *, width: float = 9.0, height: float = 3.6) -> bytes:
    from matplotlib import dates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    untyped: Any = dates  # its locators and formatters have no annotations

    figure = Figure(figsize=(width, height), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for (label, values), colour in zip(chart.series, ("#8a8f98", "#1f6f3f"), strict=False):
        axes.step(
            cast(Any, chart.days), values, where="post", label=label, color=colour, linewidth=2
        )
    axes.set_title(chart.title, fontsize=11)
    axes.set_ylabel("задач")
    axes.xaxis.set_major_locator(untyped.AutoDateLocator(maxticks=10))
    axes.xaxis.set_major_formatter(untyped.DateFormatter("%d.%m.%y"))
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left", fontsize=9)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
