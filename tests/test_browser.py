"""The whole scenario in a real browser (Debian's chromium through Playwright), against
the real web server (uvicorn on loopback), with mail through a real SMTP server
(aiosmtpd): every link the people click is taken from a received message.

A responsible person signs in by emailed link and reports with a file; the supervisor
returns the report from the emailed link (confirmation page, then POST); the
responsible reports again; the supervisor verifies in «На контроле»; the dashboard
shows it verified; a deadline request is made and granted, and the ladder re-plans.
Screenshots of each page go to ``test-artifacts/browser/``.

Without chromium the test skips with the reason — except under CI (``CI=true``), where
it fails: CI must not pass by skipping (the rule of the PostgreSQL fixture).
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime
from datetime import time as clock_time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from engine.app import App
from engine.app.operations import sweep_once
from engine.core.clock import FixedClock
from engine.core.db import session_scope, upgrade
from engine.core.models import AuditEvent, EscalationStep, Task
from engine.core.settings import load_config
from engine.web import web_server
from tests.browser import ARTIFACTS as SHARED_ARTIFACTS
from tests.conftest import NOW, _free_port, write_config
from tests.factories import make_directory, make_tasks
from tests.test_mailers import SmtpServer

ARTIFACTS = SHARED_ARTIFACTS / "browser"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live(tmp_path: Path, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """The application with its web server running on a free loopback port."""
    monkeypatch.delenv("MEASURES_DATABASE_URL", raising=False)
    monkeypatch.delenv("MEASURES_NOW", raising=False)
    port = _free_port()
    extra = (
        f'[mail]\ntransport = "smtp"\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\n'
        f"[web]\nport = {port}\nsession_hours = 720\n"
    )
    config = load_config(write_config(tmp_path, f"sqlite:///{tmp_path / 'm.db'}", extra))
    app = App(config, FixedClock(NOW))
    upgrade(app.engine)
    server = web_server(app, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the web server did not start"
    yield app
    server.should_exit = True
    thread.join(timeout=30)
    app.engine.dispose()


def _mail(smtp: SmtpServer, to: str, kind: str, timeout: float = 30) -> EmailMessage:
    """The newest received letter of this kind to this address (waits for delivery)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message, recipients in reversed(smtp.handler.received):
            if to in recipients and message["X-Measures-Kind"] == kind:
                return message
        time.sleep(0.1)
    raise AssertionError(f"no {kind} letter to {to} arrived")


def _link(message: EmailMessage, label: str) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    found = re.search(rf"^{re.escape(label)}: (http\S+)$", text, re.MULTILINE)
    assert found, f"no link «{label}» in:\n{text}"
    return found[1]


def _sweep_and_send(app: App) -> None:
    """What the daemon's jobs do, once — in a thread: Playwright's sync API keeps an event
    loop running in this one."""
    worker = threading.Thread(target=sweep_once, args=(app,), kwargs={"send": True})
    worker.start()
    worker.join(timeout=120)


def _at(app: App, day: date, hour: int = 10) -> datetime:
    return app.hours.at(day, clock_time(hour))


