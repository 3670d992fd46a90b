"""Reports and calendars over the web: downloads from the «План» and «Школы» pages, the
signed calendar feeds, and the opt-in public summary page.

Reports are served as attachments (``Content-Disposition: attachment``) with their own
content type: a browser saves them, it never shows a report as a page of this site.
The calendar feeds answer without a session — the signed URL is the key (engine.app.
reports says how it is revoked). The public summary is the one page anybody may open,
and only while ``reports.public_summary`` is on; it holds no personal data.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from engine.app import reports
from engine.core.errors import InputError, NotFound
from engine.reports.render import FORMATS, Rendered
from engine.web.pages import Csrf, Id, back, check_csrf, signed_in, the_app

router = APIRouter(include_in_schema=False)

ReportFormat = Annotated[Literal["docx", "xlsx", "html", "pdf"], Query()]
FORMAT_LABELS = {"docx": "Word (DOCX)", "xlsx": "Excel (XLSX)", "html": "HTML", "pdf": "PDF"}


def report_formats() -> list[tuple[str, str]]:
    return [(f, FORMAT_LABELS[f]) for f in FORMATS]


def attachment(rendered: Rendered) -> Response:
    """The file as a download under its own name (RFC 6266: ASCII fallback + UTF-8)."""
    fallback = rendered.filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    encoded = quote(rendered.filename)
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={"Content-Disposition": disposition},
    )


def optional_day(text: str | None, field: str) -> date | None:
    """A date from a form field that may be left empty (a browser sends ``as_of=``)."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{field}: ожидается дата ГГГГ-ММ-ДД, получено «{text[:20]}».") from None


Day = Annotated[str | None, Query(max_length=20)]


@router.get("/plans/{plan_id}/report")
def plan_report(
    request: Request, plan_id: Id, format: ReportFormat = "docx", as_of: Day = None
) -> Response:
    """«Отчёт об исполнении плана» (the plan's dashboard offers it)."""
    rendered = reports.plan_report(
        the_app(request),
        plan_id,
        format,
        optional_day(as_of, "Состояние на"),
        viewer=signed_in(request),
    )
    return attachment(rendered)


@router.get("/plans/{plan_id}/discipline")
def discipline_report(
    request: Request,
    plan_id: Id,
    start: Annotated[str, Query(alias="from", max_length=20)],
    end: Annotated[str, Query(alias="to", max_length=20)],
    format: ReportFormat = "docx",
    as_of: Day = None,
) -> Response:
    """«Исполнительская дисциплина» for the plan's tasks due in a window."""
    first = optional_day(start, "Сроки с")
    last = optional_day(end, "Сроки по")
    if first is None or last is None:
        raise InputError("Укажите период сроков: с какого и по какое число.")
    rendered = reports.discipline_report(
        the_app(request),
        first,
        last,
        format,
        as_of=optional_day(as_of, "Состояние на"),
        plan_id=plan_id,
        viewer=signed_in(request),
    )
    return attachment(rendered)


# -- calendar feeds ---------------------------------------------------------------------


@router.get("/calendar/{token}.ics")
def calendar_feed(request: Request, token: Annotated[str, PathParam(max_length=2000)]) -> Response:
    """A person's or a plan's deadlines: what a calendar program subscribes to."""
    feed = reports.calendar_feed(the_app(request), token)
    return Response(
        feed.content,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{feed.filename}"'},
    )


@router.post("/calendar/renew")
def renew_feeds(request: Request, csrf: Csrf) -> Response:
    """Revoke the person's feed URLs; the pages show the new ones."""
    check_csrf(request, csrf)
    reports.renew_feeds(the_app(request), signed_in(request))
    return back(
        "/tasks",
        "Выданы новые ссылки на календари; прежние больше не действуют — обновите "
        "подписку в календаре.",
    )


# -- the public summary -------------------------------------------------------------------

_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
NONE = "'none'"


def _public_headers(html: str) -> dict[str, str]:
    """A CSP that allows the page's own inline styles (by hash) and its chart (a data
    URL), and nothing else: the report HTML carries its styles inline."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _STYLE.findall(html)
    )
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src {hashes or NONE}; "
            "img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        ),
        "Cache-Control": "public, max-age=300",
    }


@router.get("/public/plans/{plan_id}")
def public_summary(request: Request, plan_id: Id) -> Response:
    """The plan's public summary: measures, states, dates — no names, no emails.

    Only with ``reports.public_summary = true``; otherwise the page does not exist.
    """
    app = the_app(request)
    if not app.config.settings.reports.public_summary:
        raise NotFound("plan", plan_id)
    html = reports.public_page(app, plan_id)
    return Response(html, media_type="text/html; charset=utf-8", headers=_public_headers(html))
