"""``dsj-desktop publish-items FILE`` and ``dsj-desktop publish-plan FILE`` (registered by the CLI).

The name ``publish`` stays free: a later part uses ``publish --task`` for the results of a task."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parsers(sub: Any) -> None:
    items = sub.add_parser(
        "publish-items", help="生成对外公示的抽查事项清单（.xlsx 或 .pdf，只含启用的事项）"
    )
    items.add_argument("file", type=Path, help="输出文件，.xlsx 或 .pdf")
    items.add_argument("--year", type=int, help="清单年度（默认：启用事项中最新的年度）")
    plan = sub.add_parser(
        "publish-plan", help="生成对外公示的年度抽查计划（.xlsx 或 .pdf，不含已归档的任务）"
    )
    plan.add_argument("file", type=Path, help="输出文件，.xlsx 或 .pdf")
    plan.add_argument("--year", type=int, help="计划年度（默认：最新的年度）")
    plan.add_argument("--plan", help="只公示这个抽查计划编号的任务")


def cmd_publish_items(args: argparse.Namespace) -> int:
    from dsj_desktop.cli import _open, run
    from dsj_desktop.publish.jobs import publish_items

    db = _open(args)
    try:
        table = run(publish_items(db, args.file, year=args.year))
    finally:
        db.close()
    print(f"已生成公示文件“{args.file}”：{table.title}，共 {len(table.rows)} {table.unit}。")
    return 0


def cmd_publish_plan(args: argparse.Namespace) -> int:
    from dsj_desktop.cli import _open, run
    from dsj_desktop.publish.jobs import publish_plan

    db = _open(args)
    try:
        table = run(publish_plan(db, args.file, year=args.year, plan=args.plan))
    finally:
        db.close()
    print(f"已生成公示文件“{args.file}”：{table.title}，共 {len(table.rows)} {table.unit}。")
    return 0


HANDLERS = {"publish-items": cmd_publish_items, "publish-plan": cmd_publish_plan}
