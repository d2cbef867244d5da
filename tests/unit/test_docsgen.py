"""The documents generated from the code (ci/docsgen, issue 21): the compliance
matrix and the README's settings table and command list are current, say what
the code does, and the settings reader lets an empty variable clear the ini."""

from __future__ import annotations

import argparse
import pathlib
import re
import textwrap

import pytest

from ci.docsgen import __main__ as docsgen
from ci.docsgen import markers, matrix, readme
from webapp.cli import build_parser, with_port
from webapp.settings import DEFAULTS, ENVIRONMENT_OVERRIDES, TEST_ONLY, build_settings

REPO = pathlib.Path(__file__).resolve().parents[2]
SECRET = "s" * 40
# How the code reads a setting: settings["k"], settings.get("k", ...),
# get_settings()["k"], _int(settings, "k", ...), or a FOO_SETTING = "k" constant.
SETTING_READ = re.compile(r'(?:settings(?:\(\))?(?:\.get)?[\[(]|_int\(settings, )\s*"([a-z0-9_.]+)"'
                          r'|[A-Z_]+_SETTING\s*=\s*"([a-z0-9_.]+)"')


def test_committed_documents_are_what_the_code_makes_of_them():
    documents, problems = docsgen.generated()
    assert problems == []
    for path, text in documents.items():
        assert (REPO / path).read_text(encoding="utf-8") == text, \
            f"{path} is stale: regenerate it with {docsgen.COMMAND}"


def test_every_setting_the_code_reads_has_a_default():
    read = {key for path in (REPO / "webapp").rglob("*.py") if path.name != "settings.py"
            for match in SETTING_READ.finditer(path.read_text(encoding="utf-8"))
            for key in match.groups() if key}
    assert {"mimamori.argon2_time_cost", "mimamori.log_retention_days", "mimamori.smtp_port"} <= read
    assert read - set(DEFAULTS) - TEST_ONLY == set()


def test_readme_lists_every_setting_with_its_real_default_and_variable():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    variables = {key: variable for variable, key in ENVIRONMENT_OVERRIDES.items()}
    rows = {cells[0].strip("` "): cells for cells in
            (line.strip("|").split(" | ") for line in text.splitlines() if line.startswith("| `"))}
    for key, default in DEFAULTS.items():
        assert key in rows, f"README has no row for {key}"
        assert rows[key][2].strip() == (f"`{default}`" if default else "empty"), key
        assert rows[key][1].strip() == (f"`{variables[key]}`" if key in variables else ""), key
    assert rows["mimamori.admin_cidrs"][2] == "`127.0.0.0/8 ::1`"


def _leaf_commands(parser, prefix=()):
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        yield " ".join(prefix)
        return
    for name, child in subcommands[0].choices.items():
        yield from _leaf_commands(child, prefix + (name,))


def test_readme_lists_every_command_and_subcommand():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    commands = list(_leaf_commands(build_parser()))
    assert {"audit verify", "audit archive", "audit verify-archive", "rollover", "serve"} <= set(commands)
    for command in commands:
        assert re.search(rf"^mimamori -c INI {re.escape(command)}( |$)", text, re.M), command
    assert "mimamori -c INI serve [--port PORT]" in text


def test_replacing_a_region_keeps_the_rest_and_a_missing_region_is_named():
    text = "before\n<!-- BEGIN generated: x (cmd) -->\nold\n<!-- END generated: x -->\nafter\n"
    assert readme.replace_region(text, "x", "new") == \
        "before\n<!-- BEGIN generated: x (cmd) -->\nnew\n<!-- END generated: x -->\nafter\n"
    with pytest.raises(readme.RegionError, match="no region y"):
        readme.replace_region(text, "y", "new")


def test_an_empty_environment_variable_clears_the_ini_value_and_an_unset_one_keeps_it():
    ini = {"mimamori.session_secret": SECRET, "mimamori.trusted_proxies": "10.0.0.1",
           "mimamori.admin_cidrs": "192.0.2.0/24"}
    settings = build_settings(ini, environ={"MIMAMORI_TRUSTED_PROXIES": ""})
    assert settings["mimamori.trusted_proxies"] == ""
    assert settings["mimamori.admin_cidrs"] == "192.0.2.0/24"
    assert build_settings(ini, environ={"MIMAMORI_ADMIN_CIDRS": "198.51.100.0/24"})[
        "mimamori.admin_cidrs"] == "198.51.100.0/24"


