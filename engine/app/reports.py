"""Use cases of reporting: the plan, discipline, school case and public reports, and
calendar feeds.

Each returns finished bytes (:class:`~engine.reports.render.Rendered`) for the door to
save (the CLI) or send (the web app's downloads and feeds): the report is built and
rendered inside one read transaction (:func:`~engine.core.db.read_scope`: one
consistent snapshot, and on SQLite no write lock, so the daemon keeps working while a
large report is written), and large tables stream from the database into the file.

A door acting for a signed-in person passes ``viewer``: a plan report needs a plan the
person may see (its dashboard's rule), a school report a case they may see — anything
else is NotFound, as for an id that does not exist.

**Calendar feeds** are served by the web app under signed URLs (:func:`feed_url`): the
token names the person it was issued to, what it shows (their deadlines, or a plan's)
and a *generation*. A person revokes every feed URL they were given by asking for new
ones (:func:`renew_feeds`: the generation, kept in ``databaseflag`` as
``feed:<person id>``, moves on and old URLs answer «отозвана»); rotating the instance
secret revokes all of them. A plan feed keeps answering only while its person may still
see the plan, and no feed answers for a person switched off in the directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import Session

from engine.app import App
from engine.core.db import read_scope, session_scope
from engine.core.errors import MeasuresError, NotFound
from engine.core.flags import get_flag, set_flag
from engine.core.links import Claim
from engine.core.models import Person, Plan, pk
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


def _see_plan(session: Session, viewer: Person | None, plan_id: int) -> None:
    """NotFound unless ``viewer`` (when a door acts for one) may see the plan."""
    from engine.app.dashboard import may_see_plan

    if viewer is None:
        return
    plan = session.get(Plan, plan_id)
    person = session.get(Person, viewer.id)
    if plan is None or person is None or not may_see_plan(session, person, plan):
        raise NotFound("plan", plan_id)


def plan_report(
    app: App,
    plan_id: int,
    fmt: str,
    as_of: date | None = None,
    *,
    viewer: Person | None = None,
) -> Rendered:
    """«Отчёт об исполнении плана» as it stood at the end of ``as_of`` (default: now)."""
    from engine.reports.plan import plan_report as build

    chosen = check_format(fmt)
    ctx = _context(app, as_of)
    with read_scope(app.ready_engine()) as session:
        _see_plan(session, viewer, plan_id)
        return _render(app, build(session, ctx, plan_id), chosen)


def school_report(
    app: App,
    school: str | int,
    fmt: str,
    as_of: date | None = None,
    *,
    kind: str | None = None,
    viewer: Person | None = None,
) -> Rendered:
    """«Отчёт по делу школы»: the case's history, help programme, evaluations and
    administrative decisions, as they stood at the end of ``as_of`` (default: now).

    ``school``: the school (key, name, alias; its open case of ``kind``, else the
    newest) or a case id.
    """
    from engine.app.cases import find_case_ref, may_see
    from engine.reports.school import school_report as build

    chosen = check_format(fmt)
    ctx = _context(app, as_of)
    with read_scope(app.ready_engine()) as session:
        case = find_case_ref(session, app, school, kind)
        if not may_see(app, session, viewer, case):
            raise NotFound("case", case.id)
        return _render(app, build(session, ctx, app.cases, case), chosen)


def discipline_report(
    app: App,
    first: date,
    last: date,
    fmt: str,
    *,
    as_of: date | None = None,
    plan_id: int | None = None,
    viewer: Person | None = None,
) -> Rendered:
    """«Исполнительская дисциплина» for tasks due from ``first`` to ``last``.

    For a ``viewer`` only of one plan they may see (the web's download on a plan page).
    """
    from engine.reports.discipline import discipline_report as build

    chosen = check_format(fmt)
    ctx = _context(app, as_of)
    with read_scope(app.ready_engine()) as session:
        if viewer is not None:
            if plan_id is None:
                raise NotFound("plan", "—")
            _see_plan(session, viewer, plan_id)
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


# -- calendar feeds served by the web app ------------------------------------------------

#: A feed URL does not expire by itself: it is revoked (see the module docstring).
FEED_YEARS = 10


def _feed_flag(person_id: int) -> str:
    return f"feed:{person_id}"


def _generation(session: Session, person_id: int) -> int:
    value = get_flag(session, _feed_flag(person_id))
    return int(value) if value and value.isdigit() else 0


def feed_url(app: App, person: Person, plan_id: int | None = None) -> str:
    """The signed URL of ``person``'s deadlines feed (or of a plan's, issued to them)."""
    now = app.clock.now()
    with app.reading() as session:
        generation = _generation(session, pk(person))
        if plan_id is not None:
            _see_plan(session, person, plan_id)
    claim = Claim(
        person_id=pk(person),
        expires=now + timedelta(days=366 * FEED_YEARS),
        extra="person" if plan_id is None else f"plan:{plan_id}",
        version=generation,
    )
    return f"{app.base_url}/calendar/{app.signer.make('feed', claim)}.ics"


def renew_feeds(app: App, person: Person) -> int:
    """Revoke every feed URL issued to ``person`` (their new URLs differ); the generation."""
    with session_scope(app.writable_engine()) as session:
        generation = _generation(session, pk(person)) + 1
        set_flag(session, _feed_flag(pk(person)), str(generation), app.clock.now())
        session.commit()
    return generation


@dataclass(frozen=True)
class Feed:
    content: bytes
    filename: str


def calendar_feed(app: App, token: str) -> Feed:
    """What a feed URL serves now; LinkRefused (forged, expired, revoked, inactive) or
    NotFound (a plan its person may no longer see) otherwise."""
    from engine.app.access import LinkRefused, read_claim

    claim = read_claim(app, "feed", token)
    with session_scope(app.ready_engine()) as session:
        person = session.get(Person, claim.person_id)
        if person is None or not person.active:
            raise LinkRefused("inactive")
        if (claim.version or 0) != _generation(session, pk(person)):
            raise LinkRefused("revoked")
        plan_id = None
        if claim.extra.startswith("plan:") and claim.extra[5:].isdigit():
            plan_id = int(claim.extra[5:])
            _see_plan(session, person, plan_id)
        elif claim.extra != "person":
            raise LinkRefused("forged")
    if plan_id is not None:
        return Feed(plan_calendar(app, plan_id), f"plan-{plan_id}.ics")
    return Feed(person_calendar(app, person.key), f"srok-{person.key}.ics")
