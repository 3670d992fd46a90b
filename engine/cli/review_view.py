"""The import review as a person reads it: Russian, problems and notes named.

A wide terminal gets one table, a row per measure. A narrow one (the usual 80 columns)
would squeeze eight columns to a few letters each, so it gets one block per measure
instead: the number and title, then the deadline as written and as understood, the
first due dates, the responsible persons, the tasks, problems and notes — each value
wrapped under its label, never cut.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from engine.plans.importing import PERIOD_SOURCES, MeasureReview, Review
from engine.plans.schedule import CADENCE_WORDS

#: Below this width the review is printed as blocks, not as a table.
TABLE_WIDTH = 160

KIND_NAMES = {
    "once": "к дате",
    "window": "период",
    "multiple": "несколько периодов",
    "recurring": "периодически",
    "continuous": "постоянно",
    "event": "по графику процедур",
    "on_demand": "по мере необходимости",
    "unscheduled": "сроки не определены",
}
CADENCE_NAMES: dict[str, str] = {str(k): v for k, v in CADENCE_WORDS.items()}
#: Said of a deadline phrase a clerk gave instead of the document's.
_BY_HAND = "задан вручную"


def _day(iso: object) -> str:
    return ".".join(reversed(str(iso).split("-")))


def _due(occurrence: dict[str, object]) -> str:
    """«28.02.2027 (фактически 26.02.2027)» for a date written on a day off."""
    effective = occurrence.get("effective_due")
    shown = _day(occurrence["due"])
    return f"{shown} (фактически {_day(effective)})" if effective else shown


def _dates(schedule: dict[str, object]) -> str:
    occurrences = schedule.get("occurrences") or []
    assert isinstance(occurrences, list)
    shown = [_due(o) for o in occurrences[:3] if isinstance(o, dict)]
    more = f" … (всего {len(occurrences)})" if len(occurrences) > 3 else ""
    return ", ".join(shown) + more if shown else "—"


def _kind(schedule: dict[str, Any]) -> str:
    kind = str(schedule.get("kind", ""))
    text = KIND_NAMES.get(kind, kind)
    cadence = schedule.get("cadence")
    if isinstance(cadence, str):
        text += f" ({CADENCE_NAMES.get(cadence, cadence)})"
    return text


def _bullets(console: Console, items: list[str]) -> None:
    """A list whose items wrap under their own first letter."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for item in items:
        grid.add_row(" •", item)
    console.print(grid)


def _header(console: Console, review: Review) -> None:
    doc = review.document
    console.print(Text(doc.title or "(без названия)", style="bold"))
    details = [doc.issuer]
    if doc.order_number or doc.order_date:
        when = f" от {doc.order_date:%d.%m.%Y}" if doc.order_date else ""
        details.append(f"распоряжение № {doc.order_number}{when}")
    details.append(
        f"период {review.period[0]:%d.%m.%Y}–{review.period[1]:%d.%m.%Y} "
        f"({PERIOD_SOURCES[review.period_source]})"
    )
    if doc.controller_text:
        found = f" → {review.controller}" if review.controller else ""
        details.append(f"контроль: {doc.controller_text}{found}")
    console.print(Text("; ".join(d for d in details if d)))
    notes = review.notes()
    if notes:
        console.print(Text("Как прочитан документ:", style="bold"))
        _bullets(console, notes)


def _block(m: MeasureReview) -> Table:
    """One measure as label/value lines; values wrap under their label."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column(overflow="fold")
    grid.add_row(Text(f"№ {m.row.number or '—'}", style="bold"), Text(m.row.title, style="bold"))
    if m.override:  # the clerk's phrase decides, the document's is shown beside it
        grid.add_row("Срок:", f"«{m.override}» — {_kind(m.schedule)} ({_BY_HAND})")
        grid.add_row("В документе:", f"«{m.row.deadline}»" if m.row.deadline else "—")
    else:
        grid.add_row(
            "Срок:", f"«{m.row.deadline}» — {_kind(m.schedule)}" if m.row.deadline else "—"
        )
    grid.add_row("Даты:", _dates(m.schedule))
    grid.add_row("Ответственные:", "; ".join(m.responsible) or "—")
    grid.add_row("Задач:", str(len(m.tasks)))
    for problem in m.problems:
        grid.add_row(Text("Проблема:", style="red"), Text(problem, style="red"))
    for note in m.schedule.get("notes") or []:
        grid.add_row("Заметка:", str(note))
    return grid


def _table(review: Review) -> Table:
    table = Table(
        "№",
        "Мероприятие",
        "Срок в документе",
        "Вид срока",
        "Ближайшие сроки",
        "Ответственные",
        "Задач",
        "Проблемы и заметки",
        show_lines=True,
    )
    for m in review.measures:
        said = [Text(p, style="red") for p in m.problems]
        said += [Text(str(n)) for n in m.schedule.get("notes") or []]
        written = m.row.deadline + (f"\n{_BY_HAND}: «{m.override}»" if m.override else "")
        table.add_row(
            m.row.number,
            m.row.title,
            written,
            _kind(m.schedule),
            _dates(m.schedule),
            "; ".join(m.responsible) or "—",
            str(len(m.tasks)),
            Text("\n").join(said),
        )
    return table


def render_review(console: Console, review: Review, dry_run: bool) -> None:
    _header(console, review)
    if console.width >= TABLE_WIDTH:
        console.print(_table(review))
    else:
        section = None
        for m in review.measures:
            if m.section and m.section != section:
                section = m.section
                console.print(Text(f"\n{section}", style="bold underline"))
            console.print(Group(Text(""), _block(m)))
        console.print()
    total_tasks = sum(len(m.tasks) for m in review.measures)
    console.print(f"Мероприятий: {len(review.measures)}, задач: {total_tasks}.")
    if review.problems:
        console.print(Text("Замечания к документу:", style="bold red"))
        _bullets(console, review.problems)
    flagged = sum(1 for m in review.measures if m.problems)
    if flagged:
        console.print(Text(f"Мероприятий с замечаниями: {flagged}.", style="red"))
    labels = {"added": "добавлены", "removed": "удалены", "changed": "изменены"}
    if review.unchanged and review.existing is not None:
        console.print(
            f"Этот документ уже загружен (план {review.existing.id}): изменений в документе нет."
        )
        _bullets(console, review.diff.get("changed", []))
    elif review.existing is not None:
        console.print(Text(f"Документ обновляет план {review.existing.id}:", style="bold"))
        _bullets(console, [f"{labels[k]}: " + "; ".join(items) for k, items in review.diff.items()])
        if not review.diff:
            console.print("  мероприятия не изменились (изменилось только оформление).")
    if dry_run:
        console.print("Проверка (--dry-run): в базу ничего не записано.")
