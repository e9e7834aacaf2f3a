"""The directories and lists as spreadsheets: ``import``, ``export``, ``template`` (for the kinds in
:data:`KIND_NAMES`), ``demo`` (the demo county) and ``info`` (the data folder and its counts)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsj_desktop.cli.common import open_db, run

if TYPE_CHECKING:
    from dsj_desktop.db.engine import Database
    from dsj_desktop.progress import Job

# The kinds of spreadsheet, named here so that the parser is built without the specs (and SQLAlchemy);
# tests/test_cli_startup.py checks them against :func:`kind`.
KIND_NAMES = ("conflicts", "experts", "inspectors", "items", "plan", "results", "targets")


@dataclass(frozen=True)
class Kind:
    """One kind of spreadsheet the command line imports, exports and makes templates for."""

    name: str
    title: str
    do_import: Callable[[Database, Path, argparse.Namespace], Job[Any]]
    do_export: Callable[[Database, Path, argparse.Namespace], Job[int]]
    do_template: Callable[[Database, Path], None]


def kind(name: str) -> Kind:
    """The kind called *name* (one of :data:`KIND_NAMES`)."""
    from dsj_desktop.domain import codelists
    from dsj_desktop.domain.plan_specs import ITEMS, PLAN_ROWS
    from dsj_desktop.domain.result_specs import RESULT_ROWS
    from dsj_desktop.domain.specs import DIRECTORIES, TableSpec
    from dsj_desktop.io.exporter import write_template
    from dsj_desktop.services.backup import backup_hook

    def template(spec: TableSpec) -> Callable[[Database, Path], None]:
        def tpl(db: Database, path: Path) -> None:
            with db.read() as conn:
                codes = codelists.all_lists(conn)
            write_template(path, spec, codes)

        return tpl

    if name == PLAN_ROWS.kind:
        from dsj_desktop.services.plan import export_plan, import_plan

        def plan_imp(db: Database, path: Path, args: argparse.Namespace) -> Job[Any]:
            return import_plan(db, path, sheet=args.sheet, dry_run=args.dry_run, before_write=backup_hook(db))

        return Kind(name, PLAN_ROWS.title, plan_imp, lambda db, path, args: export_plan(db, path),
                    template(PLAN_ROWS))  # fmt: skip
    if name == RESULT_ROWS.kind:
        from dsj_desktop.services import results

        def results_imp(db: Database, path: Path, args: argparse.Namespace) -> Job[Any]:
            return results.import_results(
                db, path, sheet=args.sheet, dry_run=args.dry_run, operator="命令行导入"
            )

        return Kind(name, RESULT_ROWS.title, results_imp, lambda db, path, args: results.export_results(db, path),
                    results.write_results_template)  # fmt: skip

    from dsj_desktop.io.exporter import export_directory
    from dsj_desktop.io.importer import import_directory

    spec = ITEMS if name == ITEMS.kind else DIRECTORIES[name]

    def imp(db: Database, path: Path, args: argparse.Namespace) -> Job[Any]:
        return import_directory(db, spec, path, sheet=args.sheet, add_unknown_codes=args.add_codes,
                                dry_run=args.dry_run, before_write=backup_hook(db),
                                ignore_columns=args.ignore_column)  # fmt: skip

    def exp(db: Database, path: Path, args: argparse.Namespace) -> Job[int]:
        return export_directory(db, spec, path, include_archived=args.include_archived)

    return Kind(name, spec.title, imp, exp, template(spec))


def add_import(sub: Any) -> None:
    imp = sub.add_parser("import", help="从 Excel 导入（整表校验，有任何问题则整体拒绝）")
    imp.add_argument("kind", choices=KIND_NAMES)
    imp.add_argument("file", type=Path)
    imp.add_argument("--sheet", help="工作表名称（默认：第一个可见工作表）")
    imp.add_argument("--add-codes", action="store_true", help="把代码表中没有的行业领域/所属区域加入代码表")
    imp.add_argument("--dry-run", action="store_true", help="只检查，不写入")
    imp.add_argument("--ignore-column", action="append", default=[], metavar="列名",
                     help="确认不导入文件中的这一列（抽取要用到的列未导入时，须逐列确认；可写多次）")  # fmt: skip


def add_export(sub: Any) -> None:
    exp = sub.add_parser("export", help="导出为 Excel（与导入模板表头一致）")
    exp.add_argument("kind", choices=KIND_NAMES)
    exp.add_argument("file", type=Path)
    exp.add_argument("--include-archived", action="store_true", help="包含已归档的记录")


def add_template(sub: Any) -> None:
    tpl = sub.add_parser("template", help="生成导入模板（含示例行和下拉选项）")
    tpl.add_argument("kind", choices=KIND_NAMES)
    tpl.add_argument("file", type=Path)


FIRST_DEMO_YEAR = 2020  # the working-day tables the program ships cover it (chinese-calendar)


def add_demo(sub: Any) -> None:
    demo = sub.add_parser("demo", help="在空数据库中生成虚构的演示县数据")
    demo.add_argument("--scale", type=int, default=1, help=argparse.SUPPRESS)
    demo.add_argument(
        "--year",
        type=int,
        help="演示计划的年度（默认：最近一个演示情节已经结束的年度；不能晚于它，抽取不会落在将来）",
    )


def add_info(sub: Any) -> None:
    sub.add_parser("info", help="显示数据文件夹、数据库版本和各名录数量")


def cmd_import(args: argparse.Namespace) -> int:
    k = kind(args.kind)
    with open_db(args) as db:
        summary = run(k.do_import(db, args.file, args))
    text = summary.text() if hasattr(summary, "text") else str(summary)
    print(("（试运行，未写入）" if getattr(args, "dry_run", False) else "") + text)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    k = kind(args.kind)
    with open_db(args) as db:
        n = run(k.do_export(db, args.file, args))
    print(f"已导出{k.title} {n} 条到“{args.file}”。")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    k = kind(args.kind)
    with open_db(args) as db:
        k.do_template(db, args.file)
    print(f"已生成{k.title}导入模板“{args.file}”。")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from dsj_desktop.clock import today
    from dsj_desktop.demo import fill_demo
    from dsj_desktop.demo.county import demo_year
    from dsj_desktop.errors import UserError

    latest = demo_year(today())
    if args.year is not None and not FIRST_DEMO_YEAR <= args.year <= latest:
        raise UserError(
            f"演示年度 {args.year} 不可用：请写 {FIRST_DEMO_YEAR}—{latest} 之间的年份"
            f"（{latest} 年以后的演示抽取日期还没有到）。"
        )
    with open_db(args) as db:
        summary = run(fill_demo(db, scale=args.scale, year=args.year))
    print(summary.text())
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from dsj_desktop.domain.specs import DIRECTORIES
    from dsj_desktop.paths import database_path, resolve_data_dir
    from dsj_desktop.services.directory import directory_counts

    data_dir = resolve_data_dir(args.data_dir)
    with open_db(args) as db:
        print(f"数据文件夹：{data_dir}")
        where = f"数据库服务器：{db.location}" if db.on_server else f"数据库文件：{database_path(data_dir)}"
        print(f"{where}（数据库版本 {db.schema_version()}）")
        for spec in DIRECTORIES.values():
            c = directory_counts(db, spec)
            print(
                f"{spec.title}：{c.total} {spec.unit}"
                + (f"（另有已归档 {c.archived}）" if c.archived else "")
            )
    return 0
