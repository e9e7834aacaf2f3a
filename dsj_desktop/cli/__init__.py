"""The command line: ``dsj-desktop [--data-dir DIR] SUBCOMMAND ...``; without a subcommand, the GUI.

Exit status 0 on success; 1 with a Chinese message on stderr when the work was refused;
2 for a malformed command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsj_desktop import APP_TITLE, __version__
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.errors import UserError
from dsj_desktop.paths import database_path, resolve_data_dir
from dsj_desktop.progress import Job, Progress, run_job


@dataclass(frozen=True)
class Kind:
    """One kind of spreadsheet the command line imports, exports and makes templates for."""

    name: str
    title: str
    do_import: Callable[[Database, Path, argparse.Namespace], Job[Any]] | None
    do_export: Callable[[Database, Path, argparse.Namespace], Job[int]] | None
    do_template: Callable[[Database, Path], None] | None


KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    KINDS[kind.name] = kind


def _register_directories() -> None:
    from dsj_desktop.domain import codelists
    from dsj_desktop.domain.specs import DIRECTORIES, TableSpec
    from dsj_desktop.io.exporter import export_directory, write_template
    from dsj_desktop.io.importer import import_directory
    from dsj_desktop.services.backup import backup_hook

    def make(spec: TableSpec) -> Kind:
        def imp(db: Database, path: Path, args: argparse.Namespace) -> Job[Any]:
            return import_directory(db, spec, path, sheet=args.sheet, add_unknown_codes=args.add_codes,
                                    dry_run=args.dry_run, before_write=backup_hook(db),
                                    ignore_columns=args.ignore_column)  # fmt: skip

        def exp(db: Database, path: Path, args: argparse.Namespace) -> Job[int]:
            return export_directory(db, spec, path, include_archived=args.include_archived)

        def tpl(db: Database, path: Path) -> None:
            with db.read() as conn:
                codes = codelists.all_lists(conn)
            write_template(path, spec, codes)

        return Kind(spec.kind, spec.title, imp, exp, tpl)

    for spec in DIRECTORIES.values():
        register_kind(make(spec))

    from dsj_desktop.domain.plan_specs import ITEMS, PLAN_ROWS
    from dsj_desktop.services.plan import export_plan, import_plan

    register_kind(make(ITEMS))

    def plan_imp(db: Database, path: Path, args: argparse.Namespace) -> Job[Any]:
        return import_plan(db, path, sheet=args.sheet, dry_run=args.dry_run, before_write=backup_hook(db))

    def plan_exp(db: Database, path: Path, args: argparse.Namespace) -> Job[int]:
        return export_plan(db, path)

    def plan_tpl(db: Database, path: Path) -> None:
        with db.read() as conn:
            codes = codelists.all_lists(conn)
        write_template(path, PLAN_ROWS, codes)

    register_kind(Kind(PLAN_ROWS.kind, PLAN_ROWS.title, plan_imp, plan_exp, plan_tpl))


_register_directories()


class _Printer:
    """Progress on stderr, only when it is a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = ""

    def __call__(self, p: Progress) -> None:
        if not self.tty:
            return
        pct = f" {p.done * 100 // p.total}%" if p.total else ""
        line = f"\r{p.message}{pct}"
        if line != self.last:
            sys.stderr.write(line.ljust(40))
            sys.stderr.flush()
            self.last = line

    def done(self) -> None:
        if self.tty and self.last:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


def run(job: Job[Any]) -> Any:
    printer = _Printer()
    try:
        return run_job(job, printer)
    finally:
        printer.done()


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

    kinds = sorted(KINDS)
    imp = sub.add_parser("import", help="从 Excel 导入（整表校验，有任何问题则整体拒绝）")
    imp.add_argument("kind", choices=kinds)
    imp.add_argument("file", type=Path)
    imp.add_argument("--sheet", help="工作表名称（默认：第一个可见工作表）")
    imp.add_argument("--add-codes", action="store_true", help="把代码表中没有的行业领域/所属区域加入代码表")
    imp.add_argument("--dry-run", action="store_true", help="只检查，不写入")
    imp.add_argument("--ignore-column", action="append", default=[], metavar="列名",
                     help="确认不导入文件中的这一列（抽取要用到的列未导入时，须逐列确认；可写多次）")  # fmt: skip

    exp = sub.add_parser("export", help="导出为 Excel（与导入模板表头一致）")
    exp.add_argument("kind", choices=kinds)
    exp.add_argument("file", type=Path)
    exp.add_argument("--include-archived", action="store_true", help="包含已归档的记录")

    tpl = sub.add_parser("template", help="生成导入模板（含示例行和下拉选项）")
    tpl.add_argument("kind", choices=kinds)
    tpl.add_argument("file", type=Path)

    demo = sub.add_parser("demo", help="在空数据库中生成虚构的演示县数据")
    demo.add_argument("--scale", type=int, default=1, help=argparse.SUPPRESS)

    sub.add_parser("info", help="显示数据文件夹、数据库版本和各名录数量")
    for hook in PARSER_HOOKS:
        hook(sub)
    return p


