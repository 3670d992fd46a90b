"""The web door in-process for tests: an httpx client on the ASGI app, signed in as a
person of the directory (or anonymous), with the session's CSRF token for its forms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import select

from engine.app import App
from engine.app.access import new_session
from engine.core.db import session_scope
from engine.core.models import Person
from engine.web import create_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Browser:
    """An httpx client on the ASGI app, signed in as a person (or anonymous)."""

    def __init__(self, client: httpx.AsyncClient, csrf: str) -> None:
        self.client = client
        self.csrf = csrf

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.get(url, **kw)

    async def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        form = {"csrf": self.csrf, **(data or {})}
        return await self.client.post(url, data=form, **kw)


@pytest.fixture
async def web(app: App) -> AsyncIterator[Any]:
    asgi = create_app(app)
    clients: list[httpx.AsyncClient] = []

    async def as_(key: str | None) -> Browser:
        person = None
        if key is not None:
            with session_scope(app.engine) as session:
                person = session.exec(select(Person).where(Person.key == key)).one()
        cookie, visitor = new_session(app, person)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi),
            base_url="http://testserver",
            cookies={"measures_session": cookie},
        )
        clients.append(client)
        return Browser(client, visitor.csrf)

    yield as_
    for client in clients:
        await client.aclose()
