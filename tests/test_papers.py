"""The papers for each drawn target (检查通知书, 实地检查记录表): content after substitutions, the QR
code on every page (decoded from the rendered page), refusals, 文号 numbering, the command line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp

from dsj_desktop.db.engine import Database
from dsj_desktop.progress import run_job
from dsj_desktop.publish import papers as pp
from dsj_desktop.services import integrity, sessions

from .test_draw_sessions import ON, W1, W2, add_task, full_draw

LONG_NAME = "青山县龙腾精细化工新材料科技股份有限公司白水乡第二生产基地（危险化学品仓储分公司）"
THREE_ITEMS = "YJ-001、YJ-008、YJ-009"


def pages_text(path: Path) -> list[str]:
    """Each page's text, whitespace removed."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [re.sub(r"\s+", "", page.get_textpage().get_text_range()) for page in pdf]
    finally:
        pdf.close()


def page_codes(path: Path, pages: list[int] | None = None, scale: float = 3.0) -> dict[int, list[str]]:
    """The QR codes found on each (0-based) page, rendered as a scanner would see the paper."""
    pdf = pdfium.PdfDocument(str(path))
    out: dict[int, list[str]] = {}
    try:
        for i in pages if pages is not None else range(len(pdf)):
            image = pdf[i].render(scale=scale, grayscale=True).to_pil()
            out[i] = [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]
    finally:
        pdf.close()
    return out


def three_item_task(db: Database, code: str = "RW-PAPERS") -> None:
    add_task(db, code, items=THREE_ITEMS, industries="危险化学品", ratio="3家", expert_count=1)


@pytest.fixture
def drawn(demo_db: Database) -> sessions.Session:
    """A confirmed session of a task with three items and an expert, one target with a long name,
    and one substitution (so the papers must show the team after it)."""
    with demo_db.write() as conn:
        uscc = conn.exec_driver_sql(
            "SELECT uscc FROM target WHERE industry = '危险化学品' AND archived = 0 ORDER BY uscc LIMIT 1"
        ).scalar_one()
        # 黑名单: always drawn (100%), so the long name is certainly on the papers
        conn.exec_driver_sql("UPDATE target SET name = ?, blacklist = 1 WHERE uscc = ?", (LONG_NAME, uscc))
    three_item_task(demo_db)
    s = full_draw(demo_db, "RW-PAPERS")
    first = s.result[0]
    sessions.substitute(demo_db, s.id, first["id"], first["inspectors"][0], "因公出差")
    return sessions.get_session(demo_db, s.id)


def test_the_papers_name_every_target_its_code_team_after_substitution_and_the_items(
    demo_db: Database, drawn: sessions.Session, tmp_path: Path
) -> None:
    papers = run_job(pp.make_papers(demo_db, drawn.id, tmp_path))
    (path,) = papers.written
    assert path.parent == tmp_path and path.suffix == ".pdf"
    pages = pages_text(path)
    assert len(pages) == papers.pages >= 2 * len(drawn.result)
    text = "".join(pages)
    assert drawn.record is not None
    people = {p["id"]: p["name"] for p in drawn.record["inspectors"]} | drawn.expert_names
    teams = drawn.current_teams()
    replaced = drawn.substitutions[0]
    with demo_db.read() as conn:
        items = conn.exec_driver_sql(
            "SELECT code, name, basis, content FROM item WHERE code IN ('YJ-001', 'YJ-008', 'YJ-009')"
        ).all()
    assert len(items) == 3
    by_target: dict[str, str] = {}
    for page in pages:  # every page names its target by credit code in the page header
        m = re.search(r"检查对象：([0-9A-Z]{18})", page)
        assert m, page[:200]
        by_target[m.group(1)] = by_target.get(m.group(1), "") + page
    assert list(by_target) == [x["id"] for x in drawn.result]  # record order
    for x in drawn.result:
        own = by_target[x["id"]]
        assert drawn.target_names[x["id"]] in own.replace("\n", "")
        assert "检查通知书" in own and "实地检查记录表" in own
        for pid in teams[x["id"]]["inspector"]:
            assert pid in own and people[pid] in own
        for pid in teams[x["id"]]["expert"]:
            assert people[pid] in own
        for code, name, basis, content in items:
            assert code in own and re.sub(r"\s+", "", name) in own
            assert re.sub(r"\s+", "", basis) in own
            for part in re.split(r"[、；;]", content):
                assert part in own
        for label in ("统一社会信用代码", "法定代表人", "联系电话", "检查时间", "检查地点", "已出示执法证件",
                      "符合", "不符合", "不适用", "发现问题", "处理措施", "责令改正", "立案处罚",
                      "被检查单位负责人签字（盖章）", "无法取得签字或盖章的原因", "见证人（签字）", "（印章）"):  # fmt: skip
            assert label in own, label
    # The replaced inspector is on no paper of that target; the substitute is.
    first = by_target[replaced["target"]]
    assert replaced["removed"] not in first and replaced["substitute"] in first
    assert LONG_NAME in text.replace("\n", "")
    assert f"抽取记录第{drawn.record_version}版" in text
    # Page numbers: per target and overall.
    for n, page in enumerate(pages, start=1):
        assert f"第{n}页共{len(pages)}页" in page
        assert drawn.id in page
    assert all(page.count("本单位第") == 1 for page in pages)
    # A4 portrait, only the bundled font, embedded (a subset).
    pdf = pdfium.PdfDocument(str(path))
    assert {tuple(round(v) for v in page.get_size()) for page in pdf} == {(595, 842)}
    pdf.close()
    data = path.read_bytes()
    fonts = set(re.findall(rb"/BaseFont /([^\s/]+)", data))
    assert fonts and all(b"WenQuanYi" in f for f in fonts) and data.count(b"/FontFile2") == len(fonts)