# Later parts of the program add subcommands: hook(subparsers) and a handler per command name.
PARSER_HOOKS: list[Callable[[Any], None]] = []
HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {}


def _open(args: argparse.Namespace) -> Database:
    return open_database(resolve_data_dir(args.data_dir))


def cmd_import(args: argparse.Namespace) -> int:
    kind = KINDS[args.kind]
    if kind.do_import is None:
        raise UserError(f"{kind.title}不支持导入。")
    db = _open(args)
    try:
        summary = run(kind.do_import(db, args.file, args))
    finally:
        db.close()
    text = summary.text() if hasattr(summary, "text") else str(summary)
    print(("（试运行，未写入）" if getattr(args, "dry_run", False) else "") + text)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    kind = KINDS[args.kind]
    if kind.do_export is None:
        raise UserError(f"{kind.title}不支持导出。")
    db = _open(args)
    try:
        n = run(kind.do_export(db, args.file, args))
    finally:
        db.close()
    print(f"已导出{kind.title} {n} 条到“{args.file}”。")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    kind = KINDS[args.kind]
    if kind.do_template is None:
        raise UserError(f"{kind.title}没有导入模板。")
    db = _open(args)
    try:
        kind.do_template(db, args.file)
    finally:
        db.close()
    print(f"已生成{kind.title}导入模板“{args.file}”。")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from dsj_desktop.demo import fill_demo

    db = _open(args)
    try:
        summary = run(fill_demo(db, scale=args.scale))
    finally:
        db.close()
    print(summary.text())
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from dsj_desktop.domain.specs import DIRECTORIES
    from dsj_desktop.services.directory import directory_counts

    data_dir = resolve_data_dir(args.data_dir)
    db = open_database(data_dir)
    try:
        print(f"数据文件夹：{data_dir}")
        where = f"数据库服务器：{db.location}" if db.on_server else f"数据库文件：{database_path(data_dir)}"
        print(f"{where}（数据库版本 {db.schema_version()}）")
        for spec in DIRECTORIES.values():
            c = directory_counts(db, spec)
            print(
                f"{spec.title}：{c.total} {spec.unit}"
                + (f"（另有已归档 {c.archived}）" if c.archived else "")
            )
    finally:
        db.close()
    return 0


BUILTIN = {
    "import": cmd_import,
    "export": cmd_export,
    "template": cmd_template,
    "demo": cmd_demo,
    "info": cmd_info,
}


def _utf8_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    _utf8_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.database:  # every open_database of this process then uses the server (db.pg.resolve_url)
        os.environ["DSJ_DATABASE_URL"] = args.database
    if args.command is None:
        return main_gui(args)
    handler = HANDLERS.get(args.command) or BUILTIN[args.command]
    try:
        from dsj_desktop.cli.admin import login_from_args

        login_from_args(args)
        return handler(args)
    except UserError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130


def main_gui(args: argparse.Namespace | None = None) -> int:
    if args is None:
        args = build_parser().parse_args()
        if args.command is not None:
            return main()
    from dsj_desktop.ui.app import run_gui  # the only place the core reaches into the GUI

    return run_gui(resolve_data_dir(args.data_dir), self_test=args.self_test, user=args.user or "")


def _register_more() -> None:
    from dsj_desktop.cli import admin as cli_admin
    from dsj_desktop.cli import draw as cli_draw
    from dsj_desktop.cli import settings as cli_settings
    from dsj_desktop.draw import verify_cli
    from dsj_desktop.publish import commands, verifier_html

    cli_admin.register(PARSER_HOOKS, HANDLERS)
    from dsj_desktop.cli import results as cli_results

    cli_results.register(PARSER_HOOKS, HANDLERS)
    verify_cli.register(PARSER_HOOKS, HANDLERS)
    cli_draw.register(PARSER_HOOKS, HANDLERS)
    verifier_html.register(PARSER_HOOKS, HANDLERS)
    cli_settings.register(PARSER_HOOKS, HANDLERS)
    PARSER_HOOKS.append(commands.add_parsers)
    HANDLERS.update(commands.HANDLERS)
    from dsj_desktop.cli import papers as cli_papers

    cli_papers.register(PARSER_HOOKS, HANDLERS)


_register_more()
