"""A partial index of unfinished incidents and maintenances; the page's version row.

Revision ID: 0006_unfinished_index
Revises: 0005_publishing
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_unfinished_index"
down_revision = "0005_publishing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every surface shows when the page last changed; a new page changed when it was created.
    op.execute(
        "INSERT INTO page_state (id, version, updated_at) SELECT 1, 1, CURRENT_TIMESTAMP "
        "WHERE NOT EXISTS (SELECT 1 FROM page_state)"
    )
    op.create_index(
        "ix_incident_unfinished",
        "incident",
        ["kind", "started_at"],
        sqlite_where=sa.text("resolved_at IS NULL"),
        postgresql_where=sa.text("resolved_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_incident_unfinished", table_name="incident")
