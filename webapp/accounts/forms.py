"""Password rules (S-AUTH): long, not the login name, not a well-known password."""

from __future__ import annotations

from webapp.i18n import _

MIN_PASSWORD_LENGTH = 12

# Passwords people actually choose, lengthened to 12 characters. A larger list
# is part of the security issue; these catch the obvious.
COMMON_PASSWORDS = frozenset(
    {
        "password1234", "passwordpassword", "123456789012", "qwertyuiopas", "111111111111",
        "abcdefghijkl", "iloveyou1234", "setagaya1234", "mimamori1234", "password123!",
        "administrator", "qwerty123456", "000000000000", "aaaaaaaaaaaa", "welcome12345",
    }
)


def password_problem(password: str, login: str):
    """A Japanese message saying what is wrong with ``password``, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("パスワードは${min}文字以上にしてください。", mapping={"min": MIN_PASSWORD_LENGTH})
    if len(password) > 200:
        return _("パスワードは200文字以内にしてください。")
    if login and login.lower() in password.lower():
        return _("パスワードにログインIDを含めないでください。")
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        return _("推測されやすいパスワードです。別のパスワードにしてください。")
    return None
