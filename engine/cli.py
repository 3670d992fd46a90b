"""The ``measures`` command.

Every command loads the configuration (``--config`` / ``MEASURES_CONFIG``), takes its
time from ``--now`` / ``MEASURES_NOW`` when given, and reports user mistakes as one clear
message on stderr with exit code 1 — never a traceback (see :func:`main`).
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine.app import App
from engine.clock import local_date
from engine.db import session_scope, upgrade
from engine.errors import MeasuresError, NotFound
from engine.models import Task

app = typer.Typer(
    name="measures",
    help="Runs the committee's action plans: tasks, deadlines, approvals, audit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
people_app = typer.Typer(help="The directory of persons.", no_args_is_help=True)
workflow_app = typer.Typer(help="The workflow definitions in workflows/.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log of every transition.", no_args_is_help=True)
config_app = typer.Typer(help="The configuration file.", no_args_is_help=True)
app.add_typer(people_app, name="people")
app.add_typer(workflow_app, name="workflow")
app.add_typer(audit_app, name="audit")
app.add_typer(config_app, name="config")
schedule_app = typer.Typer(help="Deadline phrases and their dates.", no_args_is_help=True)
events_app = typer.Typer(help="The assessment calendar (ВПР, НИКО, ГИА).", no_args_is_help=True)
schools_app = typer.Typer(help="The schools directory and risk flags.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")
app.add_typer(events_app, name="events")
app.add_typer(schools_app, name="schools")
ladder_app = typer.Typer(help="Reminder and escalation ladders.", no_args_is_help=True)
app.add_typer(ladder_app, name="ladder")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _app(ctx: typer.Context) -> App:
    state: App | None = ctx.obj
    if state is None:
        params = ctx.find_root().params
        state = App.load(params.get("config"), params.get("now"))
        ctx.find_root().obj = state
    return state


def _day(text: str, option: str) -> date:
    """A calendar date typed by a person, within the years a plan can concern."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise MeasuresError(f"{option}: expected a date YYYY-MM-DD, got {text!r}") from None
    if not 1900 <= day.year <= 2200:
        raise MeasuresError(f"{option}: {text!r} is outside the years 1900–2200")
    return day


def _span(first: str, last: str, option: str) -> tuple[date, date]:
    start, end = _day(first, option), _day(last, option)
    if end < start:
        raise MeasuresError(f"{option}: the period ends ({end}) before it starts ({start})")
    return start, end


TaskId = Annotated[int, typer.Argument(help="Task id (see `measures tasks`).", min=1, max=2**62)]


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Configuration file (default: $MEASURES_CONFIG or ./config.toml).",
            dir_okay=False,
        ),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="Pretend the current time is this (ISO date or date-time; committee "
            "time zone unless an offset is given). Also $MEASURES_NOW.",
        ),
    ] = None,
) -> None:
    """Runs the committee's action plans: tasks, deadlines, approvals, audit."""


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the database, or upgrade it to this version's schema. Safe to repeat."""
    state = _app(ctx)
    state.config.secret_key()  # generated on first start, kept in the data folder
    before, after = upgrade(state.engine)
    url = state.engine.url.render_as_string(hide_password=True)
    if before == after:
        out.print(f"Database {url} is up to date (schema {after}).")
    else:
        out.print(f"Database {url}: schema {before or 'empty'} → {after}.")


@app.command("import")
def import_plan(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Plan document: .txt table, .docx, .xlsx or .csv.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the review only; write nothing.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="The review as JSON (for machines).")
    ] = False,
) -> None:
    """Import a plan: every measure with its parsed deadline, responsible and tasks.

    Shows a review in Russian (every measure, its schedule, first due dates, responsible
    persons, problems). Without --dry-run the plan is written in one transaction; the same
    document again changes nothing, an edited one updates the plan keeping task states.
    """
    from engine.events import event_dates
    from engine.importers.readers import read_document
    from engine.plan_import import commit, review
    from engine.review_view import render_review

    state = _app(ctx)
    document = read_document(file)
    raw = file.read_bytes()
    with session_scope(state.ready_engine()) as session:
        result = review(
            session,
            document,
            raw,
            state.calendar,
            event_dates(session),
            state.config["schedule.continuous_cadence"],
            local_date(state.clock, state.config.timezone),
        )
        outcome = (
            None if dry_run else commit(session, result, state.workflow.initial, state.clock.now())
        )
    if as_json:
        data = result.as_json()
        if outcome is not None:
            data["imported"] = {
                "plan_id": outcome.plan.id,
                "created": outcome.created,
                "tasks_created": outcome.tasks.created,
                "tasks_updated": outcome.tasks.updated,
                "tasks_removed": outcome.tasks.removed,
                "tasks_kept": outcome.tasks.kept,
            }
        _print_json(data)
        return
    render_review(out, result, dry_run)
    if outcome is not None and (not result.unchanged or outcome.tasks.any):
        t = outcome.tasks
        verb = "загружен как план" if outcome.created else "обновлён: план"
        out.print(
            f"{file}: {verb} {outcome.plan.id}; задач создано {t.created}, "
            f"изменено {t.updated}, удалено {t.removed}"
            + (f", оставлено с историей {len(t.kept)}" if t.kept else "")
            + "."
        )


