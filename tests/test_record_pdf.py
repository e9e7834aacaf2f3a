"""The printed draw record: content, signature, attachment, verification; the pre-draw notice; the
Excel result list; export destinations."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dsj_desktop.db.engine import Database
from dsj_desktop.pdf.verify import extract_attachments
from dsj_desktop.progress import run_job
from dsj_desktop.publish import record_pdf as rp
from dsj_desktop.publish.export import export_session, result_rows, write_result_xlsx
from dsj_desktop.publish.session_files import write_session_files
from dsj_desktop.publish.usb import Volume, destinations, is_removable
from dsj_desktop.services import sessions

from .pdf_helpers import need, pdf_fonts, pdf_pages_text
from .test_draw_sessions import ON, W1, W2, add_task, full_draw


@pytest.fixture
def drawn(demo_db: Database) -> sessions.Session:
    return full_draw(demo_db, "RW-2026-04")


def _pdf(db: Database, s: sessions.Session, out: Path) -> Path:
    written = run_job(write_session_files(db, s, out))
    assert [p.suffix for p in written] == [".json", ".pdf", ".html"]  # and 核验工具.html
    return written[1]


def test_the_record_pdf_is_signed_carries_the_record_and_verifies(
    demo_db: Database, drawn: sessions.Session, tmp_path: Path
) -> None:
    path = _pdf(demo_db, drawn, tmp_path)
    check = rp.verify_record_pdf(path)
    assert check.ok, (check.pdf_lines(), check.report and check.report.text(), check.problems)
    assert check.attachment == f"{drawn.id}.json"
    # The attachment is byte for byte the JSON record written beside the PDF.
    assert extract_attachments(path)[f"{drawn.id}.json"] == (tmp_path / f"{drawn.id}.json").read_bytes()
    assert check.record == drawn.record


def test_the_record_pdf_prints_what_re_derives_the_draw(
    demo_db: Database, drawn: sessions.Session, tmp_path: Path
) -> None:
    path = _pdf(demo_db, drawn, tmp_path)
    pages = pdf_pages_text(path)
    assert len(pages) >= 3
    for i, page in enumerate(pages, start=1):
        assert drawn.id in page  # the session id on every page
        assert f"第{i}页共{len(pages)}页" in page
    text = "".join(pages)
    rec = drawn.record
    assert rec is not None
    for value in (*rec["hashes"].values(), rec["commitment"], rec["nonce"], rec["seed"]):
        assert value in text
    for w in rec["witnesses"]:
        assert w["name"] in text and w["digits"] in text
    assert sessions.record_sha256(rec) in text
    for x in rec["selected"]:
        assert x["id"] in text and x["ticket"][:16] in text
    for t in rec["targets"]:  # the appendix: the full candidate pool
        assert t["id"] in text
    for p in rec["inspectors"]:
        assert p["id"] in text and p["name"] in text
    for e in rec["exclusions"]:
        assert e["id"] in text and e["reason"] in text
    assert "操作人员" in text and "监督人" in text and f"见证人{W1[0]}" in text
    assert "作废" not in text.replace("作废的", "")  # a confirmed record carries no void mark
    assert all(emb == "yes" for _, emb in pdf_fonts(path))


def test_one_changed_byte_is_rejected(demo_db: Database, drawn: sessions.Session, tmp_path: Path) -> None:
    path = _pdf(demo_db, drawn, tmp_path)
    data = path.read_bytes()
    for pos in (
        len(data) // 7,
        len(data) // 3,
        len(data) // 2,
        len(data) - 300,
        data.index(b"/Contents") + 40,
    ):
        bad = bytearray(data)
        bad[pos] ^= 0x01
        check = rp.verify_record_pdf(bytes(bad))
        assert not check.ok, pos


def test_a_voided_record_is_marked_and_lists_under_the_next_attempt(
    demo_db: Database, tmp_path: Path
) -> None:
    s = sessions.commit(demo_db, sessions.prepare(demo_db, "RW-2026-04", on=ON, operator="张明").id)
    for w in (W1, W2):
        s = sessions.add_witness(demo_db, s.id, *w)
    s = sessions.void(demo_db, s.id, "见证人对数字有异议")
    path = _pdf(demo_db, s, tmp_path / "void")
    assert rp.verify_record_pdf(path).ok
    pages = pdf_pages_text(path)
    assert "本场次已作废" in pages[0] and "见证人对数字有异议" in pages[0]
    second = full_draw(demo_db, "RW-2026-04")
    text = "".join(pdf_pages_text(_pdf(demo_db, second, tmp_path / "second")))
    assert s.id in text and "见证人对数字有异议" in text and s.commitment in text and s.nonce in text


def test_substitutions_are_printed_with_reason_skipped_and_substitute(
    demo_db: Database, drawn: sessions.Session, tmp_path: Path
) -> None:
    target, removed = drawn.result[0]["id"], drawn.result[0]["inspectors"][0]
    skipped = next(i[0] for i in drawn.inputs["inspectors"] if i[0] not in drawn.result[0]["inspectors"])
    new = sessions.substitute(
        demo_db, drawn.id, target, removed, "因公出差", unavailable=[(skipped, "病假")], operator="李静"
    )
    s = sessions.get_session(demo_db, drawn.id)
    path = _pdf(demo_db, s, tmp_path)
    assert rp.verify_record_pdf(path).ok
    text = "".join(pdf_pages_text(path))
    names = s.inspector_names
    for value in ("因公出差", "病假", "李静", names[new.substitute], names[skipped], "（递补）", "第2版"):
        assert value in text


def test_the_notice_is_one_page_before_any_witness(demo_db: Database, tmp_path: Path) -> None:
    s = sessions.commit(demo_db, sessions.prepare(demo_db, "RW-2026-02", on=ON, place="三楼会议室").id)
    assert s.witnesses == []
    path = rp.write_notice_pdf(demo_db, s, tmp_path / "notice.pdf")
    (page,) = pdf_pages_text(path)
    for value in (s.id, s.commitment, *s.hashes.values(), "三楼会议室"):
        assert value in page
    assert s.nonce == "" and sessions._LIVE[s.id].setup.nonce not in page  # N is in memory only
    with pytest.raises(Exception, match="尚未生成承诺值"):
        rp.build_notice_document(sessions.prepare(demo_db, "RW-2026-03", on=ON))


def test_excel_result_list_and_export(demo_db: Database, drawn: sessions.Session, tmp_path: Path) -> None:
    rows = result_rows(drawn)
    assert len(rows) == len(drawn.result)
    path = write_result_xlsx(drawn, tmp_path / "r.xlsx")
    wb = load_workbook(path)
    ws = wb["抽取结果"]
    values = [[c.value for c in r] for r in ws.iter_rows()]
    assert values[1][2] == drawn.result[0]["id"] and values[1][5] == drawn.result[0]["ticket"]
    flat = json.dumps(values, ensure_ascii=False)
    phones = [
        demo_db.scalar("SELECT phone FROM inspector WHERE cert_no = :c", {"c": c})
        for x in drawn.result
        for c in x["inspectors"]
    ] + [demo_db.scalar("SELECT phone FROM target WHERE uscc = :u", {"u": x["id"]}) for x in drawn.result]
    assert "电话" not in flat and all(p and p not in flat for p in phones)
    folder = tmp_path / "usb"
    folder.mkdir()
    written = run_job(export_session(demo_db, drawn.id, folder))
    assert sorted(w.path.name for w in written) == sorted(
        [f"{drawn.id}.pdf", f"{drawn.id}.json", f"{drawn.id}-抽取结果.xlsx"]
    )
    assert all(w.size == w.path.stat().st_size > 0 for w in written)
    assert rp.verify_record_pdf(folder / f"{drawn.id}.pdf").ok


def test_removable_drives_come_first(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "Desktop").mkdir(parents=True)
    media = tmp_path / "media"
    (media / "zhang" / "KINGSTON").mkdir(parents=True)
    vols = [
        Volume("/", "系统"),
        Volume("/media/zhang/U盘", "U盘", bytes_free=8 * 1024**3),
        Volume("/media/zhang/光盘", "光盘", read_only=True),
        Volume("/run/media/zhang/移动硬盘", "移动硬盘"),
    ]
    dests = destinations(vols, platform="linux", user="zhang", home=home, media_roots=[media])
    assert [d.removable for d in dests] == [True, True, True, False, False]
    assert [d.path.name for d in dests] == ["U盘", "移动硬盘", "KINGSTON", "Desktop", "home"]
    assert "可用 8.0 GB" in dests[0].label
    win = [Volume("C:\\", "本地磁盘"), Volume("E:\\", "KINGSTON")]
    types = {"C:\\": 3, "E:\\": 2}
    assert [is_removable(v, platform="win32", drive_type=types.__getitem__) for v in win] == [False, True]


def test_cli_draw_writes_json_and_pdf_and_verify_accepts_both(demo_data_dir: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dsj_desktop", "--data-dir", str(demo_data_dir), *args],
                              capture_output=True, text=True, encoding="utf-8")  # fmt: skip

    out = tmp_path / "out"
    p = run("draw", "RW-2026-04", "--witness", "甲=31415926535", "--witness", "乙=27182818284",
            "--out", str(out), "--date", "2026-06-01", "--place", "三楼会议室", "--operator", "王明")  # fmt: skip
    assert p.returncode == 0, p.stderr
    (json_file,) = out.glob("S-2026-*.json")
    pdf_file = json_file.with_suffix(".pdf")
    assert pdf_file.exists()
    for f in (json_file, pdf_file):
        v = run("verify", str(f))
        assert v.returncode == 0, v.stdout + v.stderr
    v = run("verify", str(pdf_file))
    assert "✔ 内容完整" in v.stdout and "✔ 随机种子" in v.stdout and "总结论：验证通过" in v.stdout
    bad = tmp_path / "bad.pdf"
    data = bytearray(pdf_file.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad.write_bytes(bytes(data))
    v = run("verify", str(bad))
    assert v.returncode == 1 and "总结论：验证不通过" in v.stdout
    # void with --out writes the voided record as JSON and PDF too
    session = json_file.stem
    p = run("void", session, "--reason", "测试作废", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert run("verify", str(pdf_file)).returncode == 0
    assert "本场次已作废" in pdf_pages_text(pdf_file)[0]


def test_a_150_target_record(demo_db: Database, tmp_path: Path) -> None:
    need("pdftotext")
    add_task(
        demo_db, "RW-150", draw_type="不定向", items="YJ-002", industries="", ratio="150家", expert_count=0
    )
    s = full_draw(demo_db, "RW-150", on=date(2026, 6, 1))
    assert sum(not x["mandatory"] for x in s.result) == 150 and any(x["mandatory"] for x in s.result)
    path = _pdf(demo_db, s, tmp_path)
    check = rp.verify_record_pdf(path)
    assert check.ok
    pages = pdf_pages_text(path)
    assert all(s.id in p for p in pages)
