"""The import review as a person reads it: Russian, one table, problems listed below."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine.plans.importing import Review

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
CADENCE_NAMES = {
    "weekly": "еженедельно",
    "monthly": "ежемесячно",
    "quarterly": "ежеквартально",
    "half_yearly": "раз в полугодие",
    "yearly": "ежегодно",
}


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


def render_review(console: Console, review: Review, dry_run: bool) -> None:
    doc = review.document
    console.print(Text(doc.title or "(без названия)", style="bold"))
    details = [doc.issuer]
    if doc.order_number or doc.order_date:
        when = f" от {doc.order_date:%d.%m.%Y}" if doc.order_date else ""
        details.append(f"распоряжение № {doc.order_number}{when}")
    details.append(f"период {review.period[0]:%d.%m.%Y}–{review.period[1]:%d.%m.%Y}")
    if doc.controller_text:
        details.append(f"контроль: {doc.controller_text}")
    console.print(Text("; ".join(d for d in details if d)))
    table = Table(
        "№",
        "Мероприятие",
        "Срок в документе",
        "Вид срока",
        "Ближайшие сроки",
        "Ответственные",
        "Задач",
        "Проблемы",
        show_lines=True,
    )
    for m in review.measures:
        kind = str(m.schedule.get("kind", ""))
        cadence = m.schedule.get("cadence")
        kind_text = KIND_NAMES.get(kind, kind)
        if isinstance(cadence, str):
            kind_text += f" ({CADENCE_NAMES.get(cadence, cadence)})"
        table.add_row(
            m.row.number,
            m.row.title[:90] + ("…" if len(m.row.title) > 90 else ""),
            m.row.deadline,
            kind_text,
            _dates(m.schedule),
            "; ".join(m.responsible) or "—",
            str(len(m.tasks)),
            Text("\n".join(m.problems), style="red") if m.problems else "",
        )
    console.print(table)
    total_tasks = sum(len(m.tasks) for m in review.measures)
    console.print(f"Мероприятий: {len(review.measures)}, задач: {total_tasks}.")
    if review.problems:
        console.print(Text("Замечания к документу:", style="bold red"))
        for problem in review.problems:
            console.print(Text(f"  • {problem}"))
    flagged = sum(1 for m in review.measures if m.problems)
    if flagged:
        console.print(Text(f"Мероприятий с замечаниями: {flagged}.", style="red"))
    if review.unchanged and review.existing is not None:
        console.print(
            f"Этот документ уже загружен (план {review.existing.id}): изменений в документе нет."
        )
    elif review.existing is not None:
        console.print(Text(f"Документ обновляет план {review.existing.id}:", style="bold"))
        labels = {"added": "добавлены", "removed": "удалены", "changed": "изменены"}
        for key, items in review.diff.items():
            console.print(f"  {labels[key]}: " + "; ".join(items))
        if not review.diff:
            console.print("  мероприятия не изменились (изменилось только оформление).")
    if dry_run:
        console.print("Проверка (--dry-run): в базу ничего не записано.")
