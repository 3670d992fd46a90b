"""Deadlines as iCalendar (RFC 5545) feeds: a person's, or a plan's.

A feed is what a calendar program subscribes to (the web app serves it under a signed
URL) or imports once (``measures calendar export``). Each deadline is an all-day event
on its due date with a stable UID, so a re-downloaded feed updates events in place: a
moved due date moves the event, a cancelled task turns into a cancelled event instead
of silently vanishing. ``SEQUENCE`` follows the task's version, so clients see changes.

- Person: every task the person is responsible for that has a due date.
- Plan: one event per measure and occurrence (a measure fanned out to 300 schools is one
  deadline for the committee, not 300), with the counts of its tasks by outcome —
  aggregated in SQL.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from icalendar import Calendar, Event
from sqlmodel import Session, col, select

from engine.core.models import Measure, Person, Plan, School, Task, pk
from engine.escalation.sweep import Escalator
from engine.reports.model import day_text

PRODID = "-//measures//планы мероприятий//RU"


def _calendar(name: str, committee: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-caldesc", f"Сроки исполнения планов мероприятий: {committee}")
    return calendar


def _event(uid: str, day: date, summary: str, description: str, now: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("transp", "TRANSPARENT")  # a deadline does not make anybody busy
    return event


def person_calendar(session: Session, esc: Escalator, person: Person, now: datetime) -> bytes:
    workflow = esc.workflow
    closed = set(workflow.with_meaning("closed"))
    done = set(workflow.done)
    calendar = _calendar(f"Сроки: {person.name}", esc.committee)
    query = (
        select(Task, Measure, Plan, School)
        .join(Measure, col(Measure.id) == Task.measure_id)
        .join(Plan, col(Plan.id) == Measure.plan_id)
        .outerjoin(School, col(School.id) == Task.school_id)
        .where(
            Task.responsible_id == person.id,
            col(Task.due_date).is_not(None),
            col(Task.detached_at).is_(None),
        )
        .order_by(col(Task.due_date), col(Task.id))
    )
    for task, measure, plan, school in session.exec(query):
        assert task.due_date is not None  # filtered above
        mark = "[Исполнено] " if task.state in done else ""
        target = f" — {school.short_name or school.name}" if school else ""
        lines = [
            f"План: {plan.title}",
            f"Мероприятие {measure.number}: {measure.title}",
            f"Срок по плану: {measure.deadline_phrase or day_text(task.due_date)}",
            f"Состояние: {workflow.label(task.state)}",
        ]
        if measure.expected_result:
            lines.append(f"Ожидаемый результат: {measure.expected_result}")
        url = f"{esc.base_url}/tasks/{pk(task)}"
        lines.append(url)
        event = _event(
            f"measures-task-{pk(task)}@{esc.mail_domain}",
            task.due_date,
            f"{mark}Срок: {measure.number}. {measure.title}{target}",
            "\n".join(lines),
            now,
        )
        event.add("url", url)
        event.add("sequence", task.version)
        if task.state in closed:
            event.add("status", "CANCELLED")
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def plan_calendar(session: Session, esc: Escalator, plan: Plan, now: datetime) -> bytes:
    workflow = esc.workflow

    def count(states: tuple[str, ...]) -> sa.ColumnElement[int]:
        return sa.func.sum(sa.case((col(Task.state).in_(states), 1), else_=0))

    query = (
        sa.select(
            col(Measure.id),
            col(Measure.number),
            col(Measure.title),
            col(Measure.deadline_phrase),
            col(Measure.responsible_text),
            col(Task.occurrence),
            sa.func.min(col(Task.due_date)),
            sa.func.count(),
            count(workflow.done),
            count(workflow.with_meaning("closed")),
        )
        .join(Measure, col(Measure.id) == col(Task.measure_id))
        .where(
            col(Measure.plan_id) == plan.id,
            col(Task.due_date).is_not(None),
            col(Task.detached_at).is_(None),
        )
        .group_by(
            col(Measure.id),
            col(Measure.number),
            col(Measure.title),
            col(Measure.deadline_phrase),
            col(Measure.responsible_text),
            col(Measure.position),
            col(Task.occurrence),
        )
        .order_by(col(Measure.position), col(Task.occurrence))
    )
    calendar = _calendar(f"План: {plan.title}", esc.committee)
    for (
        measure_id,
        number,
        title,
        phrase,
        responsible,
        occurrence,
        due,
        tasks,
        done,
        closed,
    ) in session.execute(query):
        summary = f"Срок: {number}. {title}"
        lines = [f"План: {plan.title}", f"Срок по плану: {phrase or day_text(due)}"]
        if responsible:
            lines.append(f"Ответственный: {responsible}")
        lines.append(f"Задач: {tasks}; исполнено: {done}; отменено: {closed}")
        event = _event(
            f"measures-plan-{plan.id}-measure-{measure_id}-{occurrence}@{esc.mail_domain}",
            due,
            summary,
            "\n".join(lines),
            now,
        )
        if closed == tasks:
            event.add("status", "CANCELLED")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
