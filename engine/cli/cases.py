"""Schools at risk: results and risk lists in, indicators, the case board, one case."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from engine.cli.base import app, out, print_json, state_of
from engine.cli.directory import DryRun, _checked

if TYPE_CHECKING:
    from engine.app.cases import DataIn

results_app = typer.Typer(help="Результаты оценочных процедур (ВПР, ГИА).", no_args_is_help=True)
risks_app = typer.Typer(
    help="Перечни школ с признаками необъективности и с низкими результатами; индикаторы.",
    no_args_is_help=True,
)
case_app = typer.Typer(
    help="Дело школы: история, программа помощи, оценка, меры воздействия.",
    no_args_is_help=True,
    invoke_without_command=True,
    # `measures case SCHOOL --json` as well as `measures case --json SCHOOL`: the group
    # reads its own options anywhere and leaves the sub-command's to it.
    context_settings={"allow_interspersed_args": True, "ignore_unknown_options": True},
)
app.add_typer(results_app, name="results")
app.add_typer(risks_app, name="risks")
app.add_typer(case_app, name="case")

SkipBad = Annotated[
    bool,
    typer.Option(
        "--skip-bad-rows", help="Загрузить верные строки, а ошибочные перечислить (иначе — ничего)."
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Вывод для программ (JSON).")]
Actor = Annotated[str, typer.Option("--as", help="Кто действует: ключ или e-mail.")]
Risk = Annotated[
    str | None,
    typer.Option(
        "--risk", help="Вид риска, если у школы несколько дел: non_objective | low_results."
    ),
]


def _print_data_in(
    ctx: typer.Context, done: DataIn, as_json: bool, what: str, dry_run: bool = False
) -> None:
    summary = done.summary
    label = state_of(ctx).case_workflow.label
    if as_json:
        print_json({**summary.as_json(), "cases_moved": done.check.moved})
        return
    years = ", ".join(str(y) for y in summary.years) or "—"
    out.print(
        f"{summary.path}: {what}, кодировка {summary.encoding}; строк {summary.rows}, "
        f"годы {years}: добавлено {summary.added}, обновлено {summary.updated}, "
        f"без изменений {summary.unchanged}."
    )
    if summary.seen_before and not (summary.added or summary.updated):
        out.print("Этот файл уже загружен: изменений нет.")
    if summary.opened_cases:
        out.print(f"Открыто дел: {summary.opened_cases} (measures cases).")
    if summary.skipped:
        out.print(f"Пропущены ошибочные строки ({len(summary.skipped)}):")
        for problem in summary.skipped:
            out.print(f"  {problem}", highlight=False)
    for case_id, before, after in done.check.moved:
        out.print(f"Дело {case_id}: {label(before)} → {label(after)}.")
    _checked(dry_run)


@results_app.command("import")
def results_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Выгрузка результатов: CSV или XLSX.")],
    skip_bad_rows: SkipBad = False,
    dry_run: DryRun = False,
    as_json: AsJson = False,
) -> None:
    """Загрузить результаты: Год, Класс, Предмет, Логин, ОО, участники, «2»–«5»,
    Понизили / Подтвердили / Повысили."""
    from engine.app.cases import results_import as load

    done = load(state_of(ctx), file, skip_bad_rows=skip_bad_rows, dry_run=dry_run)
    _print_data_in(ctx, done, as_json, "результаты", dry_run)


@risks_app.command("import")
def risks_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Перечень школ: CSV или XLSX.")],
    year: Annotated[
        int | None, typer.Option("--year", help="Год перечня, если в файле нет колонки «Год».")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Вид: non_objective | low_results, если нет колонки «Вид»."),
    ] = None,
    source: Annotated[str, typer.Option("--source", help="Источник перечня.")] = "",
    skip_bad_rows: SkipBad = False,
    dry_run: DryRun = False,
    as_json: AsJson = False,
) -> None:
    """Загрузить перечень школ (маркеры «4 РУ», «5 МА»); школа в перечне получает дело."""
    from engine.app.cases import risks_import as load

    done = load(
        state_of(ctx),
        file,
        year=year,
        kind=kind,
        source=source,
        skip_bad_rows=skip_bad_rows,
        dry_run=dry_run,
    )
    _print_data_in(ctx, done, as_json, "перечень", dry_run)


@risks_app.command("detect")
def risks_detect(
    ctx: typer.Context,
    year: Annotated[int, typer.Option("--year", help="Год результатов.", min=2000, max=2100)],
    as_json: AsJson = False,
) -> None:
    """Признаки необъективности по загруженным результатам — только подсказки, решает человек."""
    from engine.app.cases import detect_signs

    found = detect_signs(state_of(ctx), year)
    if as_json:
        print_json([c.as_json() for c in found])
        return
    candidates = [c for c in found if c.is_candidate]
    out.print(
        f"Результаты {year} года: школ с признаками — {len(candidates)}. Это подсказки, а не "
        "решение: школу вносит в перечень человек. Учителя не оцениваются и не ранжируются."
    )
    for candidate in found:
        mark = "" if candidate.is_candidate else " (только малые группы — не основание)"
        out.print(f"\n{candidate.school} [{candidate.school_key}]{mark}", highlight=False)
        for sign in candidate.signs:
            out.print(f"  • {sign.text}", highlight=False)


@app.command("cases")
def cases_board(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Только открытые дела.")] = False,
    as_json: AsJson = False,
) -> None:
    """Доска дел: школа, вид риска, стадия, дней на стадии, следующий шаг, просроченная помощь."""
    from engine.app.cases import cases_board as rows_of

    rows = rows_of(state_of(ctx), open_only=open_only)
    if as_json:
        print_json([row.as_json() for row in rows])
        return
    table = Table("Школа", "Риск", "Год", "Стадия", "Дней", "Помощь", "Просрочено", "Следующий шаг")
    for row in rows:
        stage = row.state_label + (" [red](в обход правила)[/red]" if row.override else "")
        help_text = f"{row.help_done}/{row.help_tasks}" if row.help_plan_id else "—"
        table.add_row(
            f"{row.school} [{row.school_key}]",
            row.kind_label,
            str(row.year),
            stage,
            str(row.days_in_stage),
            help_text,
            str(row.overdue_help_tasks) if row.overdue_help_tasks else "",
            row.next_step,
        )
    out.print(table)
    out.print(f"Дел: {len(rows)}.")


def _school(ctx: typer.Context) -> tuple[str, str | None]:
    params = (ctx.parent or ctx).params
    return params["school"], params.get("risk")


@case_app.callback()
def case(
    ctx: typer.Context,
    school: Annotated[str, typer.Argument(help="Школа: ключ, название или псевдоним.")],
    risk: Risk = None,
    as_json: AsJson = False,
) -> None:
    """Дело школы: история, мероприятия помощи, оценки с цифрами и почему меры воздействия
    открыть можно или нельзя."""
    if ctx.invoked_subcommand is not None:
        return
    from engine.app.cases import case_detail

    state = state_of(ctx)
    view = case_detail(state, school, risk)
    if as_json:
        print_json(view.as_json())
        return
    zone = state.config.timezone
    out.print(
        f"[bold]{view.school}[/bold] [{view.school_key}] — {view.kind_label}, перечень "
        f"{view.year} года. Стадия: {view.state_label} ({view.state}).",
        highlight=False,
    )
    out.print(f"Куратор: {view.curator or '—'}; контроль: {view.supervisor or '—'}.")
    if view.flags:
        listed = "; ".join(
            f"{f['year']}: " + (f["marker"] or f"{f['subject'] or 'все предметы'} {f['grade']}")
            for f in view.flags
        )
        out.print(f"В перечнях: {listed}.", highlight=False)
    if view.help_plan_id:
        out.print(f"\nПрограмма помощи: план {view.help_plan_id} «{view.help_plan}».")
        table = Table("Задача", "№", "Мероприятие", "Ответственный", "Срок", "Состояние")
        for item in view.help_tasks:
            due = item["due_date"] or "—"
            table.add_row(
                str(item["task_id"]),
                item["number"],
                item["title"][:70],
                item["responsible"] or "—",
                f"[red]{due}[/red]" if item["overdue"] else due,
                item["state_label"],
            )
        out.print(table)
    else:
        out.print("\nПрограмма помощи не назначена.")
    for evaluation in view.evaluations:
        out.print(
            f"\nОценка {evaluation['year_before']} → {evaluation['year_after']}: "
            f"{evaluation['verdict_label']}.",
            highlight=False,
        )
        for pair in evaluation["details"]:
            where = f"{pair['subject'] or 'все предметы'}, {pair['grade'] or 'все'} класс"
            rule = f" [правило {pair['rule']}]" if pair["rule"] else ""
            out.print(f"  • {where}: {pair['text']}{rule}", highlight=False)
    for measure in view.administrative:
        mark = " — В ОБХОД ПРАВИЛА" if measure["override"] else ""
        task = (
            f", задача {measure['task_id']} ({measure['task_state_label']})"
            if measure["task_id"]
            else ""
        )
        out.print(
            f"\nМера воздействия {measure['id']}: {measure['label']} — {measure['state_label']}"
            f"{task}{mark}. Основание: {measure['reason']}",
            highlight=False,
        )
    if view.gate.open:
        out.print("\n[green]Меры воздействия открыть можно[/green]: помощь не дала сдвига.")
    else:
        out.print("\nМеры воздействия открыть нельзя:")
        for reason in view.gate.reasons:
            out.print(f"  • {reason}", highlight=False)
    table = Table("Когда", "Что", "Действие", "Из", "В", "Кто", "Комментарий")
    for row in view.history:
        subject = "дело" if row.subject == "case" else f"мера {row.subject_id}"
        if row.override:
            subject += " (в обход правила)"
        table.add_row(
            row.at.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
            subject,
            row.event,
            row.from_state or "—",
            row.to_state,
            row.actor_name,
            row.comment,
        )
    out.print()
    out.print(table)


@case_app.command("help")
def case_help(
    ctx: typer.Context,
    actor: Actor,
    plan: Annotated[
        int | None, typer.Option("--plan", help="Готовый план с мероприятиями для этой школы.")
    ] = None,
    template: Annotated[
        bool,
        typer.Option("--template", help="Составить программу по workflows/help_programme.toml."),
    ] = False,
    curator: Annotated[
        str | None, typer.Option("--curator", help="Куратор дела (по умолчанию — кто назначает).")
    ] = None,
) -> None:
    """Назначить программу помощи (адресную) и связать её с делом школы."""
    from engine.app.cases import assign_help

    school, risk = _school(ctx)
    state = state_of(ctx)
    linked = assign_help(
        state, school, actor, plan_id=plan, template=template, kind=risk, curator=curator
    )
    if linked.already:
        out.print(f"Программа помощи уже назначена: план {linked.plan.id} «{linked.plan.title}».")
        return
    out.print(
        f"Программа помощи: план {linked.plan.id} «{linked.plan.title}», мероприятий для школы: "
        f"{linked.tasks}."
    )
    label = state.case_workflow.label
    for fired in linked.fired:
        out.print(
            f"Дело: {label(fired.audit.from_state)} → {label(fired.audit.to_state)} "
            f"({fired.actor.name})."
        )


@case_app.command("open-administrative")
def case_open_administrative(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Argument(help="Вид меры (workflows/rules.toml), например unscheduled_inspection."),
    ],
    actor: Actor,
    reason: Annotated[str, typer.Option("--reason", help="Основание (обязательно).")],
    override: Annotated[
        bool,
        typer.Option(
            "--override",
            help="Администратор: открыть в обход правила (письменное обоснование в --reason).",
        ),
    ] = False,
    responsible: Annotated[
        str | None,
        typer.Option("--responsible", help="Кто исполняет меру (по умолчанию — кто запросил)."),
    ] = None,
    supervisor: Annotated[
        str | None, typer.Option("--supervisor", help="Кто проверяет исполнение.")
    ] = None,
) -> None:
    """Запросить меру административного воздействия — только если помощь не дала сдвига."""
    from engine.app.cases import open_administrative

    school, risk = _school(ctx)
    measure = open_administrative(
        state_of(ctx),
        school,
        kind,
        actor,
        reason,
        override=override,
        risk=risk,
        responsible=responsible,
        supervisor=supervisor,
    )
    mark = " В ОБХОД ПРАВИЛА (решение администратора)." if measure.override else ""
    out.print(
        f"Мера воздействия {measure.id} запрошена и ждёт утверждения другим контролирующим "
        f"лицом: measures case {school} approve-administrative {measure.id} --as …{mark}"
    )


def _decide(ctx: typer.Context, measure: int, event: str, actor: str, comment: str) -> None:
    from engine.app.cases import decide_administrative_measure

    state = state_of(ctx)
    fired, task = decide_administrative_measure(state, measure, event, actor, comment)
    label = state.admin_workflow.label(fired.audit.to_state)
    out.print(f"Мера воздействия {measure}: {label}; {fired.actor.name}.")
    if task is not None:
        out.print(
            f"Создана задача {task.id}, срок {task.due_date:%d.%m.%Y} (measures tasks)."
            if task.due_date
            else f"Создана задача {task.id}."
        )


MeasureId = Annotated[int, typer.Argument(help="Номер меры воздействия.", min=1, max=2**62)]


@case_app.command("approve-administrative")
def case_approve(
    ctx: typer.Context,
    measure: MeasureId,
    actor: Actor,
    comment: Annotated[str, typer.Option("--comment", help="Комментарий.")] = "",
) -> None:
    """Утвердить меру воздействия (не тот, кто запросил); она становится задачей."""
    _decide(ctx, measure, "approve", actor, comment)


@case_app.command("reject-administrative")
def case_reject(
    ctx: typer.Context,
    measure: MeasureId,
    actor: Actor,
    comment: Annotated[str, typer.Option("--comment", help="Причина (обязательно).")] = "",
) -> None:
    """Отклонить меру воздействия с причиной."""
    _decide(ctx, measure, "reject", actor, comment)


@case_app.command("close")
def case_close(
    ctx: typer.Context,
    actor: Actor,
    comment: Annotated[str, typer.Option("--comment", help="Итог (обязательно).")] = "",
) -> None:
    """Закрыть дело школы с итогом."""
    from engine.app.cases import fire_case

    school, risk = _school(ctx)
    state = state_of(ctx)
    fired = fire_case(state, school, "close", actor, comment, risk)
    out.print(
        f"Дело: {state.case_workflow.label(fired.audit.from_state)} → "
        f"{state.case_workflow.label(fired.audit.to_state)}; {fired.actor.name}."
    )
