"""The JSON API under ``/api/`` for regional systems: the same use cases and the same
per-object permission checks as the pages (another person's task or case id gives 404):
tasks, plans, and the school cases («Школы»: the board, a case, help programmes,
administrative measures through the gate, their approval).

Authorization: ``Authorization: Bearer <token>`` (``measures web token PERSON``), or the
page session's cookie together with its CSRF token in ``X-CSRF-Token`` for changes.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from engine.app import App, access, cases, dashboard, work
from engine.cases.views import BoardRow
from engine.core.errors import NotFound
from engine.core.models import Person
from engine.web.security import csrf_ok

router = APIRouter(prefix="/api", tags=["api"])

Id = Annotated[int, Path(ge=1, le=2**62)]
#: ``Authorization: Bearer <token>``, and the session's CSRF token for a cookie's changes.
Authorization = Annotated[str | None, Header(max_length=4000)]
CsrfHeader = Annotated[str | None, Header(max_length=200)]


class Problem(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Нет авторизации"},
    404: {"model": Problem, "description": "Нет такого объекта, или он недоступен"},
    409: {"model": Problem, "description": "Задачу только что изменил другой пользователь"},
    422: {"model": Problem, "description": "Действие отклонено (причина в detail)"},
}


def _app(request: Request) -> App:
    app: App = request.app.state.app
    return app


def caller(
    request: Request,
    authorization: Authorization = None,
) -> Person:
    from engine.web import SignInNeeded

    if authorization and authorization.lower().startswith("bearer "):
        person = access.bearer(_app(request), authorization[7:].strip())
        if person is None:
            raise SignInNeeded()
        return person
    current = getattr(request.state, "visitor", None)
    if current is None or current.person is None:
        raise SignInNeeded()
    person_: Person = current.person
    return person_


def changer(
    request: Request,
    authorization: Authorization = None,
    x_csrf_token: CsrfHeader = None,
) -> Person:
    """The caller of a state-changing request: a bearer token, or the cookie + CSRF."""
    person = caller(request, authorization)
    bearer = bool(authorization and authorization.lower().startswith("bearer "))
    if not bearer and not csrf_ok(getattr(request.state, "visitor", None), x_csrf_token):
        raise HTTPException(403, "Нужен заголовок X-CSRF-Token сессии.")
    return person


class Me(BaseModel):
    key: str
    name: str
    roles: list[str]


@router.get("/me", response_model=Me, responses=ERRORS)
def me(request: Request, authorization: Authorization = None) -> Any:
    person = caller(request, authorization)
    return {"key": person.key, "name": person.name, "roles": list(person.roles)}


class TaskItem(BaseModel):
    id: int
    version: int
    plan_id: int
    plan_title: str
    measure_number: str
    title: str
    target: str
    responsible: str
    due_date: date | None
    state: str
    state_label: str
    overdue: bool


class Folders(BaseModel):
    overdue: list[TaskItem]
    due_soon: list[TaskItem]
    later: list[TaskItem]
    awaiting_verification: list[TaskItem]


@router.get("/tasks", response_model=Folders, responses=ERRORS)
def my_tasks(request: Request, authorization: Authorization = None) -> Any:
    """На исполнение: the caller's open tasks by urgency."""
    folder = work.my_tasks(_app(request), caller(request, authorization))
    return {
        "overdue": [t.as_json() for t in folder.overdue],
        "due_soon": [t.as_json() for t in folder.soon],
        "later": [t.as_json() for t in folder.later],
        "awaiting_verification": [t.as_json() for t in folder.waiting],
    }


class RequestItem(BaseModel):
    id: int
    task_id: int
    requested_by: str
    old_due: date | None
    new_due: date
    reason: str
    status: str
    decision_comment: str


class Control(BaseModel):
    reports: list[TaskItem]
    total: int
    deadline_requests: list[RequestItem]


