"""The pages, in Russian: sign-in, На исполнение, a task, На контроле, Планы, Импорт,
История, and the confirmation pages of emailed links. «Школы» is engine.web.schools;
report downloads, calendar feeds and the public summary are engine.web.download.

Every page reads the visitor the middleware found, every form carries the CSRF token,
and every handler calls engine.app — the permission checks live there, per object.
Mail scanners open every link in a letter, so a link's GET only shows what it would do;
the POST from that page does it (STACK-NOTES).
"""

from __future__ import annotations

import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException

from engine.app import App, access, dashboard, work
from engine.core.errors import InputError, MeasuresError, NotFound
from engine.core.models import Person
from engine.plans.readers.by_suffix import READERS
from engine.web.chart import progress_svg
from engine.web.render import page
from engine.web.security import csrf_ok, set_session

router = APIRouter(include_in_schema=False)

Id = Annotated[int, PathParam(ge=1, le=2**62)]
Csrf = Annotated[str, Form()]


def the_app(request: Request) -> App:
    app: App = request.app.state.app
    return app


def signed_in(request: Request) -> Person:
    from engine.web import SignInNeeded

    current = getattr(request.state, "visitor", None)
    if current is None or current.person is None:
        raise SignInNeeded()
    person: Person = current.person
    return person


def with_role(request: Request, *roles: str) -> Person:
    from engine.web import Forbidden

    person = signed_in(request)
    if not set(roles) & set(person.roles):
        raise Forbidden()
    return person


def check_csrf(request: Request, token: str) -> None:
    if not csrf_ok(getattr(request.state, "visitor", None), token):
        raise HTTPException(
            403, "Форма устарела или отправлена не с этой страницы: обновите страницу и повторите."
        )


def back(url: str, note: str = "") -> RedirectResponse:
    target = f"{url}?note={quote(note)}" if note else url
    return RedirectResponse(target, status_code=303)


def uploads(app: App, files: list[UploadFile]) -> list[work.Upload]:
    """The posted files, read up to the size limit (one byte more is enough to refuse)."""
    limit = app.config.settings.web.upload_max_mb * 1024 * 1024
    found = []
    for item in files:
        if not item.filename:
            continue  # an empty file field
        data = item.file.read(limit + 1)
        found.append(work.Upload(item.filename, data))
    return found


def _deliver_soon(app: App) -> BackgroundTask:
    """Send the outbox now (a sign-in letter is awaited), after the response is out."""

    async def run() -> None:
        try:
            await app.deliver()
        except Exception:  # the daemon's next delivery retries; the page is answered
            import logging

            logging.getLogger(__name__).exception("immediate delivery failed")

    return BackgroundTask(run)


# -- signing in -----------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> Response:
    signed_in(request)
    return RedirectResponse("/tasks", status_code=303)


@router.get("/signin")
def signin_form(request: Request, next: str = "") -> Response:
    return page(request, "signin.html", {"title": "Вход", "sent": False, "next": next})