@schedule_app.command("explain")
def schedule_explain(
    ctx: typer.Context,
    phrase: Annotated[str, typer.Argument(help="A deadline phrase, e.g. 'Октябрь-ноябрь 2021'.")],
    period: Annotated[
        str, typer.Option("--period", help="The plan's period: YYYY-MM-DD:YYYY-MM-DD.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show how a deadline phrase is understood: kind, cadence, event offset, dates."""
    from engine.events import event_dates
    from engine.review_view import CADENCE_NAMES, KIND_NAMES
    from engine.schedule import occurrences, parse_deadline, schedule_json

    state = _app(ctx)
    parts = period.split(":")
    if len(parts) != 2:
        raise MeasuresError(f"--period: expected YYYY-MM-DD:YYYY-MM-DD, got {period!r}")
    first, last = _span(parts[0], parts[1], "--period")
    try:
        with session_scope(state.ready_engine()) as session:
            events = event_dates(session)
    except MeasuresError:
        events = []  # no database yet: explain works without the event calendar
    schedule = parse_deadline(phrase, (first, last))
    dated = occurrences(
        schedule, (first, last), state.calendar, events, state.config["schedule.continuous_cadence"]
    )
    data = schedule_json(schedule, dated)
    if as_json:
        _print_json(data)
        return
    out.print(f"Вид срока: {KIND_NAMES.get(schedule.kind, schedule.kind)} ({schedule.kind})")
    if schedule.cadence:
        out.print(f"Периодичность: {CADENCE_NAMES.get(schedule.cadence, schedule.cadence)}")
    if schedule.event:
        out.print(f"Привязка к процедурам: {schedule.event.offset_working_days:+d} рабочих дней")
    for occurrence in dated:
        start = f"{occurrence.start:%d.%m.%Y} – " if occurrence.start else "до "
        out.print(f"  {start}{occurrence.due:%d.%m.%Y}")
    for problem in schedule.problems:
        err.print(Text(f"Замечание: {problem}", style="red"))


@events_app.command("import")
def events_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV with columns name,kind,subject,grade,date.")],
) -> None:
    """Replace the assessment calendar (ВПР, НИКО, ГИА); event-bound tasks follow it."""
    from engine.events import event_dates, import_events
    from engine.plan_import import reexpand_events

    state = _app(ctx)
    with session_scope(state.ready_engine()) as session:
        summary = import_events(session, file)
        changes = reexpand_events(
            session,
            state.calendar,
            event_dates(session),
            state.config["schedule.continuous_cadence"],
            state.workflow.initial,
            state.clock.now(),
        )
        session.commit()
    out.print(
        f"{file}: событий добавлено {summary.added}, удалено {summary.removed}, без изменений "
        f"{summary.unchanged}; задач создано {changes.created}, перенесено {changes.updated}, "
        f"удалено {changes.removed}."
    )


@schools_app.command("import")
def schools_import(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="CSV with columns key,name,short_name,email,head,aliases,flags.")
    ],
) -> None:
    """Add or update schools (by key) with their heads, aliases and risk flags."""
    from engine.schools import import_schools

    state = _app(ctx)
    with session_scope(state.ready_engine()) as session:
        summary = import_schools(session, file)
    out.print(
        f"{file}: {summary.created} new, {summary.updated} updated, {summary.flags} risk flags."
    )


@people_app.command("import")
def people_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with columns key,name,position,organisation,email,roles,aliases,deputies."
        ),
    ],
) -> None:
    """Add or update persons (by key) with roles, aliases and deputy periods."""
    from engine.directory import import_people

    state = _app(ctx)
    with session_scope(state.ready_engine()) as session:
        summary = import_people(session, file)
    out.print(
        f"{file}: {summary.created} new, {summary.updated} updated, "
        f"{summary.deputy_periods} deputy periods."
    )


