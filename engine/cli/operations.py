"""The daemon and what it does on demand: run, sweep, simulate, status, ladders."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from engine.cli.base import app, err, out, parse_span, print_json, state_of

ladder_app = typer.Typer(help="Reminder and escalation ladders.", no_args_is_help=True)
app.add_typer(ladder_app, name="ladder")


@app.command()
def run(
    ctx: typer.Context,
    now: Annotated[
        str | None,
        typer.Option("--now", help="Run as if it were this moment (demonstrations, tests)."),
    ] = None,
) -> None:
    """Run the daemon in the foreground until SIGTERM or Ctrl+C (see README, Operations)."""
    from engine.core.clock import clock_for
    from engine.daemon import run_daemon

    state = state_of(ctx)
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
    from engine.app.operations import sweep_once as tick

    done = tick(state_of(ctx), send=send)
    result, delivered = done.steps, done.delivery
    out.print(
        f"Шагов выполнено: {result.steps} (пропущено {result.skipped}), "
        f"писем в очереди: {result.messages}, сводок: {done.digests}."
    )
    if done.cases:
        out.print(f"Дел школ продвинуто: {done.cases} (measures cases).")
    if delivered is not None:
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
    from engine.app.operations import simulate as timeline

    state = state_of(ctx)
    zone = state.config.timezone
    entries = timeline(state, *parse_span(start, end, "--from/--to"))
    if as_json:
        print_json([entry.as_json(state.escalator) for entry in entries])
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
    from engine.app.operations import status as installation_status

    data = installation_status(state_of(ctx))
    jobs, queue, failures = data["jobs"], data["outbox"], data["recent_failures"]
    if as_json:
        print_json(data)
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
    state = state_of(ctx)
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
    from engine.app.plans import set_ladder

    set_ladder(state_of(ctx), ladder, plan, measure)
    what = f"measure {measure} of plan {plan}" if measure else f"plan {plan}"
    out.print(f"{what}: ladder {ladder}.")
