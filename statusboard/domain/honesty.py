"""What the public is told about the promises in force at a moment: derived, never stored.

Every sentence says only what is true: "the team has been reminded" only once a reminder
reached someone (a nag with `sent_at`), never "by 0 min", and each one ends with a full stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from statusboard.domain.promises import format_minutes

# Exact public wording (issue: honesty on the public surfaces).
REMINDED = "The team has been reminded."
REVISION_COMING = "a revised estimate is coming"
UPDATE_OVERDUE = "Update overdue"
ETA_PASSED = f"This time has passed; {REVISION_COMING}."


def late_by(late: timedelta) -> str:
    """ "less than 1 min", "8 min", "1 h 5 min": how late, never "0 min"."""
    return "less than 1 min" if late < timedelta(minutes=1) else format_minutes(late)


@dataclass(frozen=True)
class PromiseState:
    next_update_at: datetime | None
    eta_at: datetime | None
    now: datetime
    # A reminder about the next-update promise in force reached an operator.
    reminded: bool = False

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
        """ "Update overdue by 8 min." — the promised time is shown beside it, not repeated."""
        late = self.update_overdue_by
        if late is None:
            return None
        return f"{UPDATE_OVERDUE} by {late_by(late)}."

    @property
    def reminded_text(self) -> str | None:
        """Said after the overdue sentence, and only when it is true."""
        return REMINDED if self.update_overdue and self.reminded else None

    @property
    def overdue_line(self) -> str | None:
        """The public sentence(s) for a missed next-update promise."""
        text = self.overdue_text
        if text is None:
            return None
        return f"{text} {self.reminded_text}" if self.reminded_text else text

    def eta_passed_line(self, shown_time: str) -> str | None:
        """The public sentence for a passed ETA where the time is not shown beside it;
        `shown_time` as the surface prints times."""
        if not self.eta_passed:
            return None
        return f"The expected resolution time ({shown_time}) has passed; {REVISION_COMING}."
