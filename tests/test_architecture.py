"""The package's layers, enforced over every import (function-level ones included).

Layers, lowest first; a module may import its own layer and those below, never above:
core < io < validate, metrics (side by side, neither imports the other) < checks < analysis
< render < flow < commands < cli. Renderers take figures from the Results, never from metrics
or a data source. No import cycles between modules. See ARCHITECTURE.md.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "miyun_spatial"
LAYERS = {
    "core": 0,
    "io": 1,
    "validate": 2,
    "metrics": 2,
    "checks": 3,
    "analysis": 4,
    "render": 5,
    "flow": 6,
    "commands": 7,
    "cli": 8,
    "__main__": 9,
}
# pairs of one level that must not import each other
SIBLINGS_APART = {("validate", "metrics"), ("metrics", "validate")}
# what a renderer must not read: figures come from the Results
RENDER_FORBIDDEN = (
    "miyun_spatial.metrics",
    "miyun_spatial.checks",
    "miyun_spatial.io.sources",
    "miyun_spatial.io.postgis",
    "miyun_spatial.io.importing",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every package module `name` imports, at any depth of its code."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            subs = [f"{target}.{a.name}" for a in node.names]
            # `from . import sibling` imports the sibling, not the package's face
            targets = subs if all(s in known for s in subs) else [target, *subs]
        else:
            continue
        for target in targets:
            if target in known:
                found.add(target)
    # a module always runs its parent packages' __init__; that is no dependency of its own
    return {t for t in found if t != name and not name.startswith(t + ".")}


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def layer_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def violations(edges: dict[str, set[str]]) -> list[str]:
    found = []
    for src, targets in edges.items():
        a = layer_of(src)
        for dst in targets:
            b = layer_of(dst)
            if a is None or b is None or a == b:
                continue
            if LAYERS[b] > LAYERS[a]:
                found.append(f"{src} -> {dst}: {a} must not import the higher layer {b}")
            elif (a, b) in SIBLINGS_APART:
                found.append(f"{src} -> {dst}: {a} and {b} must not import each other")
            if a == "render" and dst.startswith(RENDER_FORBIDDEN):
                found.append(f"{src} -> {dst}: a renderer takes its figures from the Results")
    return sorted(found)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, result = {}, {}, set(), [], []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    result.append(sorted(component))
    return result


def test_every_module_sits_in_a_layer():
    stray = [n for n in modules() if n != "miyun_spatial" and layer_of(n) is None]
    assert stray == [], f"modules outside the layers {sorted(LAYERS)}: {stray}"


def test_no_import_runs_upward_or_sideways():
    assert violations(graph()) == []


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_checker_sees_an_upward_import():
    # the rules themselves can fail: a core module importing a renderer is caught
    edges = {"miyun_spatial.core.x": {"miyun_spatial.render.y"}, "miyun_spatial.render.y": set()}
    assert violations(edges) == [
        "miyun_spatial.core.x -> miyun_spatial.render.y: core must not import the higher layer render"
    ]
    assert cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b"]]


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_stay_small(name):
    lines = modules()[name].read_text(encoding="utf-8").count("\n")
    assert lines <= 500, f"{name}: {lines} lines; split it by concern"


def test_the_cli_names_every_command_of_the_command_modules():
    """cli.COMMAND_MODULES (the lazy table) lists every command each module defines, and
    only those: a command added to a module's COMMANDS but not to the table would be lost."""
    import importlib
    import pkgutil

    import miyun_spatial.commands as commands
    from miyun_spatial.cli import COMMAND_MODULES

    defined = {}
    for info in pkgutil.iter_modules(commands.__path__):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            defined[command.name] = info.name
    assert defined == COMMAND_MODULES


def test_validate_starts_without_the_map_and_figure_libraries():
    """`validate` imports neither folium nor matplotlib (the lazy command table)."""
    import subprocess
    import sys

    code = (
        "import sys; from miyun_spatial.cli import cli; cli.get_command(None, 'validate'); "
        "print(sorted(m for m in ('folium', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
