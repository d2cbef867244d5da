"""The runbooks' marked command blocks (tests/lab/runbookkit.py), without the
lab: they parse, each is run by a lab drill, they run on hosts that exist, and
every command they name exists — a `mimamori` subcommand the CLI has, a
script the repository or a role installs, a systemd unit a role installs — so
a renamed command or unit fails here before it fails an operator."""

import re
import shlex
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "lab"))

import runbookkit  # noqa: E402
from webapp.cli import build_parser  # noqa: E402

BLOCKS = runbookkit.all_blocks()
PROVISIONING = "\n".join(p.read_text() for p in (REPO / "provisioning").rglob("*.py"))
SAMPLE = {"env": "production", "leader": "db1", "replica": "db2", "old-leader": "db1"}
PLACEHOLDERS = set(SAMPLE)
DB_VERSION = re.search(r'^VERSION = "(\d+)"', (REPO / "provisioning/roles/db/__init__.py").read_text(),
                       re.M).group(1)
# Commands of Debian's packages and the shell that the roles install or the base image has.
SYSTEM_COMMANDS = {"systemctl", "patronictl", "pgbackrest", "psql", "rm", "printf", "grep", "sleep", "["}
SHELL_WORDS = {"until", "while", "do", "done", "then", "if", "fi", "!"}


def _hosts() -> set[str]:
    text = (REPO / "provisioning/inventories/production.example.py").read_text()
    return set(re.findall(r'_host\("([\w-]+)"', text))


def _units() -> set[str]:
    return set(re.findall(r'dest="/etc/systemd/system/([\w.@-]+)"', PROVISIONING))


def _simple_commands(line: str) -> list[list[str]]:
    """The line's simple commands (at ; | && || and loops), command
    substitutions included, each as its words."""
    line = runbookkit.PLACEHOLDER.sub(lambda m: SAMPLE[m.group(1)], line)
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.commenters = "#"
    lexer.whitespace_split = True
    commands, current, redirected = [], [], False
    for token in lexer:
        for inner in re.findall(r"\$\((.*)\)", token):
            commands += _simple_commands(inner)
        if redirected:
            redirected = False
        elif token in {">", ">>", "<"}:
            redirected = True  # the next word is a file, not a command
        elif token and set(token) <= set(";|&()"):
            commands.append(current)
            current = []
        else:
            current.append(token)
    commands.append(current)
    return [c for c in commands if c]


def _program(words: list[str]) -> list[str]:
    """The command without shell keywords, assignments, sudo/runuser or >redirects."""
    while words and (words[0] in SHELL_WORDS or re.match(r"[A-Za-z_]\w*=", words[0])):
        words = words[1:]
    if words[:2] == ["sudo", "-u"]:
        words = words[3:]
    if words[:2] == ["runuser", "-u"]:
        words = words[4:] if words[3:4] == ["--"] else words[3:]
    return words


def _problems(words: list[str]) -> list[str]:
    if not words:
        return []
    name, args = words[0], words[1:]
    if name == "mimamori":
        if 'dest="/usr/local/bin/mimamori"' not in PROVISIONING:
            return ["roles/app no longer installs the mimamori command"]
        try:
            build_parser().parse_args(["-c", "/etc/mimamori/mimamori.ini", *args])
        except SystemExit:
            return [f"the mimamori CLI has no command {' '.join(args)!r}"]
        return []
    if name == "bash":
        return [] if (REPO / args[0]).is_file() else [f"no script {args[0]} in the repository"]
    if name.startswith("mimamori-"):
        return [] if f'"{name}"' in PROVISIONING else [f"no role installs the command {name}"]
    if name.startswith("/usr/lib/postgresql/"):
        return [] if name.startswith(f"/usr/lib/postgresql/{DB_VERSION}/bin/") else \
            [f"{name}: roles/db installs PostgreSQL {DB_VERSION}"]
    if name == "systemctl" and args[:1] and args[0] in {"start", "stop", "restart", "kill", "enable"}:
        units = {u if "." in u else f"{u}.service" for u in args[1:] if not u.startswith("-")}
        return [f"no role installs the unit {u}" for u in sorted(units - _units())]
    return [] if name in SYSTEM_COMMANDS else [f"{name}: not a command the runbook blocks may use"]


