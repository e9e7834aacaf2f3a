"""A county's first day, without help: from an empty folder and the county's own spreadsheets
(made the way an office makes them: a merged title row, its own column names, dates as Excel
dates, 检查人员要求 as free text, towns the program has never seen) to a witnessed, signed,
confirmed draw — and an integrity check that finds nothing. Also the first-run wizard's choices,
the six-step import guide and 切换数据文件夹."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from PySide6.QtWidgets import QApplication, QMessageBox

from dsj_desktop import paths
from dsj_desktop.cli import main
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.domain.uscc import complete
from dsj_desktop.draw.record import verify_record
from dsj_desktop.progress import run_job
from dsj_desktop.publish import record_pdf as rp
from dsj_desktop.services import integrity

TOWNS = ("白水镇", "柳沟乡", "石门镇", "河东街道", "杨庄乡", "北坡镇", "南川镇", "东岭乡", "西河镇", "青龙乡",
         "双泉镇", "马家乡")  # fmt: skip
INDUSTRIES = ("危险化学品", "机械", "商贸", "建材", "轻工")
ON = date(2026, 6, 1)
WITNESSES = ["--witness", "企业代表=3141592653", "--witness", "纪检监督员=2718281828"]


def _sheet(path: Path, title: str, header: list[str], rows: list[list[Any]]) -> Path:
    """As an office makes it: a merged title row above the header, a blank line at the end."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(header)
    for r in rows:
        ws.append(r)
    ws.append([])
    wb.save(path)
    return path


def county_files(folder: Path, n_targets: int = 2100) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    targets = []
    for i in range(n_targets):
        targets.append([
            complete(f"91610527{i:09d}"), f"白水县{i}号企业有限公司", INDUSTRIES[i % len(INDUSTRIES)],
            TOWNS[i % len(TOWNS)], ("一般", "较大", "低")[i % 3], "存续", "否" if i % 97 else "是",
            f"{TOWNS[i % len(TOWNS)]}工业路{i}号", "13900000000",
        ])  # fmt: skip
    inspectors = [
        [f"61052700{i:04d}", f"执法员{i}", "执法大队" if i % 2 else "危化科", datetime(2028, 12, 31),
         "危险化学品、工贸" if i % 2 else "工贸", "在岗"]
        for i in range(1, 11)
    ]  # fmt: skip
    items = [
        ["BS-001", "危险化学品经营单位安全生产检查", "《危险化学品安全管理条例》第六条", "危险化学品",
         "现场检查", "5%", "每年一次", "持有效执法证，2人以上"],
        ["BS-002", "工贸企业安全生产检查", "《安全生产法》第六十五条", "机械、建材、轻工",
         "现场检查", "3%", "每年一次", "持有效执法证，2人以上"],
    ]  # fmt: skip
    plan = [
        ["BS-JH-2026", "白水县应急管理局2026年度双随机抽查计划", 2026, "BS-RW-01", "危险化学品经营单位抽查",
         "定向", "BS-001", "危险化学品", "5%", 2, datetime(2026, 3, 1), datetime(2026, 11, 30)],
    ]  # fmt: skip
    return {
        "targets": _sheet(folder / "企业名录.xlsx", "白水县安全生产监管企业名录（2026年）",
                          ["统一社会信用代码", "企业名称", "所属行业", "所属区域", "风险等级", "经营状态",
                           "黑名单", "生产经营地址", "联系电话"], targets),
        "inspectors": _sheet(folder / "执法人员.xlsx", "白水县应急管理局执法人员名册",
                             ["执法证件号", "姓名", "所属科室", "有效期至", "执法专长", "在岗状态"], inspectors),
        "items": _sheet(folder / "抽查事项清单.xlsx", "白水县应急管理局随机抽查事项清单",
                        ["事项编码", "抽查事项", "抽查依据", "抽查对象", "抽查方式", "抽查比例", "抽查频次",
                         "检查人员要求"], items),
        "plan": _sheet(folder / "年度计划.xlsx", "2026年度抽查计划",
                       ["计划编号", "计划名称", "年度", "任务编号", "任务名称", "抽查类型", "抽查事项",
                        "行业领域", "抽查比例", "每组检查人数", "开始日期", "结束日期"], plan),
    }  # fmt: skip


