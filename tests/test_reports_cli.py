"""`measures report …` and `measures calendar export` as a person runs them: a real process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.report_files import docx_tables, figures, workbook
from tests.test_cli import MEASURES, Cli


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plan imported on 01.11, its task 1 verified on 20.11."""
    from tests.conftest import EXAMPLES

    where = tmp_path_factory.mktemp("reports")
    cli = Cli(where, f"sqlite:///{where / 'data' / 'measures.db'}")
    cli.env["MEASURES_NOW"] = "2026-11-01T10:00"
    cli("init", "--simulation")
    cli("people", "import", str(EXAMPLES / "people.csv"))
    cli("schools", "import", str(EXAMPLES / "schools.csv"))
    cli("events", "import", str(EXAMPLES / "events.csv"))
    cli("import", str(EXAMPLES / "plan.txt"))
    cli.env["MEASURES_NOW"] = "2026-11-20T10:00"
    cli("fire", "1", "start", "--as", "ivanova")
    cli("fire", "1", "report", "--as", "ivanova", "--comment", "Перечень составлен")
    cli("fire", "1", "verify", "--as", "petrova")
    return where


@pytest.fixture
def cli(folder: Path) -> Cli:
    return Cli(folder, f"sqlite:///{folder / 'data' / 'measures.db'}")


def test_report_plan_files(cli: Cli) -> None:
    done = cli("report", "plan", "1", "--out", "plan.xlsx")
    assert "Отчёт сохранён:" in done.stdout and "plan.xlsx" in done.stdout
    book = workbook((cli.folder / "plan.xlsx").read_bytes())
    assert "Сводка" in book.sheetnames
    cli("report", "plan", "1")  # default: DOCX named after the plan and the day
    content = (cli.folder / "plan-1-2026-11-25.docx").read_bytes()
    found = figures(docx_tables(content)["Сводные показатели"])
    assert found["Всего задач"] == "33"  # the example plan's tasks (measures tasks)
    assert found["Исполнено в срок"] == "1"
    cli("report", "plan", "1", "--as-of", "2026-11-19", "--out", "past.docx")
    past = figures(docx_tables((cli.folder / "past.docx").read_bytes())["Сводные показатели"])
    assert past["Всего задач"] == "33"
    assert past["Исполнено в срок"] == "0"  # verified only on the 20th
    refused = cli("report", "plan", "1", "--as-of", "2026-10-31", ok=False)
    assert "загружен в систему 01.11.2026" in refused.stderr


def test_report_refusals_are_russian_sentences(cli: Cli) -> None:
    cases = [
        (["report", "plan", "1", "--as-of", "2027-01-01"], "ещё не наступила"),
        (["report", "plan", "1", "--format", "odt"], "формат «odt» не поддерживается"),
        (["report", "plan", "1", "--format", "docx", "--out", "x.xlsx"], "не совпадает"),
        (["report", "plan", "1", "--out", "nowhere/x.docx"], "не удалось записать"),
        (["report", "public", "--plan", "1"], "Публичная сводка выключена"),
        (["calendar", "export", "--out", "x.ics"], "укажите ровно одно из"),
        (
            ["report", "discipline", "--from", "2026-12-01", "--to", "2026-11-01"],
            "раньше, чем начинается",
        ),
    ]
    for args, message in cases:
        result = cli(*args, ok=False)
        assert result.returncode == 1, args
        assert message in result.stderr, (args, result.stderr)


def test_discipline_and_calendars(cli: Cli) -> None:
    cli("report", "discipline", "--from", "2026-09-01", "--to", "2026-12-31", "--out", "d.xlsx")
    assert "По исполнителям" in workbook((cli.folder / "d.xlsx").read_bytes()).sheetnames
    cli("calendar", "export", "--person", "ivanova", "--out", "ivanova.ics")
    text = (cli.folder / "ivanova.ics").read_text(encoding="utf-8")
    assert text.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in text
    cli("calendar", "export", "--plan", "1", "--out", "plan.ics")
    assert (cli.folder / "plan.ics").read_bytes().count(b"BEGIN:VEVENT") > 1


def test_help_is_russian() -> None:
    for args in (["report", "--help"], ["report", "plan", "--help"], ["calendar", "--help"]):
        result = subprocess.run([MEASURES, *args], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0
        assert "Отчёт" in result.stdout or "Календари" in result.stdout or "отчёт" in result.stdout
