"""The page's data version: bumped by every public change, read by the snapshot cache."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from statusboard import clock
from statusboard.models.base import Base


class PageState(Base):
    __tablename__ = "page_state"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
