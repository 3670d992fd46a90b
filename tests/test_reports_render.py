"""The renderers as a person meets them: a browser, a PDF viewer, a plain machine."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from engine.app import App
from engine.app.reports import plan_report
from engine.core.errors import MeasuresError
from engine.reports.model import Report, Row, Table, text_of
from engine.reports.render import render
from engine.reports.render.pdf import PdfUnavailable, find_converter
from engine.reports.render.xlsx import sheet_name
from tests.browser import ARTIFACTS, CHROMIUM, unavailable
from tests.report_scenario import Scenario, build


@pytest.fixture
def scenario(app: App) -> Scenario:
    return build(app)


def test_html_report_in_chromium(
    app: App, scenario: Scenario, chromium: Any, tmp_path: Path
) -> None:
    page_file = tmp_path / "plan.html"
    page_file.write_bytes(plan_report(app, scenario.plan_id, "html").content)
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(page_file.as_uri())
        assert page.title().startswith("Отчёт об исполнении плана мероприятий")
        # Highlighted: measures 3, 4, 5 in the plan table, the three overdue tasks,
        # Иванова and Белова among the people, СШ № 2 among the schools.
        assert page.locator("tr.overdue").count() == 3 + 3 + 2 + 1
        figures = page.locator("table.figures tr")
        texts = [figures.nth(i).inner_text() for i in range(figures.count())]
        assert "Просрочено на дату отчёта\t3" in texts
        assert "Средняя задержка, рабочих дней\t8,8" in texts
        chart = page.locator("img.chart")
        assert chart.evaluate("img => img.complete && img.naturalWidth > 0")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report-plan.png"), full_page=True)
    finally:
        page.close()


def test_pdf_through_chromium(app: App, scenario: Scenario) -> None:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    from engine.core.settings import load_config
    from tests.conftest import write_config

    folder = Path(app.config.base_dir)
    app.config = load_config(
        write_config(folder, app.config.database_url, '[reports]\npdf_converter = "chromium"\n')
    )
    rendered = plan_report(app, scenario.plan_id, "pdf")
    assert rendered.made_by.startswith("chromium (")  # said to the person
    content = rendered.content
    assert content.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", content))
    assert pages >= 2  # the report does not fit one landscape A4 page
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-plan.pdf").write_bytes(content)


def test_no_pdf_converter_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing installed
    with pytest.raises(PdfUnavailable) as refused:
        find_converter("auto")
    message = str(refused.value)
    assert "LibreOffice (apt-get install libreoffice-writer)" in message
    assert "Chromium (apt-get install chromium)" in message
    assert "docx или html" in message
    with pytest.raises(PdfUnavailable, match=r"^Для PDF .*установите LibreOffice"):
        render(Report("T", "S", (), (), "x"), "pdf", pdf_converter="libreoffice")
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    found = find_converter("auto")
    assert (found.kind, found.program) == ("chromium", str(fake))
    with pytest.raises(MeasuresError, match="завершился с кодом 3 и не создал файл"):
        render(Report("T", "S", (), (), "x"), "pdf")


def test_sheet_names_follow_excel_rules() -> None:
    used: set[str] = set()
    title = "1. Раздел: цели/задачи [основные]"  # 33 characters, 4 forbidden
    assert sheet_name(title, used) == "1. Раздел  цели задачи  основны"  # 31
    assert sheet_name(title, used) == "1. Раздел  цели задачи  осн (2)"  # 27 + 4
    assert sheet_name("По школам", used) == "По школам"
    assert sheet_name("по школам", used) == "по школам (2)"


def test_empty_tables_and_russian_values() -> None:
    from datetime import date

    from tests.report_files import docx_text

    report = Report(
        "Отчёт",
        "Пусто",
        (("Состояние на", "25.11.2026"),),
        (Table("Нет строк", (), [], empty="Строк нет."),),
        "empty",
    )
    assert "Строк нет." in docx_text(render(report, "docx").content)
    assert "Строк нет." in render(report, "html").content.decode("utf-8")
    assert [text_of(v) for v in (None, date(2026, 11, 2), 8.75, 3, "x")] == [
        "—", "02.11.2026", "8,8", "3", "x",
    ]  # fmt: skip
    assert Row(("a",)).group == ""
