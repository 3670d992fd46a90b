"""Workflow definitions (``workflows/*.toml``) → validated data → one shared Machine.

The file is the rule book: states, events, who may fire them, what they require. This
module only checks it and builds a single ``transitions`` Machine with ``model=None``
(STACK-NOTES: a Machine per SQLModel row is slow and pydantic refuses the attributes
transitions would add). Rows are moved with ``machine.events[name].trigger(row)``.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from transitions import EventData, Machine

from engine.core import tomlfile
from engine.core.errors import WorkflowError

#: Roles a definition may name; engine.lifecycle.fire decides who holds each for a row.
#: "system" is held only by the engine's own actor (automatic moves).
ROLES = ("responsible", "supervisor", "head", "admin", "system")
#: What an event may require of the person firing it.
REQUIREMENTS = ("comment",)
#: What a state may mean to the engine (see workflows/measure.toml). The sweep, digests,
#: lists and reports ask for meanings, so a second workflow needs no Python.
Meaning = Literal["owing", "awaiting_decision", "done", "closed"]
MEANINGS: tuple[Meaning, ...] = get_args(Meaning)
#: Facts the engine watches for, which an event may name in ``when``: when the fact
#: holds for a row in one of the event's source states, the system fires the event
#: (engine.cases.progress). The facts are about school cases (workflows/school_case.toml):
#:   help_started         a task of the case's help programme has left its initial state
#:   help_finished        every help task is done or closed (at least one done), or the
#:                        programme's period has ended and the next round's data arrived
#:   shift_found          the latest evaluation found a positive shift
#:   no_shift_found       the latest evaluation found no positive shift
#:   administrative_approved  an administrative measure for the case was approved
#:   override_approved    … one opened by an admin's override of the gate was approved
Fact = Literal[
    "help_started",
    "help_finished",
    "shift_found",
    "no_shift_found",
    "administrative_approved",
    "override_approved",
]
FACTS: tuple[Fact, ...] = get_args(Fact)

_TOP_KEYS = {"workflow", "states", "events"}
_WORKFLOW_KEYS = {"name", "initial"}
_STATE_KEYS = {"label", "meaning"}
_EVENT_KEYS = {"label", "source", "dest", "roles", "requires", "four_eyes", "when"}


@dataclass(frozen=True)
class EventDef:
    name: str
    label: str
    source: tuple[str, ...]
    dest: str
    roles: tuple[str, ...]
    requires: tuple[str, ...]
    four_eyes: bool
    when: Fact | None = None  # fired by the system when this fact holds


@dataclass(frozen=True)
class StateDef:
    name: str
    label: str
    meaning: Meaning


@dataclass(frozen=True)
class WorkflowDef:
    name: str
    path: Path
    initial: str
    state_defs: dict[str, StateDef]
    events: dict[str, EventDef]

    @property
    def states(self) -> tuple[str, ...]:
        return tuple(self.state_defs)

    def meaning(self, state: str) -> Meaning:
        return self.state_defs[state].meaning

    def with_meaning(self, *meanings: Meaning) -> tuple[str, ...]:
        """The states that mean any of ``meanings``, in file order."""
        return tuple(s.name for s in self.state_defs.values() if s.meaning in meanings)

    @property
    def owing(self) -> tuple[str, ...]:
        """States in which the responsible still owes work (overdue past the due date)."""
        return self.with_meaning("owing")

    @property
    def awaiting(self) -> tuple[str, ...]:
        """States waiting for somebody's decision (a report to verify)."""
        return self.with_meaning("awaiting_decision")

    @property
    def done(self) -> tuple[str, ...]:
        """States of work finished and accepted."""
        return self.with_meaning("done")

    @property
    def open(self) -> tuple[str, ...]:
        """States in which something is still expected of somebody."""
        return self.with_meaning("owing", "awaiting_decision")

    def automatic(self, state: str) -> list[EventDef]:
        """Events the system fires from ``state`` when their fact holds, in file order."""
        return [e for e in self.events.values() if e.when and state in e.source]

    @property
    def watched(self) -> tuple[str, ...]:
        """States from which some event is fired automatically (the periodic check)."""
        return tuple(s for s in self.states if self.automatic(s))

    def allowed_from(self, state: str) -> list[str]:
        """Events whose source includes ``state``, in file order."""
        return [e.name for e in self.events.values() if state in e.source]

    def label(self, state: str) -> str:
        found = self.state_defs.get(state)
        return found.label if found else state


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        # an empty list passes: whether it may be empty is the caller's rule
        raise WorkflowError(f"{where}: expected a list of names, got {value!r}")
    return tuple(value)


