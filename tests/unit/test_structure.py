"""Structural rules of DESIGN.md that are cheap to check: imports run one way, no cycles."""

from __future__ import annotations

import ast
import pathlib

WEBAPP = pathlib.Path(__file__).resolve().parents[2] / "webapp"

# The order of the areas (DESIGN.md §13) is stated once, in .importlinter: ci/test runs
# lint-imports on it and tests/unit/test_layers.py shows it catching an upward import.
# This file keeps what import-linter does not check: a package's __init__ and its own
# modules importing each other, and views imported by models or services.


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(WEBAPP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def webapp_imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in WEBAPP.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = module_name(path)
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
            elif isinstance(node, ast.ImportFrom) and node.level:
                base = name.split(".")[: -node.level + (1 if path.name == "__init__.py" else 0)] if node.level else []
                imported.add(".".join(base + ([node.module] if node.module else [])))
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
        graph[name] = {m for m in imported if m.startswith("webapp")}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    modules = set(graph)

    def resolve(target):
        # "from webapp.x import y" may name a package or a module in it.
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target

    edges = {m: {resolve(t) for t in targets if resolve(t) and resolve(t) != m} for m, targets in graph.items()}
    visiting, done, cycles = set(), set(), []

    def visit(node, stack):
        if node in done:
            return
        if node in visiting:
            cycles.append(stack[stack.index(node):])
            return
        visiting.add(node)
        for nxt in sorted(edges.get(node, ())):
            visit(nxt, stack + [nxt])
        visiting.discard(node)
        done.add(node)

    for module in sorted(edges):
        visit(module, [module])
    return cycles


def test_the_cycle_finder_finds_a_cycle():
    graph = {"webapp.a": {"webapp.b"}, "webapp.b": {"webapp.c.x"}, "webapp.c": {"webapp.a"}}
    assert find_cycles(graph) == [["webapp.a", "webapp.b", "webapp.c", "webapp.a"]]
    assert find_cycles({"webapp.a": {"webapp.b"}, "webapp.b": set()}) == []


def test_there_are_no_import_cycles():
    cycles = find_cycles(webapp_imports())
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_models_and_services_do_not_import_views():
    offenders = [
        (module, target)
        for module, targets in webapp_imports().items()
        if module.endswith((".models", ".services", ".scope"))
        for target in targets
        if target.endswith(".views")
    ]
    assert offenders == []
