"""Building a 1,000-row table document with PdfDocument vs. reportlab's bare Table.

    .venv/bin/python benchmarks/bench_pdf_table.py [ROWS]

Both sides register the same bundled CJK font and lay out the same rows (8 columns of typical
content) on A4 portrait; the builder adds its heading, running header, "第 x 页 共 y 页" footer,
column widths, zebra stripes and wrapping of long cells. Prints the best of 3 runs of each and
the ratio (goal: ≤ 2).
"""

from __future__ import annotations

import io
import random
import sys
import time
from collections.abc import Callable

from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

from dsj_desktop.pdf.document import Column, PdfDocument
from dsj_desktop.pdf.fonts import register_cjk_font

COLUMNS = [
    Column("序号", 0.6, "center"),
    Column("企业名称", 3.2),
    Column("统一社会信用代码", fit="91350100M000100Y43"),
    Column("所属区域", 1.3),
    Column("抽签号", fit="dddddddddddd"),
    Column("检查人员", 0.9, "center"),
    Column("检查人员", 0.9, "center"),
    Column("行业", 1.1),
]


def make_rows(n: int) -> list[list[str]]:
    rng = random.Random(2025)
    names = ("顺达", "光明", "龙腾", "凤翔化工", "锦绣纺织品进出口", "青松建材", "汇通物流")
    kinds = ("有限公司", "有限责任公司", "股份有限公司", "股份有限公司（分公司）")
    regions = ("城关镇", "青山镇", "东坝乡", "河西街道", "工业园区管委会", "白水镇")
    people = ("王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "赵强", "黄丽", "欧阳明")
    industries = ("危险化学品", "工贸", "非煤矿山", "烟花爆竹", "冶金")
    return [
        [
            str(i + 1),
            f"青山县{rng.choice(names)}{rng.choice(kinds)}",
            f"91350100M{rng.randrange(10**6):06d}Y4{i % 10}",
            rng.choice(regions),
            f"{rng.getrandbits(48):012x}",
            rng.choice(people),
            rng.choice(people),
            rng.choice(industries),
        ]
        for i in range(n)
    ]


def with_builder(rows: list[list[str]]) -> bytes:
    doc = PdfDocument("抽查对象随机抽取记录", bureau="青山县应急管理局", doc_id="CJ-2025-0001")
    doc.heading(lines=["抽取时间：2025-03-01 09:30:12"])
    doc.table(COLUMNS, rows)
    return doc.build()


def bare_reportlab(rows: list[list[str]]) -> bytes:
    font = register_cjk_font()
    out = io.BytesIO()
    template = SimpleDocTemplate(out, pagesize=A4)
    header = [c.title for c in COLUMNS]
    table = Table([header, *rows], repeatRows=1, style=TableStyle([("FONTNAME", (0, 0), (-1, -1), font)]))
    template.build([table])
    return out.getvalue()


def best_of(runs: int, fn: Callable[[list[list[str]]], bytes], rows: list[list[str]]) -> tuple[float, int]:
    best, size = float("inf"), 0
    for _ in range(runs):
        start = time.perf_counter()
        size = len(fn(rows))
        best = min(best, time.perf_counter() - start)
    return best, size


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rows = make_rows(n)
    register_cjk_font()
    with_builder(rows[:50])  # warm up: font parsing, imports
    bare_reportlab(rows[:50])
    t_builder, size_builder = best_of(3, with_builder, rows)
    t_bare, size_bare = best_of(3, bare_reportlab, rows)
    print(f"rows: {n}")
    print(f"PdfDocument.table: {t_builder:.3f} s  ({size_builder / 1024:.0f} KiB)")
    print(f"bare Table:        {t_bare:.3f} s  ({size_bare / 1024:.0f} KiB)")
    print(f"ratio: {t_builder / t_bare:.2f}  (goal <= 2)")


if __name__ == "__main__":
    main()
