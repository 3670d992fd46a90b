"""Results and risk lists as regional systems export them: CSV (UTF-8, cp1251), XLSX.

Bad input names the file and the line and imports nothing; the same file twice changes
nothing. Expected values are read off the fixture files by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import func, select

from engine.app import App
from engine.app.cases import detect_signs, results_import, risks_import
from engine.core.db import session_scope
from engine.core.errors import InputError, WorkflowError
from engine.core.models import AssessmentResult, DataImport, RiskFlag, School, SchoolCase
from tests.cases_data import fixture, load_directory


def _count(app: App, model: type) -> int:
    with session_scope(app.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _copy(
    tmp_path: Path, name: str, edit: tuple[str, str] | None = None, encoding: str = "utf-8"
) -> Path:
    text = fixture(name).read_text(encoding="utf-8")
    if edit is not None:
        assert edit[0] in text, edit[0]
        text = text.replace(edit[0], edit[1], 1)
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_results_csv_with_decimal_commas_and_reimport(app: App) -> None:
    load_directory(app)
    done = results_import(app, fixture("results_2025.csv")).summary
    assert (done.rows, done.added, done.updated, done.encoding) == (6, 6, 0, "UTF-8")
    with session_scope(app.engine) as session:
        row = session.exec(
            select(AssessmentResult)
            .join(School, School.id == AssessmentResult.school_id)  # type: ignore[arg-type]
            .where(
                School.key == "sosh1",
                AssessmentResult.subject == "русский язык",
                AssessmentResult.grade == "5",
            )
        ).one()
    # line 3: 2025;5;Русский язык;…;48;4,2;25,0;41,7;29,1;6,0;41,0;53,0
    assert (row.participants, row.share_2, row.share_5, row.confirmed, row.raised) == (
        48,
        4.2,
        29.1,
        41.0,
        53.0,
    )
    imports = _count(app, DataImport)
    again = results_import(app, fixture("results_2025.csv")).summary
    assert (again.added, again.updated, again.unchanged, again.seen_before) == (0, 0, 6, True)
    assert _count(app, DataImport) == imports  # nothing written, not even a record


def test_corrected_file_updates_the_rows_that_differ(app: App, tmp_path: Path) -> None:
    load_directory(app)
    results_import(app, fixture("results_2025.csv"))
    corrected = _copy(tmp_path, "results_2025.csv", (";48;4,2;25,0;", ";49;4,2;25,0;"))
    done = results_import(app, corrected).summary
    assert (done.added, done.updated, done.unchanged) == (0, 1, 5)


def test_cp1251_csv_as_excel_saves_it(app: App, tmp_path: Path) -> None:
    load_directory(app)
    path = _copy(tmp_path, "results_2025.csv", encoding="cp1251")
    done = results_import(app, path).summary
    assert (done.encoding, done.added) == ("Windows-1251 (cp1251)", 6)
    risks = _copy(tmp_path, "risks_2025.csv", encoding="cp1251")
    listed = risks_import(app, risks).summary
    assert (listed.encoding, listed.added, listed.opened_cases) == ("Windows-1251 (cp1251)", 5, 4)


def test_xlsx_export_reads_like_the_csv(app: App, tmp_path: Path) -> None:
    import openpyxl

    load_directory(app)
    book = openpyxl.Workbook()
    sheet = book.active
    for line in fixture("results_2025.csv").read_text(encoding="utf-8").splitlines():
        cells: list[object] = []
        for cell in line.split(";"):
            # numbers as Excel stores them (floats), texts as written
            cells.append(
                float(cell.replace(",", "."))
                if cell.replace(",", "").isdigit() and "," in cell
                else cell
            )
        sheet.append(cells)
    path = tmp_path / "results.xlsx"
    book.save(path)
    done = results_import(app, path).summary
    assert (done.encoding, done.added) == ("XLSX", 6)
    # the same numbers as the CSV: importing the CSV afterwards changes nothing
    again = results_import(app, fixture("results_2025.csv")).summary
    assert (again.added, again.updated, again.unchanged) == (0, 0, 6)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            (";48;4,2;", ";48;4,2,1;"),
            "results_2025.csv:3: 2: ожидалась доля в процентах 0–100 (например 41,5), "
            "получено «4,2,1»",
        ),
        (
            (";48;", ";сорок;"),
            "results_2025.csv:3: Кол-во участников: ожидалось целое число, получено «сорок»",
        ),
        (
            ("lo470102;МБОУ «СШ № 2»", "lo479999;МБОУ «СШ № 99»"),
            "results_2025.csv:5: школа «lo479999» / «МБОУ «СШ № 99»» не найдена в справочнике",
        ),
        (
            (";29,1;6,0;", ";39,1;6,0;"),
            "results_2025.csv:3: доли отметок «2»–«5» в сумме 110 %, а должны давать 100 %",
        ),
        (
            (
                "2025;5;Математика;Заречный район;lo470101",
                "2025;5;Русский язык;Заречный район;lo470101",
            ),
            "results_2025.csv:4: повтор: результаты школы «Муниципальное бюджетное "
            "общеобразовательное учреждение «Средняя школа № 1»» за 2025 год (русский язык, "
            "5 класс) уже в строке 3",
        ),
        (
            (
                "2025;5;Математика;Заречный район;lo470106",
                "2025;5 кл;Математика;Заречный район;lo470106",
            ),
            "",  # «5 кл» is a grade as people write it: no problem
        ),
    ],
)
def test_bad_rows_are_named_and_nothing_is_imported(
    app: App, tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    load_directory(app)
    path = _copy(tmp_path, "results_2025.csv", edit)
    if not message:
        assert results_import(app, path).summary.added == 6
        return
    with pytest.raises(InputError) as refused:
        results_import(app, path)
    assert message in str(refused.value)
    assert "ничего не загружено" in str(refused.value)
    assert _count(app, AssessmentResult) == 0 and _count(app, DataImport) == 0
    done = results_import(app, path, skip_bad_rows=True).summary
    assert done.added == 5 and any(message in p for p in done.skipped)


def test_a_file_in_another_encoding_is_refused_clearly(app: App, tmp_path: Path) -> None:
    load_directory(app)
    path = _copy(tmp_path, "results_2025.csv", encoding="utf-16")
    with pytest.raises(InputError, match="не найдена строка заголовка с колонками Год, Класс"):
        results_import(app, path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("5 РУ, 5 МА;2;", "5 РУ, 5 МА;3;"),
            "risks_2025.csv:2: Количество маркеров: указано «3», а маркеров в строке 2",
        ),
        (
            ("4 РУ;1;", "4 ZZ;1;"),
            "risks_2025.csv:3: Маркеры: «4 ZZ» — ожидался класс и код предмета, например «5 МА»",
        ),
        (
            (";ШНОР;", ";Неизвестно;"),
            "risks_2025.csv:5: Вид: ожидалось non_objective («необъективность») или low_results",
        ),
        (
            ("lo470105;МКОУ «ООШ № 5»", "lo470109;МКОУ «ООШ № 9»"),
            "risks_2025.csv:4: школа «lo470109» / «МКОУ «ООШ № 9»» не найдена",
        ),
    ],
)
def test_bad_list_rows(app: App, tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    load_directory(app)
    path = _copy(tmp_path, "risks_2025.csv", edit)
    with pytest.raises(InputError) as refused:
        risks_import(app, path)
    assert message in str(refused.value)
    assert _count(app, RiskFlag) == 0 and _count(app, SchoolCase) == 0


def test_list_year_and_kind_for_the_whole_file(app: App, tmp_path: Path) -> None:
    load_directory(app)
    path = tmp_path / "federal.csv"
    path.write_text(
        "Логин;ОО;Маркеры;Количество маркеров\nlo470103;МАОУ «Гимназия № 3»;5 РУ, 6 МА;2\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="нет колонки «Год»: укажите --year"):
        risks_import(app, path)
    done = risks_import(app, path, year=2026, kind="non_objective", source="ФИС ОКО").summary
    assert (done.added, done.opened_cases) == (2, 1)
    with session_scope(app.engine) as session:
        flags = session.exec(select(RiskFlag).order_by(RiskFlag.grade)).all()  # type: ignore[arg-type]
    assert [(f.subject, f.grade, f.marker, f.source) for f in flags] == [
        ("русский язык", "5", "5 РУ", "ФИС ОКО"),
        ("математика", "6", "6 МА", "ФИС ОКО"),
    ]


def test_schools_directory_keeps_list_flags(app: App) -> None:
    from engine.app.directory import schools

    load_directory(app)
    risks_import(app, fixture("risks_2025.csv"))
    schools(app, fixture("schools.csv"))  # re-import replaces the directory's own flags only
    assert _count(app, RiskFlag) == 5


def test_indicators_are_suggestions_with_their_numbers(app: App) -> None:
    # Round 2026, thresholds of workflows/rules.toml (above the region by 20 points,
    # «Понизили» ≥ 20 %, «Повысили» ≥ 30 %, ВПР above ГИА by 25 points, groups ≥ 20):
    # русский 5: region (54,3·46 + 80·50 + 34,2·38)/134 = 58,19 %; Гимназия № 3 has 80 %
    # математика 5: Гимназия № 3 has 90 % against 69,63 %, but teaches it in depth;
    # its ОГЭ 44,5 % — a gap of 45,5; «Повысили» 50 % (СШ № 1), 38 % and 34 %
    # (Гимназия № 3), 40 % (СШ № 4, 6 класс), 64,3 % (ООШ № 5, 14 participants).
    load_directory(app)
    results_import(app, fixture("results_2026.csv"))
    found = detect_signs(app, 2026)
    assert [(c.school_key, c.is_candidate) for c in found] == [
        ("gym3", True),
        ("sosh1", True),
        ("sosh4", True),
        ("oosh5", False),
    ]
    gym3 = {(s.indicator, s.subject): s.text for s in found[0].signs}
    assert gym3[("above_region", "русский язык")] == (
        "русский язык, 5 класс: доля «4» и «5» 80 % при 58,2 % по региону (выше на 21,8 %), "
        "предмет не изучается углублённо"
    )
    assert ("above_region", "математика") not in gym3
    assert gym3[("gia_gap", "математика")] == (
        "математика, 5 класс: доля «4» и «5» на ВПР 90 %, а на ОГЭ (9 класс) 44,5 % — разрыв 45,5 %"
    )
    assert sorted(k for k in gym3 if k[0] == "not_confirmed") == [
        ("not_confirmed", "математика"),
        ("not_confirmed", "русский язык"),
    ]
    small = found[3].signs[0]
    assert small.small_group and "мало участников (14, нужно не менее 20)" in small.text
    with session_scope(app.engine) as session:
        assert session.exec(select(func.count()).select_from(RiskFlag)).one() == 0  # never flags


def test_broken_rules_are_refused_with_the_line(tmp_path: Path) -> None:
    from engine.cases.rules import load_rules
    from engine.lifecycle.workflow import load_workflow
    from tests.conftest import ROOT

    cases = load_workflow(ROOT / "workflows" / "school_case.toml")
    text = (ROOT / "workflows" / "rules.toml").read_text(encoding="utf-8")
    for old, new, expected in [
        ('open_in = ["help_failed"', 'open_in = ["failed"', "unknown state 'failed'"),
        ('measure = "confirmed"', 'measure = "happiness"', "measure: expected one of"),
        ("min_participants = 20\n\n[[", "min_participants = -1\n\n[[", "expected a whole number"),
    ]:
        path = tmp_path / "rules.toml"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        line = next(
            n
            for n, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if new.split("\n")[0] in row
        )
        with pytest.raises(WorkflowError, match=expected) as refused:
            load_rules(path, cases)
        assert f"rules.toml:{line}" in str(refused.value) or "rules.toml:" in str(refused.value)


def test_the_system_key_is_reserved(app: App, tmp_path: Path) -> None:
    from engine.app.directory import people

    path = tmp_path / "people.csv"
    path.write_text("key,name\nsystem,Кто-то\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"people\.csv:2: key: .system. is reserved"):
        people(app, path)
