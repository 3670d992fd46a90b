"""What every command shares: the root command, the consoles, the application per call.

Each module of this package adds its commands to :data:`app` (or a sub-command group of
its own); ``engine.cli`` imports them all and holds :func:`~engine.cli.main`. Everything
printed for a person is Russian and fits a terminal of 80 columns: tables come from
:func:`table`, which wraps cells instead of overflowing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine.core.errors import MeasuresError

if TYPE_CHECKING:  # the application (SQLAlchemy, the models...) loads with the first command
    from engine.app import App

app = typer.Typer(
    rich_markup_mode="markdown",
    name="measures",
    help="Исполнение планов мероприятий комитета: задачи, сроки, согласования, журнал.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _russian_help() -> None:
    """Typer's help panels in Russian (their titles are module settings of rich_utils)."""
    from typer import rich_utils

    rich_utils.ARGUMENTS_PANEL_TITLE = "Аргументы"
    rich_utils.OPTIONS_PANEL_TITLE = "Параметры"
    rich_utils.COMMANDS_PANEL_TITLE = "Команды"
    rich_utils.ERRORS_PANEL_TITLE = "Ошибка"
    rich_utils.ABORTED_TEXT = "Прервано."
    rich_utils.DEFAULT_STRING = "[по умолчанию: {}]"
    rich_utils.REQUIRED_LONG_STRING = "[обязательно]"
    rich_utils.RICH_HELP = "Справка: [blue]'{command_path} {help_option}'[/]."

    from typer._click import core

    original = core.Command.get_help_option
    if getattr(original, "russian", False):
        return

    def get_help_option(self: core.Command, ctx: core.Context) -> Any:
        option = original(self, ctx)
        if option is not None:
            option.help = "Показать эту справку и выйти."
        return option

    get_help_option.russian = True  # type: ignore[attr-defined]
    core.Command.get_help_option = get_help_option  # type: ignore[method-assign]


_russian_help()

out = Console(soft_wrap=False)
err = Console(stderr=True, soft_wrap=True)

T = TypeVar("T")

#: Largest id a person may type: the databases' 64-bit keys.
MAX_ID = 2**62


def state_of(ctx: typer.Context) -> App:
    state: App | None = ctx.obj
    if state is None:
        from engine.app import App

        params = ctx.find_root().params
        state = App.load(params.get("config"), params.get("now"))
        ctx.find_root().obj = state
    return state


def parse_day(text: str, option: str) -> date:
    """A calendar date typed by a person, within the years a plan can concern."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise MeasuresError(f"{option}: ожидается дата ГГГГ-ММ-ДД, а не {text!r}") from None
    if not 1900 <= day.year <= 2200:
        raise MeasuresError(f"{option}: {text!r} — вне 1900–2200 годов")
    return day


def parse_span(first: str, last: str, option: str) -> tuple[date, date]:
    start, end = parse_day(first, option), parse_day(last, option)
    if end < start:
        raise MeasuresError(f"{option}: период кончается ({end}) раньше, чем начинается ({start})")
    return start, end


def _task_id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise typer.BadParameter(f"номер задачи — целое число от 1, а не {value}")
    return value


TaskId = Annotated[
    int,
    typer.Argument(
        help="Номер задачи (см. measures tasks).", callback=_task_id, show_default=False
    ),
]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def print_json_rows(rows: Iterable[Any]) -> None:
    """A JSON list written item by item as it is read — the text :func:`print_json` would
    write for the whole list, without holding it."""
    first = True
    for row in rows:
        item = json.dumps(row, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        sys.stdout.write(("[\n  " if first else ",\n  ") + item)
        first = False
    sys.stdout.write("[]\n" if first else "\n]\n")


#: Rows per printed table of a long listing: a page is printed before the next is read.
PAGE_ROWS = 200


def print_pages(
    rows: Iterable[T], headers: Sequence[str], cells: Callable[[T], Sequence[str | Text]]
) -> int:
    """A listing of any length as tables of :data:`PAGE_ROWS` rows (the header once),
    each printed as soon as it is read; how many rows were printed."""
    iterator = iter(rows)
    shown = 0
    while page := list(islice(iterator, PAGE_ROWS)):
        lines = table(*headers)
        lines.show_header = shown == 0
        for row in page:
            lines.add_row(*cells(row))
        out.print(lines)
        shown += len(page)
    if shown == 0:
        out.print(table(*headers))
    return shown


def table(*headers: str) -> Table:
    """A table that wraps its cells to the terminal's width (80 columns are enough)."""
    shown = Table(*headers, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for column in shown.columns:
        column.overflow = "fold"
    return shown


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word to at most ``limit`` characters, with «…» if cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(" ,.;:—-") + "…"


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Файл настроек (по умолчанию $MEASURES_CONFIG или ./config.toml).",
            dir_okay=False,
        ),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="Считать, что сейчас этот момент (дата или дата-время ISO; часовой пояс "
            "комитета, если не указан). Также $MEASURES_NOW. Изменять данные при "
            "переведённых часах можно только в учебной базе (init --simulation).",
        ),
    ] = None,
) -> None:
    """Исполнение планов мероприятий комитета: задачи, сроки, согласования, журнал."""