@router.get("/control", response_model=Control, responses=ERRORS)
def control(request: Request, authorization: Authorization = None) -> Any:
    """На контроле: reports waiting for the caller's decision, and deadline requests."""
    queue = work.control_queue(_app(request), caller(request, authorization))
    return {
        "reports": [t.as_json() for t in queue.reports],
        "total": queue.total,
        "deadline_requests": [r.as_json() for r in queue.requests],
    }


class HistoryItem(BaseModel):
    seq: int
    at: str
    event: str
    label: str
    actor: str
    on_behalf_of: str | None
    comment: str
    intact: bool


class TaskDetail(BaseModel):
    id: int
    version: int
    plan_id: int
    measure_number: str
    title: str
    expected_result: str
    deadline_phrase: str
    due_date: date | None
    state: str
    state_label: str
    overdue: bool
    report: str
    actions: list[str]
    history: list[HistoryItem]
    deadline_requests: list[RequestItem]


@router.get("/tasks/{task_id}", response_model=TaskDetail, responses=ERRORS)
def task(
    request: Request,
    task_id: Id,
    authorization: Authorization = None,
) -> Any:
    view = work.task_view(_app(request), caller(request, authorization), task_id)
    return {
        "id": task_id,
        "version": view.task.version,
        "plan_id": view.plan.id,
        "measure_number": view.measure.number,
        "title": view.measure.title,
        "expected_result": view.measure.expected_result,
        "deadline_phrase": view.measure.deadline_phrase,
        "due_date": view.task.due_date,
        "state": view.task.state,
        "state_label": view.state_label,
        "overdue": view.overdue,
        "report": view.task.report,
        "actions": [name for name, _, _ in view.actions],
        "history": [line.as_json() for line in view.history],
        "deadline_requests": [r.as_json() for r in view.requests],
    }


class EventBody(BaseModel):
    version: int = Field(ge=1, le=2**62, description="The task version the caller saw")
    comment: str = Field(default="", max_length=20000)


class Fired(BaseModel):
    id: int
    version: int
    state: str
    state_label: str


@router.post("/tasks/{task_id}/events/{event}", response_model=Fired, responses=ERRORS)
def fire(
    request: Request,
    task_id: Id,
    event: Annotated[str, Path(max_length=40)],
    body: Annotated[EventBody, Body()],
    authorization: Authorization = None,
    x_csrf_token: CsrfHeader = None,
) -> Any:
    """Start, report, verify, return, cancel … as the caller (the workflow decides)."""
    app = _app(request)
    person = changer(request, authorization, x_csrf_token)
    done = work.act(app, person, task_id, event, comment=body.comment, version=body.version)
    return {
        "id": task_id,
        "version": done.task.version,
        "state": done.task.state,
        "state_label": app.workflow.label(done.task.state),
    }


class DeadlineBody(BaseModel):
    new_due: date
    reason: str = Field(min_length=1, max_length=5000)


@router.post("/tasks/{task_id}/deadline-requests", response_model=RequestItem, responses=ERRORS)
def ask_deadline(
    request: Request,
    task_id: Id,
    body: Annotated[DeadlineBody, Body()],
    authorization: Authorization = None,
    x_csrf_token: CsrfHeader = None,
) -> Any:
    app = _app(request)
    person = changer(request, authorization, x_csrf_token)
    row = work.request_deadline(app, person, task_id, body.new_due, body.reason)
    return _request_json(row, person)


class DecisionBody(BaseModel):
    comment: str = Field(default="", max_length=5000)


@router.post(
    "/deadline-requests/{request_id}/{decision}", response_model=RequestItem, responses=ERRORS
)
def decide(
    request: Request,
    request_id: Id,
    decision: Literal["grant", "refuse"],
    body: Annotated[DecisionBody, Body()],
    authorization: Authorization = None,
    x_csrf_token: CsrfHeader = None,
) -> Any:
    app = _app(request)
    person = changer(request, authorization, x_csrf_token)
    row = work.decide_deadline(app, person, request_id, decision == "grant", body.comment)
    return _request_json(row, person)


