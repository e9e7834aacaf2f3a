"""The results tab, its dialogs, the start page's deadline cards and the statistics tab (offscreen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from dsj_desktop.domain import workdays
from dsj_desktop.domain.result_specs import ENTERED, INSPECTED, PUBLISHED, TODO
from dsj_desktop.services import holidays, results
from dsj_desktop.ui.holiday_dialog import HolidayDialog
from dsj_desktop.ui.main_window import MainWindow
from dsj_desktop.ui.result_dialog import HistoryDialog, InspectionDialog, ResultDialog
from dsj_desktop.ui.results_tab import PublishDialog
from dsj_desktop.ui.table_model import ORANGE, RED
from tests.demo_dates import DEMO_DAY
from tests.ui_window import main_window


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
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
def window(qtbot: Any, demo_results_data_dir: Path, qapp: QApplication) -> Any:
    with main_window(qtbot, qapp, demo_results_data_dir) as w:
        yield w


def column(tab: Any, header: str) -> int:
    return next(i for i, c in enumerate(tab.model.columns) if c.header == header)


def rows_where(tab: Any, pred: Any) -> list[int]:
    return [r for r in range(tab.model.rowCount()) if pred(tab.model.values(r)[0])]


def select(tab: Any, rows: list[int]) -> None:
    sel = tab.table.selectionModel()
    sel.clearSelection()
    for r in rows:
        sel.select(tab.model.index(r, 0), sel.SelectionFlag.Select | sel.SelectionFlag.Rows)


def test_the_tab_lists_every_drawn_target_with_status_and_coloured_deadlines(window: MainWindow) -> None:
    tab = window.results_tab
    window.show_results()
    assert window.tabs.currentWidget() is tab
    assert tab.model.rowCount() == 62
    counts = tab.counts_label.text()
    assert "待检查 36" in counts and "已逾期未录入 <span" in counts and "逾期录入 <span" in counts
    deadline_col = column(tab, "期限情况")
    overdue = rows_where(tab, lambda r: r.status == INSPECTED)
    late = [
        r for r in range(tab.model.rowCount()) if tab.model.values(r)[1].state is workdays.DeadlineState.LATE
    ]
    assert len(overdue) == 2 and len(late) == 2
    for r in overdue + late:
        idx = tab.model.index(r, deadline_col)
        assert tab.model.data(idx, Qt.ItemDataRole.ForegroundRole) is RED
    assert "逾期录入" in tab.model.data(tab.model.index(late[0], deadline_col))
    on_time = rows_where(tab, lambda r: r.status == ENTERED and r.version == 1)[0]
    assert tab.model.data(tab.model.index(on_time, deadline_col)) == "按期"
    assert tab.model.data(tab.model.index(on_time, deadline_col), Qt.ItemDataRole.ForegroundRole) is None
    # Filters: overdue (any), status, search.
    tab.deadline_combo.setCurrentIndex(tab.deadline_combo.findData("any_overdue"))
    assert tab.model.rowCount() == 4
    tab.deadline_combo.setCurrentIndex(0)
    tab.status_combo.setCurrentIndex(tab.status_combo.findData(TODO))
    assert tab.model.rowCount() == 36
    tab.status_combo.setCurrentIndex(0)
    tab.task_combo.setCurrentIndex(tab.task_combo.findData("RW-2026-03"))
    assert tab.model.rowCount() == 20 and tab.session_combo.count() == 2
    name = tab.model.values(0)[0].name
    for ch in name:
        tab.search.insert(ch)
    tab.apply_filter()
    assert tab.model.rowCount() == 1
    # The start page counts the same.
    home = window.home
    assert home.deadline_cards["overdue"].value.text() == "2"
    assert home.deadline_cards["late"].value.text() == "2"
    assert "b00020" in home.deadline_cards["overdue"].value.styleSheet()


def test_due_soon_is_orange(window: MainWindow, qtbot: Any) -> None:
    tab = window.results_tab
    r = rows_where(tab, lambda r: r.status == TODO)[0]
    row = tab.model.values(r)[0]
    results.save_result(
        window.db, row.session_id, row.uscc, results.ResultInput(DEMO_DAY)
    )  # today: the window is pinned to it
    holidays.set_deadline_days(window.db, 1)  # due the next working day: at most 2 working days left
    tab.refresh()
    r = rows_where(tab, lambda x: x.key == row.key)[0]
    assert tab.model.values(r)[1].state is workdays.DeadlineState.DUE_SOON
    brush = tab.model.data(tab.model.index(r, column(tab, "录入期限")), Qt.ItemDataRole.ForegroundRole)
    assert brush is ORANGE
    assert "即将到期 <span" in tab.counts_label.text()
    window.home.refresh()
    assert window.home.deadline_cards["due_soon"].value.text() == "1"


def test_batch_entry_of_the_same_outcome(window: MainWindow, qtbot: Any, messages: Any) -> None:
    tab = window.results_tab
    todo = rows_where(tab, lambda r: r.status == TODO and r.task_code == "RW-2026-03")[:3]
    select(tab, todo)
    assert tab.btn_enter.text() == "批量录入结果…" and tab.selection_label.text() == "已选 3 家"
    rows = tab.selected_rows()
    dlg = ResultDialog(window.db, rows, operator="王芳", parent=tab)
    qtbot.addWidget(dlg)
    assert dlg.own_teams.isChecked() and not dlg.inspectors.isEnabled()
    dlg.save()
    assert "请选择检查结果" in dlg.error.text()
    dlg.inspected_on.setDate(dlg.inspected_on.minimumDate().addDays(3))
    dlg.category.setCurrentIndex(dlg.category.findData("发现问题已责令改正"))
    dlg.hazards.setValue(2)
    dlg.disposal.setCurrentIndex(dlg.disposal.findData("责令改正"))
    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted, dlg.error.text()
    assert len(dlg.saved) == 3
    with window.db.read() as conn:
        got = {r.key: r for r in results.load_rows(conn)}
    for r in rows:
        g = got[r.key]
        assert g.category == "发现问题已责令改正" and g.hazards == 2 and g.entered_by == "王芳"
        assert [c for c, _ in g.inspectors] == [c for c, _ in r.team]
        assert g.items and g.items[0].code == "YJ-005"
    tab._after_save({r.key for r in rows})
    assert len(tab.selected_rows()) == 3 and all(r.status == ENTERED for r in tab.selected_rows())
    assert "待检查 33" in tab.counts_label.text()


def test_single_entry_correction_and_history(window: MainWindow, qtbot: Any) -> None:
    tab = window.results_tab
    r = rows_where(tab, lambda r: r.status == ENTERED and r.version == 1)[0]
    select(tab, [r])
    assert tab.btn_enter.text() == "更正结果…"
    row = tab.selected_rows()[0]
    dlg = ResultDialog(window.db, [row], operator="李娜", parent=tab)
    qtbot.addWidget(dlg)
    assert dlg.category.currentData() == row.category and dlg.reason.isVisibleTo(dlg)
    dlg.remarks.setPlainText("复查后补充说明")
    dlg.save()
    assert "须写明更正原因" in dlg.error.text()
    dlg.reason.setText("补充备注")
    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted
    tab.refresh()
    select(tab, rows_where(tab, lambda x: x.key == row.key))
    assert tab.btn_history.isEnabled()
    hist = HistoryDialog(window.db, tab.selected_rows()[0], tab)
    qtbot.addWidget(hist)
    assert hist.model.rowCount() == 2
    assert hist.model.rows[1][2] == "李娜" and hist.model.rows[1][3] == "补充备注"


def test_recording_an_inspection_date(window: MainWindow, qtbot: Any) -> None:
    tab = window.results_tab
    select(tab, rows_where(tab, lambda r: r.status == TODO)[:2])
    assert tab.btn_inspected.isEnabled()
    dlg = InspectionDialog(window.db, tab.selected_rows(), operator="王芳", parent=tab)
    qtbot.addWidget(dlg)
    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted
    tab.refresh()
    assert "已检查待录入 4" in tab.counts_label.text()


def test_holiday_settings_dialog_for_a_year_without_data(
    window: MainWindow, qtbot: Any, messages: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend the package stops at 2025, so 2026 is "a year outside the package's data".
    fewer = frozenset(y for y in workdays.PACKAGE_YEARS if y < 2026)
    monkeypatch.setattr(workdays, "PACKAGE_YEARS", fewer)
    monkeypatch.setattr(holidays, "PACKAGE_YEARS", fewer)
    monkeypatch.setattr("dsj_desktop.ui.holiday_dialog.PACKAGE_YEARS", fewer)
    tab = window.results_tab
    tab.refresh()
    assert tab.banner.isVisibleTo(tab) and "缺少 2026 年节假日安排" in tab.banner_label.text()
    due_col = column(tab, "录入期限")
    entered = rows_where(tab, lambda r: r.inspected_on is not None)[0]
    assert tab.model.data(tab.model.index(entered, due_col)) == "无法计算（缺少 2026 年节假日安排）"
    dlg = HolidayDialog(window.db, tab, select_year=2026)
    qtbot.addWidget(dlg)
    assert dlg.year == 2026 and dlg.off.isEnabled()
    assert dlg.model.data(dlg.model.index(dlg.infos.index(next(i for i in dlg.infos if i.year == 2026)), 0),
                          Qt.ItemDataRole.ForegroundRole) is RED  # fmt: skip
    dlg.off.setPlainText("2026-01-01 至 2026-01-03\n2026-02-15 至 2026-02-23\n2026-04-04 至 2026-04-06")
    dlg.work.setPlainText("2026-01-05")  # a Monday: refused
    assert "周一" in dlg.preview.text()
    dlg.save_year()
    assert messages[-1][0] == "warning"
    dlg.work.setPlainText("2026-02-14、2026-02-28")
    assert "共放假 15 天，调休上班 2 天" in dlg.preview.text()
    dlg.operator.setText("张明")
    dlg.save_year()
    assert messages[-1][0] == "information" and dlg.changed
    row = next(i for i in dlg.infos if i.year == 2026)
    assert row.source == "操作员录入" and row.holidays == 15 and row.entered_by == "张明"
    dlg.days.setValue(5)
    dlg.accept_days()
    with window.db.read() as conn:
        assert holidays.deadline_days(conn) == 5
        assert conn.exec_driver_sql("SELECT count(*) FROM holiday_day WHERE year = 2026").scalar() == 17
    tab.refresh()
    assert not tab.banner.isVisibleTo(tab)
    assert "检查后 5 个工作日" in tab.counts_label.text()
    assert "无法计算" not in tab.model.data(tab.model.index(entered, due_col))


def test_publish_dialog(window: MainWindow, qtbot: Any, messages: Any, tmp_path: Path) -> None:
    tab = window.results_tab
    dlg = PublishDialog(window.db, "RW-2026-03", "周公示", tab)
    qtbot.addWidget(dlg)
    assert dlg.task.currentData() == "RW-2026-03" and dlg.by_task.isChecked()
    out = tmp_path / "公示"
    out.mkdir()
    dlg.folder.setText(str(out))
    dlg.run(mark=True)
    assert dlg.outcome is not None and dlg.outcome.rows == 8
    assert sorted(p.name for p in out.iterdir()) == [
        "检查结果公示-RW-2026-03.pdf",
        "检查结果公示-RW-2026-03.xlsx",
    ]
    tab.refresh()
    assert "已公示 8" in tab.counts_label.text()
    published = rows_where(tab, lambda r: r.status == PUBLISHED)
    assert tab.model.data(tab.model.index(published[0], column(tab, "公示时间")))


def test_statistics_tab_with_charts(window: MainWindow, qtbot: Any, tmp_path: Path, monkeypatch: Any,
                                    messages: Any) -> None:  # fmt: skip
    st = window.stats_tab
    window.tabs.setCurrentWidget(st)
    qtbot.waitUntil(lambda: st.stats is not None)
    assert not st.computing and st.btn_png.isEnabled()
    assert st.cards["plan"].value.text() == "33.3%"
    assert st.cards["inspect"].value.text() == "41.9%"
    assert "b00020" in st.cards["black"].value.styleSheet()  # the blacklist is not covered: red
    assert len(st.chart_widgets) == 6
    img = st.chart_widgets[1].render_image(800)
    assert img.width() == 800 and not img.isNull()
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getExistingDirectory", lambda *a, **k: str(tmp_path))
    st.export_png()
    assert len(list(tmp_path.glob("*.png"))) == 6
    st.export_archive()
    assert (tmp_path / "抽查档案-2026" / "manifest.json").is_file()
    pdf = tmp_path / "统计.pdf"
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName", lambda *a, **k: (str(pdf), ""))
    st.export_pdf()
    assert pdf.stat().st_size > 10_000
    st.views.setCurrentIndex(1)
    assert st.table_tabs.count() == 8 and st.table_models[0].rowCount() == 6
    # Entering a result marks the statistics stale; they follow (in the background, the figures shown
    # meanwhile, the exports waiting for the new ones).
    before = st.stats
    window.hub.announce("results")
    assert st.computing and st.stats is before and "正在统计" in st.status.text()
    assert not st.btn_pdf.isEnabled() and not st.btn_png.isEnabled() and not st.btn_xlsx.isEnabled()
    qtbot.waitUntil(lambda: not st.computing)
    assert st.stats is not None and st.stats is not before and st.btn_pdf.isEnabled()
    assert "正在统计" not in st.status.text()


def test_an_operator_s_name_as_录入人_is_kept_on_this_pc(window: Any, messages: Any) -> None:
    """Operators enter the results but may not change the bureau's settings: the name typed as 录入人
    is remembered as this PC's preference, without a refusal and without touching the settings."""
    from dsj_desktop import actor
    from dsj_desktop.services import accounts, settings

    db = window.db
    pw = "Results-2026"
    accounts.create_account(db, "admin", "王局长", actor.ADMIN, pw, with_recovery=True)
    accounts.login(db, "admin", pw)
    accounts.create_account(db, "op", "李操作", actor.OPERATOR, pw)
    accounts.login(db, "op", pw)
    try:
        before = settings.read_all(db)
        tab = window.results_tab
        tab._remember("李娜")
        assert messages == [] and tab.operator() == "李娜"
        assert settings.read_all(db) == before
    finally:
        actor.set_current(None)


