from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import Model, enum_column
from webapp.i18n import _
from webapp.organisations.models import Centre, Facility


class Grade(enum.StrEnum):
    """学年 / クラス年齢. Ordered: the April roll-over moves each to the next."""

    AGE0 = "age0"
    AGE1 = "age1"
    AGE2 = "age2"
    AGE3 = "age3"
    AGE4 = "age4"
    AGE5 = "age5"
    ES1 = "es1"
    ES2 = "es2"
    ES3 = "es3"
    ES4 = "es4"
    ES5 = "es5"
    ES6 = "es6"
    JH1 = "jh1"
    JH2 = "jh2"
    JH3 = "jh3"
    HS1 = "hs1"
    HS2 = "hs2"
    HS3 = "hs3"
    OTHER = "other"

    @property
    def label(self) -> str:
        return GRADE_LABELS[self]

    @classmethod
    def from_label_or_code(cls, text: str) -> Grade | None:
        """Accepts ``es3``, ``小3``, ``小学3年`` style input from forms and CSV files."""
        text = text.strip()
        for grade in cls:
            if text in (grade.value, grade.label, *GRADE_ALIASES.get(grade, ())):
                return grade
        return None


# Messages (translated where shown: the day page, the report list); str-equal to the Japanese,
# which forms and CSV files still accept as input.
GRADE_LABELS = {
    Grade.AGE0: _("0歳児"),
    Grade.AGE1: _("1歳児"),
    Grade.AGE2: _("2歳児"),
    Grade.AGE3: _("3歳児（年少）"),
    Grade.AGE4: _("4歳児（年中）"),
    Grade.AGE5: _("5歳児（年長）"),
    Grade.ES1: _("小1"),
    Grade.ES2: _("小2"),
    Grade.ES3: _("小3"),
    Grade.ES4: _("小4"),
    Grade.ES5: _("小5"),
    Grade.ES6: _("小6"),
    Grade.JH1: _("中1"),
    Grade.JH2: _("中2"),
    Grade.JH3: _("中3"),
    Grade.HS1: _("高1"),
    Grade.HS2: _("高2"),
    Grade.HS3: _("高3"),
    Grade.OTHER: _("その他"),
}

GRADE_ALIASES = {
    Grade.AGE3: ("3歳児", "年少"),
    Grade.AGE4: ("4歳児", "年中"),
    Grade.AGE5: ("5歳児", "年長"),
    **{g: (f"小学{g.value[-1]}年", f"小学校{g.value[-1]}年") for g in (Grade.ES1, Grade.ES2, Grade.ES3, Grade.ES4, Grade.ES5, Grade.ES6)},
    **{g: (f"中学{g.value[-1]}年", f"中学校{g.value[-1]}年") for g in (Grade.JH1, Grade.JH2, Grade.JH3)},
    **{g: (f"高校{g.value[-1]}年",) for g in (Grade.HS1, Grade.HS2, Grade.HS3)},
}


class Child(Model):
    """A child under watch. Only facility, name, grade and class are stored (S-MINDATA).

    No address, birth date, guardian or case details: the tender limits the
    personal data to 所属施設・氏名・学年.
    """

    __tablename__ = "children"
    __table_args__ = (
        sa.CheckConstraint(
            "monitoring_end IS NULL OR monitoring_end >= monitoring_start",
            name="monitoring_period_ordered",
        ),
    )

    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facilities.id"), index=True)
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("centres.id"), index=True)
    family_name: Mapped[str] = mapped_column(sa.String(50))
    given_name: Mapped[str] = mapped_column(sa.String(50))
    family_name_kana: Mapped[str] = mapped_column(sa.String(50))
    given_name_kana: Mapped[str] = mapped_column(sa.String(50))
    grade: Mapped[Grade] = mapped_column(enum_column(Grade, 10))
    class_name: Mapped[str | None] = mapped_column(sa.String(30))
    monitoring_start: Mapped[dt.date]
    monitoring_end: Mapped[dt.date | None]

    facility: Mapped[Facility] = relationship()
    centre: Mapped[Centre] = relationship()

    @property
    def name(self) -> str:
        return f"{self.family_name} {self.given_name}"

    @property
    def kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}"

    def is_monitored_during(self, first_day: dt.date, last_day: dt.date) -> bool:
        return self.monitoring_start <= last_day and (
            self.monitoring_end is None or self.monitoring_end >= first_day
        )