def test_the_qr_code_on_every_page_decodes_to_session_code_and_record_hash(
    demo_db: Database, drawn: sessions.Session, tmp_path: Path
) -> None:
    papers = run_job(pp.make_papers(demo_db, drawn.id, tmp_path))
    (path,) = papers.written
    assert drawn.record is not None
    digest = sessions.record_sha256(drawn.record)
    with demo_db.read() as conn:
        assert (
            conn.exec_driver_sql(
                "SELECT sha256 FROM draw_record WHERE session_id = ? AND version = ?",
                (drawn.id, drawn.record_version),
            ).scalar_one()
            == digest
        )
    texts = pages_text(path)
    codes = page_codes(path)
    assert len(codes) == len(texts)
    for i, found in codes.items():
        uscc = re.search(r"检查对象：([0-9A-Z]{18})", texts[i]).group(1)  # type: ignore[union-attr]
        assert found == [f"{drawn.id}|{uscc}|{digest}"], (i, found)
    with demo_db.read() as conn:
        match = pp.resolve_scan(conn, codes[0][0])
    assert (match.session_id, match.uscc, match.outdated) == (drawn.id, drawn.result[0]["id"], False)


def test_voided_unconfirmed_and_unknown_sessions_are_refused(demo_db: Database, tmp_path: Path) -> None:
    out = tmp_path / "out"
    s = full_draw(demo_db, "RW-2026-04")
    sessions.void(demo_db, s.id, "见证人未到场")
    with pytest.raises(pp.PapersError, match="已作废"):
        run_job(pp.make_papers(demo_db, s.id, out))
    s2 = sessions.prepare(demo_db, "RW-2026-04", on=ON)
    with pytest.raises(pp.PapersError, match="尚未确认"):
        run_job(pp.make_papers(demo_db, s2.id, out))
    s2 = sessions.commit(demo_db, s2.id)
    for name, digits in (W1, W2):
        s2 = sessions.add_witness(demo_db, s2.id, name, digits)
    sessions.do_reveal(demo_db, s2.id)
    with pytest.raises(pp.PapersError, match=r"已开奖.*尚未确认"):
        run_job(pp.make_papers(demo_db, s2.id, out))
    with pytest.raises(sessions.DrawError, match="没有编号为"):
        run_job(pp.make_papers(demo_db, "S-2026-9999-XXXX", out))
    assert not out.exists() or not any(out.iterdir())  # nothing written, not even a folder's content
    with demo_db.read() as conn:  # and nothing numbered
        assert pp.last_number(conn, 2026) == 0


