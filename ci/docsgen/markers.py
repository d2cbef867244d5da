"""Which tests prove which requirement: the ``req`` markers, read from the source.

Tests are parsed, never imported: the lab and compliance suites need packages
(testinfra, sslyze) the application's virtualenv does not have. Three spellings
are in use and all are understood:

    @pytest.mark.req("F-DAILY")                  on a test or a class
    pytestmark = pytest.mark.req("S-AUDIT")      for the whole module (or a list of marks)
    req = pytest.mark.req ... @req("O-FW")       an alias, as the lab suites do
"""

from __future__ import annotations

import ast
import dataclasses
import pathlib

# The levels in the order the matrix shows them, with the folder each lives in.
LEVELS = ("unit", "functional", "browser", "monitoring", "lab", "compliance")


@dataclasses.dataclass(frozen=True)
class MarkedTest:
    level: str
    path: str  # relative to the repository, e.g. tests/unit/test_totp.py
    name: str  # test function, Class::test for methods
    requirement: str


def _is_req_mark(node: ast.AST, aliases: set[str]) -> bool:
    """``pytest.mark.req`` (any prefix ending in ``mark.req``) or an alias of it."""
    if isinstance(node, ast.Attribute):
        return node.attr == "req" and isinstance(node.value, ast.Attribute) and node.value.attr == "mark"
    return isinstance(node, ast.Name) and node.id in aliases


def _requirements_of(expression: ast.AST, aliases: set[str]) -> list[str]:
    """IDs of every req call in a decorator or a pytestmark value."""
    marks = expression.elts if isinstance(expression, (ast.List, ast.Tuple)) else [expression]
    found = []
    for mark in marks:
        if isinstance(mark, ast.Call) and _is_req_mark(mark.func, aliases):
            found += [arg.value for arg in mark.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    return found


def _aliases(module: ast.Module) -> set[str]:
    return {target.id
            for statement in module.body if isinstance(statement, ast.Assign)
            and _is_req_mark(statement.value, set())
            for target in statement.targets if isinstance(target, ast.Name)}


def _module_requirements(module: ast.Module, aliases: set[str]) -> list[str]:
    return [requirement
            for statement in module.body if isinstance(statement, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in statement.targets)
            for requirement in _requirements_of(statement.value, aliases)]


def _decorated(node, aliases: set[str]) -> list[str]:
    return [r for decorator in node.decorator_list for r in _requirements_of(decorator, aliases)]


def _tests_in(module: ast.Module, aliases: set[str]):
    """(name, requirements from decorators) for each test function, methods included."""
    for node in module.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            yield node.name, _decorated(node, aliases)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            inherited = _decorated(node, aliases)
            for method in node.body:
                if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and method.name.startswith("test"):
                    yield f"{node.name}::{method.name}", inherited + _decorated(method, aliases)


def marked_tests(repo: pathlib.Path) -> list[MarkedTest]:
    """Every (test, requirement) pair under tests/<level>/, in a stable order."""
    found = []
    for level in LEVELS:
        for path in sorted((repo / "tests" / level).rglob("test_*.py")):
            module = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            aliases = _aliases(module)
            whole_module = _module_requirements(module, aliases)
            relative = path.relative_to(repo).as_posix()
            for name, own in _tests_in(module, aliases):
                for requirement in dict.fromkeys(whole_module + own):
                    found.append(MarkedTest(level, relative, name, requirement))
    return found
