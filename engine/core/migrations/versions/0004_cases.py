"""school cases: results, risk lists, cases, evaluations, administrative measures

Revision ID: 0004_cases
Revises: 0003_clerk
Create Date: 2026-11-27

The audit chain gets two more subjects (a school case, an administrative measure):
``task_id`` becomes nullable and a check keeps exactly one subject per row. Risk flags
get their list's source and marker (existing rows: empty).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004_cases"
down_revision = "0003_clerk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataimport",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("source_name", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("encoding", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("years", sa.JSON(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dataimport", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataimport_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataimport_sha256"), ["sha256"], unique=False)

    op.create_table(
        "assessmentresult",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("procedure", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("grade", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("municipality", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("share_2", sa.Float(), nullable=False),
        sa.Column("share_3", sa.Float(), nullable=False),
        sa.Column("share_4", sa.Float(), nullable=False),
        sa.Column("share_5", sa.Float(), nullable=False),
        sa.Column("lowered", sa.Float(), nullable=True),
        sa.Column("confirmed", sa.Float(), nullable=True),
        sa.Column("raised", sa.Float(), nullable=True),
        sa.Column("in_depth", sa.Boolean(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["dataimport.id"],
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "procedure", "grade", "subject", "school_id"),
    )
    with op.batch_alter_table("assessmentresult", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessmentresult_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assessmentresult_year"), ["year"], unique=False)

    op.create_table(
        "schoolcase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("state_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("help_plan_id", sa.Integer(), nullable=True),
        sa.Column("curator_id", sa.Integer(), nullable=True),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["curator_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["help_plan_id"],
            ["plan.id"],
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("school_id", "kind", "year"),
    )
    with op.batch_alter_table("schoolcase", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_schoolcase_help_plan_id"), ["help_plan_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_schoolcase_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_schoolcase_state"), ["state"], unique=False)

    op.create_table(
        "caseevaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("year_before", sa.Integer(), nullable=False),
        sa.Column("year_after", sa.Integer(), nullable=False),
        sa.Column("verdict", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("data_stamp", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["schoolcase.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("caseevaluation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_caseevaluation_case_id"), ["case_id"], unique=False)

    op.create_table(
        "administrativemeasure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("state_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("responsible_id", sa.Integer(), nullable=True),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["schoolcase.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["responsible_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("administrativemeasure", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_administrativemeasure_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_administrativemeasure_state"), ["state"], unique=False)

    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("admin_id", sa.Integer(), nullable=True))
        batch_op.alter_column("task_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(batch_op.f("ix_auditevent_admin_id"), ["admin_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditevent_case_id"), ["case_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_auditevent_case_id_schoolcase", "schoolcase", ["case_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_auditevent_admin_id_administrativemeasure",
            "administrativemeasure",
            ["admin_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            "auditevent_one_subject",
            "(CASE WHEN task_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN case_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN admin_id IS NULL THEN 0 ELSE 1 END) <= 1"
            " AND COALESCE(task_id, case_id, admin_id, measure_id, plan_id) IS NOT NULL",
        )

    with op.batch_alter_table("riskflag", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source",
                sqlmodel.sql.sqltypes.AutoString(length=300),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column(
                "marker",
                sqlmodel.sql.sqltypes.AutoString(length=40),
                nullable=False,
                server_default="",
            )
        )
    with op.batch_alter_table("riskflag", schema=None) as batch_op:
        batch_op.alter_column("source", server_default=None)
        batch_op.alter_column("marker", server_default=None)


def downgrade() -> None:
    op.execute("DELETE FROM auditevent WHERE task_id IS NULL")
    with op.batch_alter_table("riskflag", schema=None) as batch_op:
        batch_op.drop_column("marker")
        batch_op.drop_column("source")

    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_constraint("auditevent_one_subject", type_="check")
        batch_op.drop_constraint("fk_auditevent_admin_id_administrativemeasure", type_="foreignkey")
        batch_op.drop_constraint("fk_auditevent_case_id_schoolcase", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_auditevent_case_id"))
        batch_op.drop_index(batch_op.f("ix_auditevent_admin_id"))
        batch_op.alter_column("task_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("admin_id")
        batch_op.drop_column("case_id")

    with op.batch_alter_table("administrativemeasure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_administrativemeasure_state"))
        batch_op.drop_index(batch_op.f("ix_administrativemeasure_case_id"))

    op.drop_table("administrativemeasure")
    with op.batch_alter_table("caseevaluation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_caseevaluation_case_id"))

    op.drop_table("caseevaluation")
    with op.batch_alter_table("schoolcase", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schoolcase_state"))
        batch_op.drop_index(batch_op.f("ix_schoolcase_school_id"))
        batch_op.drop_index(batch_op.f("ix_schoolcase_help_plan_id"))

    op.drop_table("schoolcase")
    with op.batch_alter_table("assessmentresult", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessmentresult_year"))
        batch_op.drop_index(batch_op.f("ix_assessmentresult_school_id"))

    op.drop_table("assessmentresult")
    with op.batch_alter_table("dataimport", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataimport_sha256"))
        batch_op.drop_index(batch_op.f("ix_dataimport_kind"))

    op.drop_table("dataimport")
