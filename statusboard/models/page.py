"""The page's data version, bumped by every public change and read by the snapshot cache, and
the surfaces rendered by the last write."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from statusboard import clock
from statusboard.models.base import Base


class PageState(Base):
    __tablename__ = "page_state"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    # The version whose surge surfaces (snapshots.HOT) are in rendered_surface.
    published: Mapped[int] = mapped_column(default=0, server_default="0")


class RenderedSurface(Base):
    """A public surface as rendered by the last write that changed the page, right after it
    committed: readers on every process and host find it here instead of rendering it."""

    __tablename__ = "rendered_surface"

    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    etag: Mapped[str] = mapped_column(String(100))
    last_modified: Mapped[datetime | None]
    body: Mapped[bytes] = mapped_column(LargeBinary)
