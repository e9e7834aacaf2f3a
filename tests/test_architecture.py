"""Only dsj_desktop/ui may import PySide6: the core runs and is tested without a screen."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import dsj_desktop

PKG = Path(dsj_desktop.__file__).resolve().parent
QT_MODULES = ("PySide6", "shiboken6", "PyQt5", "PyQt6")


def core_modules() -> list[Path]:
    return [p for p in PKG.rglob("*.py") if "ui" not in p.relative_to(PKG).parts[:1]]


def test_no_qt_import_statement_outside_ui() -> None:
    offenders = []
    for path in core_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__" and node.args:
                arg = node.args[0]
                names = [arg.value] if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else []
            for n in names:
                if n.split(".")[0] in QT_MODULES:
                    offenders.append(f"{path.relative_to(PKG.parent)}:{node.lineno} imports {n}")
    assert not offenders, "\n".join(offenders)


def test_importing_every_core_module_loads_no_qt() -> None:
    mods = []
    for path in core_modules():
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts.pop()
        mods.append(".".join(parts))
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}:\n"
        "    importlib.import_module(m)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r}]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core modules pulled in Qt: {out.stdout}"


# ---------------------------------------------------------------------------------------------------
# The layers (docs/architecture.md). A module may import modules of its own package and of any layer
# below its own; never a layer above, never a sibling package of the same layer; and the import
# graph (every import, also inside functions and under TYPE_CHECKING) has no cycle.

BASE = "base"
LAYERS: tuple[tuple[str, ...], ...] = (
    (BASE,),  # dsj_desktop/*.py: errors, clock, paths, keys, actor, fileutil, progress
    ("draw", "pdf"),
    ("domain",),
    ("db",),
    ("io",),
    ("services",),
    ("publish", "demo"),
    ("ui", "cli"),
    ("launch",),  # launch.py and __main__.py: the only modules that may start either front end
)
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts.pop()
    return ".".join(parts), is_pkg


def import_graph() -> dict[str, set[str]]:
    """Every module of the package → the package's modules it imports. ``from pkg import sub``
    counts as an import of ``pkg.sub`` when that is a module (and of ``pkg`` otherwise)."""
    files = {_module_name(p): p for p in PKG.rglob("*.py")}
    modules = {name for name, _ in files}
    graph: dict[str, set[str]] = {}
    for (name, is_pkg), path in files.items():
        here = name.split(".") if is_pkg else name.split(".")[:-1]
        out: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                out.update(a.name for a in node.names if a.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = here[: len(here) - node.level + 1] if node.level else []
                mod = ".".join(base + ([node.module] if node.module else []))
                subs = {f"{mod}.{a.name}" for a in node.names} & modules
                if subs:
                    out |= subs
                if len(subs) < len(node.names) and mod in modules:
                    out.add(mod)
        out.discard(name)
        graph[name] = out
    return graph


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return BASE
    if parts[1] in ("launch", "__main__"):
        return "launch"
    if len(parts) == 2 and parts[1] not in RANK and (PKG / f"{parts[1]}.py").exists():
        return BASE
    return parts[1]


def test_every_module_belongs_to_a_layer() -> None:
    unknown = sorted({layer_of(m) for m in import_graph()} - set(RANK))
    assert not unknown, f"packages missing from LAYERS (and docs/architecture.md): {unknown}"


def test_imports_point_downward() -> None:
    offenders = []
    for module, targets in sorted(import_graph().items()):
        mine = layer_of(module)
        for target in sorted(targets):
            theirs = layer_of(target)
            if theirs == mine or RANK[theirs] < RANK[mine]:
                continue
            offenders.append(f"{module} ({mine}) imports {target} ({theirs})")
    assert not offenders, "\n".join(offenders)


def test_the_draw_package_imports_only_base_modules() -> None:
    graph = import_graph()
    bad = [f"{m} imports {t}" for m in graph if layer_of(m) == "draw"
           for t in graph[m] if layer_of(t) not in ("draw", BASE)]  # fmt: skip
    assert not bad, "\n".join(bad)


def test_the_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, path)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert not cycles, "\n".join(" → ".join(c) for c in cycles)


def test_the_front_ends_never_import_each_other() -> None:
    graph = import_graph()
    bad = [f"{m} imports {t}" for m in graph for t in graph[m]
           if {layer_of(m), layer_of(t)} == {"ui", "cli"}]  # fmt: skip
    assert not bad, "\n".join(bad)


def test_the_gui_runs_no_sql_and_no_gui_file_is_huge() -> None:
    """The GUI calls the core; it neither runs SQL nor opens write transactions, and no file of it
    grows past 800 lines (split it by concern instead)."""
    ui = PKG / "ui"
    sql = ("exec_driver_sql", ".execute(", "db.write(", "sqlite_master")
    found, long = [], []
    for path in sorted(ui.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for lineno, line in enumerate(text.splitlines(), 1):
            if any(s in line for s in sql):
                found.append(f"{path.relative_to(PKG)}:{lineno}: {line.strip()}")
        if (n := text.count("\n")) > 800:
            long.append(f"{path.relative_to(PKG)}: {n} lines")
    assert not found, "SQL under ui/:\n" + "\n".join(found)
    assert not long, "GUI files over 800 lines:\n" + "\n".join(long)


def test_the_command_line_runs_no_sql() -> None:
    """Like the GUI, the command line calls services: its queries live there, beside the rows' rules."""
    sql = ("exec_driver_sql", ".execute(", "sqlite_master", "SELECT ")
    found = [
        f"{path.relative_to(PKG)}:{lineno}: {line.strip()}"
        for path in sorted((PKG / "cli").rglob("*.py"))
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(s in line for s in sql)
    ]
    assert not found, "SQL under cli/:\n" + "\n".join(found)
