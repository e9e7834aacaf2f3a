"""Bounded text: place, operator and witness fields have limits, checked before a session exists; and
whatever text a data file already holds (an older version had no limits; names are imported), every
PDF written after a confirmation is built: a confirmed draw can always be printed, voided and archived."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from dsj_desktop.db.engine import Database
from dsj_desktop.draw.record import verify_record
from dsj_desktop.pdf.document import CLIPPED
from dsj_desktop.progress import run_job
from dsj_desktop.publish import archive
from dsj_desktop.publish import record_pdf as rp
from dsj_desktop.publish.session_files import write_session_files
from dsj_desktop.services import sessions

ON = date(2026, 6, 1)
TASK = "RW-2026-04"
LONG_TEXTS = {
    "chinese": "很长的见证人姓名" * 125,  # 1,000 characters, no break opportunity but between glyphs
    "ascii": "W" * 3000,  # one unbreakable word
    "words": "witness name " * 400,
    "markup": "<b>&amp;</b> <para> & " * 200,
    "mixed": ("张三（企业代表，" + "x" * 50 + "）") * 60,
}


def test_limits_are_checked_before_a_session_exists(demo_db: Database) -> None:
    with pytest.raises(sessions.DrawError, match=f"不能超过 {sessions.MAX_PLACE} 个字"):
        sessions.prepare(demo_db, TASK, on=ON, place="会" * (sessions.MAX_PLACE + 1))
    with pytest.raises(sessions.DrawError, match=f"不能超过 {sessions.MAX_OPERATOR} 个字"):
        sessions.prepare(demo_db, TASK, on=ON, operator="王" * (sessions.MAX_OPERATOR + 1))
    with demo_db.read() as conn:
        assert sessions.session_summaries(conn, TASK) == []  # nothing was prepared
    s = sessions.commit(demo_db, sessions.prepare(demo_db, TASK, on=ON, place="会" * sessions.MAX_PLACE).id)
    with pytest.raises(sessions.DrawError, match=f"不能超过 {sessions.MAX_WITNESS_NAME} 个字"):
        sessions.add_witness(demo_db, s.id, "甲" * (sessions.MAX_WITNESS_NAME + 1), "3141592653")
    with pytest.raises(sessions.DrawError, match=f"不能超过 {sessions.MAX_WITNESS_DIGITS} 位"):
        sessions.add_witness(demo_db, s.id, "甲", "1" * (sessions.MAX_WITNESS_DIGITS + 1))
    assert sessions.get_session(demo_db, s.id).witnesses == []
    sessions.add_witness(demo_db, s.id, "甲" * sessions.MAX_WITNESS_NAME, "3141592653")


def test_the_command_line_checks_witness_names_before_preparing(demo_data_dir: Path, tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dsj_desktop", "--data-dir", str(demo_data_dir), "draw", TASK, "--date", "2026-06-01",
         "--witness", "甲" * 1000 + "=3141592653", "--witness", "乙=27182818284", "--out", str(tmp_path)],
        capture_output=True, text=True, encoding="utf-8", timeout=300,
    )  # fmt: skip
    assert out.returncode != 0 and "不能超过 40 个字" in out.stderr and "Traceback" not in out.stderr
    assert "抽取场次" not in out.stdout


@pytest.mark.parametrize("kind", list(LONG_TEXTS))
def test_long_text_in_old_data_never_breaks_a_confirmed_draw(
    demo_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    text = LONG_TEXTS[kind]
    # Data an older version accepted: no limits then; names come from imported directories anyway.
    for limit in ("MAX_WITNESS_NAME", "MAX_PLACE", "MAX_OPERATOR"):
        monkeypatch.setattr(sessions, limit, 10**6)
    with demo_db.write() as conn:
        conn.exec_driver_sql("UPDATE target SET name = ? || name", (text,))
        conn.exec_driver_sql("UPDATE inspector SET name = name || ?, department = ?", (text[:500], text))
        conn.exec_driver_sql("UPDATE task SET name = ? WHERE code = ?", (text, TASK))
    s = sessions.prepare(demo_db, TASK, on=ON, place=text, operator=text)
    s = sessions.commit(demo_db, s.id, operator=text)
    s = sessions.add_witness(demo_db, s.id, text, "3141592653")
    s = sessions.add_witness(demo_db, s.id, text + "乙", "27182818284")
    s = sessions.confirm(demo_db, sessions.do_reveal(demo_db, s.id).id)
    assert s.record is not None and verify_record(s.record).ok
    written = run_job(write_session_files(demo_db, s, tmp_path / "confirmed"))
    pdf = next(p for p in written if p.suffix == ".pdf")
    assert rp.verify_record_pdf(pdf).ok
    # A substitution with a long reason, then the void: both printed.
    x = s.result[0]
    sessions.substitute(demo_db, s.id, x["id"], x["inspectors"][0], text)
    s = sessions.get_session(demo_db, s.id)
    assert [p.suffix for p in run_job(write_session_files(demo_db, s, tmp_path / "substituted"))] == [
        ".json",
        ".pdf",
        ".html",
    ]
    v = sessions.void(demo_db, s.id, text * 3)
    written = run_job(write_session_files(demo_db, v, tmp_path / "voided"))
    assert rp.verify_record_pdf(next(p for p in written if p.suffix == ".pdf")).ok
    # And the year's archive.
    summary = run_job(archive.export_archive(demo_db, 2026, tmp_path / "archive"))
    assert summary is not None
    assert any(p.suffix == ".pdf" for p in (tmp_path / "archive").rglob("*"))


def test_a_clipped_cell_says_so() -> None:
    from dsj_desktop.pdf.document import PdfDocument

    doc = PdfDocument("测试", bureau="某县应急管理局")
    clipped = doc.clip("很" * 20000, 200)
    assert clipped.endswith(CLIPPED) and len(clipped) < 2000
    assert doc.clip("短", 200) == "短"


def test_a_long_role_still_leaves_a_line_to_sign_on() -> None:
    from reportlab.lib.units import mm
    from reportlab.platypus import Table

    from dsj_desktop.pdf.document import PdfDocument

    doc = PdfDocument("测试", bureau="某县应急管理局")
    doc.signature_lines(["操作人员", "见证人 " + "很长的名字" * 200, "监督人"])
    table = next(f for f in doc.story[-1]._content if isinstance(f, Table))
    widths = table._colWidths
    assert widths[0] <= doc.frame_width / 3 + 1 and widths[1] >= 28 * mm
    assert doc.build().startswith(b"%PDF")