def _drilled() -> set[str]:
    calls = re.compile(r'(?:runbookkit\.run|run_runbook)\(\s*"([\w.-]+)"')
    return {m for p in (REPO / "tests/lab").glob("*.py") for m in calls.findall(p.read_text())}


def test_the_runbooks_have_the_restore_failover_and_patch_blocks():
    assert {"restore.stop-writers", "restore.restore-db1", "restore.verify-audit",
            "ha.switchover", "ha.rejoin-old-leader", "patch.rolling", "patch.upgrade-app"} <= set(BLOCKS)


def test_every_block_is_run_by_a_lab_drill_and_every_drilled_block_exists():
    assert _drilled() == set(BLOCKS)


@pytest.mark.parametrize("block_id", sorted(BLOCKS))
def test_a_block_runs_on_hosts_that_exist_with_placeholders_the_drills_fill(block_id):
    block = BLOCKS[block_id]
    for target in block.on:
        named = runbookkit.PLACEHOLDER.fullmatch(target)
        assert (named and named.group(1) in PLACEHOLDERS) or target in _hosts() | {"control"}, target
    used = {m for c in block.commands for m in runbookkit.PLACEHOLDER.findall(c)}
    assert used <= PLACEHOLDERS


@pytest.mark.parametrize("block_id", sorted(BLOCKS))
def test_every_command_a_block_names_exists(block_id):
    problems = [f"{BLOCKS[block_id].runbook}:{BLOCKS[block_id].line} {p}"
                for line in BLOCKS[block_id].commands
                for words in _simple_commands(line)
                for p in _problems(_program(words))]
    assert problems == []


def test_paths_in_blocks_are_the_ones_the_roles_use():
    text = "\n".join(c for b in BLOCKS.values() for c in b.commands)
    assert set(re.findall(r"/var/lib/postgresql/[^\s]+", text)) == {f"/var/lib/postgresql/{DB_VERSION}/mimamori"}
    assert "--stanza=mimamori " in text and 'STANZA = "mimamori"' in PROVISIONING
    assert "mimamori-<env>" in text
    assert "scope: mimamori-{{ env }}" in (REPO / "provisioning/roles/db/templates/patroni.yml.j2").read_text()


def test_the_checker_catches_a_renamed_command_unit_or_subcommand():
    """The checks above would fail on a step that no longer exists."""
    assert _problems(_program(shlex.split("mimamori audit verfiy")))
    assert _problems(_program(shlex.split("systemctl stop mimamori-job.timer")))
    assert _problems(_program(shlex.split("mimamori-restore")))
    assert _problems(_program(shlex.split("bash ci/no-such-script lab")))
    assert _problems(_program(shlex.split("sudo -u postgres /usr/lib/postgresql/14/bin/pg_ctl")))
    assert not _problems(_program(shlex.split("systemctl stop mimamori-jobs.timer mimamori.service")))


def test_blocks_parse_with_their_hosts_commands_and_continuations():
    text = ("intro\n   ```sh run=x.one on=db1,<leader>\n   # a comment\n   first \\\n     --flag\n"
            "   second <env>\n   ```\n```sh\nnot marked\n```\n")
    (block,) = runbookkit.parse(text, "t.md")
    assert (block.id, block.on, block.commands) == ("x.one", ("db1", "<leader>"), ("first --flag", "second <env>"))
    hosts, script = block.filled({"leader": "db2", "env": "lab"})
    assert hosts == ("db1", "db2") and script == "set -e\nfirst --flag\nsecond lab"
    with pytest.raises(KeyError):
        block.filled({"leader": "db2"})
    with pytest.raises(ValueError):
        runbookkit.parse("```sh run=y on=db1\nnever closed\n")
