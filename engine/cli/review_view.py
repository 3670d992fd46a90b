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
from engine.plans.schedule import CADENCE_WORDS, EventBinding

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


def plural(n: int, forms: tuple[str, str, str]) -> str:
    """Russian number agreement: 1 день, 2 дня, 5 дней, 11 дней, 21 день."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def event_offset(binding: EventBinding) -> str:
    """ "в день процедуры", "3 рабочих дня после", "за 2 календарных дня до" (ВПР)."""
    parts = []
    for days, kind in (
        (binding.offset_working_days, ("рабочий", "рабочих", "рабочих")),
        (binding.offset_calendar_days, ("календарный", "календарных", "календарных")),
    ):
        if days:
            unit = plural(days, ("день", "дня", "дней"))
            side = "после" if days > 0 else "до"
            parts.append(f"{abs(days)} {plural(days, kind)} {unit} {side} процедуры")
    which = f" ({', '.join(binding.kinds)})" if binding.kinds else " (любые оценочные процедуры)"
    return ("; ".join(parts) or "в день процедуры") + which


def _dates(schedule: dict[str, object]) -> str:
    occurrences = schedule.get("occurrences") or []
    assert isinstance(occurrences, list)
    shown = [
        ".".join(reversed(str(o["due"]).split("-"))) for o in occurrences[:3] if isinstance(o, dict)
    ]
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
    grid.add_row("Срок:", f"«{m.row.deadline}» — {_kind(m.schedule)}" if m.row.deadline else "—")
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
        table.add_row(
            m.row.number,
            m.row.title,
            m.row.deadline,
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
