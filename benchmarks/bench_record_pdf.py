"""Building the printed record of a 1,000-target draw vs. reportlab building bare tables of the
same rows.

    .venv/bin/python benchmarks/bench_record_pdf.py [TARGETS] [CANDIDATES] [CITY]

The record is a real DSJ-DRAW-1 record (run_draw, build_record, sign_record) of TARGETS targets
drawn from CANDIDATES candidates in 10 strata, 60 inspectors (teams of 2), 20 experts (1 per
target) and 50 exclusions. The record PDF prints every table row of it: the result (target,
ticket, team with ids, expert), the exclusions, and the appendices (all candidates, inspectors,
experts). The baseline lays out exactly those rows as plain reportlab Tables (same font, same cell
text, header repeated, nothing else). Both best of 3; prints both and the ratio (goal: <= 2).
Signing (pyHanko) is timed separately: it is not layout.

Then, once, the record PDF at city scale: 200 targets drawn from CITY candidates (default 100,000;
0 skips it), about 2,150 pages, the appendix listing every candidate: the time to make the document
(build_record_document) and to lay it out (doc.build(); 140 s for 96,469 candidates while
reportlab split the long table page by page quadratically, see PagedTable).
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

from dsj_desktop.draw.algorithm import DrawInput, run_draw
from dsj_desktop.draw.record import build_record, sign_record
from dsj_desktop.pdf.fonts import register_cjk_font
from dsj_desktop.publish.record_pdf import build_record_document

KEY = bytes(range(1, 33))
REGIONS = (
    "城关镇",
    "青山镇",
    "东坝乡",
    "河西街道",
    "工业园区",
    "白水镇",
    "石门镇",
    "龙泉镇",
    "北留镇",
    "南河镇",
)
NAMES = ("顺达", "光明", "龙腾", "凤翔化工", "锦绣纺织品进出口", "青松建材", "汇通物流")
KINDS = ("有限公司", "有限责任公司", "股份有限公司", "股份有限公司（分公司）")
PEOPLE = ("王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "赵强", "黄丽", "欧阳明", "周芳")


def make_record(n_targets: int, n_candidates: int) -> dict[str, Any]:
    ids = [f"91140522{i:09d}X" for i in range(n_candidates)]
    targets = [(tid, REGIONS[i % len(REGIONS)]) for i, tid in enumerate(ids)]
    per = n_candidates // len(REGIONS)
    quotas = {
        r: n_targets // len(REGIONS) + (1 if j < n_targets % len(REGIONS) else 0)
        for j, r in enumerate(REGIONS)
    }
    assert all(k <= per for k in quotas.values())
    inspectors = [f"1405220{i:04d}" for i in range(60)]
    experts = [f"ZJ{i:03d}" for i in range(20)]
    params = {
        "quotas": quotas, "team_size": 2, "inspector_cap": -(-n_targets * 2 // 60), "expert_count": 1,
        "expert_cap": -(-n_targets // 20), "mandatory": [],
    }  # fmt: skip
    result = run_draw(DrawInput("S-BENCH-1", targets, inspectors, experts, params,
                                [("企业代表", "3141592653"), ("纪检监督员", "2718281828")]))  # fmt: skip
    names = {tid: f"青山县{NAMES[i % len(NAMES)]}{KINDS[i % len(KINDS)]}{i}" for i, tid in enumerate(ids)}
    record = build_record(
        result,
        task={
            "code": "RW-BENCH",
            "name": "基准测试任务",
            "bureau": "青山县应急管理局",
            "draw_date": "2026-06-01",
            "place": "三楼会议室",
            "operator": "王明",
            "rules": ["抽查周期：自然年"],
        },
        target_names=names,
        inspector_names={p: PEOPLE[i % len(PEOPLE)] + str(i) for i, p in enumerate(inspectors)},
        inspector_units={p: "执法监察大队" for p in inspectors},
        expert_names={p: "专家" + p for p in experts},
        exclusions=[(f"91140599{i:09d}X", "经营状态为注销") for i in range(50)],
    )
    return sign_record(record, KEY)


def table_rows(record: dict[str, Any]) -> list[list[list[str]]]:
    """Every table the record PDF prints, as plain cell text (header first)."""
    names = {t["id"]: t["name"] for t in record["targets"]}
    people = {p["id"]: p["name"] for p in record["inspectors"]} | {
        p["id"]: p["name"] for p in record["experts"]
    }

    def who(ids: list[str]) -> str:
        return "\n".join(f"{people[p]}（{p}）" for p in ids)

    result = [["序号", "检查对象 / 统一社会信用代码", "分层", "票号（前 16 位）", "执法检查人员", "专家"]] + [
        [str(i), f"{names[x['id']]}\n{x['id']}", x["stratum"], x["ticket"][:16], who(x["inspectors"]),
         who(x["experts"])]
        for i, x in enumerate(record["selected"], start=1)
    ]  # fmt: skip
    exclusions = [["序号", "名称", "统一社会信用代码", "排除原因"]] + [
        [str(i), "", e["id"], e["reason"]] for i, e in enumerate(record["exclusions"], start=1)
    ]
    candidates = [["序号", "统一社会信用代码", "名称", "分层"]] + [
        [str(i), t["id"], t["name"], t["stratum"]] for i, t in enumerate(record["targets"], start=1)
    ]
    inspectors = [["序号", "执法证号", "姓名", "所属单位"]] + [
        [str(i), p["id"], p["name"], p["unit"]] for i, p in enumerate(record["inspectors"], start=1)
    ]
    experts = [["序号", "编号", "姓名"]] + [
        [str(i), p["id"], p["name"]] for i, p in enumerate(record["experts"], 1)
    ]
    return [result, exclusions, candidates, inspectors, experts]


def with_record_pdf(record: dict[str, Any]) -> bytes:
    return build_record_document(record).build()


def bare_reportlab(tables: list[list[list[str]]]) -> bytes:
    font = register_cjk_font()
    out = io.BytesIO()
    style = TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8)])
    SimpleDocTemplate(out, pagesize=A4).build([Table(rows, repeatRows=1, style=style) for rows in tables])
    return out.getvalue()


def best_of(runs: int, fn: Callable[[Any], bytes], arg: Any) -> tuple[float, int]:
    best, size = float("inf"), 0
    for _ in range(runs):
        start = time.perf_counter()
        size = len(fn(arg))
        best = min(best, time.perf_counter() - start)
    return best, size


def main() -> None:
    n_targets = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    n_candidates = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    record = make_record(n_targets, n_candidates)
    tables = table_rows(record)
    register_cjk_font()
    small = make_record(20, 200)
    with_record_pdf(small)  # warm up: font parsing, imports
    bare_reportlab(table_rows(small))
    t_record, size_record = best_of(3, with_record_pdf, record)
    t_bare, size_bare = best_of(3, bare_reportlab, tables)
    rows = sum(len(t) - 1 for t in tables)
    print(f"record: {n_targets} targets drawn from {n_candidates} candidates; {rows} table rows in all")
    print(f"record PDF (build_record_document): {t_record:.3f} s  ({size_record / 1024:.0f} KiB)")
    print(f"bare reportlab tables:              {t_bare:.3f} s  ({size_bare / 1024:.0f} KiB)")
    print(f"ratio: {t_record / t_bare:.2f}  (goal <= 2)")
    try:
        import tempfile
        from pathlib import Path

        from dsj_desktop.keys import KeyStore
        from dsj_desktop.pdf.sign import Attachment, sign_pdf
        from dsj_desktop.publish.record_pdf import record_json_bytes

        doc = build_record_document(record)
        data = doc.build()
        keys = KeyStore(Path(tempfile.mkdtemp()))
        start = time.perf_counter()
        sign_pdf(data, keys, "青山县应急管理局", attachments=[Attachment("S-BENCH-1.json", record_json_bytes(record))],
                 stamp=doc.stamp_placement)  # fmt: skip
        print(f"signing with the attachment (not in the ratio): {time.perf_counter() - start:.3f} s, "
              f"{doc.page_count} pages")  # fmt: skip
    except Exception as exc:  # the benchmark's numbers above stand on their own
        print(f"signing not measured: {exc}")
    n_city = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    if n_city:
        city = make_record(200, n_city)
        start = time.perf_counter()
        doc = build_record_document(city)
        t_doc = time.perf_counter() - start
        start = time.perf_counter()
        size = len(doc.build())
        t_build = time.perf_counter() - start
        print(f"city scale, 200 targets from {n_city} candidates: record PDF {t_doc + t_build:.1f} s "
              f"(build_record_document {t_doc:.1f} s, doc.build() {t_build:.1f} s), "
              f"{doc.page_count} pages, {size / 2**20:.1f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
