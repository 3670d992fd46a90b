"""Looking after an installation: database, configuration, workflows, audit, backups."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from engine.cli.base import app, err, out, state_of, table
from engine.core.words import ROLE_NAMES, ROWS, count_ru

_REQUIREMENTS = {"comment": "нужен комментарий"}

workflow_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Порядок работы с задачей (workflows/): состояния, действия, права.",
    no_args_is_help=True,
)
audit_app = typer.Typer(
    rich_markup_mode="markdown", help="Журнал всех действий по задачам.", no_args_is_help=True
)
config_app = typer.Typer(rich_markup_mode="markdown", help="Файл настроек.", no_args_is_help=True)
app.add_typer(workflow_app, name="workflow")
app.add_typer(audit_app, name="audit")
app.add_typer(config_app, name="config")


@app.command()
def init(
    ctx: typer.Context,
    simulation: Annotated[
        bool,
        typer.Option(
            "--simulation",
            help="Учебная база: разрешить изменения при переведённых часах (--now). "
            "Для рабочей базы не указывать.",
        ),
    ] = False,
) -> None:
    """Создать базу данных или обновить её схему до этой версии. Можно повторять."""
    from engine.app.operations import init as set_up

    state = state_of(ctx)
    done = set_up(state, simulation=simulation)
    url = state.engine.url.render_as_string(hide_password=True)
    if done.before == done.after:
        out.print(f"База данных {url} в актуальном состоянии (схема {done.after}).")
    else:
        out.print(f"База данных {url}: схема {done.before or 'пустая'} → {done.after}.")
    if done.rekeyed is not None:
        out.print(
            f"Журнал аудита: проверено записей — {done.rekeyed.checked}; цепочка заново "
            "подписана ключом экземпляра (HMAC-SHA256)."
        )
    if simulation:
        out.print("База отмечена как учебная: команды можно выполнять с --now.")


@workflow_app.command("show")
def workflow_show(
    ctx: typer.Context,
    rules: Annotated[
        bool,
        typer.Option("--rules", help="Вместо схемы — таблица действий, ролей и требований."),
    ] = False,
) -> None:
    """Схема жизненного цикла задачи на языке Mermaid (вставьте в любой просмотрщик Mermaid)."""
    from engine.lifecycle.workflow import mermaid

    definition = state_of(ctx).workflow
    if not rules:
        sys.stdout.write(mermaid(definition))
        return
    shown = table("Действие", "Из состояния", "В состояние", "Кто может", "Условия")
    for e in definition.events.values():
        needs = [_REQUIREMENTS.get(r, r) for r in e.requires]
        if e.four_eyes:
            needs.append("не по своему отчёту")
        shown.add_row(
            f"{e.label}\n({e.name})",
            "\n".join(definition.label(s) for s in e.source),
            definition.label(e.dest),
            "\n".join(ROLE_NAMES.get(r, r) for r in e.roles),
            "\n".join(needs) or "—",
        )
    out.print(shown)


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Проверить журнал: цепочку хешей и состояния задач; назвать первое нарушение."""
    from engine.app.operations import verify_audit

    result = verify_audit(state_of(ctx))
    if not result.ok:
        err.print(
            Text("Журнал НАРУШЕН", style="red")
            + Text(f" (проверено {count_ru(result.checked, *ROWS)}): {result.problem}")
        )
        raise typer.Exit(1)
    out.print(f"Журнал цел: проверено {count_ru(result.checked, *ROWS)}, состояния задач сходятся.")


@config_app.command("template")
def config_template() -> None:
    """Напечатать config.toml: каждый ключ, его значение по умолчанию и смысл."""
    from engine.core.settings import render_template

    sys.stdout.write(render_template())


@config_app.command("check")
def config_check(ctx: typer.Context) -> None:
    """Проверить настройки и файлы workflows/, показать, где лежат данные."""
    state = state_of(ctx)
    _ = state.workflow
    cfg = state.config
    out.print(f"Настройки: {cfg.source or 'по умолчанию (файла настроек нет)'}")
    out.print(f"База данных: {state.engine.url.render_as_string(hide_password=True)}")
    out.print(f"Папка данных: {cfg.data_dir}")
    out.print(f"Порядок работы: {cfg.workflows_dir}")


@app.command("backup")
def backup_command(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(help="Новый файл для резервной копии.")],
) -> None:
    """Скопировать базу SQLite на ходу (для PostgreSQL — подсказка про pg_dump)."""
    from engine.app.operations import backup

    path = backup(state_of(ctx), target)
    out.print(f"Резервная копия записана в {path}.")


@app.command("restore")
def restore_command(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="Файл, сделанный measures backup.")],
) -> None:
    """Заменить базу SQLite резервной копией. Сначала остановите демон."""
    from engine.app.operations import restore

    restore(state_of(ctx), source)
    out.print(f"База данных восстановлена из {source}.")
