"""The item list tab, the annual plan tab, the rules and task dialogs, and the publication buttons
(pytest-qt, offscreen)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QWizard

from dsj_desktop.clock import today
from dsj_desktop.domain.plan_specs import ITEMS
from dsj_desktop.services import plan_overview
from dsj_desktop.services.plan import get_task, task_pool
from dsj_desktop.ui.editors import MultiLineEdit
from dsj_desktop.ui.main_window import MainWindow
from dsj_desktop.ui.plan_tab import AMBER, COMPUTING, TaskTableModel
from dsj_desktop.ui.record_dialog import RecordDialog
from dsj_desktop.ui.rules_dialog import RulesDialog
from dsj_desktop.ui.table_model import RED
from dsj_desktop.ui.task_dialog import TaskDialog
from tests.test_plan import plan_row, plan_xlsx
from tests.test_ui_directories import messages  # noqa: F401  (fixture)
from tests.ui_window import main_window

M = TaskTableModel


@pytest.fixture
def window(qtbot: Any, demo_data_dir: Path, qapp: QApplication) -> MainWindow:
    with main_window(qtbot, qapp, demo_data_dir) as w:
        yield w


def item_row(tab: Any, code: str) -> int:
    for r in range(tab.model.rowCount()):
        if tab.model.data(tab.model.index(r, 0)) == code:
            return r
    raise AssertionError(code)


def show_plan(window: MainWindow, qtbot: Any) -> Any:
    tab = window.plan_tab
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.model.rowCount() > 0 and tab.model.complete, timeout=10000)
    return tab


def cell(tab: Any, code: str, col: int, role: Qt.ItemDataRole = Qt.ItemDataRole.DisplayRole) -> Any:
    row = tab.model.row_of(code)
    assert row is not None, code
    return tab.model.data(tab.model.index(row, col), role)


# --- the item list ----------------------------------------------------------------------------


def test_items_tab_filters_and_wording(window: MainWindow, qtbot: Any) -> None:
    tab = window.items_tab
    window.tabs.setCurrentWidget(tab)
    assert window.tabs.tabText(window.tabs.indexOf(tab)) == "抽查事项清单"
    assert window.tabs.indexOf(tab) == window.tabs.indexOf(window.directories) + 1
    assert (tab.btn_archive.text(), tab.btn_restore.text(), tab.show_archived.text()) == (
        "停用",
        "启用",
        "显示已停用",
    )
    assert tab.model.rowCount() == 9  # YJ-010 is retired
    assert "共 9 项" in tab.count_label.text() and "已停用 1 项" in tab.count_label.text()
    status_col = ITEMS.attrs.index("archived") + 1  # after 程序识别的人员要求
    assert tab.model.data(tab.model.index(0, status_col)) == "启用"

    category = tab.filters["category"]
    category.setCurrentIndex(category.findData("重点"))
    assert tab.model.rowCount() == 4
    category.setCurrentIndex(0)
    target = tab.filters["industries"]
    target.setCurrentIndex(target.findData("烟花爆竹"))
    assert [tab.model.data(tab.model.index(r, 0)) for r in range(tab.model.rowCount())] == ["YJ-004"]
    target.setCurrentIndex(0)
    status = tab.filters["archived"]
    status.setCurrentIndex(status.findText("停用"))
    assert [tab.model.data(tab.model.index(r, 0)) for r in range(tab.model.rowCount())] == ["YJ-010"]
    assert tab.model.data(tab.model.index(0, status_col)) == "停用"
    status.setCurrentIndex(0)
    for ch in "粉尘":
        tab.search.insert(ch)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=3000)


def test_retiring_an_item_in_use_warns_and_never_deletes(
    window: MainWindow,
    messages: list[tuple[str, str]],  # noqa: F811
) -> None:
    tab = window.items_tab
    window.tabs.setCurrentWidget(tab)
    tab.table.selectRow(item_row(tab, "YJ-002"))
    tab.archive_selected(True)
    kind, text = messages[0]
    assert kind == "question"
    assert "该事项已被 1 个抽查任务使用，停用后不能再用于新任务，已有任务不受影响" in text
    assert "RW-2026-02" in text
    db = window.db
    assert db.scalar("SELECT archived FROM item WHERE code = 'YJ-002'") == 1
    assert db.scalar("SELECT count(*) FROM item") == 10
    assert tab.model.rowCount() == 8
    # An unused item: no warning about tasks.
    tab.table.selectRow(item_row(tab, "YJ-009"))
    tab.archive_selected(True)
    assert "抽查任务使用" not in messages[2][1]
    # Reactivate.
    tab.show_archived.setChecked(True)
    assert tab.btn_restore.isVisible()
    tab.table.selectRow(item_row(tab, "YJ-002"))
    tab.archive_selected(False)
    assert db.scalar("SELECT archived FROM item WHERE code = 'YJ-002'") == 0
    assert messages[-1] == ("information", "已启用 1 条记录。")


def test_item_dialog_multiline_fields_and_tooltip(window: MainWindow, qtbot: Any) -> None:
    db = window.db
    row_id = db.scalar("SELECT id FROM item WHERE code = 'YJ-004'")
    dlg = RecordDialog(db, ITEMS, row_id, window)
    qtbot.addWidget(dlg)
    for attr in ("basis", "content", "remark"):
        assert isinstance(dlg.editors[attr], MultiLineEdit)
    assert "archived" not in dlg.editors  # 停用 / 启用 only with the buttons (and their warning)
    basis = "《烟花爆竹安全管理条例》第三十三条\n《烟花爆竹经营许可实施办法》第二十五条"
    dlg.editors["basis"].setPlainText(basis)
    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted
    assert db.scalar("SELECT basis FROM item WHERE code = 'YJ-004'") == basis
    assert db.scalar("SELECT archived FROM item WHERE code = 'YJ-004'") == 0
    tab = window.items_tab
    tab.refresh()
    col = ITEMS.attrs.index("basis")
    idx = tab.model.index(item_row(tab, "YJ-004"), col)
    assert "\n" not in tab.model.data(idx)
    tip = tab.model.data(idx, Qt.ItemDataRole.ToolTipRole)
    assert "经营许可实施办法》第二十五条" in tip and "pre-wrap" in tip

    # A retired item stays retired when edited; a new item starts 启用 with this year's list.
    retired = db.scalar("SELECT id FROM item WHERE code = 'YJ-010'")
    dlg = RecordDialog(db, ITEMS, retired, window)
    qtbot.addWidget(dlg)
    dlg.editors["remark"].setPlainText("已并入 YJ-003\n保留备查")
    dlg.save()
    assert (
        db.scalar("SELECT archived || remark FROM item WHERE code = 'YJ-010'") == "1已并入 YJ-003\n保留备查"
    )
    new = RecordDialog(db, ITEMS, None, window)
    qtbot.addWidget(new)
    new.editors["code"].setText("YJ-011")
    new.editors["name"].setText("新增测试事项")
    new.save()
    assert db.scalar("SELECT archived || '/' || year FROM item WHERE code = 'YJ-011'") == f"0/{today().year}"


# --- the annual plan --------------------------------------------------------------------------


def test_plan_tab_shows_live_pools_for_the_demo_plan(
    window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    on = date(2026, 6, 15)  # within every demo task's period
    monkeypatch.setattr(plan_overview, "today", lambda: on)
    tab = window.plan_tab
    window.tabs.setCurrentWidget(tab)
    assert tab.model.rowCount() == 6
    # Right after the tab appears the pools are still being computed (in the background).
    assert cell(tab, "RW-2026-01", M.CANDIDATES) == COMPUTING
    qtbot.waitUntil(lambda: tab.model.complete, timeout=10000)
    with window.db.read() as conn:
        for code in ("RW-2026-01", "RW-2026-02", "RW-2026-05"):
            tp = task_pool(conn, get_task(conn, code), on)
            assert cell(tab, code, M.CANDIDATES) == f"{len(tp.pool.candidates):,}"
            assert cell(tab, code, M.SAMPLE).startswith(f"{tp.pool.total_selected:,}")
            assert cell(tab, code, M.INSPECTORS) == f"{tp.inspectors_eligible} 人"
    assert "含黑名单" in cell(tab, "RW-2026-02", M.SAMPLE)
    assert cell(tab, "RW-2026-01", M.STATUS) == "可以抽取"
    assert cell(tab, "RW-2026-03", M.SCOPE).endswith("对象条件：粉尘涉爆")
    assert cell(tab, "RW-2026-01", M.ITEMS) == "危险化学品生产经营单位安全生产检查"
    assert cell(tab, "RW-2026-01", M.RATIO).startswith("按风险等级：重大100%")
    assert cell(tab, "RW-2026-01", M.DATES) == "2026-03-01 至 2026-11-30"
    assert "计算" in tab.status.text()


def test_a_task_whose_period_has_ended_asks_for_a_reason_not_says_it_can_be_drawn(
    window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On 2026-12-10 RW-2026-01 (2026-03-01 to 2026-11-30) is past its period: a draw now needs a
    written reason (the draw tab asks for it, the command line wants --outside-period), so the plan
    tab must not say 可以抽取; RW-2026-02 (to 2026-12-15) still can be drawn."""
    monkeypatch.setattr(plan_overview, "today", lambda: date(2026, 12, 10))
    tab = show_plan(window, qtbot)
    tab.reload_tasks()
    qtbot.waitUntil(lambda: tab.model.complete, timeout=10000)
    assert cell(tab, "RW-2026-01", M.STATUS) == "期限已过，抽取须写明原因"  # the dates are beside it
    assert cell(tab, "RW-2026-01", M.STATUS, Qt.ItemDataRole.ForegroundRole) == AMBER
    tip = cell(tab, "RW-2026-01", M.STATUS, Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("期限已过，抽取须写明原因。")  # the whole text of the cell, then the dates
    assert "2026-03-01 至 2026-11-30" in tip and "原因将印在抽取记录上" in tip
    assert cell(tab, "RW-2026-02", M.STATUS) == "可以抽取"
    assert "2026-12-10" in tab.status.text()
    tab.select_code("RW-2026-01")
    assert "期限已过（2026-11-30 截止），抽取须写明原因" in tab.detail.summary.text()
    tab.select_code("RW-2026-02")
    assert "期限" not in tab.detail.summary.text()


def test_task_detail_panel(window: MainWindow, qtbot: Any) -> None:
    tab = show_plan(window, qtbot)
    tab.select_code("RW-2026-02")
    d = tab.detail
    text = d.summary.text()
    with window.db.read() as conn:
        tp = task_pool(conn, get_task(conn, "RW-2026-02"), today())
    for line in tp.rules.describe():
        assert line in text
    assert "需具备执法专长：工贸" in text
    assert "检查人员要求 YJ-002" in text and "“工贸”→ 要求执法专长：工贸" in text  # what was read, as written
    assert f"可抽取 {tp.inspectors_eligible} 人" in text
    assert "专家库 30 人" in text
    assert d.strata.rowCount() == len(tp.pool.strata) + 1  # and a total row
    assert d.strata.rows[-1] == ["合计", f"{len(tp.pool.candidates):,}", f"{tp.pool.sample_size:,}"]
    assert d.mandatory.rowCount() == len(tp.pool.mandatory) > 0
    assert d.tabs.tabText(1) == f"黑名单必查（{len(tp.pool.mandatory)}）"
    assert d.excluded.rowCount() == len(tp.pool.exclusions) > 0
    assert {r[2] for r in d.excluded.rows} <= {"经营状态为注销", "经营状态为吊销"}
    assert d.tabs.tabText(2) == f"排除（{len(tp.pool.exclusions)}）"
    # Partner departments of a joint task.
    tab.select_code("RW-2026-05")
    assert "县市场监督管理局、县消防救援大队（部门联合抽查" in d.summary.text()
    assert tab.draw_requested is not None  # the hook for the draw screen (no button yet)


def test_infeasible_task_is_shown_in_red(window: MainWindow, qtbot: Any) -> None:
    tab = show_plan(window, qtbot)
    with window.db.read() as conn:
        task = get_task(conn, "RW-2026-04")
    dlg = TaskDialog(window.db, task, tab)
    qtbot.addWidget(dlg)
    dlg.editors["team_size"].setValue(20)
    dlg.editors["ratio"].setText("50家")
    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted
    tab.reload_tasks()
    qtbot.waitUntil(lambda: tab.model.complete, timeout=10000)
    status = cell(tab, "RW-2026-04", M.STATUS)
    assert status.startswith("⚠") and "（等 2 项）" in status
    assert cell(tab, "RW-2026-04", M.STATUS, Qt.ItemDataRole.ForegroundRole) == RED
    tip = cell(tab, "RW-2026-04", M.STATUS, Qt.ItemDataRole.ToolTipRole)
    assert "要抽取 50 家" in tip and "少于每组 20 人" in tip
    assert cell(tab, "RW-2026-01", M.STATUS, Qt.ItemDataRole.ForegroundRole) != RED
    assert "1 个任务现在还不能抽取" in tab.status.text()
    tab.select_code("RW-2026-04")
    assert "现在还不能抽取" in tab.detail.summary.text()


def test_rules_dialog_changes_the_pools(
    window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tab = show_plan(window, qtbot)
    before = int(cell(tab, "RW-2026-02", M.CANDIDATES).replace(",", ""))
    excluded = tab.model.pools["RW-2026-02"].exclusions
    mandatory = len(tab.model.pools["RW-2026-02"].mandatory)

    def answer(dlg: RulesDialog) -> int:
        assert not dlg.statuses["存续"].isEnabled()
        dlg.statuses["注销"].setChecked(False)
        dlg.statuses["吊销"].setChecked(False)
        dlg.blacklist.setChecked(False)
        assert "经营状态" not in dlg.preview.text() and "黑名单企业 100%" not in dlg.preview.text()
        dlg.save()
        return int(dlg.result())

    monkeypatch.setattr(RulesDialog, "exec", answer)
    window.findChild(type(window.menuBar().actions()[0]), "rules-action").trigger()
    assert cell(tab, "RW-2026-02", M.CANDIDATES) == COMPUTING
    qtbot.waitUntil(lambda: tab.model.complete, timeout=10000)
    after = int(cell(tab, "RW-2026-02", M.CANDIDATES).replace(",", ""))
    assert after == before + len(excluded) + mandatory
    assert "含黑名单" not in cell(tab, "RW-2026-02", M.SAMPLE)
    rules = window.db.scalar("SELECT value FROM setting WHERE key = 'rules'")
    assert '"excluded_statuses": []' in rules


def test_rules_dialog_refuses_nothing_invalid(window: MainWindow, qtbot: Any) -> None:
    dlg = RulesDialog(window.db, window)
    qtbot.addWidget(dlg)
    dlg.cap.setValue(0)
    assert dlg.cap.text() == "不限" and not dlg.cap_exempt.isEnabled()
    dlg.cycle.setCurrentIndex(dlg.cycle.findText("季度"))
    dlg.once.setChecked(False)
    assert not dlg.scope.isEnabled()
    dlg.save()
    from dsj_desktop.services.plan import read_rules

    r = read_rules(window.db)
    assert (r.cycle, r.once_per_cycle, r.yearly_cap) == ("quarter", False, 0)


def test_task_dialog_checks_with_the_import_rules(window: MainWindow, qtbot: Any) -> None:
    tab = show_plan(window, qtbot)
    db = window.db
    dlg = TaskDialog(db, None, tab, plan=tab.current_plan())
    qtbot.addWidget(dlg)
    assert dlg.editors["plan_name"].isReadOnly()  # an existing plan keeps its name
    dlg.editors["code"].setText("RW-2026-07")
    dlg.editors["name"].setText("停用事项测试")
    dlg.editors["items"].setText("YJ-010、YJ-999")
    dlg.editors["ratio"].setText("百分之五")
    assert dlg.ratio_hint.text().startswith("无法识别的抽查比例")
    dlg.save()
    err = dlg.error.text()
    assert "抽查比例：无法识别的抽查比例" in err
    dlg.editors["ratio"].setText("10%")
    dlg.save()
    err = dlg.error.text()
    assert "已停用" in err and "YJ-999" in err and "清单之外无检查" in err
    assert db.scalar("SELECT count(*) FROM task") == 6
    dlg.editors["items"].setText("YJ-002")
    dlg.editors["draw_type"].setCurrentText("不定向")
    assert not dlg.editors["industries"].isEnabled()
    dlg.editors["code"].setText("RW-2026-01")
    dlg.save()
    assert "已存在" in dlg.error.text()
    dlg.editors["code"].setText("RW-2026-07")
    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted
    assert db.scalar("SELECT draw_type || ratio FROM task WHERE code = 'RW-2026-07'") == "不定向10%"
    assert (
        db.scalar(
            "SELECT count(*) FROM task_item ti JOIN task t ON t.id = ti.task_id WHERE t.code = 'RW-2026-07'"
        )
        == 1
    )


def test_archive_and_restore_a_task(
    window: MainWindow,
    qtbot: Any,
    messages: list[tuple[str, str]],  # noqa: F811
) -> None:
    tab = show_plan(window, qtbot)
    tab.select_code("RW-2026-06")
    tab.archive_selected(True)
    assert messages[0][0] == "question" and "RW-2026-06" in messages[0][1]
    assert tab.model.row_of("RW-2026-06") is None
    assert window.db.scalar("SELECT archived FROM task WHERE code = 'RW-2026-06'") == 1
    tab.show_archived.setChecked(True)
    assert cell(tab, "RW-2026-06", M.STATUS) == "已归档"
    tab.select_code("RW-2026-06")
    assert tab.btn_restore.isEnabled() and not tab.btn_edit.isEnabled()
    tab.archive_selected(False)
    assert window.db.scalar("SELECT archived FROM task WHERE code = 'RW-2026-06'") == 0
    assert window.db.scalar("SELECT count(*) FROM task") == 6


def test_plan_import_wizard_lists_a_bad_row_and_imports_nothing(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    tab = show_plan(window, qtbot)
    path = plan_xlsx(tmp_path / "bad.xlsx", [plan_row("RW-T-01", 抽查事项="YJ-999"), plan_row("RW-T-02")])
    wizard = tab.import_wizard(str(path))
    qtbot.addWidget(wizard)
    wizard.show()
    for _ in range(3):
        wizard.next()
    page = wizard.preview_page
    assert not page.isComplete()
    assert not page.add_codes.isVisible()
    text = page.problems.toPlainText()
    assert "第 2 行 G 列（抽查事项）" in text and "YJ-999" in text
    assert not wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    assert window.db.scalar("SELECT count(*) FROM task") == 6

    good = plan_xlsx(tmp_path / "good.xlsx", [plan_row("RW-T-01"), plan_row("RW-T-02")])
    wizard = tab.import_wizard(str(good))
    qtbot.addWidget(wizard)
    wizard.show()
    for _ in range(3):
        wizard.next()
    assert wizard.preview_page.isComplete()
    assert (
        "新增 2" in wizard.preview_page.summary.text()
        and "新建抽查计划 1 个" in wizard.preview_page.summary.text()
    )
    assert window.db.scalar("SELECT count(*) FROM task") == 6  # the preview wrote nothing
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert window.db.scalar("SELECT count(*) FROM task") == 8
    tab.reload_plans()
    assert tab.plan_combo.count() == 2


def test_publication_and_plan_file_buttons(
    window: MainWindow, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    messages: list[tuple[str, str]],  # noqa: F811
) -> None:  # fmt: skip
    target: list[str] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (target[-1], "PDF 文件 (*.pdf)"))
    target.append(str(tmp_path / "items.pdf"))
    window.items_tab.publish()
    assert (tmp_path / "items.pdf").stat().st_size > 1000
    assert "共 9 项" in messages[-1][1]
    tab = show_plan(window, qtbot)
    target.append(str(tmp_path / "plan"))  # no extension: the chosen filter decides
    tab.publish()
    assert (tmp_path / "plan.pdf").exists()
    assert "共 6 项抽查任务" in messages[-1][1]
    target.append(str(tmp_path / "plan.xlsx"))
    tab.publish()
    assert (tmp_path / "plan.xlsx").exists()
    target.append(str(tmp_path / "export.xlsx"))
    tab.export_file()
    assert "已导出 6 个抽查任务" in messages[-1][1]
    target.append(str(tmp_path / "tpl.xlsx"))
    tab.save_template()
    assert (tmp_path / "tpl.xlsx").exists()


def test_new_task_appears_with_its_pool(window: MainWindow, qtbot: Any) -> None:
    tab = show_plan(window, qtbot)
    dlg = TaskDialog(window.db, None, tab, plan=tab.current_plan())
    qtbot.addWidget(dlg)
    dlg.editors["code"].setText("RW-2026-08")
    dlg.editors["name"].setText("冶金企业抽查")
    dlg.editors["items"].setText("YJ-002")
    dlg.editors["industries"].setText("冶金")
    dlg.editors["ratio"].setText("100%")
    dlg.editors["start_date"].setDate(date(2026, 12, 1))
    dlg.editors["end_date"].setDate(date(2026, 12, 20))
    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted
    tab._after_save(dlg.saved.plan_code, dlg.saved.code)
    assert tab.selected_code() == "RW-2026-08"
    qtbot.waitUntil(lambda: tab.model.complete, timeout=10000)
    n = window.db.scalar(
        "SELECT count(*) FROM target WHERE industry = '冶金' AND archived = 0 AND status NOT IN ('注销', '吊销') "
        "AND blacklist = 0"
    )
    assert cell(tab, "RW-2026-08", M.CANDIDATES) == f"{n:,}"
