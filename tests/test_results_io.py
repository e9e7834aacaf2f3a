"""Results in and out: Excel import (refused whole) and export, templates, publication without personal
data, the year archive with its manifest, and the command line for all of them."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from dsj_desktop.cli import main
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.domain.result_specs import PUBLISHED, RESULT_ROWS
from dsj_desktop.io.importer import ImportRefused
from dsj_desktop.progress import run_job
from dsj_desktop.publish.result_publication import PUBLIC_COLUMNS, publish
from dsj_desktop.services import results, sessions
from dsj_desktop.services.results import ResultInput, load_rows, save_result
from tests.pdf_helpers import pdf_pages_text
from tests.test_draw_sessions import full_draw
from tests.test_import import fingerprint

HEADERS = ["抽取场次", "统一社会信用代码", "检查日期", "检查结果", "隐患数量", "处置措施", "备注"]
AT = datetime(2026, 10, 9, 15, 0)


@pytest.fixture
def drawn(demo_data_dir: Path) -> tuple[Path, str, list[results.ResultRow]]:
    db = open_database(demo_data_dir)
    try:
        s = full_draw(db, "RW-2026-03", on=date(2026, 9, 25))
        with db.read() as conn:
            rows = sorted(load_rows(conn, session_id=s.id), key=lambda r: r.position)
    finally:
        db.close()
    return demo_data_dir, s.id, rows


def write(path: Path, rows: list[list[Any]], headers: list[str] = HEADERS) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "检查结果"
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_import_results_and_export_round_trip(
    drawn: tuple[Path, str, list[results.ResultRow]], tmp_path: Path
) -> None:
    data, sid, rows = drawn
    f = write(tmp_path / "结果.xlsx", [
        [sid, rows[0].uscc, "2026-09-28", "未发现问题", 0, "无需后续处置", ""],
        [sid, rows[1].uscc, date(2026, 9, 29), "发现问题已责令改正", 3, "责令改正", "现场已整改 1 项"],
        [sid, rows[2].uscc, "2026年9月30日", "已立案查处", "", "立案处罚", None],
    ])  # fmt: skip
    db = open_database(data)
    try:
        summary = run_job(results.import_results(db, f, operator="王芳", on=date(2026, 10, 9)))
        assert (summary.added, summary.updated, summary.unchanged) == (3, 0, 0)
        with db.read() as conn:
            got = {r.uscc: r for r in load_rows(conn, session_id=sid)}
        assert got[rows[1].uscc].hazards == 3 and got[rows[1].uscc].remarks == "现场已整改 1 项"
        assert got[rows[2].uscc].inspected_on == date(2026, 9, 30) and got[rows[2].uscc].entered_by == "王芳"
        assert [c for c, _ in got[rows[0].uscc].inspectors] == [c for c, _ in rows[0].team]
        # Export, then import the exported file back: nothing changes.
        out = tmp_path / "导出.xlsx"
        assert run_job(results.export_results(db, out)) == 20
        ws = load_workbook(out).active
        header = [c.value for c in ws[1]]
        assert header[:7] == HEADERS and "期限情况" in header
        # The export can be filled in and imported back: rows still blank are skipped, nothing changes.
        before = db.scalar("SELECT count(*) FROM result_version")
        again = run_job(results.import_results(db, out, operator="王芳", on=date(2026, 10, 9)))
        assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
        assert "17 行已跳过" in again.text()
        assert db.scalar("SELECT count(*) FROM result_version") == before
        # A row half filled in is refused.
        ws = load_workbook(out).active
        wb = ws.parent
        ws.cell(row=ws.max_row, column=4, value="未发现问题")
        wb.save(out)
        with pytest.raises(ImportRefused, match="（检查日期）：必填"):
            run_job(results.import_results(db, out, on=date(2026, 10, 9)))
    finally:
        db.close()


def test_bad_result_rows_are_refused_whole_and_change_nothing(
    drawn: tuple[Path, str, list[results.ResultRow]], tmp_path: Path
) -> None:
    data, sid, rows = drawn
    db = open_database(data)
    try:
        sessions.void(db, full_draw(db, "RW-2026-04", on=date(2026, 9, 25)).id, "测试作废")
        with db.read() as conn:
            voided = next(s for s in sessions.list_sessions(conn) if s.status == "voided")
        not_drawn = next(
            u
            for (u,) in db.engine.connect().exec_driver_sql("SELECT uscc FROM target")
            if u not in {r.uscc for r in rows}
        )
    finally:
        db.close()
    f = write(tmp_path / "坏结果.xlsx", [
        [sid, rows[0].uscc, "2026-09-28", "未发现问题", 0, "无需后续处置", ""],  # good
        ["S-2026-9999-ZZZZ", rows[1].uscc, "2026-09-28", "未发现问题", 0, "无需后续处置", ""],
        [sid, not_drawn, "2026-09-28", "未发现问题", 0, "无需后续处置", ""],
        [sid, rows[3].uscc, "2026-02-30", "未发现问题", 0, "无需后续处置", ""],
        [sid, rows[4].uscc, "2026-09-28", "基本合格", 0, "无需后续处置", ""],
        [sid, rows[5].uscc, "2026-09-28", "未发现问题", 2, "无需后续处置", ""],
        [voided.id, voided.result[0]["id"], "2026-09-28", "未发现问题", 0, "无需后续处置", ""],
        [sid, rows[6].uscc, "2026-09-20", "未发现问题", 0, "无需后续处置", ""],
        [sid, rows[7].uscc, "2026-09-28", "未发现问题", -1, "罚款", ""],
    ])  # fmt: skip
    before = fingerprint(data)
    db = open_database(data)
    try:
        with pytest.raises(ImportRefused) as exc:
            run_job(results.import_results(db, f, on=date(2026, 10, 9)))
    finally:
        db.close()
    text = str(exc.value)
    expected = [
        "第 3 行 A 列（抽取场次）：没有编号为“S-2026-9999-ZZZZ”的抽取场次",
        f"第 4 行 B 列（统一社会信用代码）：企业 {not_drawn} 不是抽取场次 {sid} 抽中的检查对象",
        "第 5 行 C 列（检查日期）：“2026-02-30”不是有效日期",
        "第 6 行 D 列（检查结果）：“基本合格”不是允许的值",
        "第 7 行 E 列（隐患数量）：检查结果为“未发现问题”时隐患数量应为 0",
        f"第 8 行 A 列（抽取场次）：抽取场次 {voided.id} 已作废",
        "第 9 行 C 列（检查日期）：检查日期 2026-09-20 早于抽取日期 2026-09-25",
        "第 10 行 E 列（隐患数量）：隐患数量应为不小于 0 的整数",
        "第 10 行 F 列（处置措施）：“罚款”不是允许的值",
    ]
    for line in expected:
        assert line in text, (line, text)
    assert "数据库未作任何改动" in text
    assert fingerprint(data) == before
    assert main(["import", "results", str(f)]) == 1  # the command line refuses it too


def test_cli_import_export_template(drawn: tuple[Path, str, list[results.ResultRow]], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    _data, sid, rows = drawn
    tpl = tmp_path / "模板.xlsx"
    assert main(["template", "results", str(tpl)]) == 0
    assert [c.value for c in load_workbook(tpl).active[1]][:7] == HEADERS
    today = date.today().isoformat()
    f = write(tmp_path / "r.xlsx", [[sid, rows[0].uscc, today, "未发现问题", 0, "无需后续处置", ""]])
    assert main(["import", "results", str(f), "--dry-run"]) == 0
    assert main(["import", "results", str(f)]) == 0
    assert "新增 1" in capsys.readouterr().out
    out = tmp_path / "e.xlsx"
    assert main(["export", "results", str(out)]) == 0
    assert load_workbook(out).active.max_row == 21
    assert RESULT_ROWS.headers[:7] == HEADERS


def _entered(data: Path, sid: str, rows: list[results.ResultRow]) -> None:
    db = open_database(data)
    try:
        with db.write() as conn:  # personal data that must never be published
            conn.exec_driver_sql(
                "UPDATE target SET phone = '13912345678', legal_rep = '钱多多', contact = '孙联络'"
            )
        save_result(db, sid, rows[0].uscc, ResultInput(date(2026, 9, 28), "未发现问题", 0, "无需后续处置",
                                                       remarks="联系人孙联络 13912345678"), at=AT)  # fmt: skip
        save_result(db, sid, rows[1].uscc, ResultInput(date(2026, 10, 8), "发现问题已责令改正", 2, "责令改正",
                                                       rectify_by=date(2026, 10, 30)), at=AT)  # fmt: skip
        save_result(db, sid, rows[2].uscc, ResultInput(date(2026, 10, 8)), at=AT)  # inspected, not entered
    finally:
        db.close()


def test_publication_leaves_out_personal_data_and_marks_what_was_published(
    drawn: tuple[Path, str, list[results.ResultRow]], tmp_path: Path
) -> None:
    data, sid, rows = drawn
    _entered(data, sid, rows)
    out_dir = tmp_path / "公示"
    out_dir.mkdir()
    db = open_database(data)
    try:
        people = [n for r in rows[:2] for _, n in r.team]
        draft = run_job(publish(db, out_dir, task_code="RW-2026-03", mark=False))
        assert draft.rows == 2 and draft.publication_id is None
        assert db.scalar("SELECT count(*) FROM inspection_result WHERE published_version > 0") == 0
        at = datetime(2026, 10, 12, 10, 0)
        pub = run_job(publish(db, out_dir, task_code="RW-2026-03", operator="周公示", at=at))
        assert (pub.rows, pub.marked) == (2, 2)
        with db.read() as conn:
            got = {r.uscc: r for r in load_rows(conn, session_id=sid)}
        assert got[rows[0].uscc].status == PUBLISHED and got[rows[0].uscc].published_at.startswith(
            "2026-10-12T10:00"
        )
        assert got[rows[2].uscc].status != PUBLISHED
        # A correction after publication needs a new publication.
        save_result(db, sid, rows[0].uscc, ResultInput(date(2026, 9, 28), "发现问题已责令改正", 1, "责令改正"),
                    reason="更正", at=datetime(2026, 10, 13, 9))  # fmt: skip
        with db.read() as conn:
            row = results.get_row(conn, sid, rows[0].uscc)
        assert row.republish_needed and row.status_text == "已录入（更正后待重新公示）"
        again = run_job(publish(db, out_dir, period=(date(2026, 9, 1), date(2026, 9, 30)), at=at))
        assert (again.rows, again.marked) == (1, 1)
        assert db.scalar("SELECT count(*) FROM publication") == 2
        assert db.scalar("SELECT count(*) FROM publication_item") == 3
    finally:
        db.close()
    xlsx, pdf = pub.files
    ws = load_workbook(xlsx).active
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    assert cells[0] == list(PUBLIC_COLUMNS)
    assert {c[1] for c in cells[1:]} == {rows[0].uscc, rows[1].uscc}
    assert cells[2][5] == "发现隐患 2 项，责令改正（整改期限 2026-10-30）"
    assert cells[2][6] == "青山县应急管理局"
    text = "".join(pdf_pages_text(pdf))
    everything = text + json.dumps(cells, ensure_ascii=False, default=str)
    for private in ("13912345678", "钱多多", "孙联络", *people, *(c for r in rows for c, _ in r.team)):
        assert private not in everything, private
    assert rows[1].name.replace(" ", "") in text and "第1页共1页" in text
    assert "粉尘涉爆企业专项检查" in text


def test_cli_publish_stats_and_archive(demo_results_data_dir: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    pub = tmp_path / "公示"
    assert main(["publish", "--task", "RW-2026-01", "--out", str(pub)]) == 0
    assert "已公示" in capsys.readouterr().out
    assert sorted(p.suffix for p in pub.iterdir()) == [".pdf", ".xlsx"]
    assert main(["publish", "--from", "2026-01-01", "--out", str(pub)]) == 1
    st = tmp_path / "统计"
    assert main(["stats", "2026", "--out", str(st)]) == 0
    out = capsys.readouterr().out
    assert "计划完成率：2/6（33.3%）" in out and "黑名单对象未全部抽中" in out
    arch = tmp_path / "档案"
    assert main(["archive", "2026", "--out", str(arch)]) == 0
    manifest = json.loads((arch / "manifest.json").read_text(encoding="utf-8"))
    assert (
        manifest["year"] == 2026 and manifest["keep_until"] == "2031-12-31" and len(manifest["sessions"]) == 2
    )
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    on_disk = {
        p.relative_to(arch).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in arch.rglob("*")
        if p.is_file() and p.name not in ("manifest.json", "清单.txt")
    }
    assert listed == on_disk
    for sid in manifest["sessions"]:
        assert f"抽取记录/{sid}.json" in listed
    assert "检查结果/检查结果-2026.xlsx" in listed and "公示/检查结果公示-RW-2026-01.xlsx" in listed
    assert "统计/2026年度抽查工作统计.pdf" in listed
    txt = (arch / "清单.txt").read_text(encoding="utf-8-sig")
    assert all(sha in txt for sha in listed.values()) and "至少至 2031-12-31" in txt
    head = manifest["journal_head"]  # the journal's head when the archive was made (issue 20)
    assert head["seq"] > 0 and len(head["hash"]) == 64 and head["hash"] in txt
    # A folder that is not empty is refused, and an archive changes nothing in the database.
    assert main(["archive", "2026", "--out", str(arch)]) == 1
    db = open_database(demo_results_data_dir)
    try:
        assert db.scalar("SELECT count(*) FROM draw_session") == 2
    finally:
        db.close()


def test_cli_holidays_and_deadline(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    db.close()
    assert main(["holidays", "2027"]) == 0
    assert "缺少节假日安排" in capsys.readouterr().out
    assert main(["holidays", "2027", "--off", "2027-01-01 至 2027-01-03", "--work", "2027-01-05"]) == 1
    assert "周二" in capsys.readouterr().err
    assert main(["holidays", "2027", "--off", "2027-01-01 至 2027-01-03", "--operator", "张明"]) == 0
    assert "放假 3 天" in capsys.readouterr().out
    assert main(["deadline", "20"]) == 0
    assert "检查后 20 个工作日" in capsys.readouterr().out
    assert main(["deadline", "99"]) == 1
