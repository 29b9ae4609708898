"""Indexes for the uptime history: when updates take effect and when incidents ended, so
the bars read only their window's changes and incidents, however long the history.

Revision ID: 0013_uptime
Revises: 0012_update_corrections
"""

from __future__ import annotations

from alembic import op

revision = "0013_uptime"
down_revision = "0012_update_corrections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incident_update_display_at", "incident_update", ["display_at"])
    op.create_index("ix_incident_resolved_at", "incident", ["resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_incident_resolved_at", table_name="incident")
    op.drop_index("ix_incident_update_display_at", table_name="incident_update")