def _request_json(row: Any, person: Person) -> dict[str, Any]:
    return {
        "id": row.id,
        "task_id": row.task_id,
        "requested_by": str(row.requested_by),
        "old_due": row.old_due,
        "new_due": row.new_due,
        "reason": row.reason,
        "status": row.status,
        "decision_comment": row.decision_comment,
    }


class ProgressItem(BaseModel):
    label: str
    id: int | None
    total: int
    done: int
    overdue: int
    percent: int
    by_state: dict[str, int]


class PlanItem(BaseModel):
    id: int
    title: str
    progress: ProgressItem


@router.get("/plans", response_model=list[PlanItem], responses=ERRORS)
def plans(request: Request, authorization: Authorization = None) -> Any:
    found = dashboard.visible_plans(_app(request), caller(request, authorization))
    return [{"id": p.id, "title": p.title, "progress": g.as_json()} for p, g in found]


class PlanBoard(BaseModel):
    id: int
    title: str
    overall: ProgressItem
    sections: list[ProgressItem]
    responsibles: list[ProgressItem]
    tasks: list[TaskItem]


@router.get("/plans/{plan_id}", response_model=PlanBoard, responses=ERRORS)
def plan(
    request: Request,
    plan_id: Id,
    state: Annotated[str | None, Query(max_length=40)] = None,
    overdue: bool = False,
    authorization: Authorization = None,
) -> Any:
    app = _app(request)
    filters = dashboard.Filters(
        state=state if state in app.workflow.states else None, overdue=overdue
    )
    board = dashboard.plan_dashboard(app, caller(request, authorization), plan_id, filters)
    return {
        "id": plan_id,
        "title": board.plan.title,
        "overall": board.overall.as_json(),
        "sections": [s.as_json() for s in board.sections],
        "responsibles": [r.as_json() for r in board.responsibles],
        "tasks": [t.as_json() for t in board.tasks],
    }


# -- Школы: school cases ------------------------------------------------------------------


@router.get("/cases", response_model=list[BoardRow], responses=ERRORS)
def case_board(
    request: Request,
    open: bool = False,
    authorization: Authorization = None,
) -> Any:
    """Школы: the cases the caller may see — stage, days in stage, next step, help."""
    person = caller(request, authorization)
    return cases.cases_board(_app(request), open_only=open, viewer=person)


class HelpTaskItem(BaseModel):
    task_id: int
    number: str
    title: str
    responsible: str | None
    due_date: date | None
    state: str
    state_label: str
    overdue: bool


class EvaluationItem(BaseModel):
    id: int
    at: str
    year_before: int
    year_after: int
    verdict: str
    verdict_label: str
    summary: str
    details: list[dict[str, Any]] = Field(
        description="Per subject and grade: the rule that decided, participants, the numbers"
    )


class MeasureItem(BaseModel):
    id: int
    kind: str
    label: str
    state: str
    state_label: str
    override: bool
    reason: str
    requested_by: str | None
    task_id: int | None
    task_state: str | None
    task_state_label: str | None
    due_date: date | None


class GateItem(BaseModel):
    open: bool
    reasons: list[str] = Field(description="Why administrative measures are refused, in Russian")


class CaseHistoryItem(BaseModel):
    seq: int
    at: str
    subject: str
    subject_id: int
    event: str
    from_state: str
    to_state: str
    actor: str
    actor_name: str
    on_behalf_of: str | None
    comment: str
    override: bool


class CaseDetail(BaseModel):
    case_id: int
    school_key: str
    school: str
    kind: str
    kind_label: str
    year: int
    state: str
    state_label: str
    version: int
    curator: str | None
    supervisor: str | None
    flags: list[dict[str, Any]]
    help_plan_id: int | None
    help_plan: str | None
    help_tasks: list[HelpTaskItem]
    evaluations: list[EvaluationItem]
    gate: GateItem
    administrative: list[MeasureItem]
    history: list[CaseHistoryItem]