def test_a_new_county_gets_to_a_signed_draw_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "白水县数据"
    monkeypatch.setenv("DSJ_DATA_DIR", str(data))
    files = county_files(tmp_path / "表格")
    # The towns are new: refused with a pointer to --add-codes, then accepted with it.
    assert main(["import", "targets", str(files["targets"])]) != 0
    out = capsys.readouterr()
    assert "所属区域" in out.err + out.out
    assert main(["import", "targets", str(files["targets"]), "--add-codes"]) == 0
    for kind in ("inspectors", "items", "plan"):
        assert main(["import", kind, str(files[kind])]) == 0, capsys.readouterr()
    shown = capsys.readouterr().out
    assert (
        "“持有效执法证，2人以上”（BS-001、BS-002）→ 每组至少 2 人；执法证有效且在岗（程序一律要求）" in shown
    )
    assert main(["check"]) == 0, capsys.readouterr().out  # no false tamper alarm after --add-codes

    draw = ["draw", "BS-RW-01", "--date", ON.isoformat(), "--out", str(tmp_path / "记录"), *WITNESSES]
    assert main(draw) != 0  # no bureau name yet: refused before anything is announced
    assert "单位名称尚未设置" in "".join(capsys.readouterr())
    assert main(["settings", "--bureau-name", "白水县应急管理局"]) == 0
    assert main(draw) == 0, capsys.readouterr()
    printed = capsys.readouterr().out
    assert "已确认" in printed
    record = json.loads(next((tmp_path / "记录").glob("*.json")).read_text(encoding="utf-8"))
    assert verify_record(record).ok and record["status"] == "confirmed"
    assert record["task"]["inspector_req"] == []  # nothing taken for a specialty
    pdf = next((tmp_path / "记录").glob("*.pdf"))
    assert rp.verify_record_pdf(pdf).ok
    assert main(["check"]) == 0, capsys.readouterr().out
    db = open_database(data)
    try:
        report = run_job(integrity.check(db))
        assert report.ok and report.records_checked == 1
        assert db.scalar("SELECT count(*) FROM code_value WHERE list_name = 'region'") == len(TOWNS)
    finally:
        db.close()


# --- the GUI of the first day -----------------------------------------------------------------


def test_the_wizard_never_preselects_the_demo(db: Database, qtbot: Any, qapp: QApplication) -> None:
    from dsj_desktop.ui.app import setup_application
    from dsj_desktop.ui.first_run import FirstRunWizard

    setup_application(qapp)
    wz = FirstRunWizard(db)
    qtbot.addWidget(wz)
    start = wz.start_page
    assert start.selected() == "import"
    assert not start.options["demo"].isChecked()
    assert "演示数据会写进当前数据文件夹" in " ".join(
        w.text() for w in start.findChildren(type(wz.bureau_page.error)) if hasattr(w, "text")
    )
    assert wz.bureau_page.name.placeholderText()  # the first thing it asks is the bureau's name


@pytest.fixture
def empty_window(qtbot: Any, db: Database, qapp: QApplication) -> Any:
    from dsj_desktop.ui.app import setup_application
    from dsj_desktop.ui.main_window import MainWindow

    setup_application(qapp)
    w = MainWindow(db)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def test_the_import_guide_walks_the_six_lists_and_ends_on_the_plan(
    empty_window: Any, qtbot: Any, tmp_path: Path
) -> None:
    from dsj_desktop.domain.plan_specs import ITEMS, PLAN_ROWS
    from dsj_desktop.domain.specs import INSPECTORS, TARGETS
    from dsj_desktop.io.importer import import_directory
    from dsj_desktop.services.plan import import_plan
    from dsj_desktop.ui.import_guide import STEPS

    w = empty_window
    files = county_files(tmp_path / "表格", n_targets=60)
    asked: list[str] = []
    specs = {"targets": TARGETS, "inspectors": INSPECTORS, "items": ITEMS}

    def start(kind: str) -> None:  # what the import wizard does when the operator picks the file
        asked.append(kind)
        if kind == "plan":
            run_job(import_plan(w.db, files["plan"]))
        elif kind in specs:
            run_job(import_directory(w.db, specs[kind], files[kind], add_unknown_codes=True))

    w.start_import_guide()
    guide = w.import_guide
    guide.start = start
    assert [s.kind for s in STEPS] == ["targets", "inspectors", "experts", "conflicts", "items", "plan"]
    assert "第 1 步" in guide.current.text() and "检查对象名录库" in guide.btn_import.text()
    guide.btn_import.click()
    guide.btn_import.click()
    assert guide.index == 2
    guide.btn_skip.click()  # no experts
    guide.btn_skip.click()  # no conflicts
    guide.btn_import.click()
    guide.btn_import.click()
    assert asked == ["targets", "inspectors", "items", "plan"] and guide.index == 6
    assert not guide.btn_import.isEnabled()
    assert "已跳过" in guide.list.item(2).text() and "已有 60 条" in guide.list.item(0).text()
    guide.btn_done.click()
    assert w.tabs.currentWidget() is w.plan_tab
    assert PLAN_ROWS.kind == "plan"


