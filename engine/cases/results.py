"""``measures results import``: assessment results as a regional system exports them.

Columns (any order, header words as exports write them): Год, Класс, Предмет,
Муниципалитет, Логин, ОО, Кол-во участников, «2», «3», «4», «5» (percent of
participants, decimal commas allowed) and, when the export has them, the comparison with
the school's own marks — Понизили, Подтвердили, Повысили (percent) — plus optional
Процедура (ВПР by default; ОГЭ/ЕГЭ for ГИА) and Углублённое изучение (да/нет).

Every row is checked before anything is written; a file with a bad row imports nothing
unless the caller asks to skip bad rows. Rows are keyed by round, procedure, grade,
subject and school: the same file again changes nothing, a corrected file updates the
rows that differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from engine.cases.matching import (
    SchoolIndex,
    file_sha,
    grade_key,
    record_import,
    seen_before,
    subject_key,
    year_of,
)
from engine.cases.sources import parse_number, problems_text, read_sheet
from engine.core.errors import InputError
from engine.core.models import AssessmentResult, pk

COLUMNS: dict[str, tuple[str, ...]] = {
    "year": ("Год", "Год проведения"),
    "grade": ("Класс", "Параллель"),
    "subject": ("Предмет", "Учебный предмет"),
    "municipality": ("Муниципалитет", "Муниципальный район", "Муниципальное образование", "МО"),
    "login": ("Логин", "Логин ОО", "Ключ", "Код ОО"),
    "school": ("ОО", "Наименование ОО", "Образовательная организация", "Школа"),
    "participants": ("Кол-во участников", "Количество участников", "Участников", "Участники"),
    "share_2": ("2", "«2»", "Доля 2"),
    "share_3": ("3", "«3»", "Доля 3"),
    "share_4": ("4", "«4»", "Доля 4"),
    "share_5": ("5", "«5»", "Доля 5"),
    "lowered": ("Понизили", "Понизили (отм. < отм. по журналу)"),
    "confirmed": ("Подтвердили", "Подтвердили (отм. = отм. по журналу)"),
    "raised": ("Повысили", "Повысили (отм. > отм. по журналу)"),
    "procedure": ("Процедура", "Оценочная процедура"),
    "in_depth": ("Углублённое изучение", "Углубленное изучение", "Профильный"),
}
REQUIRED = ("year", "grade", "subject", "participants", "share_2", "share_3", "share_4", "share_5")
_SHARES = ("share_2", "share_3", "share_4", "share_5")
_COMPARISON = ("lowered", "confirmed", "raised")
_TOLERANCE = 1.5  # percentage points of rounding a sum of shares may be off 100
_YES = {"да", "yes", "1", "true", "+", "углубленное", "профильный"}
_NO = {"", "нет", "no", "0", "false", "-"}


@dataclass
class ImportSummary:
    path: Path
    encoding: str
    rows: int
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)  # bad rows left out (--skip-bad-rows)
    years: list[int] = field(default_factory=list)
    seen_before: bool = False
    opened_cases: int = 0  # risk lists only

    def as_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "encoding": self.encoding,
            "rows": self.rows,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "years": self.years,
            "seen_before": self.seen_before,
            "opened_cases": self.opened_cases,
        }


def refuse_or_skip(problems: list[str], skip_bad_rows: bool, path: Path) -> list[str]:
    """All problems refuse the file, unless bad rows may be skipped (then they are listed)."""
    if problems and not skip_bad_rows:
        raise InputError(
            f"{path}: ничего не загружено, в файле ошибки ({len(problems)}):\n"
            + problems_text(problems)
            + "\nИсправьте файл или загрузите остальные строки с --skip-bad-rows."
        )
    return problems


def _row_values(sheet: Any, line: int, cell: dict[str, str]) -> dict[str, Any] | None:
    """The numbers of one row, or None after recording each problem with its column."""
    before = len(sheet.problems)
    values: dict[str, Any] = {}
    year = year_of(cell["year"])
    if year is None:
        sheet.problem(line, f"Год: ожидался год (например 2025), получено «{cell['year']}»")
    grade = grade_key(cell["grade"])
    if not grade:
        sheet.problem(line, f"Класс: ожидался номер класса 1–11, получено «{cell['grade']}»")
    if not cell["subject"]:
        sheet.problem(line, "Предмет: пусто")
    participants = parse_number(cell["participants"])
    if participants is None or participants < 0 or not float(participants).is_integer():
        sheet.problem(
            line,
            f"Кол-во участников: ожидалось целое число, получено «{cell['participants']}»",
        )
    for name in _SHARES + _COMPARISON:
        text = cell.get(name, "")
        if name in _COMPARISON and not text:
            values[name] = None
            continue
        number = parse_number(text)
        header = COLUMNS[name][0]
        if number is None or not 0 <= number <= 100:
            sheet.problem(
                line,
                f"{header}: ожидалась доля в процентах 0–100 (например 41,5), получено «{text}»",
            )
        values[name] = number
    if len(sheet.problems) == before:
        shares = sum(values[n] for n in _SHARES)
        if participants and abs(shares - 100) > _TOLERANCE:
            sheet.problem(
                line,
                f"доли отметок «2»–«5» в сумме {shares:g} %, а должны давать 100 %",
            )
        compared = [values[n] for n in _COMPARISON]
        if any(v is not None for v in compared):
            if any(v is None for v in compared):
                sheet.problem(line, "Понизили / Подтвердили / Повысили: заполнены не все три")
            elif participants and abs(sum(compared) - 100) > _TOLERANCE:
                sheet.problem(
                    line,
                    f"Понизили + Подтвердили + Повысили = {sum(compared):g} %, а должно быть 100 %",
                )
    depth = cell.get("in_depth", "").strip().lower()
    if depth not in _YES | _NO:
        sheet.problem(line, f"Углублённое изучение: ожидалось «да» или «нет», получено «{depth}»")
    if len(sheet.problems) != before:
        return None
    procedure = (cell.get("procedure") or "ВПР").strip().upper()
    return {
        **values,
        "year": year,
        "grade": grade,
        "subject": subject_key(cell["subject"]),
        "participants": int(participants or 0),
        "municipality": cell.get("municipality", ""),
        "procedure": procedure[:20],
        "in_depth": depth in _YES,
    }


_COMPARED = (
    "municipality",
    "participants",
    *_SHARES,
    *_COMPARISON,
    "in_depth",
)


def import_results(
    session: Session, path: Path, now: datetime, *, skip_bad_rows: bool = False
) -> ImportSummary:
    """Check the whole file, then add or update its rows in the caller's transaction."""
    sheet = read_sheet(path, COLUMNS, REQUIRED)
    if "login" not in sheet.columns and "school" not in sheet.columns:
        raise InputError(f"{path}: нет колонки «Логин» или «ОО»: не понять, чьи это результаты")
    schools = SchoolIndex.load(session)
    wanted: dict[tuple[Any, ...], tuple[int, dict[str, Any]]] = {}
    for line, cell in sheet.rows:
        values = _row_values(sheet, line, cell)
        school = schools.find(sheet, line, cell.get("login", ""), cell.get("school", ""))
        if values is None or school is None:
            continue
        key = (values["year"], values["procedure"], values["grade"], values["subject"], pk(school))
        if key in wanted:
            sheet.problem(
                line,
                f"повтор: результаты школы «{school.name}» за {values['year']} год "
                f"({values['subject']}, {values['grade']} класс) уже в строке {wanted[key][0]}",
            )
            continue
        wanted[key] = (line, {**values, "school_id": pk(school)})
    summary = ImportSummary(path, sheet.encoding_label, len(sheet.rows))
    summary.skipped = refuse_or_skip(sheet.problems, skip_bad_rows, path)
    sha = file_sha(path)
    summary.seen_before = seen_before(session, "results", sha)
    summary.years = sorted({k[0] for k in wanted})
    existing = {
        (r.year, r.procedure, r.grade, r.subject, r.school_id): r
        for r in session.exec(
            select(AssessmentResult).where(
                AssessmentResult.year.in_(summary.years)  # type: ignore[attr-defined]
            )
        )
    }
    changed = [
        (key, values)
        for key, (_, values) in wanted.items()
        if key not in existing or any(getattr(existing[key], f) != values[f] for f in _COMPARED)
    ]
    summary.unchanged = len(wanted) - len(changed)
    if not changed and (summary.seen_before or not wanted):
        return summary  # the same data again: nothing is written, not even a record
    record = record_import(session, "results", sheet, sha, set(summary.years), len(wanted), now)
    for key, values in changed:
        row = existing.get(key)
        if row is None:
            session.add(AssessmentResult.model_validate({**values, "import_id": pk(record)}))
            summary.added += 1
        else:
            for name in _COMPARED:
                setattr(row, name, values[name])
            row.import_id = pk(record)
            session.add(row)
            summary.updated += 1
    record.added, record.updated = summary.added, summary.updated
    session.add(record)
    session.flush()
    return summary
