"""«Школы» on the web and in the API, on SQLite and PostgreSQL, with the case fixtures
(tests/fixtures/cases): the board, a case page, help programmes, administrative measures
through the gate with four eyes, an admin's override marked everywhere, the letter and
the digest line that tell the approver, results and lists through «Импорт».

With both rounds in and a help programme for СШ № 1 (see tests/test_cases.py for the
numbers): СШ № 1 is «help_failed» (the gate is open), Гимназия № 3 is «flagged» (no
help: the gate is closed). Directory roles: petrova and lebedev are supervisors,
sokolova is the head and an admin; kuznetsov heads СШ № 1 and holds no role on cases.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx
import pytest
from sqlmodel import col, func, select

from engine.app import App
from engine.app.access import api_token
from engine.app.cases import assign_help, open_administrative
from engine.app.operations import queue_digests
from engine.core.db import session_scope
from engine.core.errors import GateClosed
from engine.core.models import AdministrativeMeasure, AuditEvent, OutboxMessage, SchoolCase, Task
from tests.cases_data import case_of, fixture, load_directory, load_round

pytestmark = pytest.mark.anyio


@pytest.fixture
def rounds(app: App) -> App:
    load_directory(app)
    load_round(app, 2025)
    assign_help(app, "sosh1", "petrova", template=True)
    load_round(app, 2026)
    assert case_of(app, "sosh1").state == "help_failed"
    assert case_of(app, "gym3").state == "flagged"
    return app


def _letters(app: App, kind: str) -> list[OutboxMessage]:
    with session_scope(app.engine) as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.kind == kind)
                .order_by(col(OutboxMessage.id))
            )
        )


def _measures(app: App) -> list[AdministrativeMeasure]:
    with session_scope(app.engine) as session:
        return list(
            session.exec(select(AdministrativeMeasure).order_by(col(AdministrativeMeasure.id)))
        )


def _audit_count(app: App) -> int:
    with session_scope(app.engine) as session:
        return int(session.exec(select(func.count()).select_from(AuditEvent)).one())


def _note(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:500]
    return httpx.URL(response.headers["location"]).params.get("note", "")


def _page_link(letter: OutboxMessage) -> str:
    found = re.search(r"(/l/page/[A-Za-z0-9_.-]+)", letter.body_text)
    assert found is not None, letter.body_text
    return found[1]


async def test_request_through_the_gate_and_approve_from_the_letter(rounds: App, web: Any) -> None:
    app = rounds
    case = case_of(app, "sosh1")
    url = f"/schools/{case.id}"
    lebedev, petrova, head = await web("lebedev"), await web("petrova"), await web("kuznetsov")
    board = await lebedev.get("/schools")
    assert board.status_code == 200
    assert f'href="{url}"' in board.text and "Помощь не дала сдвига" in board.text
    # the school's head holds no role on its case: the board is empty, the case missing
    assert "Доступных Вам дел нет" in (await head.get("/schools")).text
    assert (await head.get(url)).status_code == 404
    page = await lebedev.get(url)
    assert "Меры административного воздействия открыть можно" in page.text
    assert "Запросить меру воздействия" in page.text

    requested = await lebedev.post(
        f"{url}/administrative",
        {"kind": "unscheduled_inspection", "reason": "Помощь не дала сдвига по математике"},
    )
    assert "ждёт утверждения" in _note(requested)
    (measure,) = _measures(app)
    assert (measure.state, measure.override) == ("requested", False)
    # the approvers (directory supervisors and the head, not the requester) get a letter
    letters = _letters(app, "decision_waiting")
    assert sorted(m.recipient_email for m in letters) == [
        "petrova@example.org",
        "sokolova@example.org",
    ]
    letter = next(m for m in letters if m.recipient_email == "petrova@example.org")
    assert letter.subject == "Ожидает Вашего решения: внеплановая проверка — МБОУ «СШ № 1»"
    assert "Основание: Помощь не дала сдвига по математике" in letter.body_text
    assert "Запросил: Лебедев П.А., 25 ноября 2026 г." in letter.body_text

    # four eyes: the requester cannot approve, on the page or by a crafted POST
    approval = f"{url}/administrative/{measure.id}"
    own = await lebedev.get(approval)
    assert "решение принимает другое контролирующее лицо" in own.text
    refused = await lebedev.post(f"{approval}/approve", {})
    assert refused.status_code == 422 and "Нельзя решать по собственному" in refused.text
    assert _measures(app)[0].state == "requested"
    assert (await head.post(f"{approval}/approve", {})).status_code == 404

    # the letter's link: a confirmation page, then the approval page as petrova
    visitor = await web(None)
    link = _page_link(letter)
    shown = await visitor.get(link)
    assert shown.status_code == 200 and "Петрова Анна Сергеевна" in shown.text
    assert _measures(app)[0].state == "requested"
    opened = await visitor.post(link, {})
    assert opened.status_code == 303 and opened.headers["location"] == approval
    signed_in = await visitor.get(approval)
    assert "Утвердить меру воздействия" in signed_in.text
    # the same person signed in goes straight to the page
    assert (await visitor.get(link)).headers["location"] == approval

    approved = await petrova.post(f"{approval}/approve", {"comment": "Согласовано"})
    # 20 working days after Wed 25.11.2026: 23.12.2026
    assert "Создана задача" in _note(approved) and "срок 23.12.2026" in _note(approved)
    measure = _measures(app)[0]
    assert measure.state == "approved" and measure.task_id is not None
    assert case_of(app, "sosh1").state == "administrative"
    with session_scope(app.engine) as session:
        task = session.get(Task, measure.task_id)
        assert task is not None and task.due_date == date(2026, 12, 23)
        decided = session.exec(
            select(AuditEvent).where(
                AuditEvent.admin_id == measure.id, AuditEvent.event == "approve"
            )
        ).one()
    assert decided.comment == "Согласовано"
    history = await petrova.get(f"{url}/history")
    assert "Утвердить меру воздействия" in history.text and "НАРУШЕНА" not in history.text


async def test_the_gate_refuses_the_web_and_the_api_with_the_clis_reasons(
    rounds: App, web: Any
) -> None:
    app = rounds
    case = case_of(app, "gym3")
    with pytest.raises(GateClosed) as engine_call:
        open_administrative(app, "gym3", "disciplinary", "petrova", "нарушения")
    refusal = str(engine_call.value)
    assert "программа помощи для школы не назначена" in refusal
    before = (_audit_count(app), len(_measures(app)))
    petrova = await web("petrova")
    page = await petrova.get(f"/schools/{case.id}")
    assert "программа помощи для школы не назначена" in page.text
    assert "Запросить меру воздействия</button>" not in page.text  # no form while closed
    posted = await petrova.post(
        f"/schools/{case.id}/administrative", {"kind": "disciplinary", "reason": "нарушения"}
    )
    assert posted.status_code == 422
    assert refusal in posted.text
    token = api_token(app, "petrova", 1)
    api = await petrova.client.post(
        f"/api/cases/{case.id}/administrative",
        json={"kind": "disciplinary", "reason": "нарушения"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 422 and api.json() == {"detail": refusal}
    after = case_of(app, "gym3")
    assert (after.state, after.version) == (case.state, case.version)
    assert (_audit_count(app), len(_measures(app))) == before


async def test_an_admins_override_is_marked_everywhere(rounds: App, web: Any) -> None:
    app = rounds
    case = case_of(app, "gym3")
    url = f"/schools/{case.id}"
    petrova, sokolova = await web("petrova"), await web("sokolova")
    assert "В ОБХОД ПРАВИЛА" not in (await petrova.get(url)).text  # no override form
    not_admin = await petrova.post(
        f"{url}/administrative", {"kind": "disciplinary", "reason": "x", "override": "1"}
    )
    assert not_admin.status_code == 422 and "только администратор" in not_admin.text
    form = await sokolova.get(url)
    assert "Запросить в обход правила" in form.text
    empty = await sokolova.post(
        f"{url}/administrative", {"kind": "disciplinary", "reason": " ", "override": "1"}
    )
    assert empty.status_code == 422 and "Нужно основание" in empty.text
    assert _measures(app) == []
    done = await sokolova.post(
        f"{url}/administrative",
        {"kind": "disciplinary", "reason": "Жалобы родителей на подмену работ", "override": "1"},
    )
    assert "В ОБХОД ПРАВИЛА" in _note(done)
    (measure,) = _measures(app)
    assert measure.override
    letters = {m.recipient_email: m for m in _letters(app, "decision_waiting")}
    assert sorted(letters) == ["lebedev@example.org", "petrova@example.org"]
    letter = letters["petrova@example.org"]
    assert letter.subject.endswith("(в обход правила)")
    assert "В ОБХОД ПРАВИЛА «сначала помощь»" in letter.body_text
    assert (
        "Условия для мер воздействия не выполнены: программа помощи для школы не назначена."
        in letter.body_text
    )
    # approved through the API by another supervisor
    token = api_token(app, "petrova", 1)
    approved = await petrova.client.post(
        f"/api/cases/{case.id}/administrative/{measure.id}/approve",
        json={"comment": ""},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved" and approved.json()["override"] is True
    assert case_of(app, "gym3").state == "administrative"
    page = (await petrova.get(url)).text
    assert "В ОБХОД ПРАВИЛА «сначала помощь» (решение администратора)" in page
    marked = '<strong class="late">(в обход правила)</strong>'
    assert page.count(marked) == 3  # the history: request, approval, the case's move
    board = (await petrova.get("/schools")).text
    row = re.search(rf'<tr[^>]*>\s*<td><a href="{url}">.*?</tr>', board, re.DOTALL)
    assert row is not None and "в обход правила" in row[0]
    detail = (
        await petrova.client.get(
            f"/api/cases/{case.id}", headers={"Authorization": f"Bearer {token}"}
        )
    ).json()
    assert [h["event"] for h in detail["history"] if h["override"]] == [
        "override",
        "approve",
        "administer_override",
    ]


async def test_help_programme_close_and_reject_from_the_case_page(rounds: App, web: Any) -> None:
    app = rounds
    case = case_of(app, "gym3")  # listed in 2026: its programme's school year runs now
    url = f"/schools/{case.id}"
    petrova = await web("petrova")
    page = await petrova.get(url)
    assert "Назначить программу помощи" in page.text
    forged = await petrova.client.post(f"{url}/help", data={"source": "template"})
    assert forged.status_code == 422  # no CSRF field
    stale = await petrova.client.post(f"{url}/help", data={"source": "template", "csrf": "x"})
    assert stale.status_code == 403
    assert (await petrova.post(f"{url}/help", {"source": "plan"})).status_code == 422
    assert case_of(app, "gym3").state == "flagged"
    kuznetsov = await web("kuznetsov")
    assert (await kuznetsov.post(f"{url}/help", {"source": "template"})).status_code == 404
    done = await petrova.post(f"{url}/help", {"source": "template", "curator": "ivanova"})
    assert "мероприятий для школы: 5" in _note(done)
    assert case_of(app, "gym3").state == "help_planned"
    # the curator now sees the case; the help tasks are listed with their states
    ivanova = await web("ivanova")
    shown = await ivanova.get(url)
    assert shown.status_code == 200 and "Иванова М.П." in shown.text
    assert shown.text.count('href="/tasks/') == 5

    # СШ № 1: a request rejected (a reason is required), then the case closed
    sosh1 = case_of(app, "sosh1")
    lebedev = await web("lebedev")
    await lebedev.post(
        f"/schools/{sosh1.id}/administrative", {"kind": "disciplinary", "reason": "Нет сдвига"}
    )
    (measure,) = _measures(app)
    approval = f"/schools/{sosh1.id}/administrative/{measure.id}"
    bare = await petrova.post(f"{approval}/reject", {"comment": ""})
    assert bare.status_code == 422 and "нужен комментарий" in bare.text
    assert "Отклонена" in _note(await petrova.post(f"{approval}/reject", {"comment": "Рано"}))
    # the measure's id under another case's address is not found
    other = await petrova.post(f"/schools/{case.id}/administrative/{measure.id}/approve", {})
    assert other.status_code == 404
    closing = f"/schools/{sosh1.id}/events/close"
    assert (await petrova.post(closing, {"comment": ""})).status_code == 422
    assert "Закрыто" in _note(await petrova.post(closing, {"comment": "Сдвиг будет оценён"}))
    assert case_of(app, "sosh1").state == "closed"


async def test_a_waiting_decision_is_in_the_approvers_digest(rounds: App, web: Any) -> None:
    app = rounds
    lebedev = await web("lebedev")
    case = case_of(app, "sosh1")
    await lebedev.post(
        f"/schools/{case.id}/administrative",
        {"kind": "supervision_plan", "reason": "Сдвига по математике нет"},
    )
    queue_digests(app)  # Wed 25.11.2026 10:00, within working hours
    digests = {m.recipient_email: m for m in _letters(app, "daily_digest")}
    assert "lebedev@example.org" not in digests or (
        "Ожидают Вашего решения" not in digests["lebedev@example.org"].body_text
    )
    digest = digests["petrova@example.org"]
    assert digest.subject.endswith("ожидают решения — 1")
    text = digest.body_text
    assert "Ожидают Вашего решения — меры административного воздействия (1):" in text
    assert (
        "• Включение в план контрольно-надзорных мероприятий — МБОУ «СШ № 1», запросил "
        "Лебедев П.А. 25.11.2026" in text
    )
    link = _page_link(digest)
    visitor = await web(None)
    opened = await visitor.post(link, {})
    assert opened.headers["location"].startswith(f"/schools/{case.id}/administrative/")


async def test_results_and_lists_through_import(app: App, web: Any) -> None:
    load_directory(app)
    load_round(app, 2025)
    sokolova, petrova = await web("sokolova"), await web("petrova")
    assert (await petrova.get("/import")).status_code == 403
    before = _cases(app)
    upload = await sokolova.client.post(
        "/import/risks",
        data={"csrf": sokolova.csrf},
        files={"file": ("risks_2026.csv", fixture("risks_2026.csv").read_bytes(), "text/csv")},
    )
    assert upload.status_code == 200, upload.text[:500]
    assert "Проверка: ничего не записано" in upload.text
    assert re.search(r"Открывается дел</td><td>2<", upload.text)  # Гимназия № 3, СШ № 4
    assert _cases(app) == before
    staged = re.search(r'name="staged" value="([^"]+)"', upload.text)
    assert staged is not None
    confirmed = await sokolova.post(
        "/import/risks/confirm", {"staged": staged[1], "name": "risks_2026.csv"}
    )
    assert confirmed.status_code == 200 and "Записано" in confirmed.text
    assert _cases(app) == before + 2

    # a file with a bad row: nothing unless the good rows are confirmed on their own
    text = fixture("results_2026.csv").read_text(encoding="utf-8")
    bad = (
        text
        + "2026;5;Математика;Заречный район;lo479999;МБОУ «СШ № 99»;30;10;40;30;20;;;;ВПР;нет\n"
    )
    upload = await sokolova.client.post(
        "/import/results",
        data={"csrf": sokolova.csrf},
        files={"file": ("vpr_2026.csv", bad.encode("utf-8"), "text/csv")},
    )
    assert upload.status_code == 200
    assert "в таком виде он не загружается" in upload.text
    assert "vpr_2026.csv:12: школа «lo479999»" in upload.text and "/tmp" not in upload.text
    assert "Записать верные строки, пропустив ошибочные" in upload.text
    staged = re.search(r'name="staged" value="([^"]+)"', upload.text)
    assert staged is not None
    written = await sokolova.post(
        "/import/results/confirm",
        {"staged": staged[1], "name": "vpr_2026.csv", "skip_bad_rows": "1"},
    )
    assert written.status_code == 200 and re.search(r"Добавлено</td><td>10<", written.text)


def _cases(app: App) -> int:
    with session_scope(app.engine) as session:
        return int(session.exec(select(func.count()).select_from(SchoolCase)).one())


def test_a_request_naming_its_checker_tells_only_them(rounds: App) -> None:
    app = rounds
    open_administrative(app, "sosh1", "disciplinary", "lebedev", "Нет сдвига", supervisor="petrova")
    assert [m.recipient_email for m in _letters(app, "decision_waiting")] == ["petrova@example.org"]
    # naming oneself does not skip four eyes: the directory's approvers are told instead
    open_administrative(
        app, "sosh1", "unscheduled_inspection", "petrova", "Нет сдвига", supervisor="petrova"
    )
    told = sorted(m.recipient_email for m in _letters(app, "decision_waiting")[1:])
    assert told == ["lebedev@example.org", "sokolova@example.org"]
