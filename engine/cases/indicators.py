"""``measures risks detect``: public signs of non-objective results, as suggestions.

Computed from imported results with the thresholds of workflows/rules.toml
([indicators]); each candidate comes with the numbers behind it, and groups under the
minimum size are listed as such and never make a school a candidate. Nothing here
flags a school — a person decides whether to put it on a list — and nothing rates or
ranks teachers: the data is per school, subject and grade, and stays so (the 2025
procedure forbids using ВПР results to rate individual teachers).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlmodel import Session, select

from engine.cases.evaluate import percent
from engine.cases.rules import CaseRules
from engine.core.models import AssessmentResult, School

GIA = ("ОГЭ", "ЕГЭ", "ГИА")


@dataclass
class Sign:
    indicator: str  # above_region | not_confirmed | gia_gap
    subject: str
    grade: str
    participants: int
    text: str  # the numbers, in Russian
    small_group: bool = False  # fewer participants than the minimum: not a basis


@dataclass
class Candidate:
    school_key: str
    school: str
    signs: list[Sign] = field(default_factory=list)

    @property
    def is_candidate(self) -> bool:
        return any(not s.small_group for s in self.signs)

    def as_json(self) -> dict[str, Any]:
        return {
            "school_key": self.school_key,
            "school": self.school,
            "candidate": self.is_candidate,
            "signs": [asdict(s) for s in self.signs],
        }


def _share45(row: AssessmentResult) -> float:
    return row.share_4 + row.share_5


def detect(session: Session, rules: CaseRules, year: int) -> list[Candidate]:
    """Schools showing signs in ``year``: candidates first, then small groups only."""
    ind = rules.indicators
    rows = list(session.exec(select(AssessmentResult).where(AssessmentResult.year == year)))
    schools = {s.id: s for s in session.exec(select(School))}
    region: dict[tuple[str, str, str], tuple[int, float]] = {}
    groups: dict[tuple[str, str, str], list[AssessmentResult]] = defaultdict(list)
    for row in rows:
        groups[(row.procedure, row.subject, row.grade)].append(row)
    for key, members in groups.items():
        total = sum(r.participants for r in members)
        if total:
            region[key] = (total, sum(_share45(r) * r.participants for r in members) / total)
    gia: dict[tuple[int, str], AssessmentResult] = {
        (r.school_id, r.subject): r for r in rows if r.procedure in GIA
    }
    found: dict[int, Candidate] = {}

    def add(row: AssessmentResult, indicator: str, text: str) -> None:
        school = schools[row.school_id]
        small = row.participants < ind.min_participants
        if small:
            text += (
                f" — мало участников ({row.participants}, нужно не менее "
                f"{ind.min_participants}): не основание для выводов"
            )
        candidate = found.setdefault(
            row.school_id, Candidate(school.key, school.short_name or school.name)
        )
        candidate.signs.append(
            Sign(indicator, row.subject, row.grade, row.participants, text, small)
        )

    for row in sorted(rows, key=lambda r: (r.school_id, r.subject, r.grade)):
        if row.procedure != "ВПР":
            continue
        where = f"{row.subject}, {row.grade} класс"
        total, mean = region[(row.procedure, row.subject, row.grade)]
        if not row.in_depth and _share45(row) - mean >= ind.above_region_points:
            add(
                row,
                "above_region",
                f"{where}: доля «4» и «5» {percent(_share45(row))} при {percent(mean)} по "
                f"региону (выше на {percent(_share45(row) - mean)}), предмет не изучается "
                "углублённо",
            )
        if row.lowered is not None and row.lowered >= ind.lowered:
            add(
                row,
                "not_confirmed",
                f"{where}: «Понизили» {percent(row.lowered)} (порог {percent(ind.lowered)}) — "
                "отметки ВПР ниже текущих отметок школы",
            )
        if row.raised is not None and row.raised >= ind.raised:
            add(
                row,
                "not_confirmed",
                f"{where}: «Повысили» {percent(row.raised)} (порог {percent(ind.raised)}) — "
                "отметки ВПР выше текущих отметок школы",
            )
        exam = gia.get((row.school_id, row.subject))
        if exam is not None and _share45(row) - _share45(exam) >= ind.gia_gap_points:
            add(
                row,
                "gia_gap",
                f"{where}: доля «4» и «5» на ВПР {percent(_share45(row))}, а на "
                f"{exam.procedure} ({exam.grade} класс) {percent(_share45(exam))} — "
                f"разрыв {percent(_share45(row) - _share45(exam))}",
            )
    return sorted(found.values(), key=lambda c: (not c.is_candidate, c.school_key))
