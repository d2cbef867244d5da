"""A day's attendance status (出欠): what a facility enters and the absence streaks count.

It belongs to attendance, the lower area: the streak rules (``webapp.alerts.streaks``)
read it, and attendance never imports alerts (issue 21's layers).
"""

from __future__ import annotations

import enum


class Attendance(enum.StrEnum):
    PRESENT = "present"  # 出席
    ABSENT = "absent"  # 欠席
    LATE = "late"  # 遅刻
    LEFT_EARLY = "left_early"  # 早退
