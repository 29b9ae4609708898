"""What the public is told about the promises in force at a moment: derived, never stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from statusboard.domain.promises import format_minutes


@dataclass(frozen=True)
class PromiseState:
    next_update_at: datetime | None
    eta_at: datetime | None
    now: datetime

    @property
    def update_overdue_by(self) -> timedelta | None:
        if self.next_update_at is None or self.now <= self.next_update_at:
            return None
        return self.now - self.next_update_at

    @property
    def update_overdue(self) -> bool:
        return self.update_overdue_by is not None

    @property
    def eta_passed(self) -> bool:
        return self.eta_at is not None and self.now > self.eta_at

    @property
    def overdue_text(self) -> str | None:
        late = self.update_overdue_by
        if late is None:
            return None
        return f"Update overdue by {format_minutes(late)}"
