"""The April grade progression (F-ROLLOVER)."""

import pytest

from webapp.children.models import Grade
from webapp.rollover.grades import progress

pytestmark = pytest.mark.req("F-ROLLOVER")

TABLE = [
    (Grade.AGE0, Grade.AGE1), (Grade.AGE1, Grade.AGE2), (Grade.AGE2, Grade.AGE3), (Grade.AGE3, Grade.AGE4),
    (Grade.AGE4, Grade.AGE5), (Grade.AGE5, Grade.ES1), (Grade.ES1, Grade.ES2), (Grade.ES2, Grade.ES3),
    (Grade.ES3, Grade.ES4), (Grade.ES4, Grade.ES5), (Grade.ES5, Grade.ES6), (Grade.JH1, Grade.JH2),
    (Grade.JH2, Grade.JH3), (Grade.HS1, Grade.HS2), (Grade.HS2, Grade.HS3), (Grade.OTHER, Grade.OTHER),
]


@pytest.mark.parametrize(("before", "after"), TABLE)
def test_each_grade_moves_up_one(before, after):
    for moves in (False, True):
        step = progress(before, moves_to_junior_high=moves)
        assert (step.grade, step.graduates) == (after, False)


def test_sixth_grade_goes_to_junior_high_only_when_registered_as_moving():
    assert progress(Grade.ES6, moves_to_junior_high=True) == progress(Grade.ES6, moves_to_junior_high=True)
    assert progress(Grade.ES6, moves_to_junior_high=True).grade == Grade.JH1
    assert not progress(Grade.ES6, moves_to_junior_high=True).graduates
    assert progress(Grade.ES6, moves_to_junior_high=False).graduates


@pytest.mark.parametrize("grade", [Grade.JH3, Grade.HS3])
def test_last_grades_graduate(grade):
    assert progress(grade, moves_to_junior_high=False).graduates
    assert progress(grade, moves_to_junior_high=True).graduates


def test_every_grade_is_covered():
    covered = {before for before, _ in TABLE} | {Grade.ES6, Grade.JH3, Grade.HS3}
    assert covered == set(Grade)
