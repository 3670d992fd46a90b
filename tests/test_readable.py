"""What a person reads in a terminal: 80 columns, Russian, and a workflow diagram that the
real Mermaid parser reads as the rule book says (tests/mermaid: mermaid + jsdom under node,
installed by .ci/run and ./dev test)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from engine.cli.base import shorten
from engine.lifecycle.workflow import load_workflow
from tests import test_cli
from tests.conftest import ROOT
from tests.test_cli import Cli

cli = test_cli.cli  # the fixtures of the CLI tests
loaded = test_cli.loaded
loaded_template = test_cli.loaded_template

MERMAID = ROOT / "tests" / "mermaid"


def _parser() -> list[str]:
    node = shutil.which("node")
    if node is None or not (MERMAID / "node_modules" / "mermaid").is_dir():
        reason = (
            "the Mermaid parser is not installed: npm ci --ignore-scripts --prefix tests/mermaid"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return [str(node), str(MERMAID / "check.mjs")]


def _mermaid(text: str) -> dict[str, object]:
    done = subprocess.run(
        _parser(), input=text, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_workflow_show_is_the_rule_book_in_valid_mermaid(cli: Cli) -> None:
    # Review finding: `workflow show` was not valid Mermaid (a front matter that was not
    # YAML, code names instead of the labels people read).
    parsed = _mermaid(cli("workflow", "show").stdout)
    flow = load_workflow(ROOT / "workflows" / "measure.toml")
    assert parsed["type"] == "stateDiagram"
    states = {s["id"]: s["labels"] for s in parsed["states"]}  # type: ignore[attr-defined,index]
    assert {k: v for k, v in states.items() if not k.startswith("root_")} == {
        s: [flow.label(s)] for s in flow.states
    }
    transitions = {(t["from"], t["to"], t["label"]) for t in parsed["transitions"]}  # type: ignore[attr-defined,index]
    expected = {(s, e.dest, e.label) for e in flow.events.values() for s in e.source}
    assert transitions - {t for t in transitions if "root_" in t[0] + t[1]} == expected
    assert ("root_start", flow.initial, "") in transitions


def test_the_parser_refuses_broken_mermaid() -> None:
    done = subprocess.run(
        _parser(), input="stateDiagram-v2\n  a --> \n", capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1 and "Parse error" in done.stderr


def _widths(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def test_tasks_and_history_fit_80_columns(loaded: Cli) -> None:
    loaded.env["COLUMNS"] = "80"
    loaded("fire", "1", "start", "--as", "ivanova")
    loaded(
        "fire",
        "1",
        "report",
        "--as",
        "ivanova",
        "--comment",
        "Перечень составлен и направлен",
        "--evidence",
        "docs/Перечень ОО с признаками необъективности.pdf",
    )
    tasks = loaded("tasks").stdout
    assert _widths(tasks) <= 80
    assert "Кузнецов О.И." in tasks and "МБОУ «СШ № 1»" in tasks  # names, the school
    assert "kuznetsov" not in tasks
    assert "просрочено" in tasks
    # A long title is cut at a word, with «…».
    assert "обеспечению…" in tasks
    assert (
        shorten(
            "Контроль за исполнением планов ОО по обеспечению объективности оценочных процедур", 60
        )
        == "Контроль за исполнением планов ОО по обеспечению…"
    )
    history = loaded("history", "1").stdout
    assert _widths(history) <= 80
    assert "документ:" in history and "необъективности.pdf" in history
    assert "Представить отчёт" in history


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["tasks"],
        ["fire"],
        ["history"],
        ["import"],
        ["people", "import"],
        ["task", "set"],
        ["measure", "set"],
        ["plan"],
        ["status"],
        ["calendar", "redate"],
        ["init"],
    ],
)
def test_help_fits_80_columns_and_shows_no_internal_ranges(cli: Cli, command: list[str]) -> None:
    cli.env["COLUMNS"] = "80"
    text = cli(*command, "--help").stdout
    assert _widths(text) <= 80
    assert "4611686018427387904" not in text and "<=x<=" not in text
    assert "Параметры" in text or "Команды" in text


def test_people_import_help_lists_the_columns(cli: Cli) -> None:
    cli.env["COLUMNS"] = "80"
    text = " ".join(cli("people", "import", "--help").stdout.split())
    for column in ("key", "name", "position", "organisation", "email", "roles", "deputies"):
        assert column in text


def test_log_lines_are_in_the_committee_time_zone() -> None:
    import logging
    from zoneinfo import ZoneInfo

    from engine.core.logs import CommitteeFormatter

    record = logging.LogRecord(
        "engine.daemon", logging.INFO, "", 0, "daemon %s", ("running",), None
    )
    record.created, record.msecs = 1796019600.25, 250  # 2026-11-30 06:20:00 UTC
    line = CommitteeFormatter(ZoneInfo("Asia/Vladivostok")).format(record)
    assert line == "2026-11-30 16:20:00,250+10:00 INFO engine.daemon: daemon running"


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "1 задача"),
        (3, "3 задачи"),
        (5, "5 задач"),
        (11, "11 задач"),
        (21, "21 задача"),
        (33, "33 задачи"),
        (112, "112 задач"),
    ],
)
def test_counts_agree_with_their_nouns(count: int, expected: str) -> None:
    from engine.core.words import TASKS, count_ru

    assert count_ru(count, *TASKS) == expected


def test_names_and_lookups_read_right_in_any_sentence() -> None:
    from engine.core.errors import NotFound
    from engine.core.words import initials

    assert initials("Иванова Мария Петровна") == "Иванова М.П."
    assert initials("МКУ «Районный методический кабинет»") == "МКУ «Районный методический кабинет»"
    assert str(NotFound("task", 99999)) == "задача 99999 не найдена"
    assert str(NotFound("plan", 7)) == "план 7 не найден"
    assert str(NotFound("measure", "9 в плане 1")) == "мероприятие 9 в плане 1 не найдено"
