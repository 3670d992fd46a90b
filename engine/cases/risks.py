"""``measures risks import``: the lists of schools with signs of non-objective results
(the federal list) and of schools with low results (ШНОР).

Columns (any order): Год, Логин (or Ключ), ОО, Вид (non_objective | low_results, or
«необъективность» / «ШНОР» …), Предмет, Класс, Источник, and the federal list's
Маркеры («4 РУ; 5 МА»: grade and subject code, codes in workflows/rules.toml) with
Количество маркеров (checked against the markers). Year, kind and source may instead
be given for the whole file. A row with markers flags the school for each marker; one
without subject and grade flags the whole school.

A school on a list gets its flags, and a case in the case workflow's initial state if it
has no open case of that kind (one per school and kind); the opening is audited as the
system's decision. The same file again changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from engine.cases.matching import (
    SchoolIndex,
    file_sha,
    grade_key,
    record_import,
    seen_before,
    subject_key,
    year_of,
)
from engine.cases.progress import open_case
from engine.cases.results import ImportSummary, refuse_or_skip
from engine.cases.rules import KIND_LABELS, CaseRules
from engine.cases.sources import read_sheet
from engine.core.errors import InputError
from engine.core.models import RiskFlag, SchoolCase, pk
from engine.lifecycle.workflow import WorkflowDef

COLUMNS: dict[str, tuple[str, ...]] = {
    "year": ("Год", "Год перечня"),
    "login": ("Логин", "Ключ", "Логин ОО", "Код ОО"),
    "school": ("ОО", "Наименование ОО", "Образовательная организация", "Школа"),
    "kind": ("Вид", "Вид перечня", "Признак", "Категория"),
    "subject": ("Предмет",),
    "grade": ("Класс",),
    "markers": ("Маркеры", "Маркер", "Предметы и классы"),
    "marker_count": ("Количество маркеров", "Кол-во маркеров", "Число маркеров"),
    "source": ("Источник",),
}
KINDS: Mapping[str, str] = {
    "non_objective": "non_objective",
    "необъективность": "non_objective",
    "признаки необъективности": "non_objective",
    "необъективные результаты": "non_objective",
    "low_results": "low_results",
    "шнор": "low_results",
    "низкие результаты": "low_results",
    "школа с низкими результатами": "low_results",
}
_MARKER = re.compile(r"^(\d{1,2})\s*([A-Za-zА-ЯЁа-яё]{2,4})$")


@dataclass(frozen=True)
class ListEntry:
    line: int
    school_id: int
    kind: str
    year: int
    subject: str
    grade: str
    marker: str
    source: str


def kind_of(text: str) -> str | None:
    return KINDS.get(" ".join(text.lower().replace("ё", "е").split()))


def import_risks(
    session: Session,
    path: Path,
    rules: CaseRules,
    cases: WorkflowDef,
    now: datetime,
    *,
    audit_key: bytes,
    year: int | None = None,
    kind: str | None = None,
    source: str = "",
    skip_bad_rows: bool = False,
) -> ImportSummary:
    """Check the whole list, then add its flags and open cases (caller commits)."""
    if kind is not None and kind_of(kind) is None:
        raise InputError(f"--kind: ожидалось non_objective или low_results, получено «{kind}»")
    sheet = read_sheet(path, COLUMNS, ())
    if "login" not in sheet.columns and "school" not in sheet.columns:
        raise InputError(f"{path}: нет колонки «Логин» или «ОО»: не понять, какие это школы")
    for column, given, option in (("year", year, "--year"), ("kind", kind, "--kind")):
        if column not in sheet.columns and given is None:
            raise InputError(
                f"{path}: нет колонки «{COLUMNS[column][0]}»: укажите {option} для всего файла"
            )
    schools = SchoolIndex.load(session)
    entries: dict[tuple[int, str, int, str, str], ListEntry] = {}
    for line, cell in sheet.rows:
        before = len(sheet.problems)
        row_year = year_of(cell["year"]) if cell.get("year") else year
        if row_year is None:
            sheet.problem(line, f"Год: ожидался год (например 2025), получено «{cell.get('year')}»")
        row_kind = kind_of(cell["kind"]) if cell.get("kind") else (kind and kind_of(kind))
        if row_kind is None:
            sheet.problem(
                line,
                f"Вид: ожидалось non_objective («необъективность») или low_results («ШНОР»), "
                f"получено «{cell.get('kind', '')}»",
            )
        school = schools.find(sheet, line, cell.get("login", ""), cell.get("school", ""))
        pairs: list[tuple[str, str, str]] = []  # (subject, grade, marker)
        markers = [m.strip() for m in re.split(r"[;,]", cell.get("markers", "")) if m.strip()]
        for marker in markers:
            match = _MARKER.match(marker)
            code = match.group(2).upper() if match else ""
            grade = grade_key(match.group(1)) if match else None
            if not match or not grade or code not in rules.subject_codes:
                sheet.problem(
                    line,
                    f"Маркеры: «{marker}» — ожидался класс и код предмета, например «5 МА» "
                    f"(коды: {', '.join(rules.subject_codes)})",
                )
                continue
            pairs.append((rules.subject_codes[code], grade, marker))
        count = cell.get("marker_count", "")
        if count and (not count.isdigit() or int(count) != len(markers)):
            sheet.problem(
                line,
                f"Количество маркеров: указано «{count}», а маркеров в строке {len(markers)}",
            )
        if not markers:
            grade = grade_key(cell.get("grade", ""))
            if grade is None:
                sheet.problem(line, f"Класс: ожидался номер 1–11, получено «{cell['grade']}»")
                grade = ""
            pairs.append((subject_key(cell.get("subject", "")), grade, ""))
        if len(sheet.problems) != before or school is None:
            continue
        assert row_year is not None and row_kind is not None
        for subject, grade, marker in pairs:
            key = (pk(school), row_kind, row_year, subject, grade)
            if key in entries:
                sheet.problem(
                    line,
                    f"повтор: школа «{school.name}» ({subject or 'все предметы'}, "
                    f"{grade or 'все'} класс) уже в строке {entries[key].line}",
                )
                continue
            entries[key] = ListEntry(
                line,
                pk(school),
                row_kind,
                row_year,
                subject,
                grade,
                marker,
                cell.get("source") or source or path.name,
            )
    summary = ImportSummary(path, sheet.encoding_label, len(sheet.rows))
    summary.skipped = refuse_or_skip(sheet.problems, skip_bad_rows, path)
    sha = file_sha(path)
    summary.seen_before = seen_before(session, "risks", sha)
    summary.years = sorted({e.year for e in entries.values()})
    existing = {
        (f.school_id, f.kind, f.year, f.subject, f.grade)
        for f in session.exec(select(RiskFlag).where(col(RiskFlag.year).in_(summary.years)))
    }
    new = [e for key, e in entries.items() if key not in existing]
    summary.unchanged = len(entries) - len(new)
    if not new and summary.seen_before:
        return summary
    record = record_import(session, "risks", sheet, sha, set(summary.years), len(entries), now)
    for entry in new:
        session.add(
            RiskFlag(
                school_id=entry.school_id,
                kind=entry.kind,
                year=entry.year,
                subject=entry.subject,
                grade=entry.grade,
                source=entry.source[:300],
                marker=entry.marker,
            )
        )
    summary.added = len(new)
    record.added = len(new)
    session.add(record)
    session.flush()
    summary.opened_cases = _open_cases(session, cases, list(entries.values()), now, audit_key)
    return summary


def _open_cases(
    session: Session,
    cases: WorkflowDef,
    entries: list[ListEntry],
    now: datetime,
    audit_key: bytes,
) -> int:
    """One open case per school and kind: a listed school without one gets a new case."""
    opened = 0
    grouped: dict[tuple[int, str, int], list[ListEntry]] = {}
    for entry in entries:
        grouped.setdefault((entry.school_id, entry.kind, entry.year), []).append(entry)
    open_states = cases.open
    for (school_id, kind, year), listed in sorted(grouped.items()):
        known = session.exec(
            select(SchoolCase).where(SchoolCase.school_id == school_id, SchoolCase.kind == kind)
        ).all()
        if any(c.state in open_states or c.year == year for c in known):
            continue  # the open case (or this year's) already covers the list entry
        markers = ", ".join(
            e.marker or f"{e.subject or 'все предметы'} {e.grade}".strip() for e in listed
        )
        open_case(
            session,
            cases,
            school_id,
            kind,
            year,
            f"Школа в перечне {year} года ({KIND_LABELS[kind]}): {markers}. "
            f"Источник: {listed[0].source}.",
            now,
            audit_key,
        )
        opened += 1
    return opened