@app.command()
def tasks(
    ctx: typer.Context,
    state_filter: Annotated[
        str | None, typer.Option("--state", help="Only tasks in this state.")
    ] = None,
    person: Annotated[
        str | None,
        typer.Option(
            "--person",
            help="Only tasks where this person (key or email) is responsible or supervisor.",
        ),
    ] = None,
    plan: Annotated[int | None, typer.Option("--plan", help="Only this plan's tasks.")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only tasks past their due date that still owe work.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List tasks with their due dates and states."""
    from engine.directory import find_person
    from engine.queries import list_tasks

    state = _app(ctx)
    workflow = state.workflow
    if state_filter and state_filter not in workflow.states:
        raise MeasuresError(
            f"--state: unknown state {state_filter!r}; states are {', '.join(workflow.states)}"
        )
    with session_scope(state.ready_engine()) as session:
        who = find_person(session, person) if person else None
        rows = list_tasks(
            session,
            workflow,
            local_date(state.clock, state.config.timezone),
            state=state_filter,
            person=who,
            plan_id=plan,
            overdue=overdue,
        )
    if as_json:
        _print_json([row.as_json() for row in rows])
        return
    table = Table("№", "План", "Мероприятие", "Ответственный", "Срок", "Состояние")
    for row in rows:
        due = row.due_date.strftime("%d.%m.%Y") if row.due_date else "—"
        table.add_row(
            str(row.id),
            str(row.plan_id),
            f"{row.measure_number}. {row.title[:60]}",
            row.responsible or "—",
            f"[red]{due}[/red]" if row.overdue else due,
            workflow.label(row.state),
        )
    out.print(table)
    out.print(f"{len(rows)} task(s).")


@app.command()
def fire(
    ctx: typer.Context,
    task: TaskId,
    event: Annotated[str, typer.Argument(help="Event name, e.g. start, report, verify.")],
    actor: Annotated[str, typer.Option("--as", help="Who acts: a person's key or email.")],
    comment: Annotated[str, typer.Option("--comment", help="Report text or reason.")] = "",
    evidence: Annotated[
        list[str] | None,
        typer.Option("--evidence", help="Reference to supporting material (repeatable)."),
    ] = None,
    version: Annotated[
        int | None,
        typer.Option("--version", help="Refuse if the task is no longer at this version."),
    ] = None,
) -> None:
    """Fire an event on a task, as a person; refused with the reason if not allowed."""
    state = _app(ctx)
    done = state.lifecycle.fire(
        state.ready_engine(),
        task,
        event,
        actor,
        comment=comment,
        evidence=evidence or (),
        expected_version=version,
    )
    behalf = f" (за {done.on_behalf_of.name})" if done.on_behalf_of else ""
    out.print(
        f"Задача {task}: {state.workflow.label(done.audit.from_state)} → "
        f"{state.workflow.label(done.audit.to_state)}; {done.actor.name}{behalf}."
    )


@app.command()
def history(
    ctx: typer.Context,
    task: TaskId,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show every transition of a task: who, when, from, to, comment, evidence."""
    from engine.queries import history as task_history

    state = _app(ctx)
    zone = state.config.timezone
    with session_scope(state.ready_engine()) as session:
        if session.get(Task, task) is None:
            raise NotFound("task", task)
        rows = task_history(session, task)
    if as_json:
        _print_json(
            [
                {
                    "seq": row.seq,
                    "at": row.at.isoformat(),
                    "event": row.event,
                    "from": row.from_state,
                    "to": row.to_state,
                    "actor": actor.key,
                    "on_behalf_of": behalf.key if behalf else None,
                    "comment": row.comment,
                    "evidence": row.evidence,
                }
                for row, actor, behalf in rows
            ]
        )
        return
    table = Table("Когда", "Действие", "Из", "В", "Кто", "Комментарий")
    for row, actor, behalf in rows:
        who = actor.name + (f" (за {behalf.name})" if behalf else "")
        note = row.comment + (f" [{', '.join(row.evidence)}]" if row.evidence else "")
        table.add_row(
            row.at.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
            row.event,
            state.workflow.label(row.from_state),
            state.workflow.label(row.to_state),
            who,
            note,
        )
    out.print(table)


@workflow_app.command("show")
def workflow_show(
    ctx: typer.Context,
    rules: Annotated[
        bool,
        typer.Option("--rules", help="Print the table of events, roles and requirements instead."),
    ] = False,
) -> None:
    """Print the task lifecycle as a Mermaid state diagram (paste into any Mermaid viewer)."""
    from engine.workflow import mermaid

    definition = _app(ctx).workflow
    if not rules:
        sys.stdout.write(mermaid(definition))
        return
    table = Table("Event", "Label", "From", "To", "Roles", "Requires", "Four eyes")
    for e in definition.events.values():
        table.add_row(
            e.name,
            e.label,
            ", ".join(e.source),
            e.dest,
            ", ".join(e.roles),
            ", ".join(e.requires) or "—",
            "yes" if e.four_eyes else "no",
        )
    out.print(table)


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Check the hash chain of the audit log; report the first broken link."""
    from engine.audit import verify

    state = _app(ctx)
    with session_scope(state.ready_engine()) as session:
        result = verify(session)
    if not result.ok:
        err.print(
            Text("Audit log BROKEN", style="red")
            + Text(f" after {result.checked} intact row(s): {result.problem}")
        )
        raise typer.Exit(1)
    out.print(f"Audit log intact: {result.checked} row(s) verified.")


@config_app.command("template")
def config_template() -> None:
    """Print a config.toml with every key, its default and its meaning."""
    from engine.settings import render_template

    sys.stdout.write(render_template())


@config_app.command("check")
def config_check(ctx: typer.Context) -> None:
    """Validate the configuration and the workflow files, then say where data lives."""
    state = _app(ctx)
    _ = state.workflow
    cfg = state.config
    out.print(f"Configuration: {cfg.source or 'defaults (no config file)'}")
    out.print(f"Database: {state.engine.url.render_as_string(hide_password=True)}")
    out.print(f"Data folder: {cfg.data_dir}")
    out.print(f"Workflows: {cfg.workflows_dir}")


@app.command()
def run(
    ctx: typer.Context,
    now: Annotated[
        str | None,
        typer.Option("--now", help="Run as if it were this moment (demonstrations, tests)."),
    ] = None,
) -> None:
    """Run the daemon in the foreground until SIGTERM or Ctrl+C (see README, Operations)."""
    from engine.clock import clock_for
    from engine.daemon import run_daemon

    state = _app(ctx)
    if now is not None:
        state.clock = clock_for(now, state.config.timezone)
    state.ready_engine()
    _ = state.escalator  # refuse broken workflow or ladder files before starting
    run_daemon(state)


@app.command("sweep")
def sweep_once(
    ctx: typer.Context,
    send: Annotated[
        bool, typer.Option("--send", help="Also deliver what is due in the outbox.")
    ] = False,
) -> None:
    """Take the reminder and escalation steps due now and queue today's digests, once."""
    import asyncio

    from engine.digests import enqueue_digests
    from engine.sweep import sweep

    state = _app(ctx)
    result = sweep(state.ready_engine(), state.escalator, state.clock)
    digests = enqueue_digests(state.engine, state.escalator, state.clock)
    out.print(
        f"Шагов выполнено: {result.steps} (пропущено {result.skipped}), "
        f"писем в очереди: {result.messages}, сводок: {digests}."
    )
    if send:
        delivered = asyncio.run(state.deliver())
        if delivered.quiet:
            out.print("Нерабочее время: письма будут отправлены в рабочие часы.")
        else:
            out.print(
                f"Отправлено: {delivered.sent}, отложено: {delivered.retried}, "
                f"ошибок: {delivered.failed}."
            )


@app.command()
def simulate(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD), included.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print every reminder and escalation the current data would produce; sends nothing."""
    from datetime import datetime, time, timedelta

    from engine.simulate import simulate as timeline

    state = _app(ctx)
    first, last = _span(start, end, "--from/--to")
    zone = state.config.timezone
    begin = datetime.combine(first, time(0), tzinfo=zone)
    finish = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone) - timedelta(
        microseconds=1
    )
    with session_scope(state.ready_engine()) as session:
        entries = timeline(session, state.escalator, begin, finish)
    if as_json:
        _print_json([entry.as_json(state.escalator) for entry in entries])
        return
    table = Table("Отправка", "Задача", "Мероприятие", "Шаг", "Получатели")
    for entry in entries:
        who = ", ".join(entry.recipients) or "—"
        if entry.without_email:
            who += f" (нет адреса: {', '.join(entry.without_email)})"
        table.add_row(
            entry.send_at.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
            str(entry.task_id),
            entry.measure_number,
            entry.step + (" (пропуск)" if entry.skipped else ""),
            who,
        )
    out.print(table)
    out.print(f"{len(entries)} step(s).")


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The daemon's last sweep and delivery, the outbox queue and its failures."""
    from sqlmodel import col, func, select

    from engine.models import DaemonState, OutboxMessage

    state = _app(ctx)
    with session_scope(state.ready_engine()) as session:
        jobs = {row.name: row.value for row in session.exec(select(DaemonState))}
        queue = dict(
            session.exec(
                select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
            ).all()
        )
        failures = [
            {"id": row.id, "to": row.recipient_email, "error": row.last_error}
            for row in session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.status) == "failed")
                .order_by(col(OutboxMessage.id).desc())
                .limit(10)
            )
        ]
    data = {"jobs": jobs, "outbox": queue, "recent_failures": failures}
    if as_json:
        _print_json(data)
        return
    for name in ("daemon", "sweep", "delivery"):
        value = jobs.get(name)
        out.print(
            f"{name}: " + (", ".join(f"{k}={v}" for k, v in value.items()) if value else "never")
        )
    out.print("outbox: " + (", ".join(f"{k}={v}" for k, v in sorted(queue.items())) or "empty"))
    for failure in failures:
        err.print(Text(f"failed #{failure['id']} to {failure['to']}: {failure['error']}"))


