"""scale: Task.next_step_at — when the task's next ladder step falls due; an index on
the outbox's creation time for retention

Revision ID: 0006_scale
Revises: 0005_plan_identity
Create Date: 2026-11-28

The sweep reads only tasks whose ``next_step_at`` has come (an index range). Existing
rows get NULL here: the moment depends on the ladders, working hours and calendar of
the installation, which a migration does not know. ``measures init`` — the command that
runs this migration — fills every row right after it (engine.escalation.nextstep
``refresh_if_changed``: no schedule fingerprint is stored yet, so all are computed), and
every daemon and sweep checks the same fingerprint before its first run.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006_scale"
down_revision = "0005_plan_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_step_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_task_next_step_at"), ["next_step_at"], unique=False)
    # Retention (mail.keep_days) deletes old sent letters by their age.
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outboxmessage_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outboxmessage_created_at"))
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_next_step_at"))
        batch_op.drop_column("next_step_at")