def test_report_return_report_verify_and_move_a_deadline(
    live: App, smtp: SmtpServer, chromium: Any
) -> None:
    app = live
    with session_scope(app.engine) as session:
        people = make_directory(session)
        first, second = make_tasks(session, people, count=2)
    task_id, other_id = first.id, second.id
    assert isinstance(app.clock, FixedClock)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    evidence = ARTIFACTS / "Перечень.pdf"
    evidence.write_bytes(PDF)

    browser = chromium
    responsible = browser.new_context(locale="ru-RU").new_page()
    supervisor = browser.new_context(locale="ru-RU").new_page()

    def shot(page: Any, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    # 1. The responsible asks for a sign-in link and follows it from the letter.
    responsible.goto(f"{app.base_url}/tasks")
    assert "/signin" in responsible.url
    responsible.fill("input[name=ident]", "resp@example.org")
    responsible.click("text=Прислать ссылку")
    shot(responsible, "01-signin-sent")
    letter = _mail(smtp, "resp@example.org", "signin")
    responsible.goto(_link(letter, "Войти"))
    shot(responsible, "02-signin-confirm")
    responsible.click("button:has-text('Войти')")
    assert responsible.url.endswith("/tasks")
    shot(responsible, "03-na-ispolnenie")

    # 2. Start, then report with a file.
    responsible.click(f"a[href='/tasks/{task_id}'] >> nth=0")
    responsible.click("button:has-text('Приступить к исполнению')")
    responsible.fill("textarea[name=comment]", "Перечень ОО составлен")
    responsible.set_input_files("input[name=files]", str(evidence))
    responsible.click("button:has-text('Представить отчёт')")
    assert "Выполнено" in responsible.inner_text("p.note")
    assert responsible.is_visible("a:has-text('Перечень.pdf')")
    shot(responsible, "04-task-reported")

    # 3. Three working days later the supervisor is reminded and returns the
    #    report from the letter: a confirmation page, then the POST.
    reported_on = NOW.astimezone(app.config.timezone).date()
    app.clock.set(_at(app, app.calendar.add_working_days(reported_on, 3)))
    _sweep_and_send(app)
    waiting = _mail(smtp, "sup@example.org", "verification_waiting")
    assert waiting["In-Reply-To"] == f"<task.{task_id}@localhost>"
    supervisor.goto(_link(waiting, "Вернуть на доработку"))
    shot(supervisor, "05-link-confirm-return")
    assert _state(app, task_id) == "reported"  # opening the link changed nothing
    supervisor.fill("textarea[name=comment]", "Приложите протокол совещания")
    supervisor.click("button:has-text('Вернуть на доработку')")
    assert _state(app, task_id) == "in_progress"
    shot(supervisor, "06-task-returned")

    # 4. The responsible reports again.
    responsible.goto(f"{app.base_url}/tasks/{task_id}")
    assert "Приложите протокол совещания" in responsible.content()
    responsible.fill("textarea[name=comment]", "Протокол приложен")
    responsible.set_input_files("input[name=files]", str(evidence))
    responsible.click("button:has-text('Представить отчёт')")
    assert _state(app, task_id) == "reported"

    # 5. The supervisor verifies in «На контроле».
    supervisor.goto(f"{app.base_url}/control")
    shot(supervisor, "07-na-kontrole")
    supervisor.check(f"#pick-{task_id}")
    supervisor.click("button:has-text('Подтвердить исполнение выбранных')")
    assert "выполнено по 1 из 1" in supervisor.inner_text("p.note")
    assert _state(app, task_id) == "verified"

    # 6. The dashboard shows it verified.
    supervisor.click("nav >> text=Планы")
    supervisor.click("table a >> nth=0")
    board = supervisor.content()
    assert "1 из 2 (50 %)" in board and "<svg" in board
    row = supervisor.inner_text(f"tr:has(a[href='/tasks/{task_id}'])")
    assert "Проверено" in row
    shot(supervisor, "08-plan-dashboard")
    supervisor.goto(f"{app.base_url}/tasks/{task_id}/history")
    assert "НАРУШЕНА" not in supervisor.content()
    shot(supervisor, "09-history")

    # 7. A deadline request, granted: the due date moves and the ladder re-plans.
    old_due = _due(app, other_id)
    responsible.goto(f"{app.base_url}/tasks/{other_id}")
    responsible.fill("input[name=new_due]", "2027-02-26")
    responsible.fill("textarea[name=reason]", "Данные РЦОИ поступят в феврале")
    responsible.click("button:has-text('Запросить перенос срока')")
    shot(responsible, "10-deadline-requested")
    supervisor.goto(f"{app.base_url}/control")
    assert "Данные РЦОИ поступят в феврале" in supervisor.content()
    shot(supervisor, "11-deadline-request")
    supervisor.click("button:has-text('Перенести срок')")
    assert str(_due(app, other_id)) == "2027-02-26"
    shot(supervisor, "12-deadline-granted")

    app.clock.set(_at(app, app.calendar.add_working_days(date(2027, 2, 26), -3)))
    _sweep_and_send(app)
    with session_scope(app.engine) as session:
        keys = {
            s.key
            for s in session.exec(select(EscalationStep).where(EscalationStep.task_id == other_id))
        }
        events = [
            r.event
            for r in session.exec(
                select(AuditEvent).where(AuditEvent.task_id == other_id).order_by(AuditEvent.seq)
            )
        ]
    assert "reminder@2027-02-26#0" in keys  # planned anew from the granted date
    assert any(f"@{old_due}" in k for k in keys)  # the old date's steps stay recorded
    assert events == ["deadline_request", "deadline_grant"]
    reminder = _mail(smtp, "resp@example.org", "reminder")
    calendars = [p for p in reminder.iter_attachments() if p.get_filename() == "srok.ics"]
    assert calendars and "DTSTART;VALUE=DATE:20270226" in calendars[0].get_content()
    assert len(list(ARTIFACTS.glob("*.png"))) == 12


def _state(app: App, task_id: int | None) -> str:
    with session_scope(app.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task.state


def _due(app: App, task_id: int | None) -> date | None:
    with session_scope(app.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task.due_date


SCHOOLS_ARTIFACTS = SHARED_ARTIFACTS / "browser-schools"


def test_a_case_from_the_list_to_an_approved_measure(
    live: App, smtp: SmtpServer, chromium: Any
) -> None:
    """«Импорт» of the 2026 list, «Школы», a school's case page with the gate's reasons, a
    request for an inspection, the approver's letter and its link, the approval, and the
    case report downloaded from the case page."""
    from engine.app.access import signin_url
    from engine.app.cases import assign_help, results_import
    from engine.core.models import AdministrativeMeasure, Person
    from tests.cases_data import case_of, fixture, load_directory, load_round

    app = live
    load_directory(app)
    load_round(app, 2025)
    assign_help(app, "sosh1", "petrova", template=True)
    results_import(app, fixture("results_2026.csv"))
    shutil.rmtree(SCHOOLS_ARTIFACTS, ignore_errors=True)
    SCHOOLS_ARTIFACTS.mkdir(parents=True)

    def shot(page: Any, name: str) -> None:
        page.screenshot(path=str(SCHOOLS_ARTIFACTS / f"{name}.png"), full_page=True)

    with session_scope(app.engine) as session:
        sokolova = session.exec(select(Person).where(Person.key == "sokolova")).one()
    admin = chromium.new_context(locale="ru-RU").new_page()
    admin.goto(signin_url(app, sokolova))
    admin.click("button:has-text('Войти')")

    # 1. The 2026 list through «Импорт»: the dry-run review, then the confirmation.
    admin.click("nav >> text=Импорт")
    list_form = admin.locator("form[action='/import/risks']")
    list_form.locator("input[name=file]").set_input_files(str(fixture("risks_2026.csv")))
    list_form.locator("button").click()
    assert "Проверка: ничего не записано" in admin.content()
    shot(admin, "01-import-review")
    admin.click("button:has-text('Записать')")
    assert "Записано" in admin.content()
    shot(admin, "02-import-written")
    assert case_of(app, "sosh1").state == "help_failed"

    # 2. «Школы»: the board, a closed gate with its reasons, an open one.
    admin.click("nav >> text=Школы")
    shot(admin, "03-schools-board")
    admin.click("a:has-text('МАОУ «Гимназия № 3»')")
    assert "программа помощи для школы не назначена" in admin.content()
    shot(admin, "04-case-gate-closed")
    admin.click("nav >> text=Школы")
    admin.click("a:has-text('МБОУ «СШ № 1»')")
    assert "Меры административного воздействия открыть можно" in admin.content()
    shot(admin, "05-case-help-failed")

    # 3. The head asks for an unscheduled inspection; a supervisor must approve it.
    request = admin.locator("form[action$='/administrative']").first
    request.locator("select[name=kind]").select_option("unscheduled_inspection")
    request.locator("textarea[name=reason]").fill("Помощь не дала сдвига по математике")
    request.locator("button").click()
    assert "ждёт утверждения" in admin.inner_text("p.note")
    shot(admin, "06-measure-requested")

    _sweep_and_send(app)
    letter = _mail(smtp, "petrova@example.org", "decision_waiting")
    assert "МБОУ «СШ № 1»" in str(letter["Subject"])
    supervisor = chromium.new_context(locale="ru-RU").new_page()
    supervisor.goto(_link(letter, "Открыть меру воздействия"))
    shot(supervisor, "07-letter-link")
    supervisor.click("button:has-text('Войти и открыть')")
    assert "Утвердить меру воздействия" in supervisor.content()
    shot(supervisor, "08-approval-page")
    supervisor.fill("textarea[name=comment] >> nth=0", "Согласовано")
    supervisor.click("button:has-text('Утвердить меру воздействия')")
    assert "Создана задача" in supervisor.inner_text("p.note")
    shot(supervisor, "09-approved")
    with session_scope(app.engine) as session:
        measure = session.exec(select(AdministrativeMeasure)).one()
    assert measure.state == "approved" and measure.task_id is not None
    assert case_of(app, "sosh1").state == "administrative"

    # 4. The case report, downloaded from the case page.
    supervisor.click("a:has-text('Страница дела школы')")
    shot(supervisor, "10-case-administrative")
    supervisor.select_option("select[name=format]", "docx")
    with supervisor.expect_download() as download:
        supervisor.click("button:has-text('Скачать отчёт')")
    saved = SCHOOLS_ARTIFACTS / download.value.suggested_filename
    download.value.save_as(str(saved))
    assert saved.name.startswith("school-sosh1-non_objective-2025-")
    assert saved.read_bytes().startswith(b"PK")
    assert len(list(SCHOOLS_ARTIFACTS.glob("*.png"))) == 10
