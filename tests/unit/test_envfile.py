"""Environment files (provisioning/lib/envfile.py) sourced by a shell give back
exactly the values written: the database URL's `&`, `$`, quotes of both kinds,
backslashes, backticks and spaces. (systemd reading the same file is checked
on the lab, tests/lab/test_10_site.py, where systemd runs.)"""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "provisioning"))
from lib import envfile  # noqa: E402

AWKWARD = {
    "MIMAMORI_DATABASE_URL": "postgresql+psycopg://u:p%40ss@/db?host=db1:5432&host=db2:5432&x=1",
    "MIMAMORI_SESSION_SECRET": "a&b $HOME ${PATH} 'single' \"double\" back\\slash `date` $(id) ; # end ",
    "EMPTY": "",
}


def _sourced(text: str, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "secrets.env"
    path.write_text(text)
    names = " ".join(AWKWARD)
    # A shell as the `mimamori` command reads it: set -a, then `.` the file.
    script = f'set -eu; set -a; . "{path}"; set +a; for n in {names}; do printenv "$n"; printf "\\0"; done'
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin"}).stdout
    return dict(zip(AWKWARD, out.split("\0")))


def test_a_shell_sourcing_the_file_gets_every_value_back_unchanged(tmp_path):
    values = _sourced(envfile.render(AWKWARD), tmp_path)
    assert values == {name: value + "\n" for name, value in AWKWARD.items()}


def test_the_unquoted_format_it_replaces_loses_the_url_in_a_shell(tmp_path):
    """Why the quoting: in a NAME=value line a shell runs the assignment up to
    the URL's first `&` in the background, so the variable is never set."""
    path = tmp_path / "secrets.env"
    path.write_text(f"MIMAMORI_DATABASE_URL={AWKWARD['MIMAMORI_DATABASE_URL']}\n")
    out = subprocess.run(["sh", "-c", f'. "{path}"; echo "${{MIMAMORI_DATABASE_URL-unset}}"'],
                         capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}).stdout
    assert out == "unset\n"


def test_values_are_double_quoted_with_the_four_characters_escaped():
    assert envfile.render({"A": 'x"y\\z$w`v'}) == 'A="x\\"y\\\\z\\$w\\`v"\n'


@pytest.mark.parametrize("value", ["two\nlines", "cr\r", "nul\0"])
def test_a_line_break_is_refused_rather_than_read_differently(value):
    with pytest.raises(ValueError):
        envfile.quote(value)


def test_a_name_that_is_not_a_variable_is_refused():
    with pytest.raises(ValueError):
        envfile.render({"MIMAMORI-URL": "x"})
