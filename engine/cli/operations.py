"""The daemon and what it does on demand: run, sweep, simulate, status, ladders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.text import Text

from engine.cli.base import (
    app,
    err,
    out,
    parse_span,
    print_json,
    print_json_rows,
    print_pages,
    state_of,
    table,
)

_ANCHORS = {"due": "срок", "start": "начало", "state": "вход в состояние"}
_RECIPIENTS = {
    "responsible": "ответственный",
    "deputy": "его заместитель",
    "supervisor": "контролирующий",
    "controller": "контролёр плана",
    "head": "председатель",
}

ladder_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Лестницы напоминаний и эскалации (workflows/escalation.toml).",
    no_args_is_help=True,
)
app.add_typer(ladder_app, name="ladder")


@app.command()
def run(
    ctx: typer.Context,
    now: Annotated[
        str | None,
        typer.Option("--now", help="Работать так, будто сейчас этот момент (учебная база, тесты)."),
    ] = None,
    web: Annotated[
        bool, typer.Option("--web/--no-web", help="Also serve the web pages (web.host/port).")
    ] = True,
) -> None:
    """Запустить демон (напоминания, эскалация, письма) до SIGTERM или Ctrl+C."""
    from engine.core.clock import clock_for
    from engine.daemon import run_daemon

    state = state_of(ctx)
    if now is not None:
        state.clock = clock_for(now, state.config.timezone)
        state.moved_clock = True
    state.writable_engine()  # a moved clock only on a simulation database
    _ = state.escalator  # refuse broken workflow or ladder files before starting
    run_daemon(state, web)


@app.command("sweep")
def sweep_once(
    ctx: typer.Context,
    send: Annotated[
        bool, typer.Option("--send", help="Сразу и отправить письма, которым пора.")
    ] = False,
) -> None:
    """Один раз выполнить наступившие шаги напоминаний и поставить в очередь сводки."""
    from engine.app.operations import sweep_once as tick

    done = tick(state_of(ctx), send=send)
    result, delivered = done.steps, done.delivery
    out.print(
        f"Шагов выполнено: {result.steps} (пропущено {result.skipped}), "
        f"писем в очереди: {result.messages}, сводок: {done.digests}."
    )
    if result.missing_email:
        missing = ", ".join(sorted(set(result.missing_email)))
        err.print(Text(f"Нет адреса почты у: {missing} — письма им не поставлены.", style="red"))
    if done.cases:
        out.print(f"Дел школ продвинуто: {done.cases} (measures cases).")
    if delivered is not None:
        if delivered.quiet:
            out.print("Нерабочее время: письма будут отправлены в рабочие часы.")
        else:
            out.print(
                f"Отправлено: {delivered.sent}, отложено: {delivered.retried}, "
                f"ошибок: {delivered.failed}, устарело: {delivered.dropped}."
            )


@app.command()
def simulate(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", help="Первый день (ГГГГ-ММ-ДД).")],
    end: Annotated[str, typer.Option("--to", help="Последний день (ГГГГ-ММ-ДД), включительно.")],
    as_json: Annotated[bool, typer.Option("--json", help="Вывод для программ (JSON).")] = False,
) -> None:
    """Показать все напоминания и эскалации, которые дадут нынешние данные; ничего не шлёт."""
    from engine.app.operations import simulate_stream
    from engine.escalation.simulate import TimelineEntry

    state = state_of(ctx)
    zone = state.config.timezone
    with simulate_stream(state, *parse_span(start, end, "--from/--to")) as entries:
        if as_json:
            print_json_rows(entry.as_json(state.escalator) for entry in entries)
            return

        def cells(entry: TimelineEntry) -> list[str]:
            who = ", ".join(entry.recipients) or "—"
            if entry.without_email:
                who += f" (нет адреса: {', '.join(entry.without_email)})"
            return [
                entry.send_at.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
                str(entry.task_id),
                entry.measure_number,
                entry.step + (" (пропуск)" if entry.skipped else ""),
                who,
            ]

        shown = print_pages(entries, ("Отправка", "Задача", "Мер.", "Шаг", "Получатели"), cells)
    out.print(f"Шагов: {shown}.")


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Вывод для программ (JSON).")] = False,
) -> None:
    """Демоны, их последние задания, очередь писем, сбои и задачи, требующие внимания."""
    from datetime import datetime

    from engine.app.operations import status as installation_status
    from engine.core.words import TASKS, count_ru

    state = state_of(ctx)
    zone = state.config.timezone
    data = installation_status(state)
    if as_json:
        print_json(data)
        return

    def when(iso: str) -> str:
        return f"{datetime.fromisoformat(iso).astimezone(zone):%d.%m.%Y %H:%M}"

    if not data["daemons"]:
        out.print("Демон: не запущен.")
    for daemon in data["daemons"]:
        silent = f", не отвечает с {when(daemon['seen_at'])}" if daemon["silent"] else ""
        label = _DAEMON_STATES.get(daemon["state"], daemon["state"])
        out.print(
            f"Демон: pid {daemon['pid']} на {daemon['host']}, {label}, "
            f"запущен {when(daemon['started_at'])}{silent}."
        )
    sweep_job, delivery = data["jobs"].get("sweep"), data["jobs"].get("delivery")
    out.print(
        f"Последний обход: {when(sweep_job['at'])}, шагов {sweep_job['steps']}, писем в "
        f"очередь {sweep_job['messages']}."
        if sweep_job
        else "Обходов ещё не было."
    )
    out.print(
        f"Последняя отправка: {when(delivery['at'])}, отправлено {delivery['sent']}, "
        f"ошибок {delivery['failed']}."
        if delivery
        else "Отправок ещё не было."
    )
    queue = data["outbox"]
    if queue:
        out.print(
            "Письма: "
            + ", ".join(f"{_OUTBOX_STATES.get(k, k)} — {v}" for k, v in sorted(queue.items()))
            + "."
        )
    if data["next_send"]:
        out.print(
            f"Ближайшая отправка: {when(data['next_send'])} "
            "(письма уходят в рабочие часы рабочих дней)."
        )
    else:
        out.print("Писем нет.")
    for failure in data["recent_failures"]:
        err.print(
            Text(f"Не доставлено письмо {failure['id']} для {failure['to']}: {failure['error']}")
        )
    if data["calendar_changed"]:
        err.print(
            Text(
                "Производственный календарь изменился после расчёта сроков: "
                "measures calendar redate --dry-run покажет, какие сроки сдвинутся.",
                style="red",
            )
        )
    attention = data["attention"]
    if attention["count"]:
        out.print(
            f"Требуют внимания: {count_ru(attention['count'], *TASKS)} "
            "(по ним не будет напоминаний)."
        )
        for item in attention["tasks"]:
            out.print(
                f"  задача {item['task_id']}, план {item['plan_id']}, мероприятие "
                f"{item['measure_number']}: {'; '.join(item['reasons'])}"
            )


_DAEMON_STATES = {
    "starting": "запускается",
    "running": "работает",
    "stopping": "останавливается",
    "stopped": "остановлен",
}
_OUTBOX_STATES = {
    "pending": "ждут отправки",
    "sending": "отправляются",
    "sent": "отправлено",
    "failed": "не доставлено",
    "dropped": "устарели и не отправлены",
}


@app.command()
def doctor(
    ctx: typer.Context,
    fix: Annotated[
        bool, typer.Option("--fix", help="Исправить расхождения (пересчитать и записать).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Вывод для программ (JSON).")] = False,
) -> None:
    """Пересчитать с нуля, когда у каждой задачи следующий шаг напоминаний, и сравнить
    с записанным; код выхода 1, если есть расхождения (без --fix)."""
    from engine.app.operations import doctor as check
    from engine.core.words import TASKS, count_ru

    state = state_of(ctx)
    zone = state.config.timezone
    report = check(state, fix=fix)
    if as_json:
        print_json(report.as_json(zone))
    else:

        def moment(value: datetime | None) -> str:
            return "нет шага" if value is None else f"{value.astimezone(zone):%d.%m.%Y %H:%M}"

        out.print(f"Проверено: {count_ru(report.checked, *TASKS)}.")
        for item in report.differences:
            out.print(
                f"  задача {item.task_id}: записано — {moment(item.stored)}, "
                f"по расчёту — {moment(item.computed)}"
            )
        if report.count > len(report.differences):
            out.print(f"  … и ещё {report.count - len(report.differences)}")
        if not report.count:
            out.print("Расхождений нет: следующие шаги у всех задач записаны верно.")
        elif fix:
            out.print(f"Исправлено: {count_ru(report.count, *TASKS)}.")
        else:
            err.print(
                Text(
                    f"Расхождения: {count_ru(report.count, *TASKS)}. Исправить: measures "
                    "doctor --fix.",
                    style="red",
                )
            )
        if not report.fingerprint_current and not fix:
            out.print(
                "Лестницы, рабочие часы или календарь изменились после расчёта: демон "
                "пересчитает всё при запуске."
            )
    if report.count and not fix:
        raise typer.Exit(1)


@ladder_app.command("show")
def ladder_show(ctx: typer.Context) -> None:
    """Показать лестницы напоминаний и эскалации и их шаги."""
    from engine.core.words import WORKING_DAYS, count_ru

    state = state_of(ctx)
    shown = table("Лестница", "Шаг", "Когда", "Пока задача", "Кому")
    for ladder in state.ladders.values():
        for step in ladder.steps:
            forms = WORKING_DAYS if step.unit == "working_days" else ("час", "часа", "часов")
            amount = count_ru(abs(step.offset), *forms)
            side = "до" if step.offset < 0 else "после"
            anchor = _ANCHORS.get(step.anchor, step.anchor)
            when = f"в день: {anchor}" if step.offset == 0 else f"{amount} {side}: {anchor}"
            if step.repeat:
                when += f", повтор каждые {count_ru(step.repeat, *forms)}"
            shown.add_row(
                f"{ladder.label}\n({ladder.name})",
                step.name,
                when,
                "\n".join(state.workflow.label(s) for s in step.states),
                "\n".join(_RECIPIENTS.get(r, r) for r in step.recipients),
            )
    out.print(shown)


@ladder_app.command("set")
def ladder_set(
    ctx: typer.Context,
    ladder: Annotated[str, typer.Argument(help="Имя лестницы из workflows/escalation.toml.")],
    plan: Annotated[int, typer.Option("--plan", help="Номер плана.")],
    measure: Annotated[
        str | None, typer.Option("--measure", help="Только это мероприятие (его номер).")
    ] = None,
) -> None:
    """Выбрать лестницу для плана или для одного его мероприятия."""
    from engine.app.plans import set_ladder

    set_ladder(state_of(ctx), ladder, plan, measure)
    what = f"мероприятие {measure} плана {plan}" if measure else f"план {plan}"
    out.print(f"{what}: лестница {ladder}.")
