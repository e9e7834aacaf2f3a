"""Nothing is revealed that cannot be signed: the bureau's name, the keys, the certificate and the
output folder are checked before a session is prepared (core, command line, draw tab), and
``dsj-desktop settings`` shows and sets the name."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dsj_desktop.cli import main
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.keys import KeyStore
from dsj_desktop.services import sessions, settings

from .test_ui_directories import window  # noqa: F401  (fixture)

ON = date(2026, 6, 1)
WITNESSES = ["--witness", "企业代表=3141592653", "--witness", "纪检监督员=2718281828"]


def _sessions(db: Database) -> int:
    return int(db.scalar("SELECT count(*) FROM draw_session"))


def _clear_name(data_dir: Path) -> None:
    db = open_database(data_dir)
    try:
        with db.write("测试：清除单位名称") as conn:
            conn.exec_driver_sql("DELETE FROM setting WHERE key = ?", (settings.BUREAU_NAME,))
    finally:
        db.close()


def test_without_a_bureau_name_nothing_is_prepared(demo_db: Database) -> None:
    with demo_db.write("测试：清除单位名称") as conn:
        conn.exec_driver_sql("DELETE FROM setting WHERE key = ?", (settings.BUREAU_NAME,))
    with pytest.raises(sessions.DrawError, match=r"单位名称尚未设置.*settings --bureau-name"):
        sessions.prepare(demo_db, "RW-2026-03", on=ON)
    assert _sessions(demo_db) == 0


def test_an_unwritable_output_folder_is_refused_before_anything(demo_db: Database, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    with pytest.raises(sessions.DrawError, match="抽取记录无法写入文件夹"):
        sessions.prepare(demo_db, "RW-2026-03", on=ON, out_dir=not_a_folder / "records")
    assert _sessions(demo_db) == 0


def test_a_certificate_for_another_bureau_is_refused_before_anything(demo_db: Database) -> None:
    KeyStore(demo_db.data_dir).ensure_pdf_certificate(settings.bureau_name(demo_db))
    settings.write(demo_db, settings.BUREAU_NAME, "另一个县应急管理局")
    with pytest.raises(sessions.DrawError, match="签章证书"):
        sessions.prepare(demo_db, "RW-2026-03", on=ON)
    assert _sessions(demo_db) == 0


def test_cli_refuses_then_settings_sets_the_name_then_the_draw_is_signed(
    demo_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _clear_name(demo_data_dir)
    out = tmp_path / "out"
    assert main(["draw", "RW-2026-03", "--out", str(out), "--date", ON.isoformat(), *WITNESSES]) != 0
    err = capsys.readouterr()
    assert "单位名称尚未设置" in err.err + err.out
    db = open_database(demo_data_dir)
    assert _sessions(db) == 0  # nothing prepared, announced or revealed
    db.close()

    assert main(["settings"]) == 0
    shown = capsys.readouterr().out
    assert "单位名称：（未设置）" in shown and "记录签名公钥指纹" in shown
    assert main(["settings", "--bureau-name", "短"]) != 0
    assert main(["settings", "--bureau-name", "白水县应急管理局"]) == 0
    assert "单位名称已设置为：白水县应急管理局" in capsys.readouterr().out
    db = open_database(demo_data_dir)
    with db.read() as conn:
        action, detail = conn.exec_driver_sql(
            "SELECT action, detail FROM journal ORDER BY id DESC LIMIT 1"
        ).one()
    db.close()
    assert action == "修改设置：单位名称" and "白水县应急管理局" in detail

    assert main(["draw", "RW-2026-03", "--out", str(out), "--date", ON.isoformat(), *WITNESSES]) == 0
    assert sorted(p.suffix for p in out.iterdir()) == [".html", ".json", ".pdf"]  # with 核验工具.html
    record = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))
    assert record["status"] == "confirmed"


def test_the_draw_tab_lists_what_stops_signing_and_does_not_start(
    window: Any,  # noqa: F811
    qtbot: Any,
) -> None:
    db = window.db
    with db.write("测试：清除单位名称") as conn:
        conn.exec_driver_sql("DELETE FROM setting WHERE key = ?", (settings.BUREAU_NAME,))
    tab = window.draw_tab
    assert tab.start_for_task("RW-2026-03")
    assert not tab.btn_start.isEnabled()
    assert "单位名称尚未设置" in tab.problems.text()
    assert tab.problems.isVisibleTo(tab)