@router.post("/signin")
def signin_request(request: Request, csrf: Csrf, ident: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    app = the_app(request)
    queued = access.request_signin(app, ident[:200])
    response = page(request, "signin.html", {"title": "Вход", "sent": True, "next": ""})
    if queued:
        response.background = _deliver_soon(app)
    return response


@router.get("/signin/{token}")
def signin_confirm(request: Request, token: str) -> Response:
    person = access.signin_person(the_app(request), token)
    return page(request, "signin_confirm.html", {"title": "Вход", "who": person, "token": token})


@router.post("/signin/{token}")
def signin_redeem(request: Request, token: str, csrf: Csrf) -> Response:
    check_csrf(request, csrf)
    app = the_app(request)
    person = access.redeem_signin(app, token)
    cookie, _ = access.new_session(app, person)
    set_session(request, cookie)
    return back("/tasks")


@router.post("/signout")
def signout(request: Request, csrf: Csrf) -> Response:
    check_csrf(request, csrf)
    cookie, _ = access.new_session(the_app(request), None)
    set_session(request, cookie)
    return back("/signin", "Вы вышли из системы.")


# -- На исполнение, a task --------------------------------------------------------------


@router.get("/tasks")
def my_tasks(request: Request, note: str = "") -> Response:
    from engine.app.reports import feed_url

    app = the_app(request)
    person = signed_in(request)
    folder = work.my_tasks(app, person)
    return page(
        request,
        "tasks.html",
        {
            "title": "На исполнение",
            "folder": folder,
            "feed": feed_url(app, person),
            "note": note[:300],
        },
    )


@router.get("/tasks/{task_id}")
def task_page(request: Request, task_id: Id, note: str = "") -> Response:
    app = the_app(request)
    person = signed_in(request)
    view = work.task_view(app, person, task_id)
    awaiting = set(work.awaiting_states(app))
    report_events = {n for n, e in app.workflow.events.items() if e.dest in awaiting}
    return page(
        request,
        "task.html",
        {
            "title": f"Задача {task_id}",
            "v": view,
            "report_events": report_events,
            "note": note[:300],
        },
    )


@router.post("/tasks/{task_id}/events/{event}")
def task_event(
    request: Request,
    task_id: Id,
    event: Annotated[str, PathParam(max_length=40)],
    csrf: Csrf,
    version: Annotated[int, Form(ge=1, le=2**62)],
    comment: Annotated[str, Form(max_length=20000)] = "",
    files: Annotated[list[UploadFile], File()] = [],  # noqa: B006 — FastAPI's own default
) -> Response:
    check_csrf(request, csrf)
    app = the_app(request)
    person = signed_in(request)
    done = work.act(
        app, person, task_id, event, comment=comment, uploads=uploads(app, files), version=version
    )
    label = app.workflow.events[event].label
    return back(
        f"/tasks/{task_id}",
        f"Выполнено: «{label}». Состояние: {app.workflow.label(done.task.state)}.",
    )


@router.get("/tasks/{task_id}/evidence/{sha256}")
def evidence(
    request: Request, task_id: Id, sha256: Annotated[str, PathParam(pattern="^[0-9a-f]{64}$")]
) -> Response:
    path, stored = work.evidence_file(the_app(request), signed_in(request), task_id, sha256)
    # Always a download, never shown inline: an uploaded file must not run as a page.
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=stored.filename,
        content_disposition_type="attachment",
    )


