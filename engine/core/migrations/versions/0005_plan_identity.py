"""plan identity: tasks keyed by what anchors them; the parsed schedule stored

Revision ID: 0005_plan_identity
Revises: 0004_cases
Create Date: 2026-11-27

Tasks were matched to occurrences by their ordinal, so an earlier date moved states
and history onto the wrong task (issue 7). ``task.occurrence_key`` names the anchor
instead (engine.plans.schedule.occurrence_key): existing rows get it from what they
store — the written date or window of once/window/multiple measures (``d:START..DUE``),
the assessment day of event-bound tasks that start on it (``e:DAY``); where the row
cannot tell (a recurring unit, a task due before its event) ``legacy:N``, which the next
expansion pairs with the new occurrence of the nearest due date, i.e. the same date.

``measure.schedule_spec``/``schedule_version`` keep the parsed schedule itself. Rows
from before get version 0 and an empty spec: they are expanded again only where a new
reading agrees with what they show, else their plan asks to be imported again
(engine.plans.redate.stored_schedule).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005_plan_identity"
down_revision = "0004_cases"
branch_labels = None
depends_on = None

_WRITTEN = ("once", "window", "multiple")


def _old_unique(bind: Any) -> str:
    """The name the unnamed unique constraint of 0001 got on this database."""
    if bind.dialect.name == "postgresql":
        return "task_measure_id_occurrence_school_id_key"
    return "uq_task_measure_id"


def _key(kind: Any, occurrence: int, start: Any, due: Any) -> str:
    if due is None:
        return "-" if occurrence == 1 else f"legacy:{occurrence}"
    if kind in _WRITTEN:
        return f"d:{'' if start is None else start}..{due}"
    if kind == "event" and start is not None:
        return f"e:{start}"
    return f"legacy:{occurrence}"


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("measure", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("schedule_spec", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.add_column(
            sa.Column("schedule_version", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("occurrence_key", sa.String(length=120), nullable=False, server_default="-")
        )

    measures = sa.table("measure", sa.column("id", sa.Integer), sa.column("schedule", sa.JSON))
    tasks = sa.table(
        "task",
        sa.column("id", sa.Integer),
        sa.column("measure_id", sa.Integer),
        sa.column("occurrence", sa.Integer),
        sa.column("start_date", sa.Date),
        sa.column("due_date", sa.Date),
        sa.column("occurrence_key", sa.String),
    )
    kinds: dict[int, Any] = {}
    for measure_id, schedule in bind.execute(sa.select(measures.c.id, measures.c.schedule)):
        if isinstance(schedule, str):
            schedule = json.loads(schedule)
        kinds[measure_id] = (schedule or {}).get("kind")
    rows = bind.execute(
        sa.select(
            tasks.c.id, tasks.c.measure_id, tasks.c.occurrence, tasks.c.start_date, tasks.c.due_date
        )
    ).all()
    for task_id, measure_id, occurrence, start, due in rows:
        key = _key(kinds.get(measure_id), occurrence, start, due)
        bind.execute(tasks.update().where(tasks.c.id == task_id).values(occurrence_key=key))

    naming = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
    with op.batch_alter_table("task", schema=None, naming_convention=naming) as batch_op:
        batch_op.drop_constraint(_old_unique(bind), type_="unique")
        batch_op.create_unique_constraint(
            "uq_task_occurrence", ["measure_id", "occurrence_key", "school_id"]
        )
        batch_op.alter_column("occurrence_key", server_default=None)
    with op.batch_alter_table("measure", schema=None) as batch_op:
        batch_op.alter_column("schedule_spec", server_default=None)
        batch_op.alter_column("schedule_version", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_constraint("uq_task_occurrence", type_="unique")
        batch_op.drop_column("occurrence_key")
        batch_op.create_unique_constraint(
            "task_measure_id_occurrence_school_id_key", ["measure_id", "occurrence", "school_id"]
        )
    with op.batch_alter_table("measure", schema=None) as batch_op:
        batch_op.drop_column("schedule_version")
        batch_op.drop_column("schedule_spec")
