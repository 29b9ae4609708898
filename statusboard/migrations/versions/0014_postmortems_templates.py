"""Postmortems promised by a date, incident templates with required blanks, peak hours set
in the admin UI, and signing updates as a page-level default an operator may opt out of.

Revision ID: 0014_postmortems_templates
Revises: 0013_uptime
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_postmortems_templates"
down_revision = "0013_uptime"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("postmortem_due_at", sa.DateTime(timezone=True)))
    # None: follow the page's default. Until now signing was opt-in and False its default, so
    # an operator with False never chose: they follow the page from now on.
    with op.batch_alter_table("operator", schema=None) as batch_op:
        batch_op.alter_column("sign_updates", existing_type=sa.Boolean(), nullable=True)
    operator = sa.table("operator", sa.column("sign_updates", sa.Boolean()))
    op.execute(
        operator.update().where(operator.c.sign_updates.is_(False)).values(sign_updates=None)
    )
    op.create_table(
        "incident_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("impact", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_template")),
        sa.UniqueConstraint("public_id", name=op.f("uq_incident_template_public_id")),
        sa.UniqueConstraint("name", name=op.f("uq_incident_template_name")),
    )
    op.create_table(
        "peak_hours_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("peak_hours", sa.Text(), nullable=False),
        sa.Column("blackout_dates", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peak_hours_setting")),
    )


def downgrade() -> None:
    op.drop_table("peak_hours_setting")
    op.drop_table("incident_template")
    operator = sa.table("operator", sa.column("sign_updates", sa.Boolean()))
    op.execute(
        operator.update().where(operator.c.sign_updates.is_(None)).values(sign_updates=False)
    )
    with op.batch_alter_table("operator", schema=None) as batch_op:
        batch_op.alter_column("sign_updates", existing_type=sa.Boolean(), nullable=False)
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("postmortem_due_at")
