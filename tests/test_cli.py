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
        self.env["COLUMNS"] = "250"  # rich wraps tables to the terminal width

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


def web_process(cli: Cli, port: int, *options: str) -> subprocess.Popen[str]:
    """`measures web --port PORT OPTIONS` as a real process, returned once it answers."""
    import time
    import urllib.request

    process = subprocess.Popen(
        [MEASURES, "web", "--port", str(port), *options],
        env=cli.env,
        cwd=cli.folder,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/signin", timeout=5) as r:
                assert r.status == 200 and "Прислать ссылку" in r.read().decode()
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.communicate()
                raise AssertionError(f"measures web did not answer: {output}") from None
            time.sleep(0.3)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path, f"sqlite:///{tmp_path / 'data' / 'measures.db'}")


@pytest.fixture(scope="module")
def loaded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database after init + the example directory and plan, made once per module."""
    folder = tmp_path_factory.mktemp("template")
    template = Cli(folder, f"sqlite:///{folder / 'data' / 'measures.db'}")
    template("init", "--simulation")
    template("people", "import", str(EXAMPLES / "people.csv"))
    template("schools", "import", str(EXAMPLES / "schools.csv"))
    template("events", "import", str(EXAMPLES / "events.csv"))
    template("import", str(EXAMPLES / "plan.txt"))
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
        ["results", "import"],
        ["risks", "import"],
        ["risks", "detect"],
        ["cases"],
        ["case"],
    ):
        result = cli(*command, "--help")
        assert "Usage:" in result.stdout and len(result.stdout.splitlines()) > 3


def test_commands_before_init_say_what_to_do(cli: Cli) -> None:
    result = cli("tasks", ok=False)
    assert "сначала выполните `measures init`" in result.stderr
    # Review finding: asking created an empty database (and its folder) first.
    for command in (["tasks"], ["status"], ["run"], ["audit", "verify"]):
        cli(*command, ok=False)
    assert not (cli.folder / "data").exists()


def test_init_imports_and_filters(loaded: Cli) -> None:
    again = loaded("import", str(EXAMPLES / "plan.txt"))
    assert "Этот документ уже загружен (план 1): изменений в документе нет." in again.stdout
    assert "задач создано" not in again.stdout  # said once, not «8 updated»
    people = loaded("people", "import", str(EXAMPLES / "people.csv")).stdout
    assert people.strip().endswith(": изменений нет.")
    rows = loaded.json("tasks")
    assert isinstance(rows, list) and len(rows) == 33
    assert {r["state"] for r in rows} == {"planned"}
    overdue = loaded.json("tasks", "--overdue")  # on 25.11.2026, by due date
    assert [r["measure_number"] for r in overdue] == ["4", "8", "8", "8", "7", "7", "7"]
    assert {r["due_date"] for r in overdue} == {"2026-09-30", "2026-10-01"}
    mine = loaded.json("tasks", "--person", "kuznetsov")
    assert sorted(r["measure_number"] for r in mine) == ["5", "5", "7", "8", "8", "8", "8", "9"]
    lebedev = loaded.json("tasks", "--person", "lebedev")
    assert sorted(r["measure_number"] for r in lebedev) == ["3", "4", "4", "4", "4"]
    assert {r["supervisor"] for r in rows} == {"petrova"}  # the plan's controller
    assert loaded.json("tasks", "--plan", "2") == []
    table = loaded("tasks").stdout
    assert "Запланировано" in table and "33 задачи, просрочено: 7." in table


def test_tasks_are_printed_page_by_page_in_due_order_and_limited(tmp_path: Path) -> None:
    """Issue 11: `measures tasks` streams: more tasks than a page (200) come out as one
    listing (one header, every task once, in due-date order); --limit stops early."""
    import re
    from datetime import date

    from engine.core.db import make_engine
    from tests.bulk import fill

    url = f"sqlite:///{tmp_path / 'data' / 'measures.db'}"
    engine = make_engine(url)
    fill(engine, tasks=450, first_due=date(2026, 10, 1), days=70)
    engine.dispose()
    cli = Cli(tmp_path, url)
    # task n (1…450) is due 1 October + (n − 1) mod 70 days; ties by number
    expected = sorted(range(1, 451), key=lambda n: ((n - 1) % 70, n))
    text = cli("tasks").stdout
    assert [int(n) for n in re.findall(r"^\s*(\d+)\s+1\. Мероприятие", text, re.M)] == expected
    assert text.count("Ответственный") == 1
    # overdue on 25.11: due 1.10–24.11, offsets 0–54; offsets 0–29 fall to 7 tasks, the
    # rest to 6: 30·7 + 25·6 = 360
    assert text.rstrip().endswith("450 задач, просрочено: 360.")
    listed = cli.json("tasks")
    assert [row["id"] for row in listed] == expected  # type: ignore[index]
    assert json.loads(cli("tasks", "--json", "--limit", "3").stdout) == listed[:3]  # type: ignore[index]
    first = cli("tasks", "--limit", "3").stdout
    assert [int(n) for n in re.findall(r"^\s*(\d+)\s+1\. Мероприятие", first, re.M)] == expected[:3]
    assert first.rstrip().endswith("3 задачи (первые по сроку: --limit), просрочено: 3.")
    assert "--limit" in cli("tasks", "--limit", "0", ok=False).stderr


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
    # Names in a case-free form (review finding: «за Иванова Мария Петровна»).
    assert "Выполнил(а): Орлова Е.Н.; замещает: Иванова М.П." in done.stdout
    assert loaded.json("tasks", "--state", "reported")[0]["id"] == 1  # type: ignore[index]
    loaded("fire", "1", "verify", "--as", "petrova")
    history = loaded.json("history", "1")
    assert [(h["event"], h["actor"], h["on_behalf_of"]) for h in history] == [  # type: ignore[union-attr]
        ("start", "ivanova", None),
        ("report", "orlova", "ivanova"),
        ("verify", "petrova", None),
    ]
    assert history[1]["evidence"] == ["docs/12.pdf"]  # type: ignore[index]
    assert history[1]["at"] == "2026-12-22T11:00:00+03:00"  # type: ignore[index]
    assert "Журнал цел: проверено 3 записи" in loaded("audit", "verify").stdout


def test_audit_verify_fails_on_tampering(loaded: Cli, tmp_path: Path) -> None:
    import sqlite3

    loaded("fire", "2", "start", "--as", "ivanova")
    loaded("fire", "2", "report", "--as", "ivanova", "--comment", "Готово")
    with sqlite3.connect(tmp_path / "data" / "measures.db") as connection:
        connection.execute("UPDATE auditevent SET comment = 'Иначе' WHERE seq = 2")
    result = loaded("audit", "verify", ok=False)
    assert result.returncode == 1 and "запись 2" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["fire", "99", "start", "--as", "ivanova"], "задача 99 не найдена"),
        (["fire", "1", "start", "--as", "nobody"], "сотрудник nobody не найден"),
        (["fire", "1", "report", "--as", "petrova", "--comment", "x"], "недоступно"),
        (["fire", "1", "start", "--as", "petrova"], "не может выполнить"),
        (["fire", "1", "start", "--as", "ivanova", "--version", "7"], "изменилась"),
        (["tasks", "--state", "done"], "нет состояния 'done'"),
        (["tasks", "--person", "nobody"], "сотрудник nobody не найден"),
        (["history", "42"], "задача 42 не найдена"),
        (["import", "missing.csv"], "missing.csv: file not found"),
        (["people", "import", "missing.csv"], "missing.csv: файл не найден"),
        (["--now", "завтра", "tasks"], "--now / MEASURES_NOW: ожидается дата или дата-время ISO"),
        (["--now", "0001-01-01", "tasks"], "вне 1900–2200 годов"),
        (["fire", "99999999999999999999", "start", "--as", "ivanova"], "Invalid value"),
        (["history", "0"], "Invalid value"),
        (["simulate", "--from", "2026-01-01", "--to", "9999-12-31"], "вне 1900–2200 годов"),
        (
            ["simulate", "--from", "2026-02-01", "--to", "2026-01-01"],
            "кончается (2026-01-01) раньше",
        ),
        (
            ["schedule", "explain", "Май", "--period", "2027-08-31:2026-09-01"],
            "раньше, чем начинается",
        ),
        (["people", "import", "."], "это папка, а нужен файл CSV"),
        (["backup", "/proc/nope/backup.db"], "не удаётся записать туда копию"),
        (["ladder", "set", "default", "--plan", "7"], "план 7 не найден"),
    ],
)
def test_user_mistakes_are_one_clear_line(loaded: Cli, args: list[str], expected: str) -> None:
    result = loaded(*args, ok=False)
    assert result.returncode == (2 if expected == "Invalid value" else 1)
    assert expected in result.stderr


def test_usage_error_exit_code(loaded: Cli) -> None:
    result = loaded("fire", "1", ok=False)
    assert result.returncode == 2 and "Missing argument" in result.stderr


def test_bad_config_is_reported_not_raised(cli: Cli) -> None:
    Path(cli.env["MEASURES_CONFIG"]).write_text("[web]\nprot = 1\n", encoding="utf-8")
    result = cli("tasks", ok=False)
    assert "config.toml:2: web.prot: неизвестный ключ" in result.stderr


def test_broken_workflow_stops_commands(cli: Cli) -> None:
    folder = cli.folder / "flows"
    folder.mkdir()
    (folder / "measure.toml").write_text("[workflow]\nname = 1\n", encoding="utf-8")
    config = Path(cli.env["MEASURES_CONFIG"])
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[workflows]\ndir = "flows"\n', encoding="utf-8"
    )
    cli("init", "--simulation")
    result = cli("workflow", "show", ok=False)
    assert "measure.toml" in result.stderr and "missing key" in result.stderr


def test_workflow_show(cli: Cli) -> None:
    diagram = cli("workflow", "show").stdout
    assert "stateDiagram-v2" in diagram and "reported --> verified: Подтвердить" in diagram
    rules = cli("workflow", "show", "--rules").stdout
    assert "verify" in rules and "администратор" in rules


def test_unreadable_plans_import_nothing(loaded: Cli, tmp_path: Path) -> None:
    prose = tmp_path / "prose.txt"
    prose.write_text("Просто текст без таблицы\n", encoding="utf-8")
    result = loaded("import", str(prose), ok=False)
    assert "prose.txt: no plan table found" in result.stderr
    broken = tmp_path / "plan.pdf"
    broken.write_bytes(b"%PDF-1.4")
    result = loaded("import", str(broken), ok=False)
    assert "plan.pdf: damaged or not a PDF document" in result.stderr
    other = tmp_path / "plan.odp"
    other.write_bytes(b"PK")
    result = loaded("import", str(other), ok=False)
    expected = "unsupported file type '.odp'; expected one of .csv, .docx, .odt, .pdf, .txt, .xlsx"
    assert expected in result.stderr
    assert len(loaded.json("tasks")) == 33  # type: ignore[arg-type]


def test_dry_run_review_and_json(cli: Cli, tmp_path: Path) -> None:
    cli("init", "--simulation")
    cli("people", "import", str(EXAMPLES / "people.csv"))
    review = cli("import", str(EXAMPLES / "plan.txt"), "--dry-run").stdout
    assert "Мероприятий: 9" in review and "в базу ничего не записано" in review
    assert "Ежеквартально" in review and "Иванова Мария Петровна" in review
    data = cli.json("import", str(EXAMPLES / "plan.txt"), "--dry-run")
    assert isinstance(data, dict)
    assert data["plan"]["order_number"] == "212" and data["plan"]["order_date"] == "2026-08-28"
    assert [m["number"] for m in data["measures"]] == [str(n) for n in range(1, 10)]
    first = data["measures"][0]
    assert set(first) >= {
        "number",
        "title",
        "deadline_phrase",
        "schedule",
        "responsible",
        "problems",
    }
    assert first["schedule"]["kind"] == "window"
    # No schools in the directory yet: the fan-out measures say so.
    assert any("нет школ" in p for p in data["problems"])
    assert cli.json("tasks") == []


def test_schedule_explain(cli: Cli) -> None:
    data = cli.json(
        "schedule", "explain", "Октябрь-ноябрь 2021", "--period", "2021-09-01:2022-08-31"
    )
    assert data == {
        "kind": "window",
        "cadence": None,
        "event": None,
        "occurrences": [{"start": "2021-10-01", "due": "2021-11-30"}],
        "problems": [],
        "notes": [],
    }
    text = cli("schedule", "explain", "Ежеквартально", "--period", "2022-09-01:2023-08-31")
    assert "ежеквартально" in text.stdout
    # Review finding: a calendar-day offset was shown as «+0 рабочих дней».
    before = cli(
        "schedule", "explain", "за 2 дня до проведения ВПР", "--period", "2026-09-01:2027-08-31"
    )
    assert "Привязка к процедурам (ВПР): за 2 календарных дня до процедуры" in before.stdout
    assert "+0" not in before.stdout
    after = cli(
        "schedule",
        "explain",
        "в течение 3 рабочих дней после проведения ВПР",
        "--period",
        "2026-09-01:2027-08-31",
    )
    assert "через 3 рабочих дня после процедуры" in after.stdout
    bad = cli("schedule", "explain", "x", "--period", "2022-09-01", ok=False)
    assert "--period: ожидается ГГГГ-ММ-ДД:ГГГГ-ММ-ДД" in bad.stderr


def test_simulate_sweep_and_status(loaded: Cli) -> None:
    timeline = loaded.json("simulate", "--from", "2026-11-25", "--to", "2026-12-15")
    assert isinstance(timeline, list) and timeline
    first = timeline[0]
    assert set(first) >= {"date", "task", "step", "recipients", "send_at"}
    overdue_1 = [e for e in timeline if e["task"] == 1 and e["step"] == "overdue"]
    assert overdue_1 == [dict(overdue_1[0], date="2026-12-01", recipients=["ivanova"])]
    swept = loaded("sweep", "--send").stdout
    assert "писем в очереди" in swept and "Отправлено:" in swept
    status = loaded.json("status")
    assert isinstance(status, dict)
    assert status["jobs"]["sweep"]["steps"] > 0
    sent = status["outbox"]["sent"]
    mails = list((loaded.folder / "data" / "mail").glob("*.eml"))
    assert sent == len(mails) > 0
    again = loaded("sweep").stdout
    assert "Шагов выполнено: 0" in again
    bad = loaded("simulate", "--from", "вчера", "--to", "2026-12-01", ok=False)
    assert "--from/--to: ожидается дата ГГГГ-ММ-ДД, а не 'вчера'" in bad.stderr


def test_status_says_when_mail_queued_after_hours_will_go(loaded: Cli) -> None:
    # Wednesday 25.11.2026 at 19:30, after the working day (09:00–18:00): the letters the
    # sweep queues wait for Thursday 26.11 at 09:00, and status says so
    loaded.env["MEASURES_NOW"] = "2026-11-25T19:30"
    loaded("sweep")
    shown = loaded("status").stdout
    assert "ждут отправки" in shown
    assert "Ближайшая отправка: 26.11.2026 09:00" in shown
    status = loaded.json("status")
    assert isinstance(status, dict) and status["next_send"].startswith("2026-11-26T09:00:00")


def test_ladder_show_and_set(loaded: Cli) -> None:
    shown = loaded("ladder", "show").stdout
    assert "escalate_head" in shown and "continuous" in shown
    assert (
        "план 1: лестница continuous" in loaded("ladder", "set", "continuous", "--plan", "1").stdout
    )
    assert (
        "мероприятие 8 плана 1"
        in loaded("ladder", "set", "default", "--plan", "1", "--measure", "8").stdout
    )
    bad = loaded("ladder", "set", "gentle", "--plan", "1", ok=False)
    assert "нет лестницы 'gentle'; есть: default, continuous" in bad.stderr
    missing = loaded("ladder", "set", "default", "--plan", "1", "--measure", "99", ok=False)
    assert "мероприятие 99 в плане 1 не найдено" in missing.stderr


def test_ladder_set_refuses_an_ambiguous_measure_number(loaded: Cli, tmp_path: Path) -> None:
    # Review finding: --measure 1 changed every measure numbered 1 in the plan.
    plan = tmp_path / "tasks.txt"
    plan.write_text(
        "**План работы школы на 2026-2027 учебный год**\n\n"
        "№ п/п\tМероприятие\tСроки\tОтветственные\n"
        "<b>Задача 1. Подготовка</b>\t\t\t\n"
        "1\tСовещание\tСентябрь 2026\tРМК\n"
        "<b>Задача 2. Анализ</b>\t\t\t\n"
        "1\tАнализ ВПР\tМай 2027\tРМК\n",
        encoding="utf-8",
    )
    loaded("import", str(plan))
    result = loaded("ladder", "set", "default", "--plan", "2", "--measure", "1", ok=False)
    assert "в плане 2 2 мероприятия с номером 1" in result.stderr


def test_a_moved_clock_changes_only_a_simulation_database(cli: Cli) -> None:
    # Review finding: `fire --now` wrote any moment into the audit log of a working
    # database, around deputy windows.
    cli("init")  # a working database
    refused = cli("people", "import", str(EXAMPLES / "people.csv"), ok=False)
    assert "--now / MEASURES_NOW: часы переведены на 25.11.2026 10:00" in refused.stderr
    assert "measures init --simulation" in refused.stderr
    real = dict(cli.env)
    del real["MEASURES_NOW"]
    cli.env, moved = real, cli.env
    cli("people", "import", str(EXAMPLES / "people.csv"))
    cli("import", str(EXAMPLES / "plan.txt"))
    cli.env = moved
    assert cli.json("tasks")  # reading at another moment is fine
    assert "часы переведены" in cli("fire", "1", "start", "--as", "ivanova", ok=False).stderr
    assert "часы переведены" in cli("sweep", ok=False).stderr
    cli.env = real
    assert "часы переведены" in cli("run", "--now", "2027-03-01T10:00", ok=False).stderr
    cli("fire", "1", "start", "--as", "ivanova")  # the real clock: allowed
    assert [h["event"] for h in cli.json("history", "1")] == ["start"]  # type: ignore[union-attr]


def test_people_draft_from_a_plan_fills_an_empty_directory(cli: Cli, tmp_path: Path) -> None:
    # Issue 7: a committee without a directory gets one from its plan's responsible cells.
    import csv

    cli("init", "--simulation")  # MEASURES_NOW: a moved clock writes only to a simulation
    plan = Path(__file__).resolve().parent / "fixtures" / "order_unusual_forms.txt"
    draft = tmp_path / "people_draft.csv"
    shown = cli("import", str(plan), "--dry-run", "--people-draft", str(draft)).stdout
    assert f"Черновик справочника: 5 строк в {draft}" in " ".join(shown.split())
    with draft.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(r["key"], r["name"], r["position"], r["organisation"]) for r in rows] == [
        ("a-b-smirnova", "А.Б.Смирнова", "Начальник отдела образования", ""),
        ("v-g-orlov", "В.Г.Орлов", "", ""),
        ("petrov-b-b", "Петров Б.Б.", "", ""),
        ("raionnoe-metodicheskoe-obedinenie", "", "", "Районное методическое объединение"),
        ("sidorova-v-v", "Сидорова В.В.", "", ""),
    ]
    assert rows[1]["aliases"] == "В.Г.Орлов; Орлов В.Г."  # one person, both spellings
    assert all(r["email"] == "" for r in rows)
    again = cli("import", str(plan), "--dry-run", "--people-draft", str(draft), ok=False)
    assert "уже существует" in again.stderr  # a filled-in draft is never overwritten
    # the committee fills in what is missing, imports it, and the plan resolves
    rows[3]["name"] = "Кузьмина Ольга Петровна"
    for row in rows:
        row["email"] = f"{row['key']}@example.org"
    with draft.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    cli("people", "import", str(draft))
    data = cli.json("import", str(plan), "--dry-run")
    assert isinstance(data, dict)
    assert not [p for p in data["problems"] if "не найден" in p]
    assert data["plan"]["controller_person"] == "А.Б.Смирнова"


def test_explain_says_how_a_misspelt_word_was_read(cli: Cli) -> None:
    # (calendar-day offsets in explain: test_schedule_explain above)
    misspelt = cli("schedule", "explain", "Ежекваратльно", "--period", "2026-09-01:2027-08-31")
    assert "«Ежекваратльно» прочитано как «ежеквартально»" in misspelt.stdout
