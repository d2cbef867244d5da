"""The grade progression of the April roll-over. Pure: no database.

Nursery and kindergarten age classes move up one age; 5歳児 becomes 小1.
Elementary and junior-high grades move up one. Two steps leave the ward's
watch unless the child is registered as going on:

- 小6 → 中1 only when the roll-over's transfer list moves the child to a
  junior high school (進学先の中学校); otherwise the child graduates and
  monitoring ends on 31 March.
- 中3 graduates: monitoring ends on 31 March (the ward watches to the end of
  compulsory schooling; a caseworker can register the child again).
- 高1, 高2 move up; 高3 graduates. その他 stays as it is.
"""

from __future__ import annotations

import dataclasses

from webapp.children.models import Grade

# Grade → next grade; a grade missing here graduates.
NEXT_GRADE: dict[Grade, Grade] = {
    Grade.AGE0: Grade.AGE1,
    Grade.AGE1: Grade.AGE2,
    Grade.AGE2: Grade.AGE3,
    Grade.AGE3: Grade.AGE4,
    Grade.AGE4: Grade.AGE5,
    Grade.AGE5: Grade.ES1,
    Grade.ES1: Grade.ES2,
    Grade.ES2: Grade.ES3,
    Grade.ES3: Grade.ES4,
    Grade.ES4: Grade.ES5,
    Grade.ES5: Grade.ES6,
    Grade.ES6: Grade.JH1,  # only with a move to a junior high, see progress()
    Grade.JH1: Grade.JH2,
    Grade.JH2: Grade.JH3,
    Grade.HS1: Grade.HS2,
    Grade.HS2: Grade.HS3,
    Grade.OTHER: Grade.OTHER,
}


@dataclasses.dataclass(frozen=True)
class Step:
    grade: Grade  # the grade from April (unchanged when the child graduates)
    graduates: bool


def progress(grade: Grade, *, moves_to_junior_high: bool) -> Step:
    """The April step for a child in ``grade``."""
    if grade == Grade.ES6 and not moves_to_junior_high:
        return Step(grade, graduates=True)
    following = NEXT_GRADE.get(grade)
    if following is None:
        return Step(grade, graduates=True)
    return Step(following, graduates=False)
