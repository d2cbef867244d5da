"""Migrations must be safe while the previous release still runs (O-PATCH, O-247):
during a rolling upgrade (ci/upgrade-app) the migrations run first and the old
release keeps serving on the new schema until each node restarts. So an
upgrade() only adds (expand); dropping or renaming a table or column
(contract) waits for a later release than the one that stopped using it, and
that migration is added to CONTRACT_ALLOWED below after review (the rule:
runbooks/patching.md, "Database migrations")."""

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.req("O-PATCH", "O-247")

VERSIONS = Path(__file__).resolve().parents[2] / "webapp" / "migrations" / "versions"
# Reviewed contract migrations: file name -> why it is safe (which release
# stopped using what it drops). 0001-0009 need no entry: their upgrade() only adds.
CONTRACT_ALLOWED: dict[str, str] = {}
DESTRUCTIVE = {"drop_column", "drop_table", "rename_table", "drop_constraint"}


def destructive_calls(source: str) -> list[str]:
    """Destructive alembic operations inside upgrade() (op.* or batch_op.*):
    drops, renames, and alter_column with new_column_name (a rename) or
    nullable=False (old code inserting without the column would fail)."""
    tree = ast.parse(source)
    found = []
    for fn in tree.body:
        if not (isinstance(fn, ast.FunctionDef) and fn.name == "upgrade"):
            continue
        for node in ast.walk(fn):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            kwargs = {k.arg: k.value for k in node.keywords}
            if name in DESTRUCTIVE:
                found.append((node.lineno, f"line {node.lineno}: {name}"))
            elif name == "alter_column" and "new_column_name" in kwargs:
                found.append((node.lineno, f"line {node.lineno}: alter_column(new_column_name=...)"))
            elif name == "alter_column" and isinstance(kwargs.get("nullable"), ast.Constant) \
                    and kwargs["nullable"].value is False:
                found.append((node.lineno, f"line {node.lineno}: alter_column(nullable=False)"))
    return [f for _, f in sorted(found)]


def test_new_migrations_only_expand():
    offenders = {}
    for path in sorted(VERSIONS.glob("*.py")):
        if path.name in CONTRACT_ALLOWED:
            continue
        calls = destructive_calls(path.read_text())
        if calls:
            offenders[path.name] = calls
    assert offenders == {}, (
        "migrations that drop or rename while the previous release may still use it: "
        f"{offenders}. Split into expand now and contract in a later release "
        "(runbooks/patching.md), then add the contract file to CONTRACT_ALLOWED.")


def test_every_allowed_file_exists():
    assert {p.name for p in VERSIONS.glob("0*.py")} >= set(CONTRACT_ALLOWED)
    assert len(list(VERSIONS.glob("0*.py"))) >= 9


def test_the_check_finds_drops_and_renames_only_in_upgrade():
    source = '''
def upgrade():
    op.add_column("children", sa.Column("nickname", sa.String()))
    op.drop_column("children", "old_name")
    with op.batch_alter_table("notices") as batch_op:
        batch_op.alter_column("title", new_column_name="heading")
        batch_op.alter_column("body", nullable=False)
        batch_op.alter_column("kind", nullable=True)
    op.drop_table("legacy")
    op.rename_table("a", "b")

def downgrade():
    op.drop_column("children", "nickname")
'''
    assert [c.split(": ")[1] for c in destructive_calls(source)] == [
        "drop_column", "alter_column(new_column_name=...)", "alter_column(nullable=False)",
        "drop_table", "rename_table"]
    assert destructive_calls("def upgrade():\n    op.add_column('t', c)\n") == []
