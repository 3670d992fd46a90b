"""The clerk's commands, end to end as a clerk types them: dates, schedules, responsible
persons, plans withdrawn and archived, lists — every change in the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import test_cli
from tests.conftest import EXAMPLES
from tests.test_cli import Cli

cli = test_cli.cli  # the fixtures of the CLI tests
loaded_template = test_cli.loaded_template
loaded = test_cli.loaded


@pytest.fixture
def clerk(loaded: Cli) -> Cli:
    """The example plan, directory and calendar loaded (see tests/test_cli.py)."""
    return loaded


def _tasks(cli: Cli, number: str) -> list[dict[str, object]]:
    rows = cli.json("tasks")
    assert isinstance(rows, list)
    return [r for r in rows if r["measure_number"] == number]


def test_dates_schedules_and_people_set_by_hand_are_audited_and_kept(clerk: Cli) -> None:
    refused = clerk("task", "set", "1", "--due", "2026-12-15", "--as", "ivanova", ok=False)
    assert "не может исправлять планы" in refused.stderr
    done = clerk(
        "task", "set", "1", "--due", "2026-12-15", "--as", "sokolova", "--comment", "Письмо № 5"
    )
    assert "задача 1: start_date: 2026-10-01 → 2026-10-01; due_date: 2026-11-30 → 2026-12-15" in (
        done.stdout
    )
    # «По мере необходимости» for every school: the clerk gives it a date after all.
    clerk(
        "measure",
        "set",
        "--plan",
        "1",
        "--measure",
        "9",
        "--schedule",
        "до 20.12.2026",
        "--as",
        "sokolova",
    )
    assert {r["due_date"] for r in _tasks(clerk, "9")} == {"2026-12-20"}
    clerk(
        "measure",
        "set",
        "--plan",
        "1",
        "--measure",
        "2",
        "--responsible",
        "lebedev",
        "--co-responsible",
        "orlova",
        "--supervisor",
        "sokolova",
        "--as",
        "sokolova",
    )
    second = _tasks(clerk, "2")[0]
    assert (second["responsible"], second["supervisor"]) == ("lebedev", "sokolova")
    bad = clerk(
        "measure",
        "set",
        "--plan",
        "1",
        "--measure",
        "2",
        "--schedule",
        "когда-нибудь",
        "--as",
        "sokolova",
        ok=False,
    )
    assert "срок «когда-нибудь» не распознан" in bad.stderr
    # The same document again: what the clerk set stays.
    clerk("import", str(EXAMPLES / "plan.txt"))
    assert next(r for r in clerk.json("tasks") if r["id"] == 1)["due_date"] == "2026-12-15"  # type: ignore[union-attr,index]
    assert _tasks(clerk, "2")[0]["responsible"] == "lebedev"
    assert {r["due_date"] for r in _tasks(clerk, "9")} == {"2026-12-20"}
    # ... and its schedule is the clerk's: reviewed, stored and expanded from it, so the
    # document's «по мере необходимости» does not come back as a change to review.
    review = clerk.json("import", str(EXAMPLES / "plan.txt"), "--dry-run")
    assert isinstance(review, dict) and not review["diff"]
    ninth = next(m for m in review["measures"] if m["number"] == "9")
    assert ninth["deadline_override"] == "до 20.12.2026"
    assert ninth["schedule"]["kind"] == "once"
    assert [o["due"] for o in ninth["schedule"]["occurrences"]] == ["2026-12-20"]
    history = clerk.json("history", str(second["id"]))
    assert isinstance(history, list)
    assert history[-1]["event"] == "correct" and history[-1]["actor"] == "sokolova"
    assert history[-1]["changes"]["responsible"] == ["ivanova", "lebedev"]
    first = clerk.json("history", "1")
    assert isinstance(first, list) and first[0]["comment"] == "Письмо № 5"
    assert "Исправление" in clerk("history", "1").stdout
    assert "Журнал цел" in clerk("audit", "verify").stdout


def test_withdraw_only_untouched_plans_archive_the_rest(clerk: Cli, tmp_path: Path) -> None:
    draft = tmp_path / "draft.txt"
    draft.write_text(
        "**План работы школы на 2026-2027 учебный год**\n\n"
        "№ п/п\tМероприятие\tСроки\tОтветственные\n1\tСовещание\tДекабрь 2026\tРМК\n",
        encoding="utf-8",
    )
    clerk("import", str(draft))
    assert "план 2: plan:" in clerk("plan", "withdraw", "2", "--as", "sokolova").stdout
    assert [p["id"] for p in clerk.json("plan", "list")] == [1]  # type: ignore[union-attr,index]
    clerk("fire", "1", "start", "--as", "ivanova")
    refused = clerk("plan", "withdraw", "1", "--as", "sokolova", ok=False)
    assert "план 1 уже в работе" in refused.stderr and "measures plan archive 1" in refused.stderr
    clerk("plan", "archive", "1", "--as", "sokolova")
    plans = clerk.json("plan", "list")
    assert isinstance(plans, list) and plans[0]["archived"] and plans[0]["open_tasks"] == 0
    assert clerk.json("tasks", "--overdue") == []
    assert "Журнал цел" in clerk("audit", "verify").stdout


def test_lists_of_people_schools_plans_and_the_calendar(clerk: Cli) -> None:
    clerk.env["COLUMNS"] = "80"
    people = clerk("people", "list").stdout
    assert "Иванова Мария Петровна" in people and "orlova 21.12.2026–15.01.2027" in people
    assert "Сотрудников: 8." in people
    schools = clerk("schools", "list").stdout
    assert "МБОУ «СШ № 1»" in schools and "non_objective 2026" in schools
    events = clerk("events", "list").stdout
    assert "13.04.2027" in events and "Событий: 3." in events
    plans = clerk("plan", "list").stdout
    assert "№ 212 от 28.08.2026" in plans and "Планов: 1." in plans
    for text in (people, schools, events, plans):
        assert max(len(line) for line in text.splitlines()) <= 80
