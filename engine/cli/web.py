"""The web door from the command line: serve it alone, make API tokens, test the mail."""

from __future__ import annotations

from typing import Annotated

import typer

from engine.cli.base import app, out, state_of

web_app = typer.Typer(
    help="Serve the web pages and the JSON API alone (`measures run` serves them too); "
    "sign-in links and API tokens.",
    invoke_without_command=True,
)
mail_app = typer.Typer(help="Outgoing mail.", no_args_is_help=True)
app.add_typer(web_app, name="web")
app.add_typer(mail_app, name="mail")


@web_app.callback()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Default: web.host.")] = None,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Default: web.port.")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=32,
            help="Число серверных процессов на одном порту (каждый занимает одно ядро). "
            "По умолчанию web.workers.",
        ),
    ] = None,
) -> None:
    """Without a sub-command: serve the web pages and the API alone, without the daemon's
    jobs, until SIGTERM or Ctrl+C."""
    if ctx.invoked_subcommand is not None:
        return
    import asyncio
    import signal

    from engine.web import serve_workers, web_server

    state = state_of(ctx)
    state.ready_engine()
    count = workers or state.config.settings.web.workers
    if count > 1:
        out.print(f"Веб-интерфейс: {state.base_url}/ (процессов: {count})")
        serve_workers(state, count, host, port)
        return
    server = web_server(state, host, port)
    out.print(f"Веб-интерфейс: {state.base_url}/")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
        await server.serve()

    asyncio.run(main())


@web_app.command("signin-link")
def signin_link(
    ctx: typer.Context,
    person: Annotated[str, typer.Argument(help="A person's key or email.")],
) -> None:
    """Print a one-time sign-in link for a person (as the sign-in letter would carry)."""
    from engine.app.access import signin_url
    from engine.core.db import session_scope
    from engine.directory.people import find_person

    state = state_of(ctx)
    with session_scope(state.ready_engine()) as session:
        found = find_person(session, person)
    out.print(signin_url(state, found), soft_wrap=True)


@web_app.command("token")
def token(
    ctx: typer.Context,
    person: Annotated[str, typer.Argument(help="A person's key or email.")],
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="Valid for.")] = 365,
) -> None:
    """Print a bearer token for the JSON API that acts as this person."""
    from engine.app.access import api_token

    out.print(api_token(state_of(ctx), person, days), soft_wrap=True)


@mail_app.command("test")
def mail_test(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="Where to send the test letter.")],
) -> None:
    """Send a test letter now through the configured transport and say what happened."""
    from engine.app.operations import send_test_letter

    state = state_of(ctx)
    where = send_test_letter(state, address)
    out.print(f"Проверочное письмо на {address} отправлено ({where}).")