def test_serve_takes_a_port_on_the_ini_files_hosts():
    assert with_port({"listen": "localhost:6543", "threads": "8"}, 6544) == {"listen": "localhost:6544", "threads": "8"}
    assert with_port({"listen": "127.0.0.1:80 [::1]:80"}, 8080) == {"listen": "127.0.0.1:8080 [::1]:8080"}
    assert with_port({"host": "0.0.0.0"}, 8080) == {"host": "0.0.0.0", "port": "8080"}
    assert build_parser().parse_args(["serve", "--port", "6544"]).port == 6544


def _tests_tree(tmp_path, files: dict[str, str]) -> pathlib.Path:
    for name, source in files.items():
        path = tmp_path / "tests" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return tmp_path


def test_markers_are_read_in_all_three_spellings_without_importing_the_tests(tmp_path):
    repo = _tests_tree(tmp_path, {
        "unit/test_a.py": """
            import pytest
            import module_that_does_not_exist
            pytestmark = [pytest.mark.req("F-CHILD"), pytest.mark.slow]

            @pytest.mark.req("S-MINDATA", "F-CHILD")
            def test_one(): pass

            def test_two(): pass

            def helper(): pass
            """,
        "lab/test_b.py": """
            import pytest
            req = pytest.mark.req

            @req("O-FW")
            class TestHosts:
                @req("O-TIME")
                def test_clock(self): pass
            """,
    })
    found = {(t.level, t.name, t.requirement) for t in markers.marked_tests(repo)}
    assert found == {("unit", "test_one", "F-CHILD"), ("unit", "test_one", "S-MINDATA"),
                     ("unit", "test_two", "F-CHILD"), ("lab", "TestHosts::test_clock", "O-FW"),
                     ("lab", "TestHosts::test_clock", "O-TIME")}


def test_status_follows_from_the_tests_and_an_untested_id_says_so(tmp_path):
    repo = _tests_tree(tmp_path, {"browser/test_c.py": """
        import pytest
        @pytest.mark.req("F-CHILD")
        def test_x(): pass
        @pytest.mark.req("F-NOSUCH")
        def test_y(): pass
        """})
    tests = markers.marked_tests(repo)
    text = matrix.render(tests)
    child_row = next(line for line in text.splitlines() if line.startswith("| F-CHILD |"))
    assert "ブラウザ 1: `test_c.py`" in child_row and child_row.endswith("| 実装済 (ブラウザ) |")
    # Nothing cites F-SIB in this tree: the row says so rather than claiming it done.
    assert next(line for line in text.splitlines() if line.startswith("| F-SIB |")).endswith(
        "| テストなし (no test cites this ID) |")
    assert next(line for line in text.splitlines() if line.startswith("| O-DC |")).endswith(
        "| 未実装 (the hosting provider's checklist; not in any issue yet) |")
    assert any("F-NOSUCH" in problem for problem in matrix.problems(repo, tests))


def test_every_requirement_id_has_a_row_and_the_map_is_compared_with_requirements_md(tmp_path, monkeypatch):
    text = (REPO / matrix.PATH).read_text(encoding="utf-8")
    for requirement in matrix.MECHANISMS:
        assert re.search(rf"^\| {requirement} \|", text, re.M), requirement
    requirements = tmp_path / "REQUIREMENTS.md"
    requirements.write_text("| ID | r |\n|---|---|\n| F-ROLE | roles |\n| F-NEW | something new |\n")
    monkeypatch.setenv(matrix.REQUIREMENTS_ENV, str(requirements))
    found = matrix.problems(REPO, [])
    assert any("defines F-NEW" in problem for problem in found)
    assert any("names F-CHILD, which" in problem for problem in found)


def test_check_fails_on_a_stale_document_and_prints_the_command(monkeypatch, capsys):
    documents, problems = docsgen.generated()
    stale = dict(documents, **{matrix.PATH: documents[matrix.PATH] + "changed\n"})
    monkeypatch.setattr(docsgen, "generated", lambda: (stale, problems))
    assert docsgen.main(["--check"]) == 1
    assert f"{matrix.PATH} is not what the code makes of it; regenerate it with: {docsgen.COMMAND}" \
        in capsys.readouterr().err
