"""What the public is told about the promises in force at a moment: derived, never stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from statusboard.domain.promises import format_minutes

# Exact public wording (issue: honesty on the public surfaces).
REMINDED = " — the team has been reminded"
REVISION_COMING = "a revised estimate is coming"


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
        if late < timedelta(minutes=1):
            return "Update overdue by less than 1 min"
        return f"Update overdue by {format_minutes(late)}"

    @property
    def overdue_line(self) -> str | None:
        """The public sentence for a missed next-update promise."""
        text = self.overdue_text
        return f"{text}{REMINDED}" if text else None

    def eta_passed_line(self, shown_time: str) -> str | None:
        """The public sentence for a passed ETA; `shown_time` as the surface prints times."""
        if not self.eta_passed:
            return None
        return f"The expected resolution time ({shown_time}) has passed; {REVISION_COMING}"
