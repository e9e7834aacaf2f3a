"""The command line's shape: one table of commands, each with its arguments and its work; modules
that import nothing heavy until a command runs; no import between the command line and the GUI."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import dsj_desktop
from dsj_desktop import cli
from dsj_desktop.cli import data

PKG = Path(dsj_desktop.__file__).resolve().parent
HEAVY = ("PySide6", "shiboken6", "reportlab", "pyhanko", "sqlalchemy", "sqlmodel", "openpyxl")


def test_every_command_in_the_table_has_its_arguments_and_its_work() -> None:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == list(cli.COMMANDS)  # type: ignore[union-attr]
    for command, module in cli.COMMANDS.items():
        assert (PKG / "cli" / f"{module}.py").is_file()
        assert callable(cli._function(command, "cmd_"))


def test_the_kinds_named_for_the_parser_are_the_specs_kinds() -> None:
    from dsj_desktop.domain.plan_specs import ITEMS, PLAN_ROWS
    from dsj_desktop.domain.result_specs import RESULT_ROWS
    from dsj_desktop.domain.specs import DIRECTORIES

    specs = {s.kind: s.title for s in [*DIRECTORIES.values(), ITEMS, PLAN_ROWS, RESULT_ROWS]}
    assert sorted(data.KIND_NAMES) == list(data.KIND_NAMES) == sorted(specs)
    assert {name: data.kind(name).title for name in data.KIND_NAMES} == specs


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["draw", "--help"], ["verify", "--help"]])
def test_asking_for_the_version_or_help_loads_no_heavy_library(argv: list[str]) -> None:
    code = (
        "import json, sys\n"
        "from dsj_desktop.launch import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps([m for m in sys.modules if m.split('.')[0] in {HEAVY!r}]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.splitlines()[-1]) == []


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


def test_the_command_line_and_the_gui_never_import_each_other() -> None:
    offenders = []
    for path in (PKG / "cli").glob("*.py"):
        for name in _imports(path):
            if name.startswith("dsj_desktop.ui") or name == "dsj_desktop.ui":
                offenders.append(f"{path.name} imports {name}")
            if path.name != "__init__.py" and name in ("dsj_desktop.cli", "dsj_desktop.cli.main"):
                offenders.append(f"{path.name} imports the package {name}")  # only common, never the hub
    for path in (PKG / "ui").rglob("*.py"):
        offenders += [f"{path.name} imports {n}" for n in _imports(path) if n.startswith("dsj_desktop.cli")]
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).parts
        if rel[0] in ("cli", "ui", "launch.py"):
            continue
        offenders += [
            f"{'/'.join(rel)} imports {n}"
            for n in _imports(path)
            if n.startswith(("dsj_desktop.cli", "dsj_desktop.ui"))
        ]
    assert not offenders, "\n".join(offenders)


def test_without_a_subcommand_the_command_line_hands_over_to_the_gui_it_is_given() -> None:
    seen = []
    assert cli.main(["--data-dir", "X"], gui=lambda args: seen.append(args.data_dir) or 0) == 0
    assert seen == ["X"]


def test_demo_of_a_chosen_year_and_no_year_whose_draws_lie_ahead(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pg_database: str | None
) -> None:
    """``demo --year``: the demo's plan, tasks and draws of that year (a bureau training on last
    year's material); a year whose demo draws would lie in the future is refused, nothing written."""
    from datetime import date, datetime

    from dsj_desktop import cli
    from dsj_desktop.clock import pinned
    from dsj_desktop.db.engine import open_database

    with pinned(datetime(2026, 12, 7, 10, 0).astimezone()):
        assert cli.main(["--data-dir", str(tmp_path / "later"), "demo", "--year", "2027"]) == 1
        err = capsys.readouterr().err
        assert "演示年度 2027 不可用" in err and "2020—2026" in err
        assert cli.main(["--data-dir", str(tmp_path / "d"), "demo", "--year", "2025"]) == 0
        assert cli.main(["--data-dir", str(tmp_path / "d"), "check"]) == 0
    assert not (tmp_path / "later").exists()  # refused before anything was made
    db = open_database(tmp_path / "d")
    try:
        with db.read() as conn:
            years = {y for (y,) in conn.exec_driver_sql("SELECT year FROM plan")}
            drawn = [
                date.fromisoformat(d) for (d,) in conn.exec_driver_sql("SELECT draw_date FROM draw_session")
            ]
    finally:
        db.close()
    assert years == {2025} and drawn and all(d.year == 2025 for d in drawn)