@router.get("/cases/{case_id}", response_model=CaseDetail, responses=ERRORS)
def case_detail(
    request: Request,
    case_id: Id,
    authorization: Authorization = None,
) -> Any:
    """A school's case: history, help tasks, evaluations with numbers, the gate's reasons."""
    view = cases.case_detail(_app(request), case_id, viewer=caller(request, authorization))
    return view.as_json()


class HelpBody(BaseModel):
    template: bool = Field(default=False, description="Make the programme from the template")
    plan_id: int | None = Field(default=None, ge=1, le=2**62, description="…or link this plan")
    curator: str | None = Field(default=None, max_length=200)


@router.post("/cases/{case_id}/help", response_model=CaseDetail, responses=ERRORS)
def case_help(
    request: Request,
    case_id: Id,
    body: Annotated[HelpBody, Body()],
    authorization: Authorization = None,
    x_csrf_token: CsrfHeader = None,
) -> Any:
    """Attach a help programme: the template, or a plan with tasks for the school."""
    app = _app(request)
    person = changer(request, authorization, x_csrf_token)
    cases.assign_help(
        app,
        case_id,
        person.key,
        plan_id=body.plan_id,
        template=body.template,
        curator=body.curator,
        viewer=person,
    )
    return cases.case_detail(app, case_id, viewer=person).as_json()


class MeasureBody(BaseModel):
    kind: str = Field(max_length=64, description="A kind of workflows/rules.toml")
    reason: str = Field(max_length=5000)
    override: bool = Field(default=False, description="An admin, against the gate")


def _measure(app: App, case_id: int, measure_id: int | None, person: Person) -> dict[str, Any]:
    view = cases.case_detail(app, case_id, viewer=person)
    for found in view.administrative:
        if found["id"] == measure_id:
            return found
    raise NotFound("administrative measure", measure_id)


@router.post("/cases/{case_id}/administrative", response_model=MeasureItem, responses=ERRORS)
def case_request_measure(
    request: Request,
    case_id: Id,
    body: Annotated[MeasureBody, Body()],
    authorization: Authorization = None,
    x_csrf_token: CsrfHeader = None,
) -> Any:
    """Request an administrative measure through the gate (422 with its reasons)."""
    app = _app(request)
    person = changer(request, authorization, x_csrf_token)
    measure = cases.open_administrative(
        app, case_id, body.kind, person.key, body.reason, override=body.override, viewer=person
    )
    return _measure(app, case_id, measure.id, person)


@router.post(
    "/cases/{case_id}/administrative/{measure_id}/{event}",
    response_model=MeasureItem,
    responses=ERRORS,
)
def case_decide_measure(
    request: Request,
    case_id: Id,
    measure_id: Id,
    event: Annotated[str, Path(max_length=40, description="approve | reject")],
    body: Annotated[DecisionBody, Body()],
    authorization: Authorization = None,
    x_csrf_token: CsrfHeader = None,
) -> Any:
    """Approve (four eyes; it becomes a task) or reject an administrative measure."""
    app = _app(request)
    person = changer(request, authorization, x_csrf_token)
    cases.decide_administrative_measure(
        app, measure_id, event, person.key, body.comment, case_id=case_id, viewer=person
    )
    return _measure(app, case_id, measure_id, person)


@router.post("/cases/{case_id}/events/{event}", response_model=CaseDetail, responses=ERRORS)
def case_event(
    request: Request,
    case_id: Id,
    event: Annotated[str, Path(max_length=40)],
    body: Annotated[DecisionBody, Body()],
    authorization: Authorization = None,
    x_csrf_token: CsrfHeader = None,
) -> Any:
    """A person's decision on the case itself (close, with the outcome in ``comment``)."""
    app = _app(request)
    person = changer(request, authorization, x_csrf_token)
    cases.fire_case(app, case_id, event, person.key, body.comment, viewer=person)
    return cases.case_detail(app, case_id, viewer=person).as_json()
