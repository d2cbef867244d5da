"""Cross-host ordering for pyinfra 3.

pyinfra 3 orders operations per host and runs operations of different hosts
side by side when nothing links them (a DAG, not a global sequence): the app
nodes' migration could run before db1 has created the database. An operation
called from the same line for every host is one node of that DAG, so all
hosts must reach it before any goes past it. It runs no command, so it never
counts as a change.
"""

from pyinfra.operations import server


def barrier(name: str) -> None:
    server.shell(name=f"Wait for every host: {name}", commands=[])