@router.post("/tasks/{task_id}/deadline")
def deadline_request(
    request: Request,
    task_id: Id,
    csrf: Csrf,
    new_due: Annotated[date, Form()],
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    check_csrf(request, csrf)
    work.request_deadline(the_app(request), signed_in(request), task_id, new_due, reason)
    return back(f"/tasks/{task_id}", "Запрос на перенос срока направлен контролирующему лицу.")


@router.get("/tasks/{task_id}/history")
def task_history(request: Request, task_id: Id) -> Response:
    view = work.task_view(the_app(request), signed_in(request), task_id)
    return page(
        request,
        "history.html",
        {
            "title": f"История задачи {task_id}",
            "lines": view.history,
            "back": f"/tasks/{task_id}",
            "subject": f"Задача {task_id}: {view.measure.number} {view.measure.title}",
        },
    )


# -- На контроле ------------------------------------------------------------------------


@router.get("/control")
def control(request: Request, note: str = "") -> Response:
    person = signed_in(request)
    queue = work.control_queue(the_app(request), person)
    return page(
        request, "control.html", {"title": "На контроле", "queue": queue, "note": note[:500]}
    )


_TASK_AND_VERSION = re.compile(r"^(\d{1,18}):(\d{1,18})$")


@router.post("/control/bulk")
def control_bulk(
    request: Request,
    csrf: Csrf,
    action: Annotated[str, Form(max_length=40)],
    task: Annotated[list[str], Form()] = [],  # noqa: B006 — FastAPI's own default
    comment: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    """Verify or return several reports at once: each is its own event and audit row."""
    check_csrf(request, csrf)
    app = the_app(request)
    person = signed_in(request)
    if action not in app.workflow.events:
        raise InputError("Неизвестное действие.")
    done, refused = 0, []
    for item in task[:500]:
        matched = _TASK_AND_VERSION.match(item)
        if not matched:
            continue
        task_id, version = int(matched[1]), int(matched[2])
        try:
            work.act(app, person, task_id, action, comment=comment, version=version)
            done += 1
        except NotFound:
            refused.append(f"задача {task_id}: не найдена")
        except MeasuresError as exc:
            refused.append(str(exc))
    label = app.workflow.events[action].label
    note = f"«{label}»: выполнено по {done} из {len(task)}."
    if refused:
        note += " Не выполнено: " + " ".join(refused)
    return back("/control", note)


@router.post("/deadline-requests/{request_id}/{decision}")
def deadline_decision(
    request: Request,
    request_id: Id,
    decision: Annotated[str, PathParam(pattern="^(grant|refuse)$")],
    csrf: Csrf,
    comment: Annotated[str, Form(max_length=5000)] = "",
    next: Annotated[str, Form(max_length=200)] = "/control",
) -> Response:
    check_csrf(request, csrf)
    decided = work.decide_deadline(
        the_app(request), signed_in(request), request_id, decision == "grant", comment
    )
    target = next if next.startswith("/") and not next.startswith("//") else "/control"
    text = "Срок перенесён." if decided.status == "granted" else "В переносе срока отказано."
    return back(target, text)


# -- Планы ----------------------------------------------------------------------------


@router.get("/plans")
def plans(request: Request) -> Response:
    found = dashboard.visible_plans(the_app(request), signed_in(request))
    return page(request, "plans.html", {"title": "Планы", "plans": found})


def _optional_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 18 else None


@router.get("/plans/{plan_id}")
def plan_page(
    request: Request,
    plan_id: Id,
    state: Annotated[str | None, Query(max_length=40)] = None,
    responsible: Annotated[str | None, Query(max_length=20)] = None,
    section: Annotated[str | None, Query(max_length=20)] = None,
    measure: Annotated[str | None, Query(max_length=20)] = None,
    overdue: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    app = the_app(request)
    filters = dashboard.Filters(
        state=state if state in app.workflow.states else None,
        responsible=_optional_int(responsible),
        section=_optional_int(section),
        measure=_optional_int(measure),
        overdue=overdue == "1",
    )
    from engine.app.reports import feed_url
    from engine.web.download import report_formats

    person = signed_in(request)
    board = dashboard.plan_dashboard(app, person, plan_id, filters)
    return page(
        request,
        "plan.html",
        {
            "title": board.plan.title,
            "b": board,
            "chart": progress_svg(board.timeline),
            "responsible_options": responsible_options(board),
            "formats": report_formats(),
            "feed": feed_url(app, person, plan_id),
            "public": app.config.settings.reports.public_summary,
        },
    )


_OPTIONS: dict[int, tuple[dashboard.Dashboard, Markup]] = {}


def responsible_options(board: dashboard.Dashboard) -> Markup:
    """The responsible filter's options, built once per computed board.

    A region's plan has a thousand heads of schools: as a Jinja loop their options cost
    1.7 ms of the page's 2.8 ms of rendering on every view, while the board they come
    from is reused for many views (engine.app.dashboard caches it). The entry holds the
    board, so its id cannot be reused while cached.
    """
    found = _OPTIONS.get(id(board))
    if found is not None and found[0] is board:
        return found[1]
    chosen = board.filters.responsible
    html = Markup(
        "".join(
            f'<option value="{int(g.key)}"{" selected" if g.key == chosen else ""}>'
            f"{escape(g.label)}</option>"
            for g in board.responsibles
            if g.key
        )
    )
    if len(_OPTIONS) > 64:
        _OPTIONS.clear()
    _OPTIONS[id(board)] = (board, html)
    return html


@router.get("/plans/{plan_id}/history")
def plan_history(request: Request, plan_id: Id) -> Response:
    app = the_app(request)
    lines, plan = dashboard.plan_history(app, signed_in(request), plan_id)
    return page(
        request,
        "history.html",
        {
            "title": "История плана",
            "lines": lines,
            "back": f"/plans/{plan_id}",
            "subject": plan.title,
        },
    )


@router.get("/audit")
def audit_page(request: Request) -> Response:
    from engine.app.operations import verify_audit

    with_role(request, "admin", "head")
    result = verify_audit(the_app(request))
    return page(request, "audit.html", {"title": "Проверка журнала", "result": result})


# -- Импорт ---------------------------------------------------------------------------

IMPORT_KINDS = {
    "plan": ("План мероприятий", tuple(READERS)),  # every format the importer reads
    "people": ("Справочник сотрудников", (".csv",)),
    "schools": ("Справочник школ", (".csv",)),
    "events": ("График оценочных процедур", (".csv",)),
    "results": ("Результаты оценочных процедур (ВПР, ГИА)", (".csv", ".xlsx")),
    "risks": ("Перечень школ (необъективность, ШНОР)", (".csv", ".xlsx")),
}
KIND_PATTERN = "^(" + "|".join(IMPORT_KINDS) + ")$"
_SUFFIXES = sorted({s[1:] for _, suffixes in IMPORT_KINDS.values() for s in suffixes})
_STAGED = re.compile(r"^[0-9a-f]{64}\.(" + "|".join(_SUFFIXES) + r")$")


def _staging(app: App) -> Path:
    folder = app.config.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@router.get("/import")
def import_page(request: Request, note: str = "") -> Response:
    with_role(request, "admin")
    return page(
        request, "import.html", {"title": "Импорт", "kinds": IMPORT_KINDS, "note": note[:300]}
    )


@router.post("/import/{kind}")
def import_upload(
    request: Request,
    kind: Annotated[str, PathParam(pattern=KIND_PATTERN)],
    csrf: Csrf,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Upload → the dry-run review; nothing is written until the confirmation."""
    import hashlib

    check_csrf(request, csrf)
    with_role(request, "admin")
    app = the_app(request)
    label, suffixes = IMPORT_KINDS[kind]
    name = Path(file.filename or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in suffixes:
        raise InputError(f"Файл «{name}»: для раздела «{label}» нужен файл {', '.join(suffixes)}.")
    limit = app.config.settings.web.upload_max_mb * 1024 * 1024
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"Файл «{name}» больше {app.config.settings.web.upload_max_mb} МБ.")
    staged = f"{hashlib.sha256(data).hexdigest()}{suffix}"
    (_staging(app) / staged).write_bytes(data)
    return _review(request, kind, staged, name, dry_run=True)


@router.post("/import/{kind}/confirm")
def import_confirm(
    request: Request,
    kind: Annotated[str, PathParam(pattern=KIND_PATTERN)],
    csrf: Csrf,
    staged: Annotated[str, Form(max_length=80)],
    name: Annotated[str, Form(max_length=300)] = "",
    skip_bad_rows: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    check_csrf(request, csrf)
    with_role(request, "admin")
    app = the_app(request)
    if not _STAGED.match(staged) or not (_staging(app) / staged).exists():
        raise InputError("Загруженный файл не найден: загрузите его снова.")
    response = _review(request, kind, staged, name, dry_run=False, skip=skip_bad_rows == "1")
    (_staging(app) / staged).unlink(missing_ok=True)
    return response


def _review(
    request: Request, kind: str, staged: str, name: str, *, dry_run: bool, skip: bool = False
) -> Response:
    """Run the import (a dry run, or for real) and show its review."""
    label = IMPORT_KINDS[kind][0]
    result = _run_import(the_app(request), kind, staged, name, dry_run=dry_run, skip=skip)
    return page(
        request,
        "import_review.html",
        {
            "title": f"Импорт: {label}",
            "kind": kind,
            "label": label,
            "staged": staged,
            "name": name,
            "result": result,
            "dry_run": dry_run,
        },
    )


def _run_import(
    app: App, kind: str, staged: str, name: str, *, dry_run: bool, skip: bool = False
) -> dict[str, Any]:
    """Run one import from the staged file under its original name (readers and the
    review name the file a person knows)."""
    from engine.app import directory, plans

    source = _staging(app) / staged
    with tempfile.TemporaryDirectory() as folder:
        named = Path(folder) / (Path(name).name or staged)
        if named.suffix.lower() != source.suffix:
            named = named.with_suffix(source.suffix)
        named.write_bytes(source.read_bytes())
        if kind == "plan":
            done = plans.import_plan(app, named, dry_run=dry_run)
            outcome = done.outcome
            return {
                "review": done.review.as_json(),
                "outcome": (
                    {
                        "plan_id": outcome.plan.id,
                        "created": outcome.created,
                        "measures": outcome.measures,
                        "tasks_created": outcome.tasks.created,
                        "tasks_updated": outcome.tasks.updated,
                        "tasks_removed": outcome.tasks.removed,
                    }
                    if outcome
                    else None
                ),
            }
        if kind in ("results", "risks"):
            return _case_data(app, kind, named, dry_run=dry_run, skip=skip)
        if kind == "people":
            people = directory.people(app, named, dry_run=dry_run)
            return {
                "summary": {
                    "Новых сотрудников": people.created,
                    "Обновлено": people.updated,
                    "Периодов замещения": people.deputy_periods,
                }
            }
        if kind == "schools":
            found = directory.schools(app, named, dry_run=dry_run)
            return {
                "summary": {
                    "Новых школ": found.created,
                    "Обновлено": found.updated,
                    "Отметок о рисках": found.flags,
                }
            }
        calendar = directory.assessment_calendar(app, named, dry_run=dry_run)
        return {
            "summary": {
                "Процедур добавлено": calendar.events.added,
                "Удалено": calendar.events.removed,
                "Без изменений": calendar.events.unchanged,
                "Задач создано": calendar.tasks.created,
                "Задач перенесено": calendar.tasks.updated,
                "Задач удалено": calendar.tasks.removed,
            }
        }


def _case_data(app: App, kind: str, path: Path, *, dry_run: bool, skip: bool) -> dict[str, Any]:
    """Results or a risk list. A file with bad rows imports nothing: the review lists
    them and offers to write the good rows only (``--skip-bad-rows``)."""
    from engine.app import cases

    load = cases.results_import if kind == "results" else cases.risks_import
    refused = ""
    try:
        done = load(app, path, skip_bad_rows=skip, dry_run=dry_run)
    except InputError as exc:
        if not dry_run:
            raise
        refused, skip = str(exc), True
        done = load(app, path, skip_bad_rows=True, dry_run=True)
    summary = done.summary
    label = app.case_workflow.label
    where = str(path.parent) + "/"  # the staging folder means nothing to a person
    counts = {
        "Кодировка": summary.encoding,
        "Строк": summary.rows,
        "Годы": ", ".join(str(y) for y in summary.years) or "—",
        "Добавлено": summary.added,
        "Обновлено": summary.updated,
        "Без изменений": summary.unchanged,
    }
    if kind == "risks":
        counts["Открывается дел" if dry_run else "Открыто дел"] = summary.opened_cases
    return {
        "summary": counts,
        "refused": refused.replace(where, ""),
        "skip": skip,
        "skipped": [problem.replace(where, "") for problem in summary.skipped],
        "seen_before": summary.seen_before and not (summary.added or summary.updated),
        "moved": [
            f"Дело {case_id}: {label(before)} → {label(after)}"
            for case_id, before, after in done.check.moved
        ],
    }


# -- links from letters ---------------------------------------------------------------


@router.get("/l/{token}")
def link_confirm(request: Request, token: Annotated[str, PathParam(max_length=2000)]) -> Response:
    """What the link would do, and the button that does it (a GET changes nothing)."""
    app = the_app(request)
    link = access.check_link(app, token)
    current = getattr(request.state, "visitor", None)
    same_person = (
        current is not None and current.person is not None and current.person.id == link.person.id
    )
    if not link.claim.changes_state and same_person:
        return RedirectResponse(f"/tasks/{link.task.id}", status_code=303)
    view = work.task_view(app, link.person, link.task.id or 0)
    event = app.workflow.events.get(str(link.claim.action))
    awaiting = set(work.awaiting_states(app))
    return page(
        request,
        "link.html",
        {
            "title": event.label if event else "Открыть задачу",
            "v": view,
            "event": event,
            "token": token,
            "who": link.person,
            "files": bool(event and event.dest in awaiting),
        },
    )


@router.post("/l/{token}")
def link_act(
    request: Request,
    token: Annotated[str, PathParam(max_length=2000)],
    csrf: Csrf,
    comment: Annotated[str, Form(max_length=20000)] = "",
    files: Annotated[list[UploadFile], File()] = [],  # noqa: B006 — FastAPI's own default
) -> Response:
    """Do what the link says, as the person it was sent to, once; then sign them in."""
    check_csrf(request, csrf)
    app = the_app(request)
    link = access.check_link(app, token)
    task_id = link.task.id or 0
    note = ""
    if link.claim.changes_state:
        action = str(link.claim.action)
        work.act(
            app,
            link.person,
            task_id,
            action,
            comment=comment,
            uploads=uploads(app, files),
            version=link.claim.version,
            also=[access.link_use(app, link)],
        )
        note = f"Выполнено: «{app.workflow.events[action].label}»."
    cookie, _ = access.new_session(app, link.person)
    set_session(request, cookie)
    return back(f"/tasks/{task_id}", note)


@router.get("/l/page/{token}")
def page_link_confirm(
    request: Request, token: Annotated[str, PathParam(max_length=2000)]
) -> Response:
    """A link to a page from a letter (a decision's approval page): the same person goes
    straight there; anybody else (a mail scanner, another session) sees a button."""
    app = the_app(request)
    link = access.check_page_link(app, token)
    current = getattr(request.state, "visitor", None)
    if current is not None and current.person is not None and current.person.id == link.person.id:
        return RedirectResponse(link.path, status_code=303)
    return page(
        request,
        "page_link.html",
        {"title": "Открыть страницу", "who": link.person, "token": token},
    )


@router.post("/l/page/{token}")
def page_link_open(
    request: Request, token: Annotated[str, PathParam(max_length=2000)], csrf: Csrf
) -> Response:
    """Sign in as the person the link was sent to, and open the page."""
    check_csrf(request, csrf)
    app = the_app(request)
    link = access.check_page_link(app, token)
    cookie, _ = access.new_session(app, link.person)
    set_session(request, cookie)
    return RedirectResponse(link.path, status_code=303)
