"""The import review in a terminal: an 80-column one gets a block per measure, uncut."""

from __future__ import annotations

import re
from datetime import date
from io import StringIO
from pathlib import Path

from rich.console import Console

from engine.app import App
from engine.cli.plans import event_offset
from engine.cli.review_view import TABLE_WIDTH, render_review
from engine.core.db import session_scope
from engine.plans.importing import review
from engine.plans.readers.by_suffix import read_document
from engine.plans.schedule import EventBinding

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "order_unusual_forms.txt"


def _render(app: App, width: int) -> str:
    with session_scope(app.engine) as session:
        result = review(
            session,
            read_document(FIXTURE),
            FIXTURE.read_bytes(),
            app.calendar,
            [],
            "quarterly",
            date(2026, 11, 25),
        )
    console = Console(width=width, record=True, file=StringIO(), color_system=None)
    render_review(console, result, dry_run=True)
    text = console.export_text()
    content = [result.document.title]
    for m in result.measures:
        content += [m.row.number, m.row.title, m.row.deadline, *m.responsible, *m.problems]
        content += m.schedule["notes"]
    content += result.problems + result.notes()
    return text + "\n\0" + "\n".join(content)


def test_an_80_column_review_is_blocks_and_cuts_no_word(app: App) -> None:
    rendered, content = _render(app, 80).split("\n\0")
    lines = rendered.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert not any("┃" in line or "│" in line for line in lines)  # no squeezed table
    printed = set(re.findall(r"[^\s«»]+", rendered))
    words = set(re.findall(r"[^\s«»]+", content))
    assert words <= printed, sorted(words - printed)[:10]  # every word whole, none cut
    # each measure is a block: its number, then its deadline as written
    assert re.search(r"№ 2\.2\s+Мониторинг размещения", rendered)
    assert "«ежемесячно до 5 числа» — периодически (ежемесячно)" in " ".join(rendered.split())
    assert "(по дате приказа)" in rendered  # where the period came from


def test_a_wide_terminal_gets_the_table(app: App) -> None:
    rendered, _content = _render(app, TABLE_WIDTH + 20).split("\n\0")
    assert "Мероприятие" in rendered and "│" in rendered


def test_event_offsets_are_said_in_words() -> None:
    assert event_offset(EventBinding(("ВПР",), 3)) == "через 3 рабочих дня после процедуры"
    assert event_offset(EventBinding((), 0, -2)).startswith(
        "за 2 календарных дня до процедуры (от даты самой процедуры"
    )
    assert event_offset(EventBinding(("НИКО",), 0)).startswith("в день процедуры")
    assert event_offset(EventBinding(("ВПР",), 21)) == "через 21 рабочий день после процедуры"
