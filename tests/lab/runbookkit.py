"""The runbooks' marked command blocks, which the lab drills execute as written.

A block an operator runs and a drill runs is a fenced block whose info string
names it and the hosts it runs on:

    ```sh run=restore.stop-writers on=app1,app2
    systemctl stop mimamori-jobs.timer mimamori-jobs.service mimamori.service
    ```

`on` is a host, a comma-separated list, `control` (the control machine, from
the repository's root) or a placeholder such as `<leader>`. Commands may hold
placeholders (`<env>`, `<leader>`, `<replica>`) that the operator fills in from
the text and the drill fills in from what it knows. A block runs as one script
that stops at its first failing command (`set -e`), so a step that no longer
works fails the drill that follows it. tests/unit/test_runbook_blocks.py checks
the blocks parse, name commands that exist, and are each run by a drill.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
_OPENING = re.compile(r"^(\s*)```sh\s+run=(?P<id>[\w.-]+)\s+on=(?P<on>\S+)\s*$")
PLACEHOLDER = re.compile(r"<([a-z][a-z-]*)>")


@dataclass(frozen=True)
class Block:
    id: str
    runbook: str
    line: int
    on: tuple[str, ...]
    commands: tuple[str, ...]

    def filled(self, values: dict[str, str]) -> tuple[tuple[str, ...], str]:
        """(hosts, script) with every placeholder replaced; a missing value is an error."""
        def fill(text: str) -> str:
            def one(m: re.Match) -> str:
                if m.group(1) not in values:
                    raise KeyError(f"{self.runbook}:{self.line} {self.id}: no value for <{m.group(1)}>")
                return values[m.group(1)]
            return PLACEHOLDER.sub(one, text)
        return tuple(fill(h) for h in self.on), "set -e\n" + "\n".join(fill(c) for c in self.commands)


def parse(text: str, runbook: str = "?") -> list[Block]:
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = _OPENING.match(lines[i])
        i += 1
        if not m:
            continue
        indent, start, body = m.group(1), i, []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"{runbook}:{start}: block {m['id']} is never closed")
        i += 1
        commands = tuple(c for c in _joined(body) if c.strip() and not c.lstrip().startswith("#"))
        if not commands:
            raise ValueError(f"{runbook}:{start}: block {m['id']} has no command")
        blocks.append(Block(m["id"], runbook, start, tuple(m["on"].split(",")), commands))
    return blocks


def _joined(lines: list[str]) -> list[str]:
    """Lines with a trailing backslash joined to the next (one command)."""
    out: list[str] = []
    for line in lines:
        if out and out[-1].endswith("\\"):
            out[-1] = out[-1][:-1] + line.lstrip()
        else:
            out.append(line)
    return out


def all_blocks() -> dict[str, Block]:
    found: dict[str, Block] = {}
    for path in sorted(RUNBOOKS.glob("*.md")):
        for block in parse(path.read_text(), path.name):
            if block.id in found:
                raise ValueError(f"{path.name}:{block.line}: block id {block.id} also in"
                                 f" {found[block.id].runbook}:{found[block.id].line}")
            found[block.id] = block
    return found


def block(block_id: str) -> Block:
    return all_blocks()[block_id]


def run(block_id: str, timeout: float = 900, **values: str) -> dict[str, str]:
    """Run a runbook block as an operator would: on each of its hosts in turn
    (over the lab's ssh), or on the control machine; return each host's output.
    Placeholders take ``values`` (keyword names with _ for -)."""
    from labkit import LAB, REPO

    hosts, script = block(block_id).filled({k.replace("_", "-"): v for k, v in values.items()})
    outputs = {}
    for host in hosts:
        argv = ["bash", "-c", script] if host == "control" else ["bash", str(LAB), "ssh", host, script]
        r = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout)
        if r.returncode:
            raise AssertionError(f"runbook block {block_id} ({block(block_id).runbook}) failed on {host}"
                                 f" ({r.returncode}):\n{script}\n{r.stdout}{r.stderr}")
        outputs[host] = r.stdout
    return outputs
