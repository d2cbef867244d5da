"""Password rules (S-AUTH): length, the login and name, the list of known passwords."""

from __future__ import annotations

import pytest

from webapp.accounts.forms import MIN_PASSWORD_LENGTH, common_passwords, is_common, password_problem

COMMON = "推測されやすいパスワードです。別のパスワードにしてください。"


def message(password, login="sato.ichiro", display_name="佐藤 一郎"):
    problem = password_problem(password, login, display_name)
    return None if problem is None else problem.interpolate()


def test_the_list_is_a_few_thousand_lower_case_entries():
    words = common_passwords()
    assert len(words) >= 3000
    assert all(w == w.lower() and w.strip() == w and not w.startswith("#") for w in words)
    for expected in ("password", "qwertyuiop", "iloveyou", "sakura", "setagaya", "1qaz2wsx3edc", "123456789012"):
        assert expected in words


@pytest.mark.req("S-AUTH")
@pytest.mark.parametrize("password", [
    "password1234", "Password1234", "PASSWORD1234!", "P@ssw0rd2026!", "p@55w0rd!!!!", "!!!password!!!",
    "qwertyuiop12", "QwertyUiop!!", "1qaz2wsx3edc", "123456789012", "098765432109", "abcdefghijkl",
    "iloveyou1234", "Sakura202612", "setagaya1234", "mimamori2026", "doraemon2026", "sunflower1987",
    "satohiroshi1", "takahashiyuki", "ｐａｓｓｗｏｒｄ１２３４",  # full-width from a Japanese IME
    "sakurasakura", "abcabcabcabc", "xyzxyzxyzxyz", "aaaa1111bbbb", "............",
])
def test_common_passwords_and_their_obvious_variations_are_refused(password):
    assert is_common(password)
    assert message(password, login="x9", display_name="") == COMMON


@pytest.mark.req("S-AUTH")
@pytest.mark.parametrize("password", [
    "correct-horse-battery-42", "a-much-longer-pass-9", "my-own-secret-77", "another-long-pass-77",
    "blue kettle under 7 moons", "砧公園で桜を見た2026年春", "Tr0ub4dor&3-river-lamp", "𠮷野家で牛丼を三杯食べた😀",
])
def test_own_phrases_pass(password):
    assert message(password) is None


@pytest.mark.req("S-AUTH")
def test_length_limits():
    assert message("x7$kQ9#mZ2!") == f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください。"
    assert message("x7$kQ9#mZ2!p") is None
    assert message("river-lamp-" * 19) == "パスワードは200文字以内にしてください。"


@pytest.mark.req("S-AUTH")
def test_the_login_is_refused_in_any_case_or_reversed():
    for password in ("sato.ichiro-2026", "My-SATO.ICHIRO-pass", "xx-orihci.otas-xx", "ｓａｔｏ.ｉｃｈｉｒｏ-2026"):
        assert message(password) == "パスワードにログインIDを含めないでください。", password


@pytest.mark.req("S-AUTH")
def test_the_display_name_is_refused_whole_or_in_part():
    for password in ("佐藤一郎のパスワードです!", "いつもの一郎-river-lamp", "佐藤さん-river-lamp-9"):
        assert message(password) == "パスワードに氏名を含めないでください。", password
    # A romanised name in the display name is folded like the rest.
    assert password_problem("Yamada-river-lamp-9", "hanako1", "Yamada Hanako").interpolate() \
        == "パスワードに氏名を含めないでください。"
    # One-character parts (a single kanji, an initial) are not held against the user.
    assert message("河-river-lamp-9", display_name="河 J") is None


def test_wrong_types_are_a_message_not_an_error():
    assert password_problem(None, "x").interpolate() == "パスワードは文字で入力してください。"