def test_switching_the_data_folder(
    empty_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtCore import QProcess

    pointer = tmp_path / "config" / "data-dir.txt"
    monkeypatch.setattr(paths, "remembered_data_dir_file", lambda: pointer)
    started: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(
        QProcess, "startDetached", lambda prog, args: started.append((prog, list(args))) or True
    )
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    from PySide6.QtGui import QAction

    names = [a.text() for a in empty_window.findChildren(QAction)]
    assert "切换数据文件夹…" in names and "导入向导（按顺序导入六份表格）…" in names
    other = tmp_path / "另一个文件夹"
    assert empty_window.switch_data_dir(str(other))
    assert started and started[0][1][-2:] == ["--data-dir", str(other)]
    assert pointer.read_text(encoding="utf-8") == str(other.resolve())
    monkeypatch.delenv("DSJ_DATA_DIR")
    assert paths.resolve_data_dir() == other.resolve()
    assert paths.resolve_data_dir(str(tmp_path / "x")) == (tmp_path / "x").resolve()  # --data-dir first


@pytest.mark.parametrize("size", [(1024, 768), (1920, 1080)])
def test_the_first_day_fits_the_screen(tmp_path: Path, size: tuple[int, int]) -> None:
    """In its own process (the offscreen screen size is fixed when Qt starts): the wizard, the main
    window and the session title fit; the long task name is elided with a tooltip at 1024×768."""
    import os
    import subprocess
    import sys

    w, h = size
    screens = tmp_path / "screen.json"
    screens.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": w, "height": h,
                                                "logicalDpi": 96, "dpr": 1}]}))  # fmt: skip
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={screens}", PYTHONIOENCODING="utf-8")
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run(
        [sys.executable, "-m", "tests.ui_shots", str(tmp_path / "shots"), str(tmp_path / "data")],
        cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    facts = json.loads(run.stdout.strip().splitlines()[-1])
    assert facts["screen"] == [w, h]
    assert facts["window_fits"] and facts["wizard_fits"] and facts["window"][0] <= w
    assert facts["wizard_choice"] == "import"
    assert facts["title_tooltip"]
    assert facts["title_elided"] == (w == 1024)
    assert len(list((tmp_path / "shots").glob("*.png"))) >= 6
    too_big = {k: v for k, v in facts["dialogs"].items() if v[0] > w or v[1] > h}
    assert not too_big, too_big  # every dialog usable on this screen


def test_the_home_page_points_on_after_the_first_import(empty_window: Any, tmp_path: Path) -> None:
    from dsj_desktop.domain.specs import TARGETS
    from dsj_desktop.io.importer import import_directory

    w = empty_window
    home = w.home
    assert home.welcome.isVisibleTo(w) and not home.next_step.isVisibleTo(w)
    files = county_files(tmp_path / "表格", n_targets=30)
    run_job(import_directory(w.db, TARGETS, files["targets"], add_unknown_codes=True))
    w.hub.announce("targets")
    assert not home.welcome.isVisibleTo(w) and home.next_step.isVisibleTo(w)
    assert "执法检查人员名录库、抽查事项清单、年度抽查计划" in home.next_label.text()
    home.findChild(type(home.demo_btn), "next-step-import").click()
    assert w.import_guide.isVisible() and w.import_guide.index == 1  # on from the first empty list
    w.import_guide.close()


def test_the_demo_button_asks_first_and_defaults_to_no(
    empty_window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[Any] = []

    def answer(*args: Any) -> Any:
        asked.append(args)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer)
    empty_window.home.demo_btn.click()
    assert asked and asked[0][-1] == QMessageBox.StandardButton.No  # Enter means no
    assert "正式使用的文件夹请不要装入" in asked[0][2]
    assert empty_window.db.scalar("SELECT count(*) FROM target") == 0
