"""Failed logins, kept a short while so every web process counts the same attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from statusboard.models.base import Base


class LoginFailure(Base):
    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who failed: the client address (the key the limit counts by).
    client: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime]