def test_an_unwritable_folder_is_refused_and_nothing_is_half_written(
    demo_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = full_draw(demo_db, "RW-2026-04")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(pp.PapersError, match="无法写入"):
        run_job(pp.make_papers(demo_db, s.id, blocker / "sub"))
    # A failure while the files are being written (a stick pulled out, a full disk): nothing stays.
    out = tmp_path / "out"
    out.mkdir()
    real_replace = os.replace
    calls = []

    def failing_replace(src: str | Path, dst: str | Path) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(pp.PapersError, match="No space left"):
        run_job(pp.make_papers(demo_db, s.id, out, per_target=True))
    monkeypatch.setattr(os, "replace", real_replace)
    assert not [p for p in out.iterdir() if p.suffix == ".part"]
    # (the one file renamed before the failure is complete; the temporary files are gone)
    papers = run_job(pp.make_papers(demo_db, s.id, out, kind=pp.RECORD, per_target=True))
    assert len(papers.written) == len(s.result) and all(p.exists() for p in papers.written)
    assert all(pp.RECORD_TITLE in p.name and p.stat().st_size > 0 for p in papers.written)


def test_notice_numbers_run_without_gaps_per_year_are_kept_on_reprint_and_journalled(
    demo_db: Database, tmp_path: Path
) -> None:
    pp.set_number_pattern(demo_db, "青应急双随机〔{year}〕第{n:03d}号")
    with pytest.raises(pp.PapersError, match="序号"):
        pp.set_number_pattern(demo_db, "青应急〔{year}〕号")
    with pytest.raises(pp.PapersError, match="只能含"):
        pp.set_number_pattern(demo_db, "青应急〔{yr}〕第{n}号")
    a = full_draw(demo_db, "RW-2026-04")
    first = run_job(pp.make_papers(demo_db, a.id, tmp_path / "a", kind=pp.NOTICE))
    n = len(a.result)
    assert [t.number for t in first.targets] == [f"青应急双随机〔2026〕第{i:03d}号" for i in range(1, n + 1)]
    again = run_job(pp.make_papers(demo_db, a.id, tmp_path / "a2"))
    assert [t.number for t in again.targets] == [t.number for t in first.targets]
    add_task(demo_db, "RW-OTHER", items="YJ-008", industries="", ratio="2家")
    b = full_draw(demo_db, "RW-OTHER")
    second = run_job(pp.make_papers(demo_db, b.id, tmp_path / "b"))
    assert [t.number for t in second.targets] == [
        f"青应急双随机〔2026〕第{i:03d}号" for i in range(n + 1, n + 1 + len(b.result))
    ]
    assert f"第{n + 1:03d}号" in "".join(pages_text(second.written[0]))
    # Only a notice needs a number: the record form alone numbers nothing.
    add_task(demo_db, "RW-THIRD", items="YJ-009", industries="", ratio="1家")
    c = full_draw(demo_db, "RW-THIRD")
    run_job(pp.make_papers(demo_db, c.id, tmp_path / "c", kind=pp.RECORD))
    with demo_db.read() as conn:
        assert pp.last_number(conn, 2026) == n + len(b.result)
        events = sessions.events(conn, a.id)
        journal = conn.exec_driver_sql("SELECT action FROM journal ORDER BY id").scalars().all()
    assert [e["kind"] for e in events].count(pp.NUMBER_EVENT) == 1  # numbered once, reprinted without writing
    assert sum(f"检查通知书编号：场次 {a.id}" in j for j in journal) == 1
    report = run_job(integrity.check(demo_db))
    assert report.ok, report.text()


def test_scanned_text_is_checked(demo_db: Database, drawn: sessions.Session) -> None:
    assert drawn.record is not None
    uscc = drawn.result[1]["id"]
    with demo_db.read() as conn:
        versions = sessions.record_versions(conn, drawn.id)
        old = pp.resolve_scan(conn, f" {drawn.id.lower()} ｜ {uscc} ｜ {versions[0][1].upper()}\n")
        assert (old.uscc, old.record_version, old.current_version, old.outdated) == (uscc, 1, 2, True)
        with pytest.raises(pp.PapersError, match="不是检查文书上的二维码"):
            pp.resolve_scan(conn, "91140522MA0000000X")
        with pytest.raises(pp.PapersError, match="不是场次"):
            pp.resolve_scan(conn, pp.scan_text(drawn.id, "91140522MA0000000X", versions[0][1]))
        with pytest.raises(pp.PapersError, match="都不符"):
            pp.resolve_scan(conn, pp.scan_text(drawn.id, uscc, "0" * 64))


def test_cli_papers(demo_data_dir: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dsj_desktop", "--data-dir", str(demo_data_dir), *args],
                              capture_output=True, text=True, encoding="utf-8")  # fmt: skip

    out = tmp_path / "out"
    p = run("draw", "RW-2026-04", "--witness", "甲=31415926535", "--witness", "乙=27182818284",
            "--out", str(out), "--date", "2026-06-01")  # fmt: skip
    assert p.returncode == 0, p.stderr
    session = re.search(r"抽取场次：(\S+)", p.stdout).group(1)  # type: ignore[union-attr]
    papers = tmp_path / "papers"
    p = run("papers", session, "--out", str(papers))
    assert p.returncode == 0, p.stderr
    assert "通知书文号：应急双随机〔2026〕第1号" in p.stdout
    (pdf,) = papers.glob("*.pdf")
    assert pdf.name == f"{session}-检查文书.pdf" and str(pdf) in p.stdout
    p = run("papers", session, "--out", str(papers), "--kind", "notice", "--per-target")
    assert p.returncode == 0, p.stderr
    assert len(list(papers.glob(f"{session}-检查通知书-*.pdf"))) == p.stdout.count("已写出")
    p = run("void", session, "--reason", "测试")
    assert p.returncode == 0, p.stderr
    p = run("papers", session, "--out", str(papers))
    assert p.returncode == 1 and "已作废" in p.stderr
    assert run("check").returncode == 0


def test_a_cancelled_job_stops_the_layout_and_writes_no_file(demo_db: Database, tmp_path: Path) -> None:
    s = full_draw(demo_db, "RW-2026-01")
    out = tmp_path / "out"
    job = pp.make_papers(demo_db, s.id, out)
    steps = []
    for step in job:
        steps.append(step)
        if step.message.startswith("正在生成"):
            break
    assert steps[-1].total == len(s.result)
    job.close()  # what the progress dialog's 取消 does
    assert out.is_dir() and list(out.iterdir()) == []
