"""The import layers (issue 21): ci/test runs lint-imports with .importlinter; these tests show
that the contracts catch what they are for, and check what import-linter cannot see (backup/'s
scripts have no .py suffix and no package)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def webapp_copy(tmp_path) -> Path:
    """The web app's Python files and its contracts in a folder of their own, to plant imports in.

    lint-imports puts the current folder first on sys.path, so it reads this copy, not the
    installed package."""
    shutil.copytree(ROOT / "webapp", tmp_path / "webapp",
                    ignore=lambda folder, names: [n for n in names if n in ("static", "templates", "locale")
                                                  or n.endswith((".pyc", ".mo", ".po"))])
    shutil.copy(ROOT / ".importlinter", tmp_path)
    return tmp_path


def plant(copy: Path, module: str, line: str) -> None:
    path = copy / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_repository_keeps_its_contracts():
    for folder in (ROOT, ROOT / "provisioning"):
        result = lint_imports(folder)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("module, line, expected", [
    # An import from a lower layer up: the database layer reading a domain area.
    ("webapp.db", "from webapp.reports import models as _reports",
     ["webapp.db is not allowed to import webapp.reports", "webapp.db -> webapp.reports.models"]),
    # The circle issue 21 broke: the walkthrough machinery importing the flows that import it.
    ("webapp.manuals.walkthrough", "from webapp.manuals import flows_admin",
     ["No cycles are allowed in webapp.manuals", ".walkthrough -> .flows_admin"]),
], ids=["upward", "circle"])
def test_a_planted_import_fails_with_its_names(webapp_copy, module, line, expected):
    plant(webapp_copy, module, line)
    result = lint_imports(webapp_copy)
    assert result.returncode == 1
    for text in expected:
        assert text in result.stdout, result.stdout


def test_a_new_top_level_module_must_be_given_a_layer(webapp_copy):
    (webapp_copy / "webapp" / "newcomer.py").write_text('"""Not placed in .importlinter yet."""\n')
    result = lint_imports(webapp_copy)
    assert result.returncode == 1
    assert "webapp.newcomer" in result.stdout


def python_files(folder: Path):
    for path in sorted(folder.iterdir()):
        if path.suffix == ".py" or (path.is_file() and path.read_bytes().startswith(b"#!/usr/bin/env python3")):
            yield path


def imported_top_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_backup_scripts_never_import_the_web_app():
    # They run on the backup host, which has no app virtualenv (backup/backuplib.py).
    scripts = list(python_files(ROOT / "backup"))
    assert {p.name for p in scripts} >= {"backuplib.py", "run", "drill", "erase"}
    for path in scripts:
        assert "webapp" not in imported_top_names(path), path
