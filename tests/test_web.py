"""The web door in-process (httpx.ASGITransport): every page and API route as each role
and anonymously, CSRF, IDOR, emailed links (forged, expired, reused), sign-in, evidence
files, deadline requests, bulk decisions, headers and escaping."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from engine.app import App
from engine.app.access import api_token, new_session
from engine.core.clock import FixedClock
from engine.core.db import session_scope
from engine.core.models import (
    AuditEvent,
    DeadlineRequest,
    EscalationStep,
    LinkUse,
    Measure,
    OutboxMessage,
    Person,
    Task,
)
from engine.escalation.sweep import sweep
from tests.factories import retitle, setup

pytestmark = pytest.mark.anyio

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _task(app: App, task_id: int) -> Task:
    with session_scope(app.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task


def _plan_id(app: App, task_id: int) -> int:
    with session_scope(app.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        measure = session.get(Measure, task.measure_id)
        assert measure is not None
        return measure.plan_id


def _case(app: App) -> tuple[int, int]:
    """A school on a list: ``resp`` curates its case, ``sup`` supervises it; an admin has
    asked for an inspection against the gate (the only way while help is not planned)."""
    from engine.app.cases import open_administrative
    from engine.cases.progress import open_case
    from engine.core.models import School

    with session_scope(app.engine) as session:
        school = School(key="sosh1", name="Средняя школа № 1", short_name="СШ № 1")
        session.add(school)
        session.flush()
        case = open_case(
            session,
            app.case_workflow,
            school.id or 0,
            "non_objective",
            2026,
            "Перечень 2026 года",
            app.clock.now(),
            app.audit_key,
        )
        people = {p.key: p for p in session.exec(select(Person))}
        case.curator_id, case.supervisor_id = people["resp"].id, people["sup"].id
        session.add(case)
        session.commit()
        case_id = case.id or 0
    measure = open_administrative(
        app, case_id, "unscheduled_inspection", "admin", "Жалобы родителей", override=True
    )
    return case_id, measure.id or 0


# Who may open what: the expected status per role (anon: redirected to sign in).
PAGES = {
    "/tasks": {"resp": 200, "sup": 200, "stranger": 200, "admin": 200, "head": 200},
    "/tasks/{t}": {"resp": 200, "sup": 200, "stranger": 404, "admin": 200, "head": 200},
    "/tasks/{t}/history": {"resp": 200, "sup": 200, "stranger": 404, "admin": 200, "head": 200},
    "/control": {"resp": 200, "sup": 200, "stranger": 200, "admin": 200, "head": 200},
    "/plans": {"resp": 200, "sup": 200, "stranger": 200, "admin": 200, "head": 200},
    "/plans/{p}": {"resp": 404, "sup": 200, "stranger": 404, "admin": 200, "head": 200},
    "/plans/{p}/history": {"resp": 404, "sup": 200, "stranger": 404, "admin": 200, "head": 200},
    "/schools": {"resp": 200, "sup": 200, "stranger": 200, "admin": 200, "head": 200},
    "/schools/{c}": {"resp": 200, "sup": 200, "stranger": 404, "admin": 200, "head": 200},
    "/schools/{c}/history": {"resp": 200, "sup": 200, "stranger": 404, "admin": 200, "head": 200},
    "/schools/{c}/administrative/{m}": {
        "resp": 200,
        "sup": 200,
        "stranger": 404,
        "admin": 200,
        "head": 200,
    },
    "/import": {"resp": 403, "sup": 403, "stranger": 403, "admin": 200, "head": 403},
    "/audit": {"resp": 403, "sup": 403, "stranger": 403, "admin": 200, "head": 200},
}
API = {
    "/api/me": {"resp": 200, "sup": 200, "stranger": 200, "admin": 200},
    "/api/tasks": {"resp": 200, "sup": 200, "stranger": 200, "admin": 200},
    "/api/tasks/{t}": {"resp": 200, "sup": 200, "stranger": 404, "admin": 200},
    "/api/control": {"resp": 200, "sup": 200, "stranger": 200, "admin": 200},
    "/api/plans": {"resp": 200, "sup": 200, "stranger": 200, "admin": 200},
    "/api/plans/{p}": {"resp": 404, "sup": 200, "stranger": 404, "admin": 200},
    "/api/cases": {"resp": 200, "sup": 200, "stranger": 200, "admin": 200},
    "/api/cases/{c}": {"resp": 200, "sup": 200, "stranger": 404, "admin": 200},
}
#: Files: reports (attachments of their own type) and calendar feeds.
DOWNLOADS = {
    "/plans/{p}/report?format=xlsx": {"resp": 404, "sup": 200, "stranger": 404, "admin": 200},
    "/plans/{p}/report?format=html&as_of=2026-11-25": {
        "resp": 404,
        "sup": 200,
        "stranger": 404,
        "admin": 200,
    },
    "/plans/{p}/discipline?from=2026-11-01&to=2026-12-31&format=docx": {
        "resp": 404,
        "sup": 200,
        "stranger": 404,
        "admin": 200,
    },
    "/schools/{c}/report?format=docx": {"resp": 200, "sup": 200, "stranger": 404, "admin": 200},
    "/schools/{c}/report?format=xlsx": {"resp": 200, "sup": 200, "stranger": 404, "admin": 200},
}
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
}


async def test_every_page_as_each_role_and_anonymously(app: App, web: Any) -> None:
    _, tasks = setup(app)
    task_id = tasks[0].id
    plan_id = _plan_id(app, task_id)
    case_id, measure_id = _case(app)
    anonymous = await web(None)
    for path, expected in PAGES.items():
        url = path.format(t=task_id, p=plan_id, c=case_id, m=measure_id)
        response = await anonymous.get(url)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/signin?next="), url
        for role, status in expected.items():
            response = await (await web(role)).get(url)
            assert response.status_code == status, (role, url, response.text[:300])
            assert "<!DOCTYPE html>" in response.text


async def test_every_download_as_each_role_and_anonymously(app: App, web: Any) -> None:
    _, tasks = setup(app)
    task_id = tasks[0].id
    plan_id = _plan_id(app, task_id)
    case_id, _ = _case(app)
    anonymous = await web(None)
    for path, expected in DOWNLOADS.items():
        url = path.format(p=plan_id, c=case_id)
        response = await anonymous.get(url)
        assert response.status_code == 303, url
        fmt = httpx.URL(url).params["format"]
        for role, status in expected.items():
            response = await (await web(role)).get(url)
            assert response.status_code == status, (role, url, response.text[:300])
            if status == 200:
                assert response.headers["content-type"] == MEDIA[fmt], url
                disposition = response.headers["content-disposition"]
                assert disposition.startswith("attachment;") and f".{fmt}" in disposition
                assert len(response.content) > 1000


async def test_every_api_route_as_each_role_and_anonymously(app: App, web: Any) -> None:
    _, tasks = setup(app)
    task_id = tasks[0].id
    plan_id = _plan_id(app, task_id)
    case_id, _ = _case(app)
    client = await web(None)
    for path, expected in API.items():
        url = path.format(t=task_id, p=plan_id, c=case_id)
        assert (await client.get(url)).status_code == 401, url
        bad = await client.get(url, headers={"Authorization": "Bearer forged.token"})
        assert bad.status_code == 401
        for role, status in expected.items():
            token = api_token(app, role, 1)
            response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == status, (role, url, response.text)
    # another person's task id reads exactly like a missing one
    token = api_token(app, "stranger", 1)
    missing = await client.get("/api/tasks/999999", headers={"Authorization": f"Bearer {token}"})
    foreign = await client.get(
        f"/api/tasks/{task_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert missing.status_code == foreign.status_code == 404
    assert missing.json() == foreign.json()


async def test_api_fires_with_bearer_and_refuses_a_cookie_without_csrf(app: App, web: Any) -> None:
    _, tasks = setup(app)
    task_id = tasks[0].id
    resp = await web("resp")
    no_csrf = await resp.client.post(f"/api/tasks/{task_id}/events/start", json={"version": 1})
    assert no_csrf.status_code == 403
    assert _task(app, task_id).state == "planned"
    with_csrf = await resp.client.post(
        f"/api/tasks/{task_id}/events/start",
        json={"version": 1},
        headers={"X-CSRF-Token": resp.csrf},
    )
    assert with_csrf.status_code == 200 and with_csrf.json()["state"] == "in_progress"
    token = api_token(app, "stranger", 1)
    stranger = await resp.client.post(
        f"/api/tasks/{task_id}/events/report",
        json={"version": 2, "comment": "Чужой отчёт"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert stranger.status_code == 404
    assert _task(app, task_id).state == "in_progress"


async def test_forms_need_the_sessions_csrf_token(app: App, web: Any) -> None:
    _, tasks = setup(app)
    task_id = tasks[0].id
    resp = await web("resp")
    other = await web("resp")  # a second session of the same person: another token
    forged = await resp.client.post(
        f"/tasks/{task_id}/events/start", data={"csrf": other.csrf + "x", "version": "1"}
    )
    assert forged.status_code == 403 and "Форма устарела" in forged.text
    missing = await resp.client.post(f"/tasks/{task_id}/events/start", data={"version": "1"})
    assert missing.status_code == 422
    assert _task(app, task_id).state == "planned"
    ok = await resp.post(f"/tasks/{task_id}/events/start", {"version": "1"})
    assert ok.status_code == 303 and _task(app, task_id).state == "in_progress"


async def test_another_persons_task_is_404_for_every_action(app: App, web: Any) -> None:
    _, tasks = setup(app)
    task_id = tasks[0].id
    stranger = await web("stranger")
    for url, data in (
        (f"/tasks/{task_id}/events/start", {"version": "1"}),
        (f"/tasks/{task_id}/deadline", {"new_due": "2027-01-20", "reason": "Хочу"}),
    ):
        response = await stranger.post(url, data)
        assert response.status_code == 404, url
    assert (await stranger.get(f"/tasks/{task_id}/evidence/{'a' * 64}")).status_code == 404
    assert _task(app, task_id).state == "planned"


async def test_report_with_a_file_and_its_download(app: App, web: Any) -> None:
    _, tasks = setup(app, state="in_progress")
    task_id = tasks[0].id
    resp = await web("resp")
    wrong = await resp.client.post(
        f"/tasks/{task_id}/events/report",
        data={"csrf": resp.csrf, "version": "1", "comment": "Сделано"},
        files={"files": ("отчёт.html", b"<script>alert(1)</script>", "text/html")},
    )
    assert wrong.status_code == 422 and "такой тип не принимается" in wrong.text
    renamed = await resp.client.post(
        f"/tasks/{task_id}/events/report",
        data={"csrf": resp.csrf, "version": "1", "comment": "Сделано"},
        files={"files": ("отчёт.pdf", b"<html>not a pdf</html>", "application/pdf")},
    )
    assert renamed.status_code == 422 and "не соответствует расширению" in renamed.text
    assert _task(app, task_id).state == "in_progress"
    done = await resp.client.post(
        f"/tasks/{task_id}/events/report",
        data={"csrf": resp.csrf, "version": "1", "comment": "Перечень составлен"},
        files={"files": ("Перечень.pdf", PDF, "application/pdf")},
    )
    assert done.status_code == 303
    import hashlib

    digest = hashlib.sha256(PDF).hexdigest()
    with session_scope(app.engine) as session:
        row = session.exec(select(AuditEvent).where(AuditEvent.event == "report")).one()
    assert row.evidence == [f"sha256:{digest} Перечень.pdf"]
    page = await resp.get(f"/tasks/{task_id}")
    assert f"/tasks/{task_id}/evidence/{digest}" in page.text
    download = await resp.get(f"/tasks/{task_id}/evidence/{digest}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["x-content-type-options"] == "nosniff"
    sup = await web("sup")
    assert (await sup.get(f"/tasks/{task_id}/evidence/{digest}")).status_code == 200
    stranger = await web("stranger")
    assert (await stranger.get(f"/tasks/{task_id}/evidence/{digest}")).status_code == 404


def _link(app: App, task_id: int, action: str, person: str, version: int | None = None) -> str:
    with session_scope(app.engine) as session:
        who = session.exec(select(Person).where(Person.key == person)).one()
    url = app.escalator.link(task_id, action, who.id or 0, app.clock.now(), version)
    return url.removeprefix(app.base_url)


async def test_emailed_link_confirms_on_get_acts_once_on_post(app: App, web: Any) -> None:
    _, tasks = setup(app, state="reported")
    task_id = tasks[0].id
    path = _link(app, task_id, "return", "sup", version=1)
    visitor = await web(None)  # a mail scanner or the person, not signed in
    shown = await visitor.get(path)
    assert shown.status_code == 200 and "Вернуть на доработку" in shown.text
    assert _task(app, task_id).state == "reported"  # GET changed nothing
    acted = await visitor.post(path, {"comment": "Нет приложений"})
    assert acted.status_code == 303
    assert _task(app, task_id).state == "in_progress"
    with session_scope(app.engine) as session:
        row = session.exec(select(AuditEvent).where(AuditEvent.event == "return")).one()
        actor = session.get(Person, row.actor_id)
        assert actor is not None and actor.key == "sup"  # the real person behind the link
        assert session.exec(select(LinkUse)).one().task_id == task_id
    again = await (await web(None)).post(path, {"comment": "Ещё раз"})
    assert again.status_code == 410 and "уже была использована" in again.text
    assert "/signin" in again.text
    assert (await visitor.get(path)).status_code == 410
    assert _task(app, task_id).version == 2


async def test_forged_expired_and_stale_links_are_refused(app: App, web: Any) -> None:
    _, tasks = setup(app, state="reported")
    task_id = tasks[0].id
    visitor = await web(None)
    good = _link(app, task_id, "verify", "sup", version=1)
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    response = await visitor.post(forged, {})
    assert response.status_code == 400 and "повреждена" in response.text
    session_cookie, _ = new_session(app, None)  # signed by us, for another purpose
    assert (await visitor.get(f"/l/{session_cookie}")).status_code == 400
    assert isinstance(app.clock, FixedClock)
    app.clock.advance(timedelta(days=app.config.settings.web.link_days, seconds=1))
    expired = await (await web(None)).post(good, {})  # the old session expired too
    assert expired.status_code == 410 and "Срок действия ссылки истёк" in expired.text
    app.clock.advance(-timedelta(days=app.config.settings.web.link_days, seconds=1))
    stale = _link(app, task_id, "verify", "sup", version=1)
    app.lifecycle.fire(app.engine, task_id, "return", "admin", comment="Доработать")
    visitor = await web(None)
    response = await visitor.post(stale, {})
    assert response.status_code == 410 and "задача изменилась" in response.text
    assert _task(app, task_id).state == "in_progress"
    # a link for somebody else's role is refused by the workflow, with its reason
    wrong_person = _link(app, task_id, "report", "stranger", version=2)
    response = await visitor.post(wrong_person, {"comment": "Я сделал"})
    assert response.status_code == 404
    assert _task(app, task_id).state == "in_progress"


async def test_sign_in_by_emailed_link_once(app: App, web: Any) -> None:
    setup(app)
    visitor = await web(None)
    page = await visitor.get("/signin")
    assert page.status_code == 200
    answered = await visitor.post("/signin", {"ident": "resp@example.org"})
    unknown = await visitor.post("/signin", {"ident": "nobody@example.org"})
    assert answered.text.count("отправлено письмо") == unknown.text.count("отправлено письмо") == 1
    with session_scope(app.engine) as session:
        letter = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "signin")).one()
    assert letter.recipient_email == "resp@example.org"
    found = re.search(r"(/signin/[A-Za-z0-9_.-]+)", letter.body_text)
    assert found is not None
    path = found[1]
    confirm = await visitor.get(path)
    assert confirm.status_code == 200 and "Иванова Мария Петровна" in confirm.text
    signed = await visitor.post(path, {})
    assert signed.status_code == 303, signed.text
    tasks_page = await visitor.get("/tasks")
    assert tasks_page.status_code == 200 and "Иванова Мария Петровна" in tasks_page.text
    fresh = re.search(r'name="csrf" value="([^"]+)"', tasks_page.text)
    assert fresh is not None and fresh[1] != visitor.csrf  # a new session, a new token
    visitor.csrf = fresh[1]
    reused = await (await web(None)).post(path, {})
    assert reused.status_code == 410, reused.text
    out = await visitor.post("/signout", {})
    assert out.status_code == 303
    assert (await visitor.get("/tasks")).status_code == 303


async def test_deadline_request_granted_moves_the_due_date_and_replans(app: App, web: Any) -> None:
    _, tasks = setup(app, state="in_progress")
    task_id = tasks[0].id
    old_due = _task(app, task_id).due_date
    assert old_due is not None
    resp, sup = await web("resp"), await web("sup")
    asked = await resp.post(
        f"/tasks/{task_id}/deadline", {"new_due": "2027-01-29", "reason": "Ждём данные РЦОИ"}
    )
    assert asked.status_code == 303
    with session_scope(app.engine) as session:
        request = session.exec(select(DeadlineRequest)).one()
    own = await resp.post(f"/deadline-requests/{request.id}/grant", {})
    assert own.status_code == 404  # the responsible has no supervisor role here
    queue = await sup.get("/control")
    assert "Ждём данные РЦОИ" in queue.text
    sweep(app.engine, app.escalator, app.clock)
    before = {s.key for s in _steps(app, task_id)}
    granted = await sup.post(f"/deadline-requests/{request.id}/grant", {})
    assert granted.status_code == 303
    assert str(_task(app, task_id).due_date) == "2027-01-29"
    with session_scope(app.engine) as session:
        events = [r.event for r in session.exec(select(AuditEvent).order_by(AuditEvent.seq))]
    assert events == ["deadline_request", "deadline_grant"]
    assert isinstance(app.clock, FixedClock)
    app.clock.advance(timedelta(days=70))
    sweep(app.engine, app.escalator, app.clock)
    after = {s.key for s in _steps(app, task_id)}
    assert before <= after  # history kept
    assert any("@2027-01-29" in key for key in after - before)  # re-planned from the new date
    assert not any(f"@{old_due}" in key for key in after - before)
    sup = await web("sup")  # the earlier session has expired meanwhile
    refused_again = await sup.post(f"/deadline-requests/{request.id}/refuse", {"comment": "x"})
    assert refused_again.status_code == 422


def _steps(app: App, task_id: int) -> list[EscalationStep]:
    with session_scope(app.engine) as session:
        return list(session.exec(select(EscalationStep).where(EscalationStep.task_id == task_id)))


async def test_bulk_verify_writes_an_audit_row_per_task(app: App, web: Any) -> None:
    _, tasks = setup(app, count=3, state="reported")
    sup = await web("sup")
    page = await sup.get("/control")
    assert page.text.count('name="task"') == 3
    picked = [f"{t.id}:1" for t in tasks[:2]]
    done = await sup.client.post(
        "/control/bulk",
        data={"csrf": sup.csrf, "action": "verify", "task": picked},
    )
    assert done.status_code == 303
    assert [_task(app, t.id or 0).state for t in tasks] == ["verified", "verified", "reported"]
    with session_scope(app.engine) as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.event == "verify")).all()
    assert sorted(r.task_id for r in rows) == sorted(t.id for t in tasks[:2])
    back = await sup.client.post(
        "/control/bulk", data={"csrf": sup.csrf, "action": "return", "task": [f"{tasks[2].id}:1"]}
    )
    assert (
        back.status_code == 303
        and "нужен комментарий" in httpx.URL(back.headers["location"]).params["note"]
    )
    assert _task(app, tasks[2].id or 0).state == "reported"


async def test_headers_and_escaping(app: App, web: Any) -> None:
    _, tasks = setup(app)
    retitle(app, tasks[0].id, "<script>alert(1)</script> & выводы")
    resp = await web("resp")
    page = await resp.get(f"/tasks/{tasks[0].id}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; выводы" in page.text
    headers = page.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src" not in headers["content-security-policy"]  # default-src 'none'
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    newcomer = await web(None)
    newcomer.client.cookies.clear()
    cookie = (await newcomer.get("/signin")).headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


async def test_sign_in_and_links_are_rate_limited(app: App, web: Any) -> None:
    setup(app)
    visitor = await web(None)
    limit = app.config.settings.web.rate_limit
    statuses = [(await visitor.get("/signin")).status_code for _ in range(limit + 1)]
    assert statuses[:limit] == [200] * limit and statuses[-1] == 429
    assert (await visitor.get("/l/anything")).status_code == 400  # another bucket


async def test_letters_carry_signed_links_thread_headers_and_a_calendar(app: App) -> None:
    from notifications import RecordingMailer

    _, tasks = setup(app)
    assert isinstance(app.clock, FixedClock)
    due = _task(app, tasks[0].id or 0).due_date
    assert due is not None
    app.clock.set(app.hours.at(app.calendar.add_working_days(due, -3), app.config.work_start))
    sweep(app.engine, app.escalator, app.clock)
    mailer = RecordingMailer()
    result = await app.deliver(mailer)
    assert result.sent >= 1
    reminder = next(m for m in mailer.messages if m["X-Measures-Kind"] == "reminder")
    root = f"<task.{tasks[0].id}@localhost>"
    assert reminder["In-Reply-To"] == root and reminder["References"] == root
    text = reminder.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"{app.base_url}/l/" in text and "/tasks/" not in text
    attachments = list(reminder.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["srok.ics"]
    ics = attachments[0].get_content()
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert f"DTSTART;VALUE=DATE:{due:%Y%m%d}" in ics and f"UID:task-{tasks[0].id}@localhost" in ics


def test_mail_test_goes_through_smtp_now(app: App) -> None:
    from engine.app.operations import send_test_letter
    from tests.test_mailers import SmtpServer

    server = SmtpServer()
    server.start()
    try:
        settings = app.config.settings
        mail = type(settings.mail)(transport="smtp", smtp_host="127.0.0.1", smtp_port=server.port)
        object.__setattr__(settings, "mail", mail)
        where = send_test_letter(app, "check@example.org")
    finally:
        server.stop()
    assert where == f"SMTP 127.0.0.1:{server.port}"
    [(message, recipients)] = server.handler.received
    assert recipients == ["check@example.org"]
    assert message["Subject"].startswith("Проверка почты системы")
    assert message["X-Measures-Kind"] == "mail_test"


def test_a_committees_template_replaces_the_shipped_one(app: App, tmp_path: Any) -> None:
    from notifications import render

    folder = tmp_path / "letters"
    folder.mkdir()
    (folder / "_base.txt").write_text(
        "КОМИТЕТ ЗАРЕЧНОГО РАЙОНА\n{% block body %}{% endblock %}\n", encoding="utf-8"
    )
    _, tasks = setup(app)
    assert isinstance(app.clock, FixedClock)
    due = _task(app, tasks[0].id or 0).due_date
    assert due is not None
    app.clock.set(app.hours.at(app.calendar.add_working_days(due, -3), app.config.work_start))
    from dataclasses import replace

    object.__setattr__(app, "escalator", replace(app.escalator, templates_dir=str(folder)))
    sweep(app.engine, app.escalator, app.clock)
    with session_scope(app.engine) as session:
        letter = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "reminder")).first()
    assert letter is not None
    assert letter.body_text.startswith("КОМИТЕТ ЗАРЕЧНОГО РАЙОНА")
    assert "КОМИТЕТ ЗАРЕЧНОГО РАЙОНА" not in letter.body_html  # only the file given changes
    from tests.test_notifications import make_notice

    assert "КОМИТЕТ" not in render("reminder", {"notice": make_notice()}).text  # shipped: kept


async def test_a_plan_in_any_format_the_importer_reads_is_imported_on_the_page(
    app: App, web: Any, tmp_path: Any
) -> None:
    # Merge of issues 7 and 10: the page took only the formats of its day (no .odt, .pdf).
    from engine.plans.readers.by_suffix import read_document
    from tests.conftest import EXAMPLES
    from tests.documents import odt_like

    setup(app)
    source = EXAMPLES / "plan.txt"
    document = tmp_path / "План 2026-2027.odt"
    odt_like(source, read_document(source), document)
    admin = await web("admin")
    form = await admin.get("/import")
    assert ".odt" in form.text and ".pdf" in form.text
    shown = await admin.client.post(
        "/import/plan",
        data={"csrf": admin.csrf},
        files={"file": (document.name, document.read_bytes(), "application/octet-stream")},
    )
    assert shown.status_code == 200, shown.text
    assert "Проверка: ничего не записано." in shown.text
    assert "Мероприятия (9)" in shown.text and "Октябрь-ноябрь 2026" in shown.text
    staged = re.search(r'name="staged" value="([^"]+)"', shown.text)
    assert staged is not None and staged.group(1).endswith(".odt")
    done = await admin.post(
        "/import/plan/confirm", {"staged": staged.group(1), "name": document.name}
    )
    assert done.status_code == 200 and "Записано." in done.text
    with session_scope(app.engine) as session:
        titles = [m.title for m in session.exec(select(Measure))]
    assert any(t.startswith("Выявление «зон риска» по итогам ВПР") for t in titles)
