"""Escalation ladders (``workflows/escalation.toml``) → validated step definitions.

Like the lifecycle, the ladders are data the committee edits; this module refuses a
broken file at start, naming the file, line and key, and checks every reference against
the things it names: states of the task workflow, recipient roles, message templates.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from engine.core import tomlfile
from engine.core.errors import WorkflowError
from engine.lifecycle.workflow import WorkflowDef
from engine.plans.schedule import Kind

Anchor = Literal["due", "start", "state"]
Unit = Literal["working_days", "hours"]
RECIPIENTS = ("responsible", "deputy", "supervisor", "controller", "head")
KINDS = get_args(Kind)
_STEP_KEYS = {
    "name",
    "anchor",
    "offset",
    "unit",
    "states",
    "recipients",
    "template",
    "repeat",
    "calendar",
}


@dataclass(frozen=True)
class Step:
    name: str
    anchor: Anchor
    offset: int
    unit: Unit
    states: tuple[str, ...]
    recipients: tuple[str, ...]
    template: str
    repeat: int  # 0: once; else the interval in ``unit`` while the task stays put
    calendar: bool = False  # attach the deadline as an .ics event


@dataclass(frozen=True)
class Ladder:
    name: str
    label: str
    steps: tuple[Step, ...]
    kinds: tuple[str, ...] = ()  # deadline kinds (engine.plans.schedule) this ladder serves


def _at(path: Path, text: str, table: str, key: str | None = None) -> str:
    return tomlfile.where(path, text, table, key)


def _step(
    path: Path,
    text: str,
    ladder: str,
    index: int,
    raw: Any,
    workflow: WorkflowDef,
    templates: Set[str],
) -> Step:
    table = f"ladders.{ladder}.steps"
    where = tomlfile.where_item(path, text, table, index)
    if not isinstance(raw, dict):
        raise WorkflowError(f"{where}: expected a [[{table}]] table")
    extra = sorted(set(raw) - _STEP_KEYS)
    if extra:
        raise WorkflowError(
            f"{where}: unknown key {extra[0]!r}; expected {', '.join(sorted(_STEP_KEYS))}"
        )
    for key in ("name", "anchor", "offset", "states", "recipients", "template"):
        if key not in raw:
            raise WorkflowError(f"{where}: missing key {key!r}")
    name = raw["name"]
    where = f"{where} ({name})"
    if raw["anchor"] not in ("due", "start", "state"):
        raise WorkflowError(f"{where}: anchor: expected due, start or state, got {raw['anchor']!r}")
    unit = raw.get("unit", "working_days")
    if unit not in ("working_days", "hours"):
        raise WorkflowError(f"{where}: unit: expected working_days or hours, got {unit!r}")
    for key in ("offset", "repeat"):
        value = raw.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int):
            raise WorkflowError(f"{where}: {key}: expected a whole number, got {value!r}")
    if not isinstance(raw.get("calendar", False), bool):
        raise WorkflowError(f"{where}: calendar: expected true or false")
    if raw.get("repeat", 0) < 0:
        raise WorkflowError(f"{where}: repeat: expected 0 or more")
    states = raw["states"]
    if not isinstance(states, list) or not states:
        raise WorkflowError(f"{where}: states: expected a non-empty list of states")
    for state in states:
        if state not in workflow.states:
            raise WorkflowError(
                f"{where}: states: unknown state {state!r}; states are {', '.join(workflow.states)}"
            )
    recipients = raw["recipients"]
    if not isinstance(recipients, list) or not recipients:
        raise WorkflowError(f"{where}: recipients: expected a non-empty list")
    for recipient in recipients:
        if recipient not in RECIPIENTS:
            raise WorkflowError(
                f"{where}: recipients: unknown recipient {recipient!r}; expected "
                f"{', '.join(RECIPIENTS)}"
            )
    if raw["template"] not in templates:
        raise WorkflowError(
            f"{where}: template: no message template {raw['template']!r}; templates are "
            f"{', '.join(sorted(templates))}"
        )
    return Step(
        name=str(name),
        anchor=raw["anchor"],
        offset=raw["offset"],
        unit=unit,
        states=tuple(states),
        recipients=tuple(recipients),
        template=raw["template"],
        repeat=raw.get("repeat", 0),
        calendar=raw.get("calendar", False),
    )


def load_ladders(path: Path, workflow: WorkflowDef, templates: Set[str]) -> dict[str, Ladder]:
    """All ladders of the file; ``default`` must exist (plans without a choice use it)."""
    data, text = tomlfile.load(path, WorkflowError)
    extra = sorted(set(data) - {"ladders"})
    if extra:
        raise WorkflowError(f"{_at(path, text, '')}: unknown key {extra[0]!r}; expected ladders")
    raw_ladders = data.get("ladders")
    if not isinstance(raw_ladders, dict) or "default" not in raw_ladders:
        raise WorkflowError(f"{path}: a [ladders.default] ladder is required")
    ladders: dict[str, Ladder] = {}
    for name, spec in raw_ladders.items():
        table = f"ladders.{name}"
        if not isinstance(spec, dict) or set(spec) - {"label", "kinds", "steps"}:
            raise WorkflowError(
                f"{_at(path, text, table)}: expected only label, kinds and [[steps]]"
            )
        kinds = spec.get("kinds", [])
        if not isinstance(kinds, list) or any(k not in KINDS for k in kinds):
            raise WorkflowError(
                f"{_at(path, text, table, 'kinds')}: expected a list of deadline kinds "
                f"({', '.join(KINDS)}), got {kinds!r}"
            )
        steps = spec.get("steps", [])
        if not isinstance(steps, list) or not steps:
            raise WorkflowError(f"{_at(path, text, table)}: the ladder has no steps")
        parsed = tuple(
            _step(path, text, name, i, raw, workflow, templates) for i, raw in enumerate(steps)
        )
        names = [s.name for s in parsed]
        if len(set(names)) != len(names):
            raise WorkflowError(f"{_at(path, text, table)}: two steps have the same name")
        ladders[name] = Ladder(name, str(spec.get("label", name)), parsed, tuple(kinds))
    return ladders
