"""Result commands: ``publish``, ``stats``, ``archive``, ``holidays`` and ``deadline`` (the headless
counterparts of the results and statistics tabs; results as spreadsheets are ``import/export/template
results``, :mod:`dsj_desktop.cli.data`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dsj_desktop.cli.common import iso_date, open_db, run
from dsj_desktop.errors import UserError


def add_publish(sub: Any) -> None:
    p = sub.add_parser("publish", help="生成检查结果公示文件（Excel 和 PDF，不含个人信息），并标记为已公示")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--task", metavar="CODE", help="公示一个抽查任务的全部已录入结果")
    which.add_argument(
        "--from", dest="date_from", type=iso_date, metavar="DATE", help="按检查日期公示：开始日期"
    )
    p.add_argument("--to", dest="date_to", type=iso_date, metavar="DATE", help="按检查日期公示：结束日期")
    p.add_argument("--out", type=Path, required=True, help="写出公示文件的文件夹")
    p.add_argument("--draft", action="store_true", help="只生成文件供审核，不标记为已公示")
    p.add_argument("--operator", default="", help="公示人")


def add_stats(sub: Any) -> None:
    s = sub.add_parser("stats", help="年度统计：写出年度统计报告 PDF 和统计表 Excel")
    s.add_argument("year", type=int, metavar="YEAR")
    s.add_argument("--out", type=Path, required=True, help="写出的文件夹")


def add_archive(sub: Any) -> None:
    a = sub.add_parser("archive", help="导出一个年度的档案（抽取记录、检查结果、公示表、统计、SHA-256 清单）")
    a.add_argument("year", type=int, metavar="YEAR")
    a.add_argument("--out", type=Path, required=True, help="新的（或空的）文件夹")


def add_holidays(sub: Any) -> None:
    h = sub.add_parser("holidays", help="查看或录入某年的节假日安排（程序自带数据未覆盖的年份）")
    h.add_argument("year", type=int, metavar="YEAR")
    h.add_argument("--off", help="放假日期，如 “2027-01-01 至 2027-01-03、2027-02-06 至 2027-02-12”")
    h.add_argument("--work", default="", help="调休上班日期（周六或周日），如 “2027-02-14、2027-02-20”")
    h.add_argument("--note", default="", help="依据，如 国办发明电〔2026〕X号")
    h.add_argument("--operator", default="")


def add_deadline(sub: Any) -> None:
    d = sub.add_parser("deadline", help="查看或设置检查结果录入期限（检查后 N 个工作日）")
    d.add_argument("days", type=int, nargs="?", metavar="N")


def cmd_publish(args: argparse.Namespace) -> int:
    from dsj_desktop.publish.result_publication import publish

    period = None
    if args.task is None:
        if args.date_to is None:
            raise UserError("按检查日期公示时请同时给出 --from 和 --to。")
        period = (args.date_from, args.date_to)
    args.out.mkdir(parents=True, exist_ok=True)
    with open_db(args) as db:
        out = run(publish(db, args.out, task_code=args.task, period=period, operator=args.operator,
                          mark=not args.draft))  # fmt: skip
    for path in out.files:
        print(f"已写出：{path}")
    if args.draft:
        print(f"公示草稿：{out.title}，共 {out.rows} 家（未标记为已公示）。")
    else:
        print(f"已公示：{out.title}，共 {out.rows} 家，其中本次新标记为已公示 {out.marked} 家。")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from dsj_desktop.io.exporter import save_workbook
    from dsj_desktop.keys import KeyStore
    from dsj_desktop.publish import stats_report
    from dsj_desktop.services import settings, stats

    args.out.mkdir(parents=True, exist_ok=True)
    with open_db(args) as db:
        with db.read() as conn:
            st = stats.year_statistics(conn, args.year)
        pdf = args.out / stats_report.default_pdf_name(args.year)
        pages = stats_report.write_stats_pdf(
            st, pdf, bureau=settings.bureau_name(db), keys=KeyStore(db.data_dir)
        )
    xlsx = args.out / f"{args.year}年度抽查工作统计.xlsx"
    save_workbook(stats_report.tables_workbook(st), xlsx)
    for label, value in st.summary():
        print(f"{label}：{value}")
    if not st.blacklist_ok:
        print(f"注意：黑名单对象未全部抽中，缺 {len(st.blacklist_missing)} 家（见统计报告）。")
    print(f"已写出：{pdf}（{pages} 页）")
    print(f"已写出：{xlsx}")
    return 0


def cmd_archive(args: argparse.Namespace) -> int:
    from dsj_desktop.publish.archive import export_archive

    with open_db(args) as db:
        summary = run(export_archive(db, args.year, args.out))
    print(summary.text())
    return 0


def cmd_holidays(args: argparse.Namespace) -> int:
    from dsj_desktop.domain.workdays import DateListError, YearArrangement, format_date_list, parse_date_list
    from dsj_desktop.services import holidays

    with open_db(args) as db:
        if args.off is not None:
            try:
                off = parse_date_list(args.off, args.year)
                work = parse_date_list(args.work, args.year)
            except DateListError as exc:
                raise UserError(str(exc)) from None
            arr = YearArrangement(args.year, frozenset(off), frozenset(work))
            holidays.save_arrangement(db, arr, operator=args.operator, note=args.note)
            print(f"已保存 {args.year} 年节假日安排：放假 {len(off)} 天，调休上班 {len(work)} 天。")
        cal = holidays.read_calendar(db)
    src = cal.source(args.year)
    if src is None:
        print(
            f"{args.year} 年：缺少节假日安排，该年的到期日无法计算。请用 --off 和 --work 录入国务院办公厅公布的安排。"
        )
        return 0
    print(f"{args.year} 年节假日安排：{src}")
    entered = cal.entered.get(args.year)
    if entered is not None:
        print("放假：\n" + format_date_list(entered.holidays))
        print("调休上班：\n" + (format_date_list(entered.workdays) or "（无）"))
    return 0


def cmd_deadline(args: argparse.Namespace) -> int:
    from dsj_desktop.services import holidays

    with open_db(args) as db:
        if args.days is not None:
            holidays.set_deadline_days(db, args.days)
        with db.read() as conn:
            n = holidays.deadline_days(conn)
    print(f"检查结果录入期限：检查后 {n} 个工作日。")
    return 0
