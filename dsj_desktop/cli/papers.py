"""``dsj-desktop papers SESSION --out DIR``: the 检查通知书 and 实地检查记录表 of a confirmed session's
drawn targets (see :mod:`dsj_desktop.publish.papers`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dsj_desktop.cli.common import open_db, run

KINDS = ("notice", "record", "both")  # as in dsj_desktop.publish.papers (not imported at start-up)


def add_papers(sub: Any) -> None:
    p = sub.add_parser(
        "papers",
        help="为已确认场次的每个检查对象生成检查文书（检查通知书、实地检查记录表），写入一个 PDF",
    )
    p.add_argument("session", metavar="SESSION", help="抽取场次编号")
    p.add_argument("--out", type=Path, required=True, help="写出 PDF 的文件夹")
    p.add_argument("--kind", choices=KINDS, default="both",
                   help="notice：检查通知书；record：实地检查记录表；both：两者（默认）")  # fmt: skip
    p.add_argument("--per-target", action="store_true", help="每个检查对象单独一个 PDF 文件")
    p.add_argument("--operator", default="", help="操作人员（记入通知书编号的留痕）")


def cmd_papers(args: argparse.Namespace) -> int:
    from dsj_desktop.publish.papers import KIND_TITLES, make_papers

    with open_db(args) as db:
        papers = run(make_papers(db, args.session, args.out, kind=args.kind, per_target=args.per_target,
                                 operator=args.operator))  # fmt: skip
    print(f"场次 {papers.session_id}（抽取记录第 {papers.record_version} 版）：{len(papers.targets)} 个检查对象的"
          f"{KIND_TITLES[args.kind]}，共 {papers.pages} 页。")  # fmt: skip
    numbers = [t.number for t in papers.targets if t.number]
    if numbers:
        print(
            f"通知书文号：{numbers[0]} 至 {numbers[-1]}" if len(numbers) > 1 else f"通知书文号：{numbers[0]}"
        )
    for path in papers.written:
        print(f"已写出：{path}")
    return 0
