"""«Школы»: the case board, a school's case page, the approval page of an administrative
measure, and the forms for what people do on a case.

Every handler calls engine.app.cases with the signed-in person as ``viewer``: a case
they may not see is 404 (like a missing one), and every refusal — the gate's reasons,
four eyes, a missing comment — is the same sentence the CLI prints.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from engine.app import cases
from engine.app.reports import school_report
from engine.cases.evaluate import VERDICT_LABELS
from engine.core.errors import InputError
from engine.web.download import Day, ReportFormat, attachment, optional_day, report_formats
from engine.web.pages import Csrf, Id, back, check_csrf, signed_in, the_app
from engine.web.render import page

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=5000)]


@router.get("/schools")
def board(
    request: Request, only_open: Annotated[str | None, Query(alias="open", max_length=5)] = None
) -> Response:
    person = signed_in(request)
    rows = cases.cases_board(the_app(request), open_only=only_open == "1", viewer=person)
    return page(
        request,
        "schools.html",
        {"title": "Школы", "rows": rows, "open_only": only_open == "1"},
    )


def _case_url(case_id: int) -> str:
    return f"/schools/{case_id}"


@router.get("/schools/{case_id}")
def case_page(request: Request, case_id: Id, note: str = "") -> Response:
    app = the_app(request)
    shown = cases.case_page(app, signed_in(request), case_id)
    view = shown.view
    return page(
        request,
        "school.html",
        {
            "title": f"{view.school}: дело",
            "p": shown,
            "v": view,
            "override_seqs": {h.seq for h in view.history if h.override},
            "verdicts": VERDICT_LABELS,
            "formats": report_formats(),
            "note": note[:500],
        },
    )


@router.get("/schools/{case_id}/history")
def case_history(request: Request, case_id: Id) -> Response:
    shown = cases.case_page(the_app(request), signed_in(request), case_id)
    view = shown.view
    return page(
        request,
        "history.html",
        {
            "title": "История дела школы",
            "lines": shown.history,
            "back": _case_url(case_id),
            "subject": f"{view.school}: {view.kind_label}, перечень {view.year} года",
            "override_seqs": {h.seq for h in view.history if h.override},
        },
    )


@router.post("/schools/{case_id}/help")
def assign_help(
    request: Request,
    case_id: Id,
    csrf: Csrf,
    source: Annotated[str, Form(pattern="^(template|plan)$")],
    plan: Annotated[int | None, Form(ge=1, le=2**62)] = None,
    curator: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(request, csrf)
    person = signed_in(request)
    if source == "plan" and plan is None:
        raise InputError("Выберите план с мероприятиями для этой школы.")
    linked = cases.assign_help(
        the_app(request),
        case_id,
        person.key,
        plan_id=plan if source == "plan" else None,
        template=source == "template",
        curator=curator.strip() or None,
        viewer=person,
    )
    text = (
        f"Программа помощи уже назначена: план {linked.plan.id}."
        if linked.already
        else f"Программа помощи назначена: план {linked.plan.id} «{linked.plan.title}», "
        f"мероприятий для школы: {linked.tasks}."
    )
    return back(_case_url(case_id), text)


@router.post("/schools/{case_id}/administrative")
def request_measure(
    request: Request,
    case_id: Id,
    csrf: Csrf,
    kind: Annotated[str, Form(max_length=64)],
    reason: Text = "",
    override: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Ask for an administrative measure through the gate (or, an admin, against it)."""
    check_csrf(request, csrf)
    person = signed_in(request)
    measure = cases.open_administrative(
        the_app(request),
        case_id,
        kind,
        person.key,
        reason,
        override=override == "1",
        viewer=person,
    )
    mark = " В ОБХОД ПРАВИЛА «сначала помощь» (решение администратора)." if measure.override else ""
    return back(
        _case_url(case_id),
        f"Мера воздействия {measure.id} запрошена и ждёт утверждения другим контролирующим "
        f"лицом.{mark}",
    )


@router.get("/schools/{case_id}/administrative/{measure_id}")
def measure_page(request: Request, case_id: Id, measure_id: Id, note: str = "") -> Response:
    """The approval page: the measure, the case's gate and help, approve or reject."""
    from engine.core.errors import NotFound

    shown = cases.case_page(the_app(request), signed_in(request), case_id)
    found = [m for m in shown.view.administrative if m["id"] == measure_id]
    if not found:
        raise NotFound("administrative measure", measure_id)
    return page(
        request,
        "measure.html",
        {
            "title": f"Мера воздействия {measure_id}",
            "p": shown,
            "v": shown.view,
            "m": found[0],
            "note": note[:500],
        },
    )


@router.post("/schools/{case_id}/administrative/{measure_id}/{event}")
def decide_measure(
    request: Request,
    case_id: Id,
    measure_id: Id,
    event: Annotated[str, PathParam(max_length=40)],
    csrf: Csrf,
    comment: Text = "",
) -> Response:
    """Approve (four eyes; it becomes a task) or reject, through the workflow."""
    check_csrf(request, csrf)
    person = signed_in(request)
    app = the_app(request)
    fired, task = cases.decide_administrative_measure(
        app, measure_id, event, person.key, comment, case_id=case_id, viewer=person
    )
    text = f"Мера воздействия {measure_id}: {app.admin_workflow.label(fired.audit.to_state)}."
    if task is not None:
        due = f", срок {task.due_date:%d.%m.%Y}" if task.due_date else ""
        text += f" Создана задача {task.id}{due}."
    return back(f"{_case_url(case_id)}/administrative/{measure_id}", text)


@router.post("/schools/{case_id}/events/{event}")
def case_event(
    request: Request,
    case_id: Id,
    event: Annotated[str, PathParam(max_length=40)],
    csrf: Csrf,
    comment: Text = "",
) -> Response:
    """A person's event on the case itself (e.g. close it, with the outcome)."""
    check_csrf(request, csrf)
    person = signed_in(request)
    app = the_app(request)
    fired = cases.fire_case(app, case_id, event, person.key, comment, viewer=person)
    label = app.case_workflow.label
    return back(
        _case_url(case_id),
        f"Дело: {label(fired.audit.from_state)} → {label(fired.audit.to_state)}.",
    )


@router.get("/schools/{case_id}/report")
def case_report(
    request: Request,
    case_id: Id,
    format: ReportFormat = "docx",
    as_of: Day = None,
) -> Response:
    """«Отчёт по делу школы» as a download (DOCX, XLSX, HTML or PDF)."""
    person = signed_in(request)
    day = optional_day(as_of, "Состояние на")
    rendered = school_report(the_app(request), case_id, format, day, viewer=person)
    return attachment(rendered)
