"""Workflow definitions: the shipped one loads; broken ones are refused precisely."""

from __future__ import annotations

from pathlib import Path

import pytest
from transitions import MachineError

from engine.core.errors import TransitionRefused, WorkflowError
from engine.lifecycle.workflow import Guard, build_machine, load_workflow, mermaid
from tests.conftest import ROOT

SHIPPED = ROOT / "workflows" / "measure.toml"


def test_shipped_workflow() -> None:
    definition = load_workflow(SHIPPED)
    assert definition.states == ("planned", "in_progress", "reported", "verified", "cancelled")
    assert definition.initial == "planned"
    assert definition.allowed_from("reported") == ["verify", "return", "cancel"]
    assert definition.events["verify"].four_eyes
    assert definition.events["report"].requires == ("comment",)
    assert definition.owing == ("planned", "in_progress")
    assert definition.awaiting == ("reported",)
    assert definition.done == ("verified",)
    assert definition.meaning("cancelled") == "closed"
    assert definition.label("reported") == "Отчёт представлен"


def test_one_machine_moves_any_row_and_runs_the_guards_in_order() -> None:
    definition = load_workflow(SHIPPED)
    machine = build_machine(definition)

    class Row:
        state = "planned"

    first, second = Row(), Row()
    second.state = "in_progress"
    assert machine.events["start"].trigger(first)
    assert machine.events["report"].trigger(second)
    assert (first.state, second.state) == ("in_progress", "reported")

    # The checks are the Machine's own conditions, in the order the guards give them;
    # the first to refuse stops the transition and the row stays where it was.
    calls: list[str] = []

    def guard(name: str, ok: bool) -> Guard:
        def check(_data: object) -> bool:
            calls.append(name)
            if not ok:
                raise TransitionRefused(name)
            return True

        return check

    guarded = build_machine(
        definition, lambda event: [guard("role", True), guard("comment", event.name != "report")]
    )
    row = Row()
    row.state = "in_progress"
    with pytest.raises(TransitionRefused, match="comment"):
        guarded.events["report"].trigger(row)
    assert row.state == "in_progress" and calls == ["role", "comment"]
    calls.clear()
    with pytest.raises(MachineError):  # not from "planned": refused before any guard runs
        guarded.events["return"].trigger(Row())
    assert calls == []


def test_mermaid_diagram_has_every_transition() -> None:
    text = mermaid(load_workflow(SHIPPED))
    assert "stateDiagram-v2" in text
    for edge in (
        "planned --> in_progress: Приступить к исполнению",
        "reported --> in_progress: Вернуть на доработку",
        "verified --> in_progress: Возобновить",
        "reported --> verified: Подтвердить исполнение",
    ):
        assert edge in text


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "measure.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line(path: Path, fragment: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


@pytest.mark.parametrize(
    ("old", "new", "key", "needle", "expected"),
    [
        (
            'dest = "verified"',
            'dest = "approved"',
            "events.verify.dest",
            'dest = "approved"',
            "unknown state 'approved'",
        ),
        (
            'source = ["verified"]',
            'source = ["done"]',
            "events.reopen.source",
            'source = ["done"]',
            "unknown state 'done'",
        ),
        (
            'roles = ["admin"]\nrequires',
            "roles = []\nrequires",
            "events.reopen.roles",
            "roles = []",
            "the event has no roles",
        ),
        (
            'roles = ["admin"]\nrequires',
            'roles = ["janitor"]\nrequires',
            "events.reopen.roles",
            'roles = ["janitor"]',
            "unknown role 'janitor'",
        ),
        (
            "four_eyes = true\n\n[events.return]",
            "four_eye = true\n\n[events.return]",
            "events.verify",
            "[events.verify]",
            "unknown key 'four_eye'",
        ),
        (
            'requires = ["comment"]\n\n[events.verify]',
            'requires = ["photo"]\n\n[events.verify]',
            "events.report.requires",
            'requires = ["photo"]',
            "unknown requirement 'photo'",
        ),
        (
            'initial = "planned"',
            'initial = "draft"',
            "workflow.initial",
            'initial = "draft"',
            "unknown state 'draft'",
        ),
    ],
)
def test_broken_definition_names_file_line_and_key(
    tmp_path: Path, old: str, new: str, key: str, needle: str, expected: str
) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(WorkflowError) as caught:
        load_workflow(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{_line(path, needle)}: {key}"), message
    assert expected in message


def test_unreachable_state_is_refused(tmp_path: Path) -> None:
    path = _broken(
        tmp_path,
        "[events.start]",
        '[states.archived]\nlabel = "В архиве"\nmeaning = "closed"\n\n[events.start]',
    )
    with pytest.raises(WorkflowError) as caught:
        load_workflow(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{_line(path, '[states.archived]')}: states.archived")
    assert "state 'archived' cannot be reached from 'planned'" in message


def test_unknown_meaning_is_refused_with_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'meaning = "awaiting_decision"', 'meaning = "waiting"')
    with pytest.raises(WorkflowError) as caught:
        load_workflow(path)
    message = str(caught.value)
    line = _line(path, 'meaning = "waiting"')
    assert message.startswith(f"{path}:{line}: states.reported.meaning: expected"), message
    assert "expected one of owing, awaiting_decision, done, closed" in message


def test_old_format_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "measure.toml"
    path.write_text(
        '[workflow]\nname = "m"\ninitial = "a"\nstates = ["a"]\nowing = ["a"]\n\n'
        '[labels]\na = "A"\n',
        encoding="utf-8",
    )
    with pytest.raises(WorkflowError, match=r"old format; declare each state as \[states.NAME\]"):
        load_workflow(path)


def test_event_without_roles_key_is_refused(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'roles = ["admin"]\n', "")
    with pytest.raises(WorkflowError, match=r"events\.reopen\.roles: the event has no roles"):
        load_workflow(path)


def test_not_toml_is_refused_with_position(tmp_path: Path) -> None:
    path = _broken(tmp_path, "[events.start]", "[events.start")
    with pytest.raises(WorkflowError, match=r"measure.toml: ошибка синтаксиса TOML: .*line \d+"):
        load_workflow(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WorkflowError, match="файл не найден"):
        load_workflow(tmp_path / "measure.toml")
