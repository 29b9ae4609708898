"""Peak hours and blackout dates as admins set them in the UI (one row, id 1). When the row
exists it replaces STATUSBOARD_PEAK_HOURS / STATUSBOARD_BLACKOUT_DATES; the text uses the same
syntax and is checked by domain/peak_hours.py before it is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from statusboard import clock
from statusboard.models.base import Base


class PeakHoursSetting(Base):
    __tablename__ = "peak_hours_setting"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    peak_hours: Mapped[str] = mapped_column(Text, default="")
    blackout_dates: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
