"""``workflows/rules.toml`` → validated rules for cases, the gate, indicators.

Like the workflows, the file is data the committee edits; every refusal names the file,
line and key, and state names are checked against the case workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from engine.core import tomlfile
from engine.core.errors import WorkflowError
from engine.lifecycle.workflow import WorkflowDef

Test = Literal["off_list", "rose", "fell"]
Metric = Literal[
    "share_2", "share_3", "share_4", "share_5", "share_45", "confirmed", "lowered", "raised"
]
METRICS: tuple[Metric, ...] = get_args(Metric)
RISK_KINDS = ("non_objective", "low_results")

#: How each metric is named in a Russian sentence («доля подтвердивших отметки выросла …»).
METRIC_LABELS: dict[str, str] = {
    "share_2": "доля отметок «2»",
    "share_3": "доля отметок «3»",
    "share_4": "доля отметок «4»",
    "share_5": "доля отметок «5»",
    "share_45": "доля отметок «4» и «5»",
    "confirmed": "доля подтвердивших отметки",
    "lowered": "доля понизивших отметки",
    "raised": "доля повысивших отметки",
}
KIND_LABELS = {
    "non_objective": "признаки необъективности",
    "low_results": "низкие результаты (ШНОР)",
}


@dataclass(frozen=True)
class ShiftRule:
    name: str
    test: Test
    kinds: tuple[str, ...]
    metric: Metric | None = None
    points: float = 0.0


@dataclass(frozen=True)
class AdminKind:
    key: str
    label: str
    due_working_days: int


@dataclass(frozen=True)
class Indicators:
    min_participants: int
    above_region_points: float
    lowered: float
    raised: float
    gia_gap_points: float


@dataclass(frozen=True)
class CaseRules:
    path: Path
    min_participants: int
    shift_rules: tuple[ShiftRule, ...]
    gate_open_in: tuple[str, ...]
    admin_ladder: str
    admin_kinds: dict[str, AdminKind]
    indicators: Indicators
    subject_codes: dict[str, str]


class _Reader:
    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text = path, text

    def at(self, table: str, key: str | None = None) -> str:
        return tomlfile.where(self.path, self.text, table, key)

    def table(self, data: dict[str, Any], name: str, keys: set[str]) -> dict[str, Any]:
        value = data.get(name)
        if not isinstance(value, dict):
            raise WorkflowError(f"{self.path}: missing table [{name}]")
        return self.only(value, keys, name)

    def only(self, value: dict[str, Any], keys: set[str], where: str) -> dict[str, Any]:
        extra = sorted(set(value) - keys)
        if extra:
            raise WorkflowError(
                f"{self.at(where)}: unknown key {extra[0]!r}; expected {', '.join(sorted(keys))}"
            )
        return value

    def number(self, table: dict[str, Any], key: str, where: str, *, whole: bool = False) -> Any:
        value = table.get(key)
        kinds = (int,) if whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or value < 0:
            what = "a whole number" if whole else "a number"
            raise WorkflowError(f"{self.at(where, key)}: expected {what} ≥ 0, got {value!r}")
        return value

    def text_of(self, table: dict[str, Any], key: str, where: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise WorkflowError(f"{self.at(where, key)}: expected a text, got {value!r}")
        return value


def _shift_rule(reader: _Reader, index: int, raw: Any) -> ShiftRule:
    where = tomlfile.where_item(reader.path, reader.text, "positive_shift.rules", index)
    if not isinstance(raw, dict):
        raise WorkflowError(f"{where}: expected a table")
    keys = {"name", "test", "kinds", "measure", "points"}
    extra = sorted(set(raw) - keys)
    if extra:
        raise WorkflowError(
            f"{where}: unknown key {extra[0]!r}; expected {', '.join(sorted(keys))}"
        )
    name, test = raw.get("name"), raw.get("test")
    if not isinstance(name, str) or not name:
        raise WorkflowError(f"{where}: name: expected a text")
    if test not in get_args(Test):
        raise WorkflowError(
            f"{where} ({name}): test: expected off_list, rose or fell, got {test!r}"
        )
    kinds = raw.get("kinds", list(RISK_KINDS))
    if not isinstance(kinds, list) or not kinds or any(k not in RISK_KINDS for k in kinds):
        raise WorkflowError(
            f"{where} ({name}): kinds: expected a list of {', '.join(RISK_KINDS)}, got {kinds!r}"
        )
    if test == "off_list":
        return ShiftRule(name, "off_list", tuple(kinds))
    metric, points = raw.get("measure"), raw.get("points")
    if metric not in METRICS:
        raise WorkflowError(
            f"{where} ({name}): measure: expected one of {', '.join(METRICS)}, got {metric!r}"
        )
    if isinstance(points, bool) or not isinstance(points, int | float) or points <= 0:
        raise WorkflowError(f"{where} ({name}): points: expected a number > 0, got {points!r}")
    return ShiftRule(name, test, tuple(kinds), metric, float(points))  # type: ignore[arg-type]


def load_rules(path: Path, cases: WorkflowDef) -> CaseRules:
    """Parse and check the rules; gate states must be states of the case workflow."""
    data, text = tomlfile.load(path, WorkflowError)
    reader = _Reader(path, text)
    top = {"positive_shift", "gate", "administrative", "indicators", "subject_codes"}
    reader.only(data, top, "")
    shift = reader.table(data, "positive_shift", {"min_participants", "rules"})
    minimum = reader.number(shift, "min_participants", "positive_shift", whole=True)
    raw_rules = shift.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise WorkflowError(f"{reader.at('positive_shift')}: no [[positive_shift.rules]]")
    rules = tuple(_shift_rule(reader, i, raw) for i, raw in enumerate(raw_rules))
    gate = reader.table(data, "gate", {"open_in"})
    open_in = gate.get("open_in")
    if not isinstance(open_in, list) or not open_in:
        raise WorkflowError(f"{reader.at('gate', 'open_in')}: expected a list of case states")
    for state in open_in:
        if state not in cases.states:
            raise WorkflowError(
                f"{reader.at('gate', 'open_in')}: unknown state {state!r}; the states of "
                f"{cases.path.name} are {', '.join(cases.states)}"
            )
    admin = reader.table(data, "administrative", {"ladder", "kinds"})
    ladder = reader.text_of(admin, "ladder", "administrative")
    raw_kinds = admin.get("kinds")
    if not isinstance(raw_kinds, dict) or not raw_kinds:
        raise WorkflowError(f"{reader.at('administrative')}: no [administrative.kinds.*]")
    kinds: dict[str, AdminKind] = {}
    for key, spec in raw_kinds.items():
        where = f"administrative.kinds.{key}"
        if not isinstance(spec, dict):
            raise WorkflowError(f"{reader.at(where)}: expected a table")
        reader.only(spec, {"label", "due_working_days"}, where)
        kinds[key] = AdminKind(
            key,
            reader.text_of(spec, "label", where),
            reader.number(spec, "due_working_days", where, whole=True),
        )
    ind = reader.table(
        data, "indicators", {"min_participants", "above_region", "not_confirmed", "gia_gap"}
    )
    above = reader.only(ind.get("above_region", {}), {"points"}, "indicators.above_region")
    confirm = reader.only(
        ind.get("not_confirmed", {}), {"lowered", "raised"}, "indicators.not_confirmed"
    )
    gia = reader.only(ind.get("gia_gap", {}), {"points"}, "indicators.gia_gap")
    indicators = Indicators(
        reader.number(ind, "min_participants", "indicators", whole=True),
        float(reader.number(above, "points", "indicators.above_region")),
        float(reader.number(confirm, "lowered", "indicators.not_confirmed")),
        float(reader.number(confirm, "raised", "indicators.not_confirmed")),
        float(reader.number(gia, "points", "indicators.gia_gap")),
    )
    codes = data.get("subject_codes", {})
    if not isinstance(codes, dict) or not all(
        isinstance(v, str) and v.strip() for v in codes.values()
    ):
        raise WorkflowError(f'{reader.at("subject_codes")}: expected CODE = "subject" pairs')
    return CaseRules(
        path,
        minimum,
        rules,
        tuple(open_in),
        ladder,
        kinds,
        indicators,
        {code.upper(): subject.strip().lower() for code, subject in codes.items()},
    )
