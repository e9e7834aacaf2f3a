"""Statistics on a small county whose every number is computed by hand below."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from dsj_desktop.db import draw_inputs
from dsj_desktop.db.engine import Database
from dsj_desktop.demo.county import AREA_CODE, _org_code
from dsj_desktop.domain import codelists
from dsj_desktop.domain.plan_specs import ITEMS, PLAN_ROWS
from dsj_desktop.domain.pool import STRATUM_JOIN
from dsj_desktop.domain.ratio import Ratio
from dsj_desktop.domain.specs import INSPECTORS, RISK_LEVELS, TARGETS, TableSpec
from dsj_desktop.domain.uscc import complete
from dsj_desktop.io.importer import ParsedSheet, diff, write_rows
from dsj_desktop.progress import run_job
from dsj_desktop.publish import stats_report
from dsj_desktop.services import stats
from dsj_desktop.services.plan import apply_plan
from dsj_desktop.services.results import ResultInput, ResultRow, load_rows, save_result
from tests.pdf_helpers import pdf_fonts, pdf_pages_text
from tests.test_draw_sessions import full_draw

ON = date(2026, 6, 1)
AT = datetime(2026, 6, 5, 16, 0)


def _write(db: Database, spec: TableSpec, records: list[dict[str, Any]]) -> None:
    with db.write() as conn:
        parsed = ParsedSheet.from_records(spec, records, codelists.all_lists(conn), "测试")
        add, _, _, _ = diff(spec, parsed.db_rows(spec), {})
        run_job(write_rows(conn, spec, add, []))


@pytest.fixture
def county(db: Database) -> Database:
    """6 fireworks shops in 城关镇 (risk 一般, one blacklisted), 4 machine shops in 东关镇 (risk 低, one
    blacklisted), 4 inspectors, one item, two tasks of 2026 of which one is drawn (40 %)."""
    rng = random.Random(7)
    with db.write() as conn:
        codelists.add_values(conn, codelists.REGION, ["城关镇", "东关镇"])
        conn.exec_driver_sql(
            "INSERT INTO setting (key, value) VALUES ('bureau_name', '\"测试县应急管理局\"')"
        )
    targets = []
    for i in range(10):
        fireworks = i < 6
        targets.append({
            "uscc": complete("91" + AREA_CODE + _org_code(rng)), "name": f"{'烟花' if fireworks else '机械'}企业{i}",
            "industry": "烟花爆竹" if fireworks else "机械", "region": "城关镇" if fireworks else "东关镇",
            "risk_level": "一般" if fireworks else "低", "blacklist": i in (0, 9), "phone": "13800000000",
        })  # fmt: skip
    _write(db, TARGETS, targets)
    _write(db, INSPECTORS, [
        {"cert_no": f"T{i:04d}", "name": f"检查员{i}", "cert_valid_until": date(2028, 12, 31),
         "specialties": "烟花爆竹", "duty_status": "在岗"} for i in range(4)
    ])  # fmt: skip
    _write(db, ITEMS, [{"code": "YJ-004", "name": "烟花爆竹经营单位安全检查", "industries": "烟花爆竹",
                        "inspector_req": "烟花爆竹", "year": 2026}])  # fmt: skip
    plan = {"plan_code": "JH-S", "plan_name": "测试计划", "plan_year": 2026, "draw_type": "定向", "items": "YJ-004",
            "industries": "烟花爆竹", "team_size": 2, "start_date": "2026-01-01", "end_date": "2026-12-31"}  # fmt: skip
    with db.write() as conn:
        rows = [{**plan, "code": "RW-S1", "name": "烟花爆竹抽查", "ratio": "40%"},
                {**plan, "code": "RW-S2", "name": "烟花爆竹复查", "ratio": "20%"}]  # fmt: skip
        apply_plan(conn, ParsedSheet.from_records(PLAN_ROWS, rows, codelists.all_lists(conn), "测试"))
    s = full_draw(db, "RW-S1", on=ON)
    with db.read() as conn:
        # The mandatory (黑名单) unit first, whatever its random place: the expectations below need it entered.
        drawn = sorted(load_rows(conn, session_id=s.id), key=lambda r: (not r.mandatory, r.position))
    assert len(drawn) == 3  # 1 blacklisted (mandatory) + ceil(5 × 40 %) = 2
    save_result(
        db, s.id, drawn[0].uscc, ResultInput(date(2026, 6, 2), "未发现问题", 0, "无需后续处置"), at=AT
    )
    save_result(
        db, s.id, drawn[1].uscc, ResultInput(date(2026, 6, 3), "发现问题已责令改正", 2, "责令改正"), at=AT
    )
    return db


def test_statistics_of_a_known_small_county(county: Database) -> None:
    with county.read() as conn:
        st = stats.year_statistics(conn, 2026, on=date(2026, 6, 5))
    assert (st.plan_completion.num, st.plan_completion.den, st.plan_completion.pct_text) == (1, 2, "50.0%")
    assert (st.inspection_completion.num, st.inspection_completion.den) == (2, 3)
    assert st.inspection_completion.pct_text == "66.7%"
    assert (st.entered, st.published, st.hazards) == (2, 0, 2)
    cats = dict(st.categories)
    assert cats["未发现问题"] == 1 and cats["发现问题已责令改正"] == 1 and sum(cats.values()) == 2
    assert [(r.label, r.targets, r.drawn, r.inspected) for r in st.by_industry] == [
        ("烟花爆竹", 6, 3, 2), ("机械", 4, 0, 0)]  # fmt: skip
    assert st.by_industry[0].coverage.pct_text == "50.0%"
    assert [(r.label, r.targets, r.drawn, r.inspected) for r in st.by_region] == [
        ("城关镇", 6, 3, 2), ("东关镇", 4, 0, 0)]  # fmt: skip
    assert [(r.label, r.targets, r.drawn) for r in st.by_risk] == [
        ("重大", 0, 0), ("较大", 0, 0), ("一般", 6, 3), ("低", 4, 0)]  # fmt: skip
    [ratio] = st.ratios
    assert (ratio.task_code, ratio.ratio_text, ratio.pool, ratio.drawn, ratio.inspected, ratio.meets) == (
        "RW-S1", "40%", 6, 3, 2, True)  # fmt: skip
    assert ratio.achieved.pct_text == "50.0%"
    assert (st.blacklist_total, st.blacklist_drawn, st.blacklist_inspected) == (2, 1, 1)
    assert not st.blacklist_ok and [m.name for m in st.blacklist_missing] == ["机械企业9"]
    assert sum(p.assigned for p in st.workload) == 6 and sum(p.inspected for p in st.workload) == 4
    assert {p.code for p in st.workload} <= {f"T{i:04d}" for i in range(4)}
    # Entered 6/5 for inspections of 6/2 and 6/3: on time; the third not inspected: no deadline.
    assert (st.deadlines.overdue, st.deadlines.late, st.deadlines.due_soon) == (0, 0, 0)
    # The charts carry the same numbers as the tables.
    charts = {c.title: c for c in st.charts()}
    assert charts["检查完成情况"].data == [("已检查", 2.0), ("待检查", 1.0)]
    assert charts["检查结果分布"].data == [("未发现问题", 1.0), ("发现问题已责令改正", 1.0)]
    assert charts["按行业领域覆盖率"].data == [("烟花爆竹", 50.0), ("机械", 0.0)]
    tables = {t.title: t for t in st.tables()}
    assert ("计划完成率", "1/2（50.0%）（已确认抽取的任务/计划任务）") in tables["总体情况"].rows
    assert tables["黑名单对象覆盖"].rows[0][1] == "机械企业9"
    assert tables["各抽取场次实际比例"].rows[0][-1] == "达到"


def test_tiered_ratios_are_compared_per_tier(demo_results_db: Database) -> None:
    with demo_results_db.read() as conn:
        st = stats.year_statistics(conn, 2026, on=date(2026, 11, 23))
    tiered = next(r for r in st.ratios if r.task_code == "RW-2026-01")
    assert tiered.ratio_text == "重大:100%;较大:30%;一般:10%;低:5%"
    assert tiered.meets and tiered.detail.startswith("重大 ")
    assert (st.due, st.inspected, st.entered) == (62, 26, 24)
    assert (st.deadlines.overdue, st.deadlines.late) == (2, 2)
    # Each draw's pool, counted from the stored text, gives what decoding the whole of it gave.
    assert len(st.ratios) >= 2
    with demo_results_db.read() as conn:
        for r in st.ratios:
            inputs = draw_inputs.joined(
                *conn.exec_driver_sql(
                    "SELECT task, targets, other FROM draw_input WHERE session_id = ?", (r.session_id,)
                ).one()
            )
            strata = dict(
                conn.exec_driver_sql(
                    "SELECT uscc, stratum FROM draw_selection WHERE session_id = ?", (r.session_id,)
                ).all()
            )
            ratio = Ratio.from_json(
                conn.exec_driver_sql(
                    "SELECT ratio_spec FROM task WHERE code = ?", (r.task_code,)
                ).scalar_one()
            )
            rows = list(load_rows(conn, session_id=r.session_id))
            assert r == _decoded_ratio(r.task_name, r.session_id, r.task_code, inputs, rows, strata, ratio)


def test_annual_summary_pdf_shows_the_same_numbers(county: Database, tmp_path: Path) -> None:
    with county.read() as conn:
        st = stats.year_statistics(conn, 2026, on=date(2026, 6, 5))
    pdf = tmp_path / "统计.pdf"
    pages = stats_report.write_stats_pdf(st, pdf, bureau="测试县应急管理局")
    text = "".join(pdf_pages_text(pdf))
    assert pages >= 1 and f"第1页共{pages}页" in text
    for expected in ("1/2（50.0%）", "2/3（66.7%）", "机械企业9", "黑名单对象2家，已抽中1家", "检查员"):
        assert expected in text, expected
    wb = stats_report.tables_workbook(st)
    assert wb.sheetnames[0] == "总体情况" and "检查人员工作量" in wb.sheetnames
    assert all(emb == "yes" for _, emb in pdf_fonts(pdf))


def test_annual_summary_pdf_is_signed_like_a_record(county: Database, tmp_path: Path) -> None:
    from dsj_desktop.keys import KeyStore
    from dsj_desktop.pdf.verify import verify_pdf

    with county.read() as conn:
        st = stats.year_statistics(conn, 2026, on=date(2026, 6, 5))
    pdf = tmp_path / "统计.pdf"
    keys = KeyStore(tmp_path / "keys")
    stats_report.write_stats_pdf(st, pdf, bureau="测试县应急管理局", keys=keys)
    report = verify_pdf(pdf, trusted_fingerprints=keys.known_pdf_certificate_fingerprints())
    assert report.ok and report.trusted and report.signature_count == 1, report.checks
    assert all(emb == "yes" for _, emb in pdf_fonts(pdf))
    assert "测试县应急管理局电子签章" in pdf_pages_text(pdf)[-1]


# -- a draw's pool counted without decoding its candidates -----------------------------------------


def _decoded_ratio(
    task_name: str, session_id: str, task_code: str, inputs: dict[str, Any], rows: list[ResultRow],
    strata: dict[str, str], ratio: Ratio,
) -> stats.DrawRatioRow:  # fmt: skip
    """The achieved ratio from the inputs decoded whole (``draw_inputs.joined``), as it was computed
    before the pool was counted in the text: the reference the counted pool must agree with."""
    targets = inputs.get("targets", [])
    pool = stats.DrawPool(
        len(targets),
        tuple(inputs.get("params", {}).get("mandatory", [])),
        dict(Counter(str(t[1]) for t in targets)),
    )
    return stats._draw_ratio(task_name, session_id, task_code, pool, rows, strata, ratio)


# What could trip a reader of the JSON text: quotes, backslashes (also just before a closing quote),
# the very marks the counting looks for, JSON's own brackets, the tier separator, escapes written as
# text, characters outside the BMP, line separators, CJK.
NASTY = [
    '"', "\\", '\\"', 'a"b', "a\\b", "end\\\\", ',"stratum":"重大"}', '{"id":"x","name":"y"', '"},{"id":',
    "}]", "·", "重大·", "·重大", "\\u0022", "\\n", "😀", "\u2028", "城关镇", "é", "e\u0301", "'", "/", "",
]  # fmt: skip
RATIOS = [
    Ratio("rate", bp=1000), Ratio("rate", bp=3333), Ratio("count", count=3), Ratio("count", count=10_000),
    Ratio("tiers", tiers=(("重大", 10000), ("较大", 3000), ("一般", 1000), ("低", 500))),
    Ratio("tiers", tiers=(("一般", 2000),)),
]  # fmt: skip


def _nasty_inputs(rng: random.Random, n: int) -> dict[str, Any]:
    def text(k: int) -> str:
        return "".join(rng.choice(NASTY) for _ in range(k))

    ids = list({f"91{rng.randrange(10**6):06d}{text(rng.randrange(3))}" for _ in range(n)})
    tiers = [*RISK_LEVELS, "", text(1)]
    stratum_kinds = [
        rng.choice(tiers) + (STRATUM_JOIN + text(rng.randrange(1, 4)) if rng.random() < 0.7 else "")
        for _ in range(8)
    ]
    mandatory = [f"M{i}{text(1)}" for i in range(rng.randrange(3))]
    return {
        "task": {"code": "RW-X", "name": text(2)},
        "targets": [[i, rng.choice(stratum_kinds)] for i in ids],
        "names": {i: text(rng.randrange(4)).strip() for i in [*ids, *mandatory]},
        "params": {"mandatory": mandatory, "quotas": {}},
        "strata": {},
        "mandatory_reasons": {m: "黑名单（100% 必查）" for m in mandatory},
    }


def _drawn(rng: random.Random, inputs: dict[str, Any]) -> tuple[list[ResultRow], dict[str, str]]:
    picked = rng.sample(inputs["targets"], k=min(len(inputs["targets"]), rng.randrange(0, 12)))
    ids = [t[0] for t in picked] + list(inputs["params"]["mandatory"])
    rows = [
        ResultRow(n, "S-X", "confirmed", ON, "RW-X", "任务", uscc, "", n, False, (),
                  inspected_on=ON if rng.random() < 0.5 else None)
        for n, uscc in enumerate(ids)
    ]  # fmt: skip
    return rows, {t[0]: t[1] for t in picked}


def _same_ratios(texts: tuple[str, str, str], rows: list[ResultRow], strata: dict[str, str]) -> None:
    decoded = draw_inputs.joined(*texts)
    for ratio in RATIOS:
        counted = stats.pool_of_texts(texts[1], texts[2], strata=ratio.kind == "tiers")
        got = stats._draw_ratio("任务", "S-X", "RW-X", counted, rows, strata, ratio)
        assert got == _decoded_ratio("任务", "S-X", "RW-X", decoded, rows, strata, ratio), ratio


def test_a_pool_counted_from_the_text_is_the_pool_decoded_whole() -> None:
    """The candidates' count and their strata, read from the stored text without decoding it, give the
    very ratios the whole decoding gave, for rates, counts and tiers, whatever the names and strata
    hold."""
    rng = random.Random(20261207)
    for case in range(60):
        inputs = _nasty_inputs(rng, rng.choice((0, 1, 2, 7, 50, 400)))
        texts = draw_inputs.split(inputs)
        assert draw_inputs.counted_in_text(texts[1], strata=True) is not None, case  # counted, not decoded
        counted = stats.pool_of_texts(texts[1], texts[2], strata=True)
        # The counting itself, not only the verdicts drawn from it.
        assert counted.candidates == len(inputs["targets"]), case
        assert counted.strata == dict(Counter(t[1] for t in inputs["targets"])), case
        assert counted.mandatory == tuple(inputs["params"]["mandatory"])
        _same_ratios(texts, *_drawn(rng, inputs))


def test_a_pool_counted_from_a_text_written_otherwise_is_decoded() -> None:
    """A candidates' text not as the program writes it (spaces, escaped non-ASCII, other key order,
    a text made by an upgrade) is decoded whole: the same ratios still."""
    rng = random.Random(7)
    inputs = _nasty_inputs(rng, 300)
    task, targets, other = draw_inputs.split(inputs)
    rows, strata = _drawn(rng, inputs)
    decoded = json.loads(targets)
    for written in (
        json.dumps(decoded),  # spaces, \\uXXXX
        json.dumps(decoded, ensure_ascii=False, separators=(",", ":"), sort_keys=False),
        json.dumps([{"stratum": r["stratum"], "id": r["id"], "name": r["name"]} for r in decoded],
                   ensure_ascii=False, separators=(",", ":")),
        draw_inputs.split({**inputs, "names": {i: "名\x01称" for i in inputs["names"]}}, lenient=True)[1],
    ):  # fmt: skip
        _same_ratios((task, written, other), rows, strata)


def test_a_drawn_pool_with_quotes_and_backslashes_in_its_strata(db: Database) -> None:
    """Through a real draw (不定向, tiered: strata of risk level and region) over regions whose names
    hold quotes, backslashes and the very marks the counting looks for: the same ratios as decoding."""
    regions = ['城"关"镇', "东关\\镇", '北留,"stratum":"重大"}镇', "南河·镇\\"]
    rng = random.Random(11)
    with db.write() as conn:
        codelists.add_values(conn, codelists.REGION, regions)
        conn.exec_driver_sql(
            "INSERT INTO setting (key, value) VALUES ('bureau_name', '\"测试县应急管理局\"')"
        )
    targets = [
        {"uscc": complete("91" + AREA_CODE + _org_code(rng)), "name": f'企业"{i}\\', "industry": "机械",
         "region": regions[i % len(regions)], "risk_level": RISK_LEVELS[i % 4], "phone": "13800000000"}
        for i in range(40)
    ]  # fmt: skip
    _write(db, TARGETS, targets)
    _write(db, INSPECTORS, [
        {"cert_no": f"T{i:04d}", "name": f"检查员{i}", "cert_valid_until": date(2028, 12, 31),
         "specialties": "", "duty_status": "在岗"} for i in range(4)
    ])  # fmt: skip
    _write(db, ITEMS, [{"code": "YJ-009", "name": "机械企业安全检查", "year": 2026}])
    task = {"plan_code": "JH-Q", "plan_name": "测试计划", "plan_year": 2026, "draw_type": "不定向",
            "items": "YJ-009", "team_size": 2, "start_date": "2026-01-01", "end_date": "2026-12-31",
            "code": "RW-Q1", "name": "分级抽查", "ratio": "重大:100%;较大:30%;一般:10%;低:5%"}  # fmt: skip
    with db.write() as conn:
        apply_plan(conn, ParsedSheet.from_records(PLAN_ROWS, [task], codelists.all_lists(conn), "测试"))
    s = full_draw(db, "RW-Q1", on=ON)
    with db.read() as conn:
        st = stats.year_statistics(conn, 2026, on=ON)
        targets_text = conn.exec_driver_sql(
            "SELECT targets FROM draw_input WHERE session_id = ?", (s.id,)
        ).scalar_one()
        inputs = draw_inputs.joined(*conn.exec_driver_sql(
            "SELECT task, targets, other FROM draw_input WHERE session_id = ?", (s.id,)).one())  # fmt: skip
        strata = dict(conn.exec_driver_sql("SELECT uscc, stratum FROM draw_selection WHERE session_id = ?",
                                           (s.id,)).all())  # fmt: skip
        rows = list(load_rows(conn, session_id=s.id))
    assert '\\"' in targets_text and "\\\\" in targets_text  # the names and strata are escaped there
    counted = draw_inputs.counted_in_text(targets_text, strata=True)
    assert counted is not None  # counted, not decoded
    assert {s.split(STRATUM_JOIN, 1)[1] for s in counted[1]} == set(regions)
    [ratio] = st.ratios
    assert ratio.detail.count("/") == 4 and ratio.pool == 40
    tiers = Ratio.from_json(Ratio("tiers", tiers=tuple((t, bp) for t, bp in zip(
        RISK_LEVELS, (10000, 3000, 1000, 500), strict=True))).to_json())  # fmt: skip
    assert ratio == _decoded_ratio(ratio.task_name, s.id, "RW-Q1", inputs, rows, strata, tiers)
