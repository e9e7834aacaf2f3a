"""The program's entry point. Without a subcommand it starts the GUI at once, importing only what
the first window needs; with one it hands over to the command line (:mod:`dsj_desktop.cli`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

# The options that may come without a subcommand (see cli.build_parser).
_GUI_FLAGS = {"--self-test"}
_GUI_OPTIONS = {"--data-dir", "--user", "--database"}


def _gui_args(argv: Sequence[str]) -> dict[str, str | bool] | None:
    """The GUI's options when *argv* names no subcommand and asks for nothing else, else None."""
    out: dict[str, str | bool] = {}
    it = iter(argv)
    for arg in it:
        if arg in _GUI_FLAGS:
            out[arg] = True
        elif arg in _GUI_OPTIONS:
            value = next(it, None)
            if value is None:
                return None
            out[arg] = value
        elif any(arg.startswith(o + "=") for o in _GUI_OPTIONS):
            key, value = arg.split("=", 1)
            out[key] = value
        else:
            return None  # a subcommand, --help, --version, …: the full command line
    return out


def _is_verify(argv: Sequence[str]) -> bool:
    """``[--data-dir DIR] [--user NAME] verify ...``: checked without loading the rest of the
    program (no database, Qt, reportlab or pyHanko for a JSON record)."""
    it = iter(argv)
    for arg in it:
        if arg in _GUI_OPTIONS:
            next(it, None)
        elif not any(arg.startswith(o + "=") for o in _GUI_OPTIONS):
            return arg == "verify"
    return False


def _start_gui(data_dir: str | None, *, self_test: bool, user: str) -> int:
    from dsj_desktop.paths import resolve_data_dir
    from dsj_desktop.ui.app import run_gui  # the only place the program reaches into the GUI

    return run_gui(resolve_data_dir(data_dir), self_test=self_test, user=user)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if _is_verify(args):
        from dsj_desktop.cli.verify import main as verify_main

        return verify_main(args)
    gui = _gui_args(args)
    if gui is None:
        from dsj_desktop.cli import main as cli_main

        return cli_main(args, gui=lambda a: _start_gui(a.data_dir, self_test=a.self_test, user=a.user or ""))
    if gui.get("--database"):  # the unit's server instead of the SQLite file (db.pg.resolve_url)
        os.environ["DSJ_DATABASE_URL"] = str(gui["--database"])
    data = gui.get("--data-dir")
    return _start_gui(str(data) if data else None, self_test=bool(gui.get("--self-test")),
                      user=str(gui.get("--user") or ""))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
