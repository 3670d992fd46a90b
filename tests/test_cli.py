"""The `measures` command end to end, as a person runs it: a real process, a real file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, write_config

MEASURES = str(Path(sys.executable).parent / "measures")


class Cli:
    def __init__(self, folder: Path, url: str) -> None:
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MEASURES_")}
        self.env["MEASURES_CONFIG"] = str(write_config(folder, url))
        self.env["MEASURES_NOW"] = "2026-11-25T10:00"

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [MEASURES, *args],
            env=self.env,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in result.stderr, result.stderr
        if ok:
            assert result.returncode == 0, result.stderr
        else:
            assert result.returncode != 0, result.stdout
        return result

    def json(self, *args: str) -> object:
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path, f"sqlite:///{tmp_path / 'data' / 'measures.db'}")


@pytest.fixture(scope="module")
def loaded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database after init + the example directory and plan, made once per module."""
    folder = tmp_path_factory.mktemp("template")
    template = Cli(folder, f"sqlite:///{folder / 'data' / 'measures.db'}")
    template("init")
    template("people", "import", str(EXAMPLES / "people.csv"))
    template("import", str(EXAMPLES / "plan.csv"))
    return folder / "data" / "measures.db"


@pytest.fixture
def loaded(cli: Cli, loaded_template: Path) -> Cli:
    import sqlite3

    target = cli.folder / "data" / "measures.db"
    target.parent.mkdir()
    with sqlite3.connect(loaded_template) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return cli


def test_every_command_has_help(cli: Cli) -> None:
    for command in (
        ["init"],
        ["import"],
        ["people", "import"],
        ["tasks"],
        ["fire"],
        ["history"],
        ["workflow", "show"],
        ["audit", "verify"],
        ["run"],
        ["config", "template"],
        ["config", "check"],
    ):
        result = cli(*command, "--help")
        assert "Usage:" in result.stdout and len(result.stdout.splitlines()) > 3


def test_commands_before_init_say_what_to_do(cli: Cli) -> None:
    result = cli("tasks", ok=False)
    assert "run `measures init` first" in result.stderr


def test_init_imports_and_filters(loaded: Cli) -> None:
    again = loaded("import", str(EXAMPLES / "plan.csv"))
    assert "already imported as plan 1" in again.stdout
    rows = loaded.json("tasks")
    assert isinstance(rows, list) and len(rows) == 6
    assert {r["state"] for r in rows} == {"planned"}
    overdue = loaded.json("tasks", "--overdue")
    assert [r["measure_number"] for r in overdue] == ["5", "1"]  # by due date
    mine = loaded.json("tasks", "--person", "kuznetsov")
    assert [r["measure_number"] for r in mine] == ["5", "6"]
    supervised = loaded.json("tasks", "--person", "lebedev")
    assert sorted(r["measure_number"] for r in supervised) == ["3", "4"]
    assert loaded.json("tasks", "--plan", "2") == []
    table = loaded("tasks").stdout
    assert "Запланировано" in table and "6 task(s)." in table


def test_fire_history_and_audit(loaded: Cli) -> None:
    loaded("fire", "1", "start", "--as", "ivanova")
    refused = loaded("fire", "1", "verify", "--as", "petrova", ok=False)
    assert "недоступно" in refused.stderr and "Доступные действия: report, cancel" in refused.stderr
    env_day = dict(loaded.env, MEASURES_NOW="2026-12-22T11:00")
    loaded.env, saved = env_day, loaded.env
    done = loaded(
        "fire",
        "1",
        "report",
        "--as",
        "orlova",
        "--comment",
        "Перечень составлен",
        "--evidence",
        "docs/12.pdf",
    )
    loaded.env = saved
    assert "за Иванова Мария Петровна" in done.stdout
    assert loaded.json("tasks", "--state", "reported")[0]["id"] == 1  # type: ignore[index]
    loaded("fire", "1", "verify", "--as", "petrova")
    history = loaded.json("history", "1")
    assert [(h["event"], h["actor"], h["on_behalf_of"]) for h in history] == [  # type: ignore[union-attr]
        ("start", "ivanova", None),
        ("report", "orlova", "ivanova"),
        ("verify", "petrova", None),
    ]
    assert history[1]["evidence"] == ["docs/12.pdf"]  # type: ignore[index]
    assert history[1]["at"].startswith("2026-12-22T08:00")  # type: ignore[index]
    assert "Audit log intact: 3 row(s)" in loaded("audit", "verify").stdout


