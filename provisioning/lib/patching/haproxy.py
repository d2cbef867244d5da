"""Reading HAProxy's runtime API (admin socket) answers.

``show stat`` answers CSV whose first line is the header (``# pxname,svname,…``);
``show servers state BACKEND`` answers a format version line, a ``#`` header
and one space-separated line per server. Columns are looked up by name, so a
newer HAProxy adding columns does not break the parsers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

# srv_admin_state bits (HAProxy's SRV_ADMF_*): forced, inherited, config,
# resolver and health-check maintenance; forced and inherited drain.
ADMIN_MAINT = 0x01 | 0x02 | 0x04 | 0x20 | 0x40
ADMIN_DRAIN = 0x08 | 0x10
# srv_op_state: 0 stopped, 1 starting, 2 running, 3 stopping.
OP_RUNNING = 2


@dataclass
class ServerStat:
    backend: str
    server: str
    current_sessions: int
    status: str  # UP, DOWN, DRAIN, MAINT, "UP 1/2", "no check", …

    @property
    def up(self) -> bool:
        return self.status.split(" ")[0] == "UP"


def parse_stat(text: str) -> dict[tuple[str, str], ServerStat]:
    lines = [l for l in text.splitlines() if l.strip()]
    if not lines or not lines[0].startswith("# "):
        raise ValueError(f"not a `show stat` answer: {text[:80]!r}")
    rows = csv.DictReader(io.StringIO("\n".join([lines[0][2:], *lines[1:]])))
    out = {}
    for row in rows:
        if row["svname"] in ("FRONTEND", "BACKEND"):
            continue
        out[(row["pxname"], row["svname"])] = ServerStat(
            row["pxname"], row["svname"], int(row["scur"] or 0), row["status"])
    return out


@dataclass
class ServerState:
    backend: str
    server: str
    op_state: int
    admin_state: int

    @property
    def draining(self) -> bool:
        return bool(self.admin_state & ADMIN_DRAIN)

    @property
    def in_maintenance(self) -> bool:
        return bool(self.admin_state & ADMIN_MAINT)

    @property
    def ready(self) -> bool:
        """Running, neither drained nor in maintenance: it takes new requests."""
        return self.op_state == OP_RUNNING and not self.admin_state


def parse_servers_state(text: str) -> dict[str, ServerState]:
    header, out = None, {}
    for line in text.splitlines():
        if line.startswith("# "):
            header = line[2:].split()
        elif header and line.strip() and not line.strip().isdigit():
            row = dict(zip(header, line.split()))
            out[row["srv_name"]] = ServerState(row["be_name"], row["srv_name"],
                                               int(row["srv_op_state"]),
                                               int(row["srv_admin_state"]))
    if header is None:
        raise ValueError(f"not a `show servers state` answer: {text[:80]!r}")
    return out


def command_ok(answer: str) -> bool:
    """A runtime API ``set`` answers nothing on success, an error sentence otherwise."""
    return answer.strip() == ""
