"""What an import brought in: one row per record of the source (a Statuspage page's
component, incident, update or subscriber) and what it became here, so that running the same
import again changes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from statusboard import clock
from statusboard.models.base import Base


class ImportedRecord(Base):
    __tablename__ = "imported_record"
    __table_args__ = (
        UniqueConstraint("source", "kind", "external_id", name="uq_imported_record_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "statuspage:<page id>"
    source: Mapped[str] = mapped_column(String(100))
    # component, incident, update, subscriber
    kind: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(320))
    # The public id of what it became here.
    local_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
