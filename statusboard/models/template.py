"""Incident templates: prepared messages with required blanks (`[[...]]`) that must be
filled before anything built from them is accepted (domain/templates.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from statusboard import clock
from statusboard.domain.statuses import Impact
from statusboard.models.base import Base, new_public_id


class IncidentTemplate(Base):
    __tablename__ = "incident_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    impact: Mapped[Impact] = mapped_column(default=Impact.MINOR)
    status: Mapped[str] = mapped_column(String(32), default="investigating")
    # Component public id -> the status the template claims for it.
    components: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
