"""clerk's commands, daemon registry, decree calendar, fresh letters

Revision ID: 0003_clerk
Revises: 0002_web
Create Date: 2026-11-27

- auditevent: clerk's changes to a measure or a plan (task_id may be empty; measure_id,
  plan_id and changes); existing rows keep their hashes (engine.lifecycle.audit hashes the
  new fields only when set);
- measure.deadline_override, task.set_by_hand, plan.archived_at: what a clerk set by hand;
- outboxmessage.valid_until, note: letters that went stale before they could leave;
- databaseflag: the simulation mark and the calendar fingerprint;
- daemonprocess: every `measures run`, for `measures status`.

New NOT NULL columns get server defaults so a database with data in it upgrades.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003_clerk"
down_revision = "0002_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daemonprocess",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("stopped_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "databaseflag",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("set_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("measure_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("plan_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("changes", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.alter_column("task_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(batch_op.f("ix_auditevent_measure_id"), ["measure_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditevent_plan_id"), ["plan_id"], unique=False)
    with op.batch_alter_table("measure", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "deadline_override",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=False,
                server_default="",
            )
        )
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("valid_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("archived_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("set_by_hand", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("set_by_hand")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("valid_until")
    with op.batch_alter_table("measure", schema=None) as batch_op:
        batch_op.drop_column("deadline_override")
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditevent_plan_id"))
        batch_op.drop_index(batch_op.f("ix_auditevent_measure_id"))
        batch_op.alter_column("task_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("changes")
        batch_op.drop_column("plan_id")
        batch_op.drop_column("measure_id")
    op.drop_table("databaseflag")
    op.drop_table("daemonprocess")