def test_audit_verify_fails_on_tampering(loaded: Cli, tmp_path: Path) -> None:
    import sqlite3

    loaded("fire", "2", "start", "--as", "ivanova")
    loaded("fire", "2", "report", "--as", "ivanova", "--comment", "Готово")
    with sqlite3.connect(tmp_path / "data" / "measures.db") as connection:
        connection.execute("UPDATE auditevent SET comment = 'Иначе' WHERE seq = 2")
    result = loaded("audit", "verify", ok=False)
    assert result.returncode == 1 and "seq 2" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["fire", "99", "start", "--as", "ivanova"], "task 99 not found"),
        (["fire", "1", "start", "--as", "nobody"], "person nobody not found"),
        (["fire", "1", "report", "--as", "petrova", "--comment", "x"], "недоступно"),
        (["fire", "1", "start", "--as", "petrova"], "не может выполнить"),
        (["fire", "1", "start", "--as", "ivanova", "--version", "7"], "изменилась"),
        (["tasks", "--state", "done"], "unknown state 'done'"),
        (["tasks", "--person", "nobody"], "person nobody not found"),
        (["history", "42"], "task 42 not found"),
        (["import", "missing.csv"], "missing.csv: file not found"),
        (["people", "import", "missing.csv"], "missing.csv: file not found"),
        (["--now", "завтра", "tasks"], "--now / MEASURES_NOW: expected an ISO date"),
    ],
)
def test_user_mistakes_are_one_clear_line(loaded: Cli, args: list[str], expected: str) -> None:
    result = loaded(*args, ok=False)
    assert result.returncode == 1
    assert expected in result.stderr


def test_usage_error_exit_code(loaded: Cli) -> None:
    result = loaded("fire", "1", ok=False)
    assert result.returncode == 2 and "Missing argument" in result.stderr


def test_bad_config_is_reported_not_raised(cli: Cli) -> None:
    Path(cli.env["MEASURES_CONFIG"]).write_text("[web]\nprot = 1\n", encoding="utf-8")
    result = cli("tasks", ok=False)
    assert "config.toml:2: web.prot: unknown key" in result.stderr


def test_broken_workflow_stops_commands(cli: Cli) -> None:
    folder = cli.folder / "flows"
    folder.mkdir()
    (folder / "measure.toml").write_text("[workflow]\nname = 1\n", encoding="utf-8")
    config = Path(cli.env["MEASURES_CONFIG"])
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[workflows]\ndir = "flows"\n', encoding="utf-8"
    )
    cli("init")
    result = cli("workflow", "show", ok=False)
    assert "measure.toml" in result.stderr and "missing key" in result.stderr


def test_workflow_show(cli: Cli) -> None:
    diagram = cli("workflow", "show").stdout
    assert "stateDiagram-v2" in diagram and "reported --> verified: verify" in diagram
    rules = cli("workflow", "show", "--rules").stdout
    assert "verify" in rules and "admin" in rules


def test_plan_csv_errors_import_nothing(loaded: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "# title = План\n# order = сто от вчера\n"
        "section,number,title,deadline,responsible,supervisor,expected_result\n"
        "Раздел,1,Мероприятие,30.12.2026,ivanova,,\n"
        "Раздел,2,Мероприятие,2026-12-30,Неизвестный Н. Н.,,\n",
        encoding="utf-8",
    )
    result = loaded("import", str(bad), ok=False)
    assert "bad.csv:2: order: expected 'NUMBER от YYYY-MM-DD'" in result.stderr
    assert "bad.csv:4: deadline: expected YYYY-MM-DD, got '30.12.2026'" in result.stderr
    assert "bad.csv:5: responsible: no person 'Неизвестный Н. Н.'" in result.stderr
    assert len(loaded.json("tasks")) == 6  # type: ignore[arg-type]


def test_responsible_resolved_by_alias_and_name(loaded: Cli, tmp_path: Path) -> None:
    plan = tmp_path / "alias.csv"
    plan.write_text(
        "# title = Второй план\n# period = 2026-09-01..2027-08-31\n"
        "section,number,title,deadline,responsible,supervisor,expected_result\n"
        ",1,Мероприятие,2027-03-01,РМК,Петрова Анна Сергеевна,\n",
        encoding="utf-8",
    )
    loaded("import", str(plan))
    (row,) = loaded.json("tasks", "--plan", "2")  # type: ignore[misc]
    assert (row["responsible"], row["supervisor"]) == ("ivanova", "petrova")
