"""Components and their groups. A group is a component row with is_group set (as in the
Statuspage API); its status is derived from its children."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statusboard import clock
from statusboard.domain.statuses import ComponentStatus, worst_component_status
from statusboard.models.base import Base, new_public_id


class Component(Base):
    __tablename__ = "component"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ComponentStatus] = mapped_column(default=ComponentStatus.OPERATIONAL)
    position: Mapped[int] = mapped_column(default=1)
    is_group: Mapped[bool] = mapped_column(default=False)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("component.id"), index=True)
    showcase: Mapped[bool] = mapped_column(default=True)
    only_show_if_degraded: Mapped[bool] = mapped_column(default=False)
    start_date: Mapped[date | None]
    # Opt-in: firing alerts mapped here set the status before anyone publishes (off by default).
    alert_automation: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    group: Mapped[Component | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Component]] = relationship(
        back_populates="group", order_by="Component.position"
    )

    @property
    def effective_status(self) -> ComponentStatus:
        if self.is_group:
            return worst_component_status(child.status for child in self.children)
        return self.status

    def __repr__(self) -> str:
        return f"<Component {self.public_id} {self.name!r} {self.status}>"
