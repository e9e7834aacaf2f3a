"""Files for the public: ``verifier-html OUT.html`` (the browser verifier), ``publish-items FILE`` and
``publish-plan FILE`` (the item list and the annual plan as published). The name ``publish`` is the
results' publication (:mod:`dsj_desktop.cli.results`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dsj_desktop.cli.common import open_db, run
from dsj_desktop.errors import UserError


def add_verifier_html(sub: Any) -> None:
    p = sub.add_parser(
        "verifier-html",
        help="生成离线网页版核验工具（一个 HTML 文件，用浏览器打开即可核验抽取记录，不联网）",
        description="写出一个独立的 HTML 文件：在任何新版浏览器中打开，选择或拖入抽取记录（.json 或 .pdf），"
        "即按 DSJ-DRAW-1 重算并核对签名。不需要安装任何软件，也不联网。",
    )
    p.add_argument("out", type=Path, metavar="OUT.html", help="要写出的 HTML 文件")


def add_publish_items(sub: Any) -> None:
    items = sub.add_parser(
        "publish-items", help="生成对外公示的抽查事项清单（.xlsx 或 .pdf，只含启用的事项）"
    )
    items.add_argument("file", type=Path, help="输出文件，.xlsx 或 .pdf")
    items.add_argument("--year", type=int, help="清单年度（默认：启用事项中最新的年度）")


def add_publish_plan(sub: Any) -> None:
    plan = sub.add_parser(
        "publish-plan", help="生成对外公示的年度抽查计划（.xlsx 或 .pdf，不含已归档的任务）"
    )
    plan.add_argument("file", type=Path, help="输出文件，.xlsx 或 .pdf")
    plan.add_argument("--year", type=int, help="计划年度（默认：最新的年度）")
    plan.add_argument("--plan", help="只公示这个抽查计划编号的任务")


def cmd_verifier_html(args: argparse.Namespace) -> int:
    from dsj_desktop.publish.verifier_html import FILE_NAME, write_verifier_html

    out = Path(args.out)
    if out.is_dir():
        out = out / FILE_NAME
    try:
        write_verifier_html(out)
    except OSError as exc:
        raise UserError(f"无法写出文件“{out}”：{exc.strerror or exc}") from None
    print(f"已写出核验工具：{out}（{out.stat().st_size // 1024} KB，用浏览器打开即可，不联网）")
    return 0


def cmd_publish_items(args: argparse.Namespace) -> int:
    from dsj_desktop.publish.jobs import publish_items

    with open_db(args) as db:
        table = run(publish_items(db, args.file, year=args.year))
    print(f"已生成公示文件“{args.file}”：{table.title}，共 {len(table.rows)} {table.unit}。")
    return 0


def cmd_publish_plan(args: argparse.Namespace) -> int:
    from dsj_desktop.publish.jobs import publish_plan

    with open_db(args) as db:
        table = run(publish_plan(db, args.file, year=args.year, plan=args.plan))
    print(f"已生成公示文件“{args.file}”：{table.title}，共 {len(table.rows)} {table.unit}。")
    return 0
