"""Reports and calendars over the web: signed calendar feeds (issued, served without a
session, revoked), the opt-in public summary page, and page links from letters."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from engine.app import App
from engine.app.access import page_url
from engine.core.clock import FixedClock
from engine.core.db import session_scope
from engine.core.models import Measure, Person, Plan, Task
from tests.factories import retitle, setup

pytestmark = pytest.mark.anyio

FEED = re.compile(r'value="(http://[^"]+/calendar/[^"]+\.ics)"')


def _feed(page: str) -> str:
    found = FEED.search(page)
    assert found is not None, "no feed URL on the page"
    return found[1].removeprefix("http://127.0.0.1:8080")


async def test_a_persons_feed_is_served_by_its_signed_url_and_revoked_by_renewal(
    app: App, web: Any
) -> None:
    _, tasks = setup(app, count=2)
    resp = await web("resp")
    url = _feed((await resp.get("/tasks")).text)
    outsider = await web(None)  # a calendar program: no session
    feed = await outsider.get(url)
    assert feed.status_code == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    body = feed.text
    assert body.startswith("BEGIN:VCALENDAR")
    for task in tasks:
        assert f"UID:measures-task-{task.id}@localhost" in body
    assert body.count("BEGIN:VEVENT") == 2
    assert "DTSTART;VALUE=DATE:20261130" in body  # due 5 days after 25.11.2026
    # another person's URL shows their own deadlines, not resp's
    sup_url = _feed((await (await web("sup")).get("/tasks")).text)
    assert "BEGIN:VEVENT" not in (await outsider.get(sup_url)).text
    # renewing revokes every URL issued before; the page shows the new one
    renewed = await resp.post("/calendar/renew", {})
    assert renewed.status_code == 303
    old = await outsider.get(url)
    assert old.status_code == 410 and "отозвана" in old.text
    fresh = _feed((await resp.get("/tasks")).text)
    assert fresh != url and (await outsider.get(fresh)).status_code == 200
    assert (await outsider.get(sup_url)).status_code == 200  # others' URLs still work
    # one character of the signature changed (the test compared another position, so one
    # run in 64 "forged" the URL into itself and got 200)
    forged = fresh[:-8] + ("A" if fresh[-8] != "A" else "B") + fresh[-7:]
    assert forged != fresh
    assert (await outsider.get(forged)).status_code == 400
    # a person switched off in the directory: no feed
    with session_scope(app.engine) as session:
        person = session.exec(select(Person).where(Person.key == "resp")).one()
        person.active = False
        session.add(person)
        session.commit()
    assert (await outsider.get(fresh)).status_code == 410


async def test_a_plans_feed_follows_who_may_see_the_plan(app: App, web: Any) -> None:
    _, tasks = setup(app, count=3)
    with session_scope(app.engine) as session:
        task = session.get(Task, tasks[0].id)
        assert task is not None
        measure = session.get(Measure, task.measure_id)
        assert measure is not None
        plan_id = measure.plan_id
    sup = await web("sup")  # the plan's controller
    url = _feed((await sup.get(f"/plans/{plan_id}")).text)
    outsider = await web(None)
    feed = await outsider.get(url)
    assert feed.status_code == 200
    assert feed.text.count("BEGIN:VEVENT") == 3
    assert f"UID:measures-plan-{plan_id}-measure-" in feed.text
    # no longer the controller (and no directory role): the URL stops answering
    with session_scope(app.engine) as session:
        plan = session.get(Plan, plan_id)
        admin = session.exec(select(Person).where(Person.key == "admin")).one()
        assert plan is not None
        plan.controller_id = admin.id
        session.add(plan)
        session.commit()
    assert (await outsider.get(url)).status_code == 404
    # a person who may not see the plan gets no plan feed on any page
    assert (await (await web("resp")).get(f"/plans/{plan_id}")).status_code == 404


async def test_the_public_summary_page_is_opt_in_and_without_personal_data(
    app: App, web: Any
) -> None:
    _, tasks = setup(app)
    plan_id = retitle(app, tasks[0].id, "Совещание; доклад Ивановой М.П. (resp@example.org)")
    visitor = await web(None)
    assert (await visitor.get(f"/public/plans/{plan_id}")).status_code == 404  # off
    settings = app.config.settings
    object.__setattr__(settings, "reports", replace(settings.reports, public_summary=True))
    page = await visitor.get(f"/public/plans/{plan_id}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Совещание; доклад … М.П. (…)" in page.text
    for private in ("Иванов", "Петров", "example.org", "resp"):
        assert private not in page.text
    policy = page.headers["content-security-policy"]
    assert "style-src 'sha256-" in policy and "unsafe-inline" not in policy
    assert "script" not in policy and "frame-ancestors 'none'" in policy
    assert (await visitor.get("/public/plans/999999")).status_code == 404
    # the plan page of somebody who may see it links to it
    plan_page = await (await web("sup")).get(f"/plans/{plan_id}")
    assert f'href="/public/plans/{plan_id}"' in plan_page.text


async def test_page_links_refuse_forged_and_expired_tokens(app: App, web: Any) -> None:
    setup(app)
    with session_scope(app.engine) as session:
        person = session.exec(select(Person).where(Person.key == "sup")).one()
    url = page_url(app, "/schools", person, app.clock.now()).removeprefix(app.base_url)
    visitor = await web(None)
    assert (await visitor.get(url)).status_code == 200
    forged = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert (await visitor.get(forged)).status_code == 400
    offsite = page_url(app, "//evil.example/x", person, app.clock.now())
    assert (await visitor.get(offsite.removeprefix(app.base_url))).status_code == 400
    assert isinstance(app.clock, FixedClock)
    app.clock.advance(timedelta(days=app.config.settings.web.link_days, seconds=1))
    expired = await (await web(None)).post(url, {})
    assert expired.status_code == 410 and "Срок действия ссылки истёк" in expired.text
