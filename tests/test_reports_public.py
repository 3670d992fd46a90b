"""The public summary: opt-in, and no person's name, surname or email anywhere in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.app import App
from engine.app.reports import public_page, public_summary
from engine.core.errors import MeasuresError
from engine.core.models import Person
from engine.core.settings import load_config
from engine.reports.public import Redactor
from tests.conftest import write_config
from tests.report_files import sheet_rows, workbook
from tests.report_scenario import PEOPLE, Scenario, build


@pytest.fixture
def scenario(app: App, tmp_path: Path) -> Scenario:
    built = build(app)
    app.config = load_config(
        write_config(tmp_path, app.config.database_url, "[reports]\npublic_summary = true\n")
    )
    return built


def _personal(text: str) -> list[str]:
    """Every person's full name, each part of it and their email found in ``text``."""
    found = []
    for key, (name, _) in PEOPLE.items():
        for needle in (name, *name.split(), f"{key}@example.org"):
            if re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", text, re.IGNORECASE):
                found.append(needle)
    return found


def test_public_html_and_xlsx_hold_no_personal_data(app: App, scenario: Scenario) -> None:
    html = public_summary(app, scenario.plan_id, "html").content.decode("utf-8")
    assert _personal(html) == []
    book = workbook(public_summary(app, scenario.plan_id, "xlsx").content)
    cells = " ".join(
        str(value)
        for sheet in book.sheetnames
        for row in sheet_rows(book, sheet)
        for value in row
        if value is not None
    )
    assert _personal(cells) == []
    # ... while the measures, their states and dates are there.
    rows = {row[1]: row[2:] for row in sheet_rows(book, "Мероприятия")[1:]}
    assert rows["5"][3:] == [
        "Запланировано: 1; Отчёт представлен: 1; Проверено: 1; просрочено: 1",
        "1 из 3",
    ]
    assert rows["8"][0] == "Размещение информации на сайте (ответственный — … М.П., …)"
    assert "Проверено" in html and "20.11.2026" in html


def test_the_test_would_notice_a_name(app: App, scenario: Scenario) -> None:
    # The scan above is only worth something if it finds what the plan report shows.
    from engine.app.reports import plan_report

    content = plan_report(app, scenario.plan_id, "html").content.decode("utf-8")
    assert "Иванова Мария Петровна" in _personal(content)


def test_public_summary_is_off_by_default(app: App, tmp_path: Path) -> None:
    build(app)
    with pytest.raises(MeasuresError, match=r"Публичная сводка выключена.*public_summary = true"):
        public_summary(app, 1, "html")
    with pytest.raises(MeasuresError, match="Публичная сводка выключена"):
        public_page(app, 1)


def test_public_page_for_the_web(app: App, scenario: Scenario) -> None:
    page = public_page(app, scenario.plan_id)
    assert page.startswith("<!doctype html>")
    assert "Ход исполнения плана мероприятий" in page
    with pytest.raises(MeasuresError, match="возможные: html, xlsx"):
        public_summary(app, scenario.plan_id, "docx")


def test_redactor_masks_surnames_in_any_case_and_emails() -> None:
    redact = Redactor([Person(key="p", name="Петрова Анна Сергеевна")])
    assert redact("возложить на Петрову А.С.") == "возложить на … А.С."
    assert redact("Анна Сергеевна, anna.p@mail.example.ru") == "… …, …"
    assert redact("Петровский район, петрова") == "Петровский район, петрова"  # not a name