def test_statistics_come_from_the_background_and_only_the_latest(
    window: MainWindow, qtbot: Any, monkeypatch: Any, messages: Any
) -> None:
    """The statistics are computed off the GUI thread: a result asked for before the data changed
    again is dropped, a failure is reported, another year's figures are cleared while its own are
    computed, and closing the window stops the computation."""
    import threading
    from collections.abc import Iterator

    from dsj_desktop.progress import Progress
    from dsj_desktop.services import stats
    from dsj_desktop.ui import stats_tab

    st = window.stats_tab
    real = stats.year_statistics_job
    gate, started = threading.Event(), threading.Event()

    def old_result(db: Any, year: int, on: Any = None) -> Iterator[Progress]:
        started.set()
        gate.wait(30)  # held until the newer request has been answered
        return stats.YearStats(1999, DEMO_DAY)
        yield  # (a job)

    monkeypatch.setattr(stats, "year_statistics_job", old_result)
    window.tabs.setCurrentWidget(st)
    assert st.computing and st.stats is None and "正在统计" in st.status.text()
    assert not st.btn_png.isEnabled() and not st.btn_pdf.isEnabled() and not st.btn_xlsx.isEnabled()
    old_job = st._job
    assert old_job is not None
    qtbot.waitUntil(started.is_set)  # (it will answer, cancelled or not: it is past its last check)
    monkeypatch.setattr(stats, "year_statistics_job", real)
    st.refresh()  # the data changed again
    qtbot.waitUntil(lambda: not st.computing)
    assert st.stats is not None and st.stats.year == 2026 and st.btn_pdf.isEnabled()
    shown = st.stats
    with qtbot.waitSignal(old_job.finished):
        gate.set()
    qtbot.waitUntil(lambda: not old_job.running)
    QApplication.processEvents()  # (the old result delivered to the tab, which drops it)
    assert st.stats is shown and st.cards["plan"].value.text() == "33.3%"

    # A failure is reported, and nothing is left to export.
    failures: list[tuple[str, Any]] = []

    def broken(db: Any, year: int, on: Any = None) -> Iterator[Progress]:
        yield Progress("正在统计……")
        raise RuntimeError("磁盘读取失败")

    monkeypatch.setattr(stats, "year_statistics_job", broken)
    monkeypatch.setattr(stats_tab, "report_failure", lambda parent, title, out: failures.append((title, out)))
    st.refresh()
    qtbot.waitUntil(lambda: bool(failures))
    assert str(failures[0][1].error) == "磁盘读取失败" and "统计失败" in st.status.text()
    assert st.stats is None and not st.btn_png.isEnabled() and st.cards["plan"].value.text() == "—"

    # Another year: the figures of 2026 are not shown under its name while it is computed.
    monkeypatch.setattr(stats, "year_statistics_job", real)
    st.refresh()
    qtbot.waitUntil(lambda: not st.computing and st.stats is not None)
    st.year.addItem("2025 年", 2025)
    st.year.setCurrentIndex(st.year.findData(2025))
    assert st.computing and st.stats is None and st.cards["plan"].value.text() == "—"
    qtbot.waitUntil(lambda: not st.computing)
    assert st.stats is not None and st.stats.year == 2025

    # Closing the window stops the computation (which would otherwise run on).
    def endless(db: Any, year: int, on: Any = None) -> Iterator[Progress]:
        while True:
            gate.clear()
            gate.wait(0.01)
            yield Progress("正在统计……")

    monkeypatch.setattr(stats, "year_statistics_job", endless)
    st.refresh()
    job = st._job
    assert job is not None and job.running
    window.close()
    assert not job.running and job.outcome is not None and job.outcome.cancelled
