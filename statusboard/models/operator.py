"""Operators (people who post) and their API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from statusboard import clock
from statusboard.models.base import Base


class Role(StrEnum):
    ADMIN = "admin"  # manages operators and components, and posts
    OPERATOR = "operator"  # posts incidents and updates


class Operator(Base):
    __tablename__ = "operator"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(default=Role.OPERATOR)
    active: Mapped[bool] = mapped_column(default=True)
    on_call: Mapped[bool] = mapped_column(default=True)
    # Whether public updates carry the author's name: None follows the page's default
    # (STATUSBOARD_SIGN_UPDATES); True or False is the operator's own choice.
    sign_updates: Mapped[bool | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_login_at: Mapped[datetime | None]
    # Part of every session's identity: raising it ends every session at once (logout,
    # password, role or activation change), although the cookies themselves live on.
    session_generation: Mapped[int] = mapped_column(default=0)

    def signs(self, page_default: bool) -> bool:
        return page_default if self.sign_updates is None else self.sign_updates

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_generation}"

    def end_sessions(self) -> None:
        self.session_generation = (self.session_generation or 0) + 1

    def __repr__(self) -> str:
        return f"<Operator {self.email} {self.role}>"
