"""The directory files: people, schools with risk flags, the assessment calendar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.cli.base import app, out, print_json, state_of, table

people_app = typer.Typer(
    rich_markup_mode="markdown", help="Справочник сотрудников.", no_args_is_help=True
)
app.add_typer(people_app, name="people")
events_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Календарь оценочных процедур (ВПР, НИКО, ГИА).",
    no_args_is_help=True,
)
schools_app = typer.Typer(
    rich_markup_mode="markdown", help="Справочник школ и признаки риска.", no_args_is_help=True
)
app.add_typer(events_app, name="events")
app.add_typer(schools_app, name="schools")

DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Только проверить файл и показать итог; ничего не писать.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Вывод для программ (JSON).")]


def _checked(dry_run: bool) -> None:
    if dry_run:
        out.print("Проверка (--dry-run): в базу ничего не записано.")


@events_app.command("import")
def events_import(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="CSV со столбцами: name, kind, subject, grade, date.")
    ],
    dry_run: DryRun = False,
) -> None:
    """Заменить календарь процедур; привязанные к ним сроки задач переносятся вместе с ним."""
    from engine.app.directory import assessment_calendar

    done = assessment_calendar(state_of(ctx), file, dry_run=dry_run)
    summary, changes = done.events, done.tasks
    out.print(
        f"{file}: событий добавлено {summary.added}, удалено {summary.removed}, без изменений "
        f"{summary.unchanged}; задач создано {changes.created}, перенесено {changes.updated}, "
        f"удалено {changes.removed}."
    )
    _checked(dry_run)


@events_app.command("list")
def events_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Показать календарь оценочных процедур по датам."""
    from engine.app.directory import list_events

    events = list_events(state_of(ctx))
    if as_json:
        print_json(
            [
                {
                    "date": e.date.isoformat(),
                    "kind": e.kind,
                    "name": e.name,
                    "subject": e.subject,
                    "grade": e.grade,
                }
                for e in events
            ]
        )
        return
    shown = table("Дата", "Вид", "Название", "Предмет", "Класс")
    for event in events:
        shown.add_row(f"{event.date:%d.%m.%Y}", event.kind, event.name, event.subject, event.grade)
    out.print(shown)
    out.print(f"Событий: {len(events)}.")


@schools_app.command("import")
def schools_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV со столбцами: key, name, short_name, email, head, aliases, flags."
        ),
    ],
    dry_run: DryRun = False,
) -> None:
    """Добавить или обновить школы (по key): руководители, другие названия, признаки риска.

    Столбец, которого нет в файле, оставляет это поле школ без изменений.
    """
    from engine.app.directory import schools

    summary = schools(state_of(ctx), file, dry_run=dry_run)
    if not (summary.created or summary.updated):
        out.print(f"{file}: изменений нет.")
    else:
        out.print(
            f"{file}: новых {summary.created}, обновлено {summary.updated}, "
            f"признаков риска {summary.flags}."
        )
    _checked(dry_run)


@schools_app.command("list")
def schools_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Показать школы с руководителями и признаками риска."""
    from dataclasses import asdict

    from engine.app.directory import list_schools

    rows = list_schools(state_of(ctx))
    if as_json:
        print_json([asdict(row) for row in rows])
        return
    shown = table("Ключ", "Школа", "Руководитель", "Признаки")
    for row in rows:
        shown.add_row(row.key, row.short_name or row.name, row.head or "—", ", ".join(row.flags))
    out.print(shown)
    out.print(f"Школ: {len(rows)}.")


@people_app.command("import")
def people_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV со столбцами: key, name, position, organisation, email, roles, "
            "aliases, deputies."
        ),
    ],
    dry_run: DryRun = False,
) -> None:
    """Добавить или обновить сотрудников (по key): роли, другие имена, периоды замещения.

    Столбец, которого нет в файле, оставляет это поле сотрудников без изменений (пустая
    ячейка — очищает). Адреса почты не повторяются.
    """
    from engine.app.directory import people

    summary = people(state_of(ctx), file, dry_run=dry_run)
    if not (summary.created or summary.updated):
        out.print(f"{file}: изменений нет.")
    else:
        out.print(
            f"{file}: новых {summary.created}, обновлено {summary.updated}, "
            f"периодов замещения {summary.deputy_periods}."
        )
    if summary.kept_columns:
        out.print(f"Нет в файле, оставлено как было: {', '.join(summary.kept_columns)}.")
    _checked(dry_run)


@people_app.command("list")
def people_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Показать сотрудников: роли, адреса, кто их замещает и когда."""
    from dataclasses import asdict

    from engine.app.directory import list_people

    rows = list_people(state_of(ctx))
    if as_json:
        print_json([asdict(row) for row in rows])
        return
    shown = table("Ключ", "Сотрудник, почта", "Роли", "Замещают")
    for row in rows:
        name = row.name + ("" if row.active else " (не работает)")
        shown.add_row(
            row.key,
            f"{name}\n{row.email or 'нет почты'}",
            "\n".join(row.roles),
            "\n".join(row.deputies),
        )
    out.print(shown)
    out.print(f"Сотрудников: {len(rows)}.")
