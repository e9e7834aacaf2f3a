"""The command line: ``dsj-desktop [--data-dir DIR] [--user NAME] SUBCOMMAND ...``.

Exit status 0 on success; 1 with a Chinese message on stderr when the work was refused;
2 for a malformed command line. Without a subcommand the launcher (:mod:`dsj_desktop.launch`)
starts the GUI; this package never imports it.

Every command is in :data:`COMMANDS`, the one table of them. The parser is built from the command
modules, which import nothing heavy at module level: ``--help`` and ``--version`` load neither the
database nor Qt nor the PDF libraries; a command's work is imported when it runs.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any

from dsj_desktop import APP_TITLE, __version__

# Every command, in the order ``--help`` lists them, and its module in this package: there
# ``add_<command>(subparsers)`` declares its arguments and ``cmd_<command>(args)`` does the work
# (a dash in a command's name is an underscore in its functions' names).
COMMANDS: dict[str, str] = {
    "import": "data",
    "export": "data",
    "template": "data",
    "demo": "data",
    "info": "data",
    "check": "admin",
    "backup": "admin",
    "restore": "admin",
    "users": "admin",
    "recover-admin": "admin",
    "key-passphrase": "admin",
    "write-key": "admin",
    "journal": "admin",
    "publish": "results",
    "stats": "results",
    "archive": "results",
    "holidays": "results",
    "deadline": "results",
    "verify": "verify",
    "draw": "draw",
    "substitute": "draw",
    "void": "draw",
    "sessions": "draw",
    "verifier-html": "publish",
    "settings": "settings",
    "publish-items": "publish",
    "publish-plan": "publish",
    "papers": "papers",
}


def _function(command: str, prefix: str) -> Callable[..., Any]:
    module = import_module(f"{__name__}.{COMMANDS[command]}")
    fn: Callable[..., Any] = getattr(module, prefix + command.replace("-", "_"))
    return fn


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dsj-desktop",
        description=f"{APP_TITLE}（双随机、一公开）。不带子命令时启动图形界面。",
    )
    p.add_argument("--data-dir", help="数据文件夹（默认：系统的用户数据文件夹；也可用环境变量 DSJ_DATA_DIR）")
    p.add_argument("--database", metavar="URL",
                   help="单位的 PostgreSQL 服务器，如 postgresql://用户名@主机/数据库（不含密码；也可用环境变量 "
                        "DSJ_DATABASE_URL）；默认：数据文件夹中的 SQLite 文件")  # fmt: skip
    p.add_argument("--version", action="version", version=f"dsj-desktop {__version__}")
    p.add_argument(
        "--user", help="以该账户身份操作（已设账户的数据文件夹修改数据时需要；密码从终端输入或 DSJ_PASSWORD）"
    )
    p.add_argument("--self-test", action="store_true",
                   help="启动图形界面、打开主窗口后立即退出（安装后自检用）")  # fmt: skip
    sub = p.add_subparsers(dest="command", metavar="SUBCOMMAND")
    for command in COMMANDS:
        _function(command, "add_")(sub)
    return p


def main(argv: Sequence[str] | None = None, *, gui: Callable[[argparse.Namespace], int] | None = None) -> int:
    """Run the command *argv* names. Without one, *gui* (the launcher's GUI start) takes the parsed
    options; with no *gui*, the usage is shown."""
    from dsj_desktop.cli.common import guarded, utf8_streams

    utf8_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.database:  # every open_database of this process then uses the server (db.pg.resolve_url)
        os.environ["DSJ_DATABASE_URL"] = args.database
    if args.command is None:
        if gui is None:
            parser.print_usage()
            return 2
        return gui(args)
    handler = _function(args.command, "cmd_")

    def work() -> int:
        from dsj_desktop.cli.admin import login_from_args

        login_from_args(args)
        result: int = handler(args)
        return result

    return guarded(work)