def _unknown_keys(keys: set[str], allowed: set[str], where: str) -> None:
    extra = sorted(keys - allowed)
    if extra:
        raise WorkflowError(
            f"{where}: unknown key {extra[0]!r}; expected one of {', '.join(sorted(allowed))}"
        )


def _state_defs(data: dict[str, Any], path: Path, at: Any) -> dict[str, StateDef]:
    raw = data.get("states")
    if not isinstance(raw, dict) or not raw:
        raise WorkflowError(
            f"{path}: no [states.*] tables: declare every state with its label and meaning "
            f"({', '.join(MEANINGS)})"
        )
    found: dict[str, StateDef] = {}
    for name, spec in raw.items():
        table = f"states.{name}"
        if not isinstance(spec, dict):
            raise WorkflowError(f"{at(table)}: expected a table with label and meaning")
        _unknown_keys(set(spec), _STATE_KEYS, at(table))
        meaning = spec.get("meaning")
        if meaning not in MEANINGS:
            where = at(table, "meaning") if "meaning" in spec else f"{at(table)}: meaning"
            raise WorkflowError(f"{where}: expected one of {', '.join(MEANINGS)}, got {meaning!r}")
        label = spec.get("label", name)
        if not isinstance(label, str) or not label.strip():
            raise WorkflowError(f"{at(table, 'label')}: expected a text")
        found[name] = StateDef(name, label, meaning)
    return found


def load_workflow(path: Path) -> WorkflowDef:
    """Parse and validate one definition; every refusal names file, line and key."""
    data, text = tomlfile.load(path, WorkflowError)

    def at(table: str, key: str | None = None) -> str:
        return tomlfile.where(path, text, table, key)

    if "labels" in data or "owing" in data.get("workflow", {}):
        raise WorkflowError(
            f"{at('labels' if 'labels' in data else 'workflow')}: this is the old format; "
            "declare each state as [states.NAME] with label and meaning (see the shipped "
            "workflows/measure.toml)"
        )
    _unknown_keys(set(data), _TOP_KEYS, at(""))
    head = data.get("workflow")
    if not isinstance(head, dict):
        raise WorkflowError(f"{path}: missing table [workflow] with name and initial")
    _unknown_keys(set(head), _WORKFLOW_KEYS, at("workflow"))
    for key in sorted(_WORKFLOW_KEYS - set(head)):
        raise WorkflowError(f"{at('workflow')}: missing key {key!r}")
    state_defs = _state_defs(data, path, at)
    states = tuple(state_defs)
    initial = head["initial"]
    if initial not in states:
        raise WorkflowError(
            f"{at('workflow', 'initial')}: unknown state {initial!r}; "
            f"states are {', '.join(states)}"
        )
    raw_events = data.get("events")
    if not isinstance(raw_events, dict) or not raw_events:
        raise WorkflowError(f"{path}: no [events.*] tables: a workflow needs events")
    events: dict[str, EventDef] = {}
    for name, spec in raw_events.items():
        table = f"events.{name}"
        if not isinstance(spec, dict):
            raise WorkflowError(f"{at(table)}: expected a table")
        _unknown_keys(set(spec), _EVENT_KEYS, at(table))
        source = _str_list(spec.get("source"), at(table, "source"))
        for key, named in [*(("source", s) for s in source), ("dest", spec.get("dest"))]:
            if named not in states:
                raise WorkflowError(
                    f"{at(table, key)}: unknown state {named!r}; states are {', '.join(states)}"
                )
        if "roles" not in spec or not spec["roles"]:
            raise WorkflowError(
                f"{at(table, 'roles')}: the event has no roles; name who may fire it "
                f"({', '.join(ROLES)})"
            )
        roles = _str_list(spec["roles"], at(table, "roles"))
        for role in roles:
            if role not in ROLES:
                raise WorkflowError(
                    f"{at(table, 'roles')}: unknown role {role!r}; roles are {', '.join(ROLES)}"
                )
        requires = _str_list(spec.get("requires", []), at(table, "requires"))
        for requirement in requires:
            if requirement not in REQUIREMENTS:
                raise WorkflowError(
                    f"{at(table, 'requires')}: unknown requirement {requirement!r}; "
                    f"expected {', '.join(REQUIREMENTS)}"
                )
        four_eyes = spec.get("four_eyes", False)
        if not isinstance(four_eyes, bool):
            raise WorkflowError(f"{at(table, 'four_eyes')}: expected true or false")
        label = spec.get("label", name)
        if not isinstance(label, str):
            raise WorkflowError(f"{at(table, 'label')}: expected a text")
        when = spec.get("when")
        if when is not None and when not in FACTS:
            raise WorkflowError(
                f"{at(table, 'when')}: unknown fact {when!r}; expected one of {', '.join(FACTS)}"
            )
        if (when is not None) != (roles == ("system",)):
            raise WorkflowError(
                f"{at(table, 'roles')}: an event with 'when' is fired by the system alone "
                '(roles = ["system"]), and only such an event may name the role system'
            )
        events[name] = EventDef(name, label, source, spec["dest"], roles, requires, four_eyes, when)
    definition = WorkflowDef(str(head["name"]), path, initial, state_defs, events)
    _check_reachable(definition, at)
    return definition


