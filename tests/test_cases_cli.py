"""Schools at risk through the `measures` command: a real process on SQLite and PostgreSQL.

The same refusals as the engine calls give (tests/test_cases.py explains the numbers),
now as a person sees them: exit code 1, the reasons in Russian on stderr, and the case
as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select

from engine.app import App
from engine.app.cases import assign_help
from engine.core.clock import FixedClock
from engine.core.db import session_scope, upgrade
from engine.core.models import AuditEvent
from engine.core.settings import load_config
from tests.cases_data import case_of, drive, fixture, help_tasks, load_directory, load_round
from tests.conftest import NOW
from tests.test_cli import Cli


@pytest.fixture
def cli(tmp_path: Path, db_url: str) -> Cli:
    return Cli(tmp_path, db_url)


@pytest.fixture
def prepared(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """The same database in-process (same moment as the CLI's): the setting-up is done
    here, quickly; what a person types is done through the real command."""
    monkeypatch.delenv("MEASURES_DATABASE_URL", raising=False)
    app = App(load_config(Path(cli.env["MEASURES_CONFIG"])), FixedClock(NOW))
    upgrade(app.engine)
    load_directory(app)
    yield app
    app.engine.dispose()


def _audit_count(app: App) -> int:
    with session_scope(app.engine) as session:
        return int(session.exec(select(func.count()).select_from(AuditEvent)).one())


def _case(cli: Cli, school: str) -> dict[str, Any]:
    data = cli.json("case", school)
    assert isinstance(data, dict)
    return data


def test_the_gate_through_the_cli(cli: Cli, prepared: App) -> None:
    app = prepared
    load_round(app, 2025)
    load_round(app, 2026)
    done = cli("case", "sosh4", "help", "--template", "--as", "petrova")
    assert "мероприятий для школы: 5" in done.stdout
    for school in ("sosh1", "sosh2", "oosh5"):
        assign_help(app, school, "petrova", template=True)
    again = cli("case", "sosh2", "help", "--template", "--as", "petrova")
    assert "Программа помощи уже назначена" in again.stdout
    tasks = help_tasks(app, case_of(app, "sosh4"))
    drive(app, tasks[0])
    drive(app, tasks[1])
    drive(app, tasks[2], to="in_progress")
    board = cli.json("cases")
    assert isinstance(board, list)
    before = {r["school_key"]: r for r in board}
    assert {k: r["state"] for k, r in before.items()} == {
        "gym3": "flagged",
        "oosh5": "evaluating",
        "sosh1": "help_failed",
        "sosh2": "resolved",
        "sosh4": "help_in_progress",
        "sosh6": "flagged",
    }
    assert (before["sosh4"]["help_tasks"], before["sosh4"]["help_done"]) == (5, 2)
    refusals = {
        "gym3": "программа помощи для школы не назначена",
        "sosh4": "программа помощи не завершена: 3 из 5 мероприятий не подтверждены",
        "sosh2": "оценка показала позитивный сдвиг: русский язык, 4 класс — доля "
        "подтвердивших отметки выросла с 41 % до 63 %",
        "oosh5": "недостаточно данных для оценки: математика, 5 класс — в 2025 году "
        "участников 12 — меньше 20",
    }
    versions = {school: case_of(app, school).version for school in refusals}
    audited = _audit_count(app)
    for school, reason in refusals.items():
        refused = cli(
            "case", school, "open-administrative", "disciplinary", "--as", "petrova",
            "--reason", "Нарушения при проведении ВПР", ok=False,
        )  # fmt: skip
        assert refused.returncode == 1
        assert "открыть нельзя" in refused.stderr and reason in refused.stderr, refused.stderr
        page = cli("case", school).stdout  # the case page says why, and nothing moved
        assert reason in page and before[school]["state_label"] in page
        after = case_of(app, school)
        assert (after.state, after.version) == (before[school]["state"], versions[school])
    assert _audit_count(app) == audited  # a refusal leaves no trace in the chain

    # СШ № 1: help failed; a request, four eyes, the task
    assert _case(cli, "sosh1")["state"] == "help_failed"
    page = cli("case", "sosh1").stdout
    assert "Меры воздействия открыть можно" in page
    assert "школа осталась в перечне 2026 года" in page
    asked = cli(
        "case", "sosh1", "open-administrative", "unscheduled_inspection", "--as", "lebedev",
        "--reason", "Сдвига по математике нет",
    )  # fmt: skip
    assert "Мера воздействия 1 запрошена" in asked.stdout
    own = cli("case", "sosh1", "approve-administrative", "1", "--as", "lebedev", ok=False)
    assert "собственному" in own.stderr
    approved = cli("case", "sosh1", "approve-administrative", "1", "--as", "petrova")
    assert "срок 23.12.2026" in approved.stdout
    view = _case(cli, "sosh1")
    assert view["state"] == "administrative"
    (measure,) = view["administrative"]
    assert (measure["state"], measure["task_state"], measure["override"]) == (
        "approved",
        "planned",
        False,
    )
    tasks_now = cli.json("tasks")
    assert isinstance(tasks_now, list)
    assert any(
        t["id"] == measure["task_id"] and t["title"] == "Внеплановая проверка" for t in tasks_now
    )
    assert "Журнал цел" in cli("audit", "verify").stdout


def test_no_new_results_yet_through_the_cli(cli: Cli, prepared: App) -> None:
    app = prepared
    load_round(app, 2025)
    assign_help(app, "sosh1", "petrova", template=True)
    for task in help_tasks(app, case_of(app, "sosh1")):
        drive(app, task)
    before = case_of(app, "sosh1")
    assert before.state == "evaluating"
    refused = cli(
        "case", "sosh1", "open-administrative", "unscheduled_inspection", "--as", "petrova",
        "--reason", "Нарушения", ok=False,
    )  # fmt: skip
    assert "нет результатов следующего цикла (2026 год)" in refused.stderr
    after = case_of(app, "sosh1")
    assert (after.state, after.version) == (before.state, before.version)


def test_importers_through_the_cli(cli: Cli, prepared: App, tmp_path: Path) -> None:
    excel = tmp_path / "results_excel.csv"
    excel.write_bytes(fixture("results_2026.csv").read_text(encoding="utf-8").encode("cp1251"))
    checked = cli("results", "import", str(excel), "--dry-run")
    assert "добавлено 10" in checked.stdout and "ничего не записано" in checked.stdout
    done = cli("results", "import", str(excel))  # the dry run wrote nothing: 10 again
    assert "кодировка Windows-1251 (cp1251); строк 10, годы 2026: добавлено 10" in done.stdout
    again = cli("results", "import", str(excel))
    assert "Этот файл уже загружен: изменений нет." in again.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(
        fixture("results_2025.csv").read_text(encoding="utf-8").replace(";48;", ";-;", 1),
        encoding="utf-8",
    )
    refused = cli("results", "import", str(bad), ok=False)
    assert "bad.csv:3: Кол-во участников: ожидалось целое число, получено «-»" in refused.stderr
    assert "--skip-bad-rows" in refused.stderr
    skipped = cli("results", "import", str(bad), "--skip-bad-rows")
    assert "добавлено 5" in skipped.stdout and "bad.csv:3" in skipped.stdout
    signs = cli("risks", "detect", "--year", "2026").stdout
    assert "школ с признаками — 3" in signs and "Учителя не оцениваются" in signs
    assert "доля «4» и «5» 80 % при 58,2 % по региону" in signs


def test_the_school_report_through_the_cli(cli: Cli, prepared: App) -> None:
    app = prepared
    load_round(app, 2025)
    cli("case", "sosh1", "help", "--template", "--as", "petrova")
    load_round(app, 2026)
    done = cli("report", "school", "sosh1", "--format", "xlsx", "--out", "sosh1.xlsx")
    assert "Отчёт сохранён:" in done.stdout
    from tests.report_files import summary_figures, workbook

    found = summary_figures(workbook((cli.folder / "sosh1.xlsx").read_bytes()))
    assert found["Стадия дела"] == "Помощь не дала сдвига"
    assert found["Мероприятий помощи для школы"] == 5  # the template's five measures
    assert found["Просрочено"] == 5  # none started; the 2025/26 school year has ended
    refused = cli("report", "school", "sosh1", "--as-of", "2020-01-01", ok=False)
    assert "открыто 25.11.2026" in refused.stderr
    missing = cli("report", "school", "nowhere", ok=False)
    assert "школа nowhere не найдена" in missing.stderr
