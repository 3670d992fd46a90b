"""Door 3: the web pages and the JSON API, over the same application layer (engine.app).

FastAPI (for the OpenAPI schema of ``/api/``) with server-rendered Jinja2 pages that
work without JavaScript. Handlers are plain ``def`` functions: FastAPI runs them in its
thread pool, so the database work never blocks the event loop the daemon shares.

One handler renders every error: a Russian HTML page for the pages, a JSON body for the
API (STYLE: "HTTP errors are exceptions with a status").
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.app import App
from engine.app.access import LinkRefused, new_session, visitor
from engine.core.errors import (
    ConfigError,
    Conflict,
    InputError,
    MeasuresError,
    NotFound,
    TransitionRefused,
)
from engine.web.render import page
from engine.web.security import COOKIE, HEADERS, RATE_LIMITED_PREFIXES, RateLimiter, cookie_options

log = logging.getLogger(__name__)


class SignInNeeded(Exception):
    """The page needs a signed-in person."""


class Forbidden(Exception):
    """Signed in, but the section needs a role this person does not hold."""


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def create_app(app: App) -> FastAPI:
    """The ASGI application for one assembled App (pages, API, static files)."""
    from engine.web import api, download, pages, schools

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(app.ready_engine)
        # Page handlers are plain functions run in anyio's thread pool; this is how many
        # of them run at once (web.threads: more only share the interpreter lock).
        anyio.to_thread.current_default_thread_limiter().total_tokens = (
            app.config.settings.web.threads
        )
        yield

    web = FastAPI(
        title="measures API",
        version="1",
        description="Задачи планов мероприятий: списки, действия, история, запросы на "
        "перенос срока; дела школ из перечней: программа помощи, меры воздействия только "
        "через правило «сначала помощь», их утверждение. Авторизация: "
        "`Authorization: Bearer <token>` (`measures web token`).",
        docs_url=None,  # the Swagger page loads scripts from elsewhere; the CSP forbids it
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    web.state.app = app
    web.state.limiter = RateLimiter(app.config.settings.web.rate_limit)
    web.include_router(pages.router)
    web.include_router(schools.router)
    web.include_router(download.router)
    web.include_router(api.router)
    web.mount("/static", StaticFiles(packages=[("engine.web", "static")]), name="static")

    web.add_middleware(SessionAndHeaders, app=app, limiter=web.state.limiter)

    def _error(request: Request, status: int, title: str, message: str) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=status)
        return page(request, "error.html", {"title": title, "message": message}, status=status)

    @web.exception_handler(SignInNeeded)
    async def sign_in_needed(request: Request, _: Exception) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": "Нужна авторизация: Authorization: Bearer <token>."},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path
        return RedirectResponse(f"/signin?next={target}", status_code=303)

    @web.exception_handler(Forbidden)
    async def forbidden(request: Request, _: Exception) -> Response:
        return _error(request, 403, "Недостаточно прав", "Этот раздел Вам недоступен.")

    @web.exception_handler(NotFound)
    async def not_found(request: Request, _: Exception) -> Response:
        return _error(
            request,
            404,
            "Не найдено",
            "Такой страницы нет, или она Вам недоступна.",
        )

    @web.exception_handler(LinkRefused)
    async def link_refused(request: Request, exc: Exception) -> Response:
        status = 400 if getattr(exc, "why", "") == "forged" else 410
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=status)
        return page(request, "link_refused.html", {"message": str(exc)}, status=status)

    @web.exception_handler(TransitionRefused)
    async def refused(request: Request, exc: Exception) -> Response:
        status = 409 if isinstance(exc, Conflict) else 422
        return _error(request, status, "Действие не выполнено", str(exc))

    @web.exception_handler(InputError)
    async def bad_input(request: Request, exc: Exception) -> Response:
        return _error(request, 422, "Ошибка во входных данных", str(exc))

    @web.exception_handler(MeasuresError)
    async def measures_error(request: Request, exc: Exception) -> Response:
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        return _error(request, 422, "Действие не выполнено", str(exc))

    @web.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: Exception) -> Response:
        if _is_api(request):
            errors: Any = exc.errors() if isinstance(exc, RequestValidationError) else []
            return JSONResponse(
                {"detail": "Неверный запрос.", "errors": _plain(errors)}, status_code=422
            )
        return _error(request, 422, "Неверный запрос", "Форма заполнена неверно: проверьте поля.")

    @web.exception_handler(HTTPException)
    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        titles = {404: "Не найдено", 405: "Метод не поддерживается", 403: "Запрещено"}
        detail = str(getattr(exc, "detail", "")) or titles.get(status, "Ошибка")
        if status == 404:
            detail = "Такой страницы нет, или она Вам недоступна."
        return _error(request, status, titles.get(status, "Ошибка"), detail)

    return web


class SessionAndHeaders:
    """Every request: the rate limit of the sign-in and link pages, the visitor its
    session cookie names (or a fresh anonymous session with a CSRF token), and on every
    answer the cookie a handler asked for (or its removal) and the security headers.

    Plain ASGI rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware
    runs the rest of the application in a task group behind memory streams, which cost
    a noticeable share of a page's time under load (bench/web.py).
    """

    def __init__(self, asgi: ASGIApp, app: App, limiter: RateLimiter) -> None:
        self.asgi, self.app, self.limiter = asgi, app, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.asgi(scope, receive, send)
            return
        request = Request(scope)
        path = request.url.path
        if path.startswith(RATE_LIMITED_PREFIXES):
            client = request.client.host if request.client else "?"
            if not self.limiter.allow(client, path.split("/")[1]):
                response: Response = page(
                    request,
                    "error.html",
                    {
                        "title": "Слишком много запросов",
                        "message": "Слишком много попыток за минуту. Подождите минуту и "
                        "попробуйте снова.",
                    },
                    status=429,
                )
                response.headers["Retry-After"] = "60"
                _secure(response)
                await response(scope, receive, send)
                return
        current = visitor(self.app, request.cookies.get(COOKIE))  # no database here
        if current is None and not _is_api(request):
            fresh, current = new_session(self.app, None)
            request.state.new_cookie = fresh
        request.state.visitor = current

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                cookies = Response()
                fresh = str(getattr(request.state, "new_cookie", "") or "")
                if fresh:
                    cookies.set_cookie(COOKIE, fresh, **cookie_options(self.app))  # type: ignore[arg-type]
                if getattr(request.state, "drop_cookie", False):
                    cookies.delete_cookie(COOKIE, path="/")
                for raw_name, raw_value in cookies.raw_headers:
                    if raw_name == b"set-cookie":
                        headers.append("set-cookie", raw_value.decode("latin-1"))
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.asgi(scope, receive, send_with_headers)


def _plain(errors: Any) -> Any:
    """Validation errors as JSON-safe values (they may hold bytes or exceptions)."""
    if isinstance(errors, dict):
        return {str(k): _plain(v) for k, v in errors.items()}
    if isinstance(errors, list | tuple):
        return [_plain(v) for v in errors]
    if isinstance(errors, str | int | float | bool) or errors is None:
        return errors
    return str(errors)


def _secure(response: Response) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)


#: How long uvicorn's supervisor waits for a worker's answer before replacing it.
WORKER_HEALTHCHECK_SECONDS = 60


def _server_options(app: App, host: str | None, port: int | None) -> dict[str, Any]:
    """What every way of serving the web door passes to uvicorn."""
    settings = app.config.settings.web
    return {
        "host": host or settings.host,
        "port": port or settings.port,
        "log_level": "warning",
        "access_log": False,
        "proxy_headers": False,
        "server_header": False,
    }


def web_server(app: App, host: str | None = None, port: int | None = None) -> Any:
    """A uvicorn Server for the web door that leaves signal handling to its owner (the
    daemon's loop, or ``measures web``), so one SIGTERM stops everything in order."""
    import contextlib

    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return Server(uvicorn.Config(create_app(app), **_server_options(app, host, port)))


def app_from_environment() -> FastAPI:
    """The ASGI application of one worker process of ``measures web --workers N``.

    uvicorn starts each worker as a fresh (spawned) interpreter that imports this
    factory, so the worker assembles its own App from what the parent left in the
    environment (see :func:`serve_workers`) and reads the same configuration, database
    and secret key.
    """
    return create_app(App.load())


def serve_workers(app: App, workers: int, host: str | None = None, port: int | None = None) -> None:
    """Serve the web door from ``workers`` processes on one port.

    uvicorn's own supervisor spawns the workers, restarts one that dies and on
    SIGTERM/SIGINT stops them all before returning; each worker listens on a socket of
    its own (engine.web.listeners), so the kernel spreads connections over them.
    Sessions and links are signed tokens, so any worker serves any request; the sign-in
    rate limiter counts in each worker (README). The parent prepares what the workers
    must agree on: the configuration file and ``--now`` go into the environment, and the
    generated secret key is written before any worker could race to write its own.
    """
    import os

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from engine.core.clock import NOW_ENV
    from engine.core.settings import CONFIG_ENV
    from engine.web.listeners import WorkerListener, reserve, reuse_port_supported

    if app.config.source is not None:
        os.environ[CONFIG_ENV] = str(app.config.source.resolve())
    if app.moved_clock:
        os.environ[NOW_ENV] = app.clock.now().isoformat()
    app.config.secret_key()
    config = uvicorn.Config(
        f"{__name__}:app_from_environment",
        factory=True,
        workers=workers,
        # The supervisor pings each worker and replaces one that does not answer in time.
        # A spawned worker first re-imports the command before it can answer, which on a
        # busy machine may take longer than uvicorn's 5 s: a guard (once a worker was
        # replaced during the test on a machine at load 8; the cause was not
        # established). A hung worker is still replaced, a minute later.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        **_server_options(app, host, port),
    )
    if reuse_port_supported():  # a socket per worker: engine.web.listeners says why
        try:
            held = reserve(config.host, config.port)
        except OSError as exc:
            raise ConfigError(
                f"web.port: не удаётся занять адрес {config.host}:{config.port} "
                f"({exc.strerror}); возможно, его уже занимает другая программа"
            ) from None
        sockets: list[Any] = [WorkerListener(config.host, config.port, config.backlog)]
    else:
        held = config.bind_socket()
        sockets = [held]
    try:
        Multiprocess(config, sockets=sockets).run()
    finally:
        held.close()