@ladder_app.command("show")
def ladder_show(ctx: typer.Context) -> None:
    """List the escalation ladders of workflows/escalation.toml and their steps."""
    state = _app(ctx)
    table = Table("Ladder", "Step", "From", "Offset", "States", "Recipients", "Template")
    for ladder in state.ladders.values():
        for step in ladder.steps:
            unit = "wd" if step.unit == "working_days" else "h"
            repeat = f", every {step.repeat}{unit}" if step.repeat else ""
            table.add_row(
                ladder.name,
                step.name,
                step.anchor,
                f"{step.offset:+d}{unit}{repeat}",
                ", ".join(step.states),
                ", ".join(step.recipients),
                step.template,
            )
    out.print(table)


@ladder_app.command("set")
def ladder_set(
    ctx: typer.Context,
    ladder: Annotated[str, typer.Argument(help="Ladder name from workflows/escalation.toml.")],
    plan: Annotated[int, typer.Option("--plan", help="Plan id.")],
    measure: Annotated[
        str | None, typer.Option("--measure", help="Only this measure (its number).")
    ] = None,
) -> None:
    """Choose the escalation ladder of a plan, or of one of its measures."""
    from sqlmodel import select

    from engine.models import Measure, Plan

    state = _app(ctx)
    if ladder not in state.ladders:
        raise MeasuresError(f"unknown ladder {ladder!r}; ladders are {', '.join(state.ladders)}")
    with session_scope(state.ready_engine()) as session:
        row = session.get(Plan, plan)
        if row is None:
            raise NotFound("plan", plan)
        if measure is None:
            row.ladder = ladder
            session.add(row)
        else:
            found = session.exec(
                select(Measure).where(Measure.plan_id == plan, Measure.number == measure)
            ).all()
            if not found:
                raise NotFound("measure", f"{measure} in plan {plan}")
            if len(found) > 1:  # numbering restarts in each section of some plans
                sections = ", ".join(m.key.rpartition("#")[0] or "—" for m in found)
                raise MeasuresError(
                    f"plan {plan} has {len(found)} measures numbered {measure} (in sections: "
                    f"{sections}); set the ladder of the plan, or renumber the document"
                )
            for item in found:
                item.ladder = ladder
                session.add(item)
        session.commit()
    what = f"measure {measure} of plan {plan}" if measure else f"plan {plan}"
    out.print(f"{what}: ladder {ladder}.")


@app.command("backup")
def backup_command(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(help="New file to write the backup to.")],
) -> None:
    """Copy the SQLite database while it is in use (PostgreSQL: prints pg_dump advice)."""
    from engine.backup import backup

    state = _app(ctx)
    path = backup(state.ready_engine(), target)
    out.print(f"Backup written to {path}.")


@app.command("restore")
def restore_command(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="A file made by `measures backup`.")],
) -> None:
    """Replace the SQLite database with a backup. Stop the daemon first."""
    from engine.backup import restore

    state = _app(ctx)
    restore(state.engine, source)
    out.print(f"Database restored from {source}.")


def main() -> None:
    """Entry point: user mistakes become one line on stderr and exit code 1.

    Typer (standalone mode) handles usage errors itself with exit code 2; our own errors
    propagate out of it and are printed here without a traceback.
    """
    try:
        app()
    except MeasuresError as exc:
        err.print(Text("error: ", style="bold red") + Text(str(exc)), highlight=False)
        sys.exit(1)
