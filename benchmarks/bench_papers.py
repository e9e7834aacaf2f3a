"""The papers (检查通知书 + 实地检查记录表) of a 1,000-target session vs. reportlab laying out the
same pages bare.

    .venv/bin/python benchmarks/bench_papers.py [TARGETS]

A demo county (``fill_demo``) gets a task over every industry with three items (YJ-001, YJ-008,
YJ-009: nine 抽查内容 rows), teams of two and one expert; a session draws TARGETS targets and is
confirmed. Timed (best of 3, in one run):

* papers — the whole job ``make_papers``: reading the session and the directories, the 文号 (the
  first run writes them; the later runs find them), laying out both papers of every target with
  the QR code and the page header and footer on every page, writing the file;
* bare — plain reportlab (SimpleDocTemplate, the same frame) laying out the same flowables (the
  paragraphs and tables of both papers of every target, made by the same code: same cell text,
  styles, row heights and page breaks); no QR codes, no page headers or footers, no page
  numbering, no database, no 文号, no file.

Prints both, the page counts and the ratio (goal: <= 2).
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate

from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.demo import fill_demo
from dsj_desktop.domain import codelists
from dsj_desktop.domain.plan_specs import PLAN_ROWS
from dsj_desktop.io.importer import ParsedSheet
from dsj_desktop.progress import run_job
from dsj_desktop.publish import papers as pp
from dsj_desktop.services import sessions
from dsj_desktop.services.plan import apply_plan


def make_session(db: Database, n: int) -> str:
    run_job(fill_demo(db, draws=False, scale=max(1, n // 1000)))
    row = {
        "plan_code": "JH-BENCH", "plan_name": "基准测试计划", "plan_year": 2026, "code": "RW-BENCH",
        "name": "文书基准测试任务", "draw_type": "不定向", "items": "YJ-001、YJ-008、YJ-009", "industries": "",
        "ratio": f"{n}家", "team_size": 2, "expert_count": 1, "start_date": "2026-01-01", "end_date": "2026-12-31",
    }  # fmt: skip
    with db.write() as conn:
        apply_plan(conn, ParsedSheet.from_records(PLAN_ROWS, [row], codelists.all_lists(conn), "基准"))
    s = sessions.prepare(db, "RW-BENCH")
    s = sessions.commit(db, s.id)
    s = sessions.add_witness(db, s.id, "甲", "31415926535")
    s = sessions.add_witness(db, s.id, "乙", "27182818284")
    s = sessions.do_reveal(db, s.id)
    s = sessions.confirm(db, s.id)
    return s.id


def bare_reportlab(papers: pp.Papers) -> tuple[bytes, int]:
    """The same pages laid out by plain reportlab: the same paragraphs and tables (built by the same
    code, so the same cell text, styles and row heights) in the same frame on a plain canvas."""
    builder = pp._Builder(papers, pp.BOTH, papers.targets)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=pp.MARGIN_X, rightMargin=pp.MARGIN_X,
                            topMargin=pp.MARGIN_TOP, bottomMargin=pp.MARGIN_BOTTOM)  # fmt: skip
    doc.build([f for f in builder.story() if not isinstance(f, pp._Mark)])
    return out.getvalue(), doc.page


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    tmp = Path(tempfile.mkdtemp(prefix="dsj-bench-papers-"))
    db = open_database(tmp / "data")
    t0 = time.perf_counter()
    sid = make_session(db, n)
    print(f"session {sid}: made in {time.perf_counter() - t0:.1f} s")
    with db.read() as conn:
        content = pp.load_papers(conn, sid)
    print(f"{len(content.targets)} targets, {len(content.items)} items, "
          f"{sum(len(i.contents) for i in content.items)} 抽查内容 rows per record form")  # fmt: skip
    best_papers = best_bare = float("inf")
    pages_papers = pages_bare = 0
    size = 0
    for run in range(3):
        out = tmp / f"out{run}"
        start = time.perf_counter()
        papers = run_job(pp.make_papers(db, sid, out))
        best_papers = min(best_papers, time.perf_counter() - start)
        pages_papers, size = papers.pages, papers.written[0].stat().st_size
        start = time.perf_counter()
        _, pages_bare = bare_reportlab(papers)
        best_bare = min(best_bare, time.perf_counter() - start)
    print(f"papers (make_papers, both kinds, one file): {best_papers:.2f} s, {pages_papers} pages, "
          f"{size / 1024 / 1024:.1f} MiB")  # fmt: skip
    print(f"bare reportlab, same flowables:           {best_bare:.2f} s, {pages_bare} pages")
    print(f"ratio: {best_papers / best_bare:.2f}  (goal <= 2)")
    db.close()


if __name__ == "__main__":
    main()
