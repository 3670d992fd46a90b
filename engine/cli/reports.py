"""Reports and calendars: `measures report plan|discipline|public`, `measures calendar export`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from engine.cli.base import app, out, parse_day, parse_span, state_of
from engine.cli.calendar import calendar_app
from engine.core.errors import MeasuresError

report_app = typer.Typer(
    help="Отчёты: исполнение плана, исполнительская дисциплина, дело школы, публичная сводка.",
    no_args_is_help=True,
)
app.add_typer(report_app, name="report")

FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="docx, xlsx, html или pdf (по умолчанию — по расширению --out, иначе docx).",
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Файл отчёта (по умолчанию — имя по отчёту и дате, в текущей папке).",
        dir_okay=False,
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Состояние на конец этого дня (ГГГГ-ММ-ДД), восстановленное по журналу аудита; "
        "по умолчанию — на сейчас.",
    ),
]


def _format(fmt: str | None, target: Path | None, default: str = "docx") -> str:
    suffix = target.suffix.lower().lstrip(".") if target else ""
    if fmt is None:
        return suffix if suffix in ("docx", "xlsx", "html", "pdf") else default
    if suffix and suffix != fmt.lower().lstrip("."):
        raise MeasuresError(f"--out: расширение «.{suffix}» не совпадает с --format {fmt}")
    return fmt


def save(content: bytes, target: Path) -> Path:
    """Write the whole file or nothing: a temporary file beside it, then a rename."""
    target = target.expanduser()
    folder = target.parent if str(target.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=".measures-", dir=folder)
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        os.replace(temporary, target)
    except OSError as exc:
        raise MeasuresError(f"--out: не удалось записать {target}: {exc.strerror or exc}") from None
    return target


def _saved(content: bytes, target: Path, what: str, made_by: str = "") -> None:
    path = save(content, target)
    how = f"; PDF сделан программой {made_by}" if made_by else ""
    out.print(f"{what} сохранён: {path} ({max(len(content) // 1024, 1)} КБ{how}).")


@report_app.command("plan")
def report_plan(
    ctx: typer.Context,
    plan: Annotated[int, typer.Argument(help="Номер плана (см. `measures tasks`).", min=1)],
    fmt: FormatOption = None,
    as_of: AsOfOption = None,
    target: OutOption = None,
) -> None:
    """Отчёт об исполнении плана: сводка, график, таблица плана, просрочки, по людям и школам."""
    from engine.app.reports import plan_report

    day = parse_day(as_of, "--as-of") if as_of else None
    rendered = plan_report(state_of(ctx), plan, _format(fmt, target), day)
    _saved(rendered.content, target or Path(rendered.filename), "Отчёт", rendered.made_by)


@report_app.command("discipline")
def report_discipline(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", help="Первый день периода сроков (ГГГГ-ММ-ДД).")],
    end: Annotated[str, typer.Option("--to", help="Последний день периода (включительно).")],
    plan: Annotated[int | None, typer.Option("--plan", help="Только этот план.", min=1)] = None,
    fmt: FormatOption = None,
    as_of: AsOfOption = None,
    target: OutOption = None,
) -> None:
    """Исполнительская дисциплина: по исполнителям и школам — в срок, с опозданием, не исполнено."""
    from engine.app.reports import discipline_report

    first, last = parse_span(start, end, "--from/--to")
    day = parse_day(as_of, "--as-of") if as_of else None
    rendered = discipline_report(
        state_of(ctx), first, last, _format(fmt, target), as_of=day, plan_id=plan
    )
    _saved(rendered.content, target or Path(rendered.filename), "Отчёт", rendered.made_by)


@report_app.command("school")
def report_school(
    ctx: typer.Context,
    school: Annotated[str, typer.Argument(help="Школа: ключ, название или псевдоним.")],
    risk: Annotated[
        str | None,
        typer.Option(
            "--risk", help="Вид риска, если у школы несколько дел: non_objective | low_results."
        ),
    ] = None,
    fmt: FormatOption = None,
    as_of: AsOfOption = None,
    target: OutOption = None,
) -> None:
    """Отчёт по делу школы: история, программа помощи, оценки с цифрами, меры воздействия
    и кто их утвердил."""
    from engine.app.reports import school_report

    day = parse_day(as_of, "--as-of") if as_of else None
    rendered = school_report(state_of(ctx), school, _format(fmt, target), day, kind=risk)
    _saved(rendered.content, target or Path(rendered.filename), "Отчёт", rendered.made_by)


@report_app.command("public")
def report_public(
    ctx: typer.Context,
    plan: Annotated[int, typer.Option("--plan", help="Номер плана.", min=1)],
    fmt: Annotated[
        str | None, typer.Option("--format", help="html или xlsx (по умолчанию html).")
    ] = None,
    target: OutOption = None,
) -> None:
    """Публичная сводка по плану для сайта: мероприятия, состояния и даты — без имён и адресов."""
    from engine.app.reports import public_summary

    rendered = public_summary(state_of(ctx), plan, _format(fmt, target, "html"))
    _saved(rendered.content, target or Path(rendered.filename), "Сводка")


@calendar_app.command("export")
def calendar_export(
    ctx: typer.Context,
    target: Annotated[Path, typer.Option("--out", help="Файл .ics.", dir_okay=False)],
    person: Annotated[
        str | None, typer.Option("--person", help="Сроки этого человека (ключ или email).")
    ] = None,
    plan: Annotated[int | None, typer.Option("--plan", help="Сроки этого плана.", min=1)] = None,
) -> None:
    """Сроки человека или плана в формате iCalendar — для Outlook, Яндекс и Google Календаря."""
    from engine.app.reports import person_calendar, plan_calendar

    if (person is None) == (plan is None):
        raise MeasuresError("calendar export: укажите ровно одно из --person KEY или --plan N")
    state = state_of(ctx)
    content = person_calendar(state, person) if person else plan_calendar(state, plan or 0)
    _saved(content, target, "Календарь")
