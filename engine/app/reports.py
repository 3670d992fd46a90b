"""Use cases of reporting: the plan, discipline and public reports, calendar feeds.

Each returns finished bytes (:class:`~engine.reports.render.Rendered`) for the door to
save (the CLI) or send (the web app's downloads and feeds, issue 10): the report is
built and rendered inside one read transaction (:func:`~engine.core.db.read_scope`: one
consistent snapshot, and on SQLite no write lock, so the daemon keeps working while a
large report is written), and large tables stream from the database into the file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from engine.app import App
from engine.core.db import read_scope
from engine.core.errors import MeasuresError, NotFound
from engine.core.models import Plan
from engine.directory.people import find_person
from engine.reports.asof import Moment
from engine.reports.common import Context
from engine.reports.model import Report
from engine.reports.render import Format, Rendered, check_format, render

PUBLIC_FORMATS = ("html", "xlsx")


def _context(app: App, as_of: date | None = None) -> Context:
    now = app.clock.now()
    return Context(app.escalator, Moment.of(now, app.config.timezone, as_of), now)


def _template(app: App) -> Path | None:
    """The letterhead template of ``reports.docx_template``, checked before any work."""
    configured = app.config.settings.reports.docx_template
    if not configured:
        return None
    path = (app.config.base_dir / configured).resolve()
    if not path.is_file():
        raise MeasuresError(
            f"{app.config.source or 'config.toml'}: reports.docx_template: файл бланка "
            f"{path} не найден (нужен .docx, путь — от папки файла настроек)"
        )
    return path


def _render(app: App, report: Report, fmt: Format) -> Rendered:
    return render(
        report,
        fmt,
        template=_template(app) if fmt in ("docx", "pdf") else None,
        pdf_converter=app.config.settings.reports.pdf_converter,
    )


def plan_report(app: App, plan_id: int, fmt: str, as_of: date | None = None) -> Rendered:
    """«Отчёт об исполнении плана» as it stood at the end of ``as_of`` (default: now)."""
    from engine.reports.plan import plan_report as build

    chosen = check_format(fmt)
    ctx = _context(app, as_of)
    with read_scope(app.ready_engine()) as session:
        return _render(app, build(session, ctx, plan_id), chosen)


def discipline_report(
    app: App,
    first: date,
    last: date,
    fmt: str,
    *,
    as_of: date | None = None,
    plan_id: int | None = None,
) -> Rendered:
    """«Исполнительская дисциплина» for tasks due from ``first`` to ``last``."""
    from engine.reports.discipline import discipline_report as build

    chosen = check_format(fmt)
    ctx = _context(app, as_of)
    with read_scope(app.ready_engine()) as session:
        return _render(app, build(session, ctx, first, last, plan_id), chosen)


def _public_allowed(app: App) -> None:
    if not app.config.settings.reports.public_summary:
        raise MeasuresError(
            "Публичная сводка выключена. Чтобы публиковать сведения о ходе исполнения "
            "планов (без имён и адресов), включите reports.public_summary = true в "
            f"{app.config.source or 'config.toml'}."
        )


def public_summary(app: App, plan_id: int, fmt: str) -> Rendered:
    """The plan's public summary (no personal data) as HTML or XLSX, if enabled."""
    from engine.reports.public import public_report

    _public_allowed(app)
    chosen = check_format(fmt, PUBLIC_FORMATS)
    with read_scope(app.ready_engine()) as session:
        return _render(app, public_report(session, _context(app), plan_id), chosen)


def public_page(app: App, plan_id: int) -> str:
    """The public summary as an HTML page: what the web app's read-only page serves."""
    return public_summary(app, plan_id, "html").content.decode("utf-8")


def person_calendar(app: App, person: str) -> bytes:
    """A person's deadlines as an .ics feed (``person``: key or email)."""
    from engine.reports.ics import person_calendar as feed

    with read_scope(app.ready_engine()) as session:
        return feed(session, app.escalator, find_person(session, person), app.clock.now())


def plan_calendar(app: App, plan_id: int) -> bytes:
    """A plan's deadlines (one event per measure and occurrence) as an .ics feed."""
    from engine.reports.ics import plan_calendar as feed

    with read_scope(app.ready_engine()) as session:
        plan = session.get(Plan, plan_id)
        if plan is None:
            raise NotFound("plan", plan_id)
        return feed(session, app.escalator, plan, app.clock.now())
