"""queues: indexes for На контроле — reports waiting per supervisor in order of age

Revision ID: 0007_queues
Revises: 0006_scale
Create Date: 2026-11-28

A supervisor's page shows the oldest 50 of the reports waiting for them and how many
there are. Without an index in that order the database sorted every waiting report on
each view (3,500 in the region benchmark).
"""

from __future__ import annotations

from alembic import op

revision = "0007_queues"
down_revision = "0006_scale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_awaiting",
            ["state", "supervisor_id", "state_since", "id", "detached_at"],
            unique=False,
        )
        batch_op.create_index("ix_task_state_since", ["state", "state_since", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_state_since")
        batch_op.drop_index("ix_task_awaiting")
