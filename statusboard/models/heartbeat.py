"""The worker's sign of life, for readiness checks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from statusboard.models.base import Base


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeat"

    worker: Mapped[str] = mapped_column(String(128), primary_key=True)  # host:pid
    beat_at: Mapped[datetime]
