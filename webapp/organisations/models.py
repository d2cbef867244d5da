from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import Model, enum_column


class CentreKind(enum.StrEnum):
    SUPPORT_CENTRE = "support_centre"  # 子ども家庭支援センター
    GUIDANCE_CENTRE = "guidance_centre"  # 児童相談所

    @property
    def label(self) -> str:
        return {
            CentreKind.SUPPORT_CENTRE: "子ども家庭支援センター",
            CentreKind.GUIDANCE_CENTRE: "児童相談所",
        }[self]


class FacilityType(enum.StrEnum):
    ELEMENTARY = "elementary"
    JUNIOR_HIGH = "junior_high"
    NURSERY = "nursery"
    KINDERGARTEN = "kindergarten"
    CERTIFIED = "certified"
    AFTER_SCHOOL = "after_school"
    OTHER = "other"

    @property
    def label(self) -> str:
        return FACILITY_TYPE_LABELS[self]


FACILITY_TYPE_LABELS = {
    FacilityType.ELEMENTARY: "小学校",
    FacilityType.JUNIOR_HIGH: "中学校",
    FacilityType.NURSERY: "保育園",
    FacilityType.KINDERGARTEN: "幼稚園",
    FacilityType.CERTIFIED: "認定こども園",
    FacilityType.AFTER_SCHOOL: "学童",
    FacilityType.OTHER: "その他",
}


class Centre(Model):
    __tablename__ = "centres"

    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[CentreKind] = mapped_column(enum_column(CentreKind))
    active: Mapped[bool] = mapped_column(default=True)

    facilities: Mapped[list[Facility]] = relationship(back_populates="centre")


class Facility(Model):
    __tablename__ = "facilities"

    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    facility_type: Mapped[FacilityType] = mapped_column(enum_column(FacilityType))
    # The centre whose district the facility is in: the default centre for its
    # children and the centre that chases it when reports are late.
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("centres.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)

    centre: Mapped[Centre] = relationship(back_populates="facilities")