def _check_reachable(definition: WorkflowDef, at: Any) -> None:
    seen = {definition.initial}
    queue = deque([definition.initial])
    while queue:
        state = queue.popleft()
        for event in definition.events.values():
            if state in event.source and event.dest not in seen:
                seen.add(event.dest)
                queue.append(event.dest)
    for state in definition.states:
        if state not in seen:
            raise WorkflowError(
                f"{at(f'states.{state}')}: state {state!r} cannot be reached from "
                f"{definition.initial!r} by any event"
            )


#: A guard: called by the Machine with the EventData of the attempt; it returns True or
#: raises the refusal with its reason (a False from a condition would say nothing).
Guard = Callable[[EventData], bool]


def build_machine(
    definition: WorkflowDef, guards: Callable[[EventDef], Sequence[Guard]] | None = None
) -> Machine:
    """The single Machine shared by every row of this workflow.

    ``guards`` gives each event's conditions, run by the Machine in the order given
    (engine.lifecycle.fire: role, requirements, four eyes).
    """
    return Machine(
        model=None,
        states=list(definition.states),
        initial=definition.initial,
        transitions=[
            {
                "trigger": e.name,
                "source": list(e.source),
                "dest": e.dest,
                "conditions": list(guards(e)) if guards else [],
            }
            for e in definition.events.values()
        ],
        auto_transitions=False,
        send_event=True,
    )


def mermaid(definition: WorkflowDef) -> str:
    """The state diagram in Mermaid syntax, with the rule book's Russian labels.

    Written from the definition rather than by transitions' diagram extension, whose
    output named states and events by their code names and carried a front matter that
    was not YAML. The tests check this text with the real Mermaid parser (tests/mermaid).
    """

    def text(value: str) -> str:
        return " ".join(value.replace('"', "'").replace(";", ",").split())

    ids = {
        state: state if _MERMAID_ID.fullmatch(state) else f"s{n}"
        for n, state in enumerate(definition.states)
    }
    title = json.dumps(f"Порядок работы с задачей ({definition.name})", ensure_ascii=False)
    lines = ["---", f"title: {title}", "---", "stateDiagram-v2", "  direction LR"]
    lines += [f'  state "{text(definition.label(s))}" as {ids[s]}' for s in definition.states]
    lines.append(f"  [*] --> {ids[definition.initial]}")
    for event in definition.events.values():
        for source in event.source:
            lines.append(f"  {ids[source]} --> {ids[event.dest]}: {text(event.label)}")
    lines += [f"  {ids[s]} --> [*]" for s in definition.states if not definition.allowed_from(s)]
    return "\n".join(lines) + "\n"


_MERMAID_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
