"""Jinja2 for the pages: autoescaped (no user text reaches a page unescaped), strict
about undefined names, with the Russian date filters the letters use."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from notifications import format_date_long, format_date_numeric, format_date_short, plural_ru


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("engine.web", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        date_long=format_date_long,
        date_short=format_date_short,
        date=format_date_numeric,
        plural=plural_ru,
        moment=lambda value: value.strftime("%d.%m.%Y %H:%M"),
        iso_day=_iso_day,
    )
    return env


def _iso_day(text: str | None) -> str:
    """«2026-12-23» or «2026-12-23T10:00:00+03:00» (plain data of engine.app) → «23.12.2026»."""
    if not text:
        return "—"
    return date.fromisoformat(text[:10]).strftime("%d.%m.%Y")


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """Render a page with what every page needs: the visitor, their CSRF token, the nav."""
    visitor = getattr(request.state, "visitor", None)
    person = visitor.person if visitor else None
    app = request.app.state.app
    full = {
        "request_path": request.url.path,
        "person": person,
        "roles": set(person.roles) if person else set(),
        "csrf": visitor.csrf if visitor else "",
        "committee": app.config.settings.committee.name,
        "title": "",
        "note": "",
        **context,
    }
    html = environment().get_template(name).render(full)
    return HTMLResponse(html, status_code=status)
