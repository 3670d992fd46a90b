"""Positive shift: the rules of workflows/rules.toml applied to a case's numbers.

Pure computation over what the caller fetched (engine.cases.progress stores the
result): for each subject and grade the school was flagged for, the rules are tried in
order and the first that holds decides. Groups under the minimum size are
"insufficient data" and missing rounds "no data" — never a verdict either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from engine.cases.rules import METRIC_LABELS, CaseRules, ShiftRule
from engine.core.models import AssessmentResult, RiskFlag

Verdict = Literal["shift", "no_shift", "insufficient", "no_data"]
#: How a case-level verdict is worded for people.
VERDICT_LABELS: dict[str, str] = {
    "shift": "позитивный сдвиг",
    "no_shift": "позитивного сдвига нет",
    "insufficient": "недостаточно данных",
    "no_data": "нет данных следующего цикла",
}


def percent(value: float) -> str:
    """41.0 → «41 %», 41.5 → «41,5 %» (Russian decimal comma)."""
    text = f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{text} %"


def subject_grade(subject: str, grade: str) -> str:
    parts = [subject or "все предметы", f"{grade} класс" if grade else "все классы"]
    return ", ".join(parts)


@dataclass(frozen=True)
class Figures:
    """A group's numbers: participants and each metric (None where not given)."""

    participants: int
    values: dict[str, float | None]


def aggregate(rows: Iterable[AssessmentResult]) -> Figures | None:
    """Participant-weighted figures of several rows (a flag without subject or grade)."""
    rows = [r for r in rows if r.participants > 0]
    if not rows:
        return None
    total = sum(r.participants for r in rows)

    def mean(getter: Any) -> float | None:
        values = [getter(r) for r in rows]
        if any(v is None for v in values):
            return None
        return float(sum(v * r.participants for v, r in zip(values, rows, strict=True)) / total)

    return Figures(
        total,
        {
            "share_2": mean(lambda r: r.share_2),
            "share_3": mean(lambda r: r.share_3),
            "share_4": mean(lambda r: r.share_4),
            "share_5": mean(lambda r: r.share_5),
            "share_45": mean(lambda r: r.share_4 + r.share_5),
            "confirmed": mean(lambda r: r.confirmed),
            "lowered": mean(lambda r: r.lowered),
            "raised": mean(lambda r: r.raised),
        },
    )


@dataclass
class Check:
    """One rule tried on one subject and grade."""

    rule: str
    outcome: Literal["holds", "fails", "insufficient", "no_data"]
    text: str
    metric: str | None = None
    before: float | None = None
    after: float | None = None


@dataclass
class PairResult:
    subject: str
    grade: str
    verdict: Verdict
    rule: str  # the rule that decided ("" when nothing could be decided)
    text: str  # the Russian sentence shown
    participants_before: int | None = None
    participants_after: int | None = None
    checks: list[Check] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Evaluation:
    verdict: Verdict
    summary: str
    pairs: tuple[PairResult, ...]


def _matches(flag_value: str, wanted: str) -> bool:
    return not flag_value or not wanted or flag_value == wanted


def _pick(results: Sequence[AssessmentResult], subject: str, grade: str) -> Figures | None:
    return aggregate(
        r for r in results if _matches(subject, r.subject) and _matches(grade, r.grade)
    )


def _numeric(
    rule: ShiftRule,
    before: Figures | None,
    after: Figures | None,
    years: tuple[int, int],
    minimum: int,
) -> Check:
    assert rule.metric is not None
    label = METRIC_LABELS[rule.metric]
    for figures, year in ((before, years[0]), (after, years[1])):
        if figures is None:
            return Check(rule.name, "no_data", f"нет результатов {year} года", rule.metric)
    assert before is not None and after is not None
    for figures, year in ((before, years[0]), (after, years[1])):
        if figures.participants < minimum:
            return Check(
                rule.name,
                "insufficient",
                f"в {year} году участников {figures.participants} — меньше {minimum}: "
                "недостаточно данных для вывода",
                rule.metric,
            )
    old, new = before.values[rule.metric], after.values[rule.metric]
    if old is None or new is None:
        return Check(rule.name, "no_data", f"{label}: в выгрузке нет этих данных", rule.metric)
    if new > old:
        moved = "выросла"
    elif new < old:
        moved = "снизилась"
    else:
        moved = "не изменилась"
    text = f"{label} {moved} с {percent(old)} до {percent(new)}"
    delta = new - old if rule.test == "rose" else old - new
    holds = delta >= rule.points - 1e-9
    if not holds:
        direction = "рост" if rule.test == "rose" else "снижение"
        text += f" (нужен {direction} не менее чем на {rule.points:g} п.)"
    return Check(rule.name, "holds" if holds else "fails", text, rule.metric, old, new)


def evaluate(
    rules: CaseRules,
    kind: str,
    year: int,
    flags: Sequence[RiskFlag],
    before: Sequence[AssessmentResult],
    after: Sequence[AssessmentResult],
    next_list: Sequence[RiskFlag] | None,
) -> Evaluation:
    """The verdict for a case of ``kind`` flagged in ``year`` for ``flags``.

    ``before``/``after``: the school's ВПР results of ``year`` and ``year + 1``;
    ``next_list``: the school's flags of that kind on the list of ``year + 1``, or None
    when no such list has been imported yet.
    """
    years = (year, year + 1)
    pairs_wanted = sorted({(f.subject, f.grade) for f in flags}) or [("", "")]
    applicable = [r for r in rules.shift_rules if kind in r.kinds]
    pairs: list[PairResult] = []
    for subject, grade in pairs_wanted:
        old, new = _pick(before, subject, grade), _pick(after, subject, grade)
        checks: list[Check] = []
        for rule in applicable:
            if rule.test == "off_list":
                if next_list is None:
                    checks.append(
                        Check(rule.name, "no_data", f"перечень {years[1]} года ещё не загружен")
                    )
                elif any(
                    _matches(f.subject, subject) and _matches(f.grade, grade) for f in next_list
                ):
                    checks.append(
                        Check(rule.name, "fails", f"школа осталась в перечне {years[1]} года")
                    )
                else:
                    checks.append(
                        Check(rule.name, "holds", f"школа не вошла в перечень {years[1]} года")
                    )
            else:
                checks.append(_numeric(rule, old, new, years, rules.min_participants))
        decided = next((c for c in checks if c.outcome == "holds"), None)
        outcomes = {c.outcome for c in checks}
        verdict: Verdict
        if decided is not None:
            verdict, text, rule_name = "shift", decided.text, decided.rule
        elif "insufficient" in outcomes:
            verdict, rule_name = "insufficient", ""
            text = next(c.text for c in checks if c.outcome == "insufficient")
        elif "no_data" in outcomes or not checks:
            verdict, rule_name = "no_data", ""
            missing = dict.fromkeys(c.text for c in checks if c.outcome == "no_data")
            text = " и ".join(missing) or "нет правил для этого вида риска"
        else:
            verdict, rule_name = "no_shift", checks[-1].rule
            text = "; ".join(c.text for c in checks)
        pairs.append(
            PairResult(
                subject,
                grade,
                verdict,
                rule_name,
                text,
                old.participants if old else None,
                new.participants if new else None,
                checks,
            )
        )
    order: list[Verdict] = ["no_data", "insufficient", "no_shift"]
    overall: Verdict = next((v for v in order if any(p.verdict == v for p in pairs)), "shift")
    shown = [p for p in pairs if p.verdict == overall]
    summary = "; ".join(f"{subject_grade(p.subject, p.grade)} — {p.text}" for p in shown)
    return Evaluation(overall, summary, tuple(pairs))
