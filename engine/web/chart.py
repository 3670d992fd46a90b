"""Progress over time as an SVG drawn on the server: no scripts, no chart library.

Two lines over the plan's weeks: tasks verified so far, and tasks due so far (what
should have been verified by then). The gap between them is the backlog.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

WIDTH, HEIGHT, PAD = 720, 240, 36


def progress_svg(points: Sequence[tuple[date, int, int]]) -> str:
    """An inline ``<svg>`` (escaped text only; safe to embed as markup)."""
    if not points:
        return ""
    top = max(max(done, due) for _, done, due in points) or 1
    span = max(len(points) - 1, 1)

    def xy(index: int, value: int) -> str:
        x = PAD + (WIDTH - 2 * PAD) * index / span
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / top
        return f"{x:.1f},{y:.1f}"

    done = " ".join(xy(i, d) for i, (_, d, _) in enumerate(points))
    due = " ".join(xy(i, p) for i, (_, _, p) in enumerate(points))
    first, last = points[0][0], points[-1][0]
    label = escape(
        f"Подтверждено {points[-1][1]} из {points[-1][2]} задач со сроком к {last:%d.%m.%Y}"
    )
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" '
        'xmlns="http://www.w3.org/2000/svg">'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="#8c959f"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#8c959f"/>'
        f'<polyline points="{due}" fill="none" stroke="#bf8700" stroke-width="2" '
        'stroke-dasharray="6 4"/>'
        f'<polyline points="{done}" fill="none" stroke="#1a7f37" stroke-width="3"/>'
        f'<text x="{PAD}" y="{HEIGHT - 8}" font-size="12">{first:%d.%m.%Y}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" font-size="12" text-anchor="end">'
        f"{last:%d.%m.%Y}</text>"
        f'<text x="{PAD - 4}" y="{PAD}" font-size="12" text-anchor="end">{top}</text>'
        f'<text x="{PAD + 8}" y="{PAD - 12}" font-size="12" fill="#1a7f37">— подтверждено</text>'
        f'<text x="{PAD + 160}" y="{PAD - 12}" font-size="12" fill="#bf8700">'
        "- - срок наступил</text>"
        "</svg>"
    )
