"""The main window and each directory tab, driven with pytest-qt (offscreen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWizard

from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.domain.specs import DIRECTORIES
from dsj_desktop.ui.app import setup_application
from dsj_desktop.ui.import_wizard import ImportWizard
from dsj_desktop.ui.main_window import MainWindow
from dsj_desktop.ui.record_dialog import RecordDialog
from tests.test_import import HEADERS, code, target_row
from tests.ui_window import main_window


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Message boxes are answered automatically and recorded."""
    seen: list[tuple[str, str]] = []

    def record(kind: str, answer: Any) -> Any:
        def box(parent: Any, title: str, text: str, *a: Any, **k: Any) -> Any:
            seen.append((kind, text))
            return answer

        return box

    monkeypatch.setattr(QMessageBox, "information", record("information", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "warning", record("warning", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "question", record("question", QMessageBox.StandardButton.Yes))
    return seen


@pytest.fixture
def window(qtbot: Any, demo_data_dir: Path, qapp: QApplication) -> MainWindow:
    with main_window(qtbot, qapp, demo_data_dir) as w:
        yield w


def test_main_window_shows_each_directory_with_counts(window: MainWindow) -> None:
    assert window.windowTitle().endswith("青山县应急管理局")
    expected = {"targets": 3000, "inspectors": 48, "experts": 30, "conflicts": 40}
    for kind, n in expected.items():
        tab = window.directory_tabs[kind]
        window.show_directory(kind)
        assert tab.model.rowCount() == n
        assert f"共 {n:,} " in tab.count_label.text()
        assert window.home.cards[kind].value.text() == f"{n:,}"
        # The first screen of rows is there, with real values.
        assert tab.model.data(tab.model.index(0, 0)) != ""
    assert "今日可抽取 43 人" in window.directory_tabs["inspectors"].count_label.text()


def test_uses_the_bundled_chinese_font(window: MainWindow) -> None:
    assert QApplication.font().family() == "WenQuanYi Micro Hei"


def test_search_as_you_type_and_filters(window: MainWindow, qtbot: Any) -> None:
    tab = window.directory_tabs["targets"]
    window.show_directory("targets")
    for ch in "加油站":  # typed one character at a time (QTest cannot type Chinese)
        tab.search.insert(ch)
    qtbot.waitUntil(lambda: 0 < tab.model.rowCount() < 3000, timeout=3000)
    n_fuel = tab.model.rowCount()
    names = [tab.model.data(tab.model.index(r, 1)) for r in range(n_fuel)]
    assert all("加油站" in n for n in names)
    assert f"当前显示 {n_fuel}" in tab.count_label.text()
    # Combine with a filter on the region.
    region = tab.filters["region"]
    region.setCurrentIndex(region.findData("城关镇"))
    n_both = tab.model.rowCount()
    assert n_both <= n_fuel
    db = window.db
    expected = db.scalar(
        "SELECT count(*) FROM target WHERE name LIKE '%加油站%' AND region = '城关镇' AND archived = 0"
    )
    assert n_both == expected
    tab.search.clear()
    region.setCurrentIndex(0)
    flags = tab.flag_combo
    assert flags is not None
    flags.setCurrentIndex(flags.findData("blacklist"))
    assert tab.model.rowCount() == db.scalar("SELECT count(*) FROM target WHERE blacklist = 1")


def test_inspector_eligibility_is_shown_and_filterable(window: MainWindow) -> None:
    tab = window.directory_tabs["inspectors"]
    combo = tab.eligibility_combo
    assert combo is not None
    combo.setCurrentIndex(combo.findText("不可抽取"))
    assert tab.model.rowCount() == 5
    reasons = {tab.model.data(tab.model.index(r, 2)) for r in range(5)}
    assert any(r.startswith("执法证已过期") for r in reasons)
    assert any(r.startswith("不在岗") for r in reasons)
    brush = tab.model.data(tab.model.index(0, 2), Qt.ItemDataRole.ForegroundRole)
    assert brush is not None


def test_archive_and_restore(window: MainWindow, messages: list[tuple[str, str]]) -> None:
    tab = window.directory_tabs["experts"]
    window.show_directory("experts")
    tab.table.selectRow(0)
    first = tab.model.row_id(0)
    tab.archive_selected(True)
    assert tab.model.rowCount() == 29
    assert window.db.scalar("SELECT archived FROM expert WHERE id = :i", {"i": first}) == 1
    assert "已归档 1 人" in tab.count_label.text()
    tab.show_archived.setChecked(True)
    assert tab.model.rowCount() == 30
    row = tab.model.row_of(first)
    assert row is not None
    assert tab.model.data(tab.model.index(row, 1), Qt.ItemDataRole.ForegroundRole) is not None  # greyed
    tab.table.selectRow(row)
    tab.archive_selected(False)
    assert window.db.scalar("SELECT archived FROM expert WHERE id = :i", {"i": first}) == 0
    # Nothing was deleted at any point.
    assert window.db.scalar("SELECT count(*) FROM expert") == 30


def test_add_and_edit_with_the_import_rules(window: MainWindow, qtbot: Any) -> None:
    db: Database = window.db
    dlg = RecordDialog(db, DIRECTORIES["targets"], None, window)
    qtbot.addWidget(dlg)
    dlg.editors["uscc"].setText(code(4242)[:-1] + "0" if code(4242)[-1] != "0" else code(4242)[:-1] + "1")
    dlg.editors["name"].setText("新增测试有限公司")
    dlg.save()
    assert dlg.error.isVisibleTo(dlg) and "校验位错误" in dlg.error.text()
    dlg.editors["uscc"].setText(code(4242))
    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted
    rid = dlg.saved_id
    assert db.scalar("SELECT name FROM target WHERE id = :i", {"i": rid}) == "新增测试有限公司"

    edit = RecordDialog(db, DIRECTORIES["targets"], rid, window)
    qtbot.addWidget(edit)
    assert not edit.editors["uscc"].isEnabled()  # the key cannot change
    edit.editors["risk_level"].setCurrentText("重大")
    edit.editors["blacklist"].setChecked(True)
    edit.save()
    assert db.scalar("SELECT risk_level || blacklist FROM target WHERE id = :i", {"i": rid}) == "重大1"


def test_duplicate_key_is_refused_in_the_dialog(window: MainWindow, qtbot: Any) -> None:
    db: Database = window.db
    existing = db.scalar("SELECT cert_no FROM inspector LIMIT 1")
    dlg = RecordDialog(db, DIRECTORIES["inspectors"], None, window)
    qtbot.addWidget(dlg)
    dlg.editors["cert_no"].setText(existing)
    dlg.editors["name"].setText("重复")
    dlg.save()
    assert "已存在" in dlg.error.text()
    assert db.scalar("SELECT count(*) FROM inspector") == 48


def _xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = Workbook()
    wb.active.append(HEADERS)
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def _run_wizard_to_preview(wizard: ImportWizard, qtbot: Any) -> None:
    wizard.show()
    qtbot.waitExposed(wizard)
    for _ in range(3):
        wizard.next()
    assert wizard.currentPage() is wizard.preview_page


def test_import_wizard_imports_a_good_file(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "good.xlsx", [target_row(n) for n in range(1, 11)])
    wizard = ImportWizard(window.db, DIRECTORIES["targets"], window, str(path))
    qtbot.addWidget(wizard)
    _run_wizard_to_preview(wizard, qtbot)
    page = wizard.preview_page
    assert page.isComplete()
    assert "新增 10" in page.summary.text()
    assert page.preview_model.rowCount() == 10
    assert window.db.scalar("SELECT count(*) FROM target") == 3000  # the preview wrote nothing
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.summary is not None and wizard.summary.added == 10
    assert window.db.scalar("SELECT count(*) FROM target") == 3010


def test_import_wizard_lists_problems_and_cannot_finish(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    rows = [target_row(1), target_row(2, 风险等级="高"), target_row(3, 所属区域="新设镇")]
    path = _xlsx(tmp_path / "bad.xlsx", rows)
    wizard = ImportWizard(window.db, DIRECTORIES["targets"], window, str(path))
    qtbot.addWidget(wizard)
    _run_wizard_to_preview(wizard, qtbot)
    page = wizard.preview_page
    assert not page.isComplete()
    text = page.problems.toPlainText()
    assert "第 3 行 G 列（风险等级）" in text and "第 4 行 D 列（所属区域）" in text
    assert not wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    # Fix the region by allowing new code-list values; the bad risk level still blocks.
    page.add_codes.setChecked(True)
    assert "第 4 行" not in page.problems.toPlainText()
    assert not page.isComplete()
    assert window.db.scalar("SELECT count(*) FROM target") == 3000


def test_import_wizard_column_mapping_can_be_changed(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.append(["编号", "企业", "代码", "行业领域", "所属区域", "风险等级"])
    wb.active.append([1, "手工对应有限公司", code(555), "机械", "城关镇", "低"])
    path = tmp_path / "odd.xlsx"
    wb.save(path)
    wizard = ImportWizard(window.db, DIRECTORIES["targets"], window, str(path))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.next()
    wizard.next()
    mp = wizard.mapping_page
    assert not mp.isComplete()  # 企业名称 and 统一社会信用代码 are not recognised
    assert "统一社会信用代码" in mp.error.text()
    mp.combos["name"].setCurrentIndex(2)  # B 列
    mp.combos["uscc"].setCurrentIndex(3)  # C 列
    assert mp.isComplete()
    wizard.next()
    assert wizard.preview_page.isComplete()
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert window.db.scalar("SELECT name FROM target WHERE uscc = :u", {"u": code(555)}) == "手工对应有限公司"


def test_export_and_template_buttons(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, messages: list[tuple[str, str]]
) -> None:
    from PySide6.QtWidgets import QFileDialog

    out = tmp_path / "exported"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    tab = window.directory_tabs["inspectors"]
    tab.export_file()
    assert (tmp_path / "exported.xlsx").exists()
    assert messages[-1][0] == "information" and "48" in messages[-1][1]
    tpl = tmp_path / "tpl.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tpl), ""))
    tab.save_template()
    assert tpl.exists()


def test_demo_button_fills_an_empty_database(qtbot: Any, data_dir: Path, qapp: QApplication,
                                             messages: list[tuple[str, str]]) -> None:  # fmt: skip
    setup_application(qapp)
    db = open_database(data_dir)
    w = MainWindow(db)
    qtbot.addWidget(w)
    w.show()
    assert w.home.welcome.isVisibleTo(w)
    qtbot.mouseClick(w.home.demo_btn, Qt.MouseButton.LeftButton)
    assert db.scalar("SELECT count(*) FROM target") == 3000
    assert not w.home.welcome.isVisibleTo(w)
    assert w.directory_tabs["targets"].model.rowCount() == 3000
    assert "青山县应急管理局" in w.windowTitle()
    w.close()
    db.close()


def test_the_plan_tab_leads_to_the_draw_tab(window: MainWindow, qtbot: Any) -> None:
    plan = window.plan_tab
    window.tabs.setCurrentWidget(plan)
    row = next(i for i, r in enumerate(plan.model.rows) if r.task.code == "RW-2026-03")
    plan.table.selectRow(row)
    assert plan.btn_draw.isEnabled()
    qtbot.mouseClick(plan.btn_draw, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.draw_tab
    assert window.draw_tab.task_combo.currentData() == "RW-2026-03"


def test_verify_a_record_from_the_menu(window: MainWindow, tmp_path: Path) -> None:
    from dsj_desktop.progress import run_job
    from dsj_desktop.publish.session_files import write_session_files
    from tests.test_draw_sessions import full_draw

    s = full_draw(window.db, "RW-2026-04")
    pdf = run_job(write_session_files(window.db, s, tmp_path))[1]
    window.verify_record_file(str(pdf))
    ok, text = window.last_verification
    assert ok and "总结论：验证通过" in text and "PDF 电子签章" in text
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(data))
    window.verify_record_file(str(bad))
    assert window.last_verification[0] is False


def test_verify_from_the_menu_names_an_unverified_signer(window: MainWindow, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QMessageBox

    from dsj_desktop.keys import KeyStore
    from dsj_desktop.publish.record_pdf import record_pdf
    from tests.test_forgery import _record

    other = KeyStore(tmp_path / "another-folder")  # a record from elsewhere: intact, signer unknown here
    pdf = tmp_path / "other.pdf"
    record_pdf(_record(other), other, "青山县应急管理局").save(pdf)
    window.verify_record_file(str(pdf))
    ok, text = window.last_verification
    assert not ok and "签名人未经核实" in text and "验证通过" not in text
    box = window.findChild(QMessageBox, "verify-result")
    assert box is not None and box.text().startswith("签名人未经核实")
    box.close()
