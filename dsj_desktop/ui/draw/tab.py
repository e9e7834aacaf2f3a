"""The 抽取 tab: choose a plan and a task, see its pool and the rules applied, start a session or open
an earlier one. A session runs on its own page (:class:`~dsj_desktop.ui.draw.session.SessionScreen`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.clock import today
from dsj_desktop.db.engine import Database
from dsj_desktop.errors import UserError
from dsj_desktop.progress import Job, Progress
from dsj_desktop.services import draw_ready, sessions
from dsj_desktop.services import plan as plan_service
from dsj_desktop.services.draw_preview import PoolPreview, pool_preview
from dsj_desktop.services.plan_overview import period_state
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.draw.controller import DrawController, remember, remembered
from dsj_desktop.ui.draw.session import SessionScreen
from dsj_desktop.ui.kit import make_table
from dsj_desktop.ui.ops import QueryOp
from dsj_desktop.ui.runner import Outcome, report_failure, run_with_progress
from dsj_desktop.ui.table_model import ListTableModel

PLACE_KEY = "draw_last_place"
OPERATOR_KEY = "draw_last_operator"


class DrawTab(QWidget):
    """抽取: the task chooser with its pool, and the page of the session being run."""

    changed = Signal()  # a session changed state (other tabs' counts may change)

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setObjectName("draw-tab")
        self.preview: PoolPreview | None = None
        self._pool_request = 0  # the latest read of the pool asked for (show_pool)
        self.session_screen: SessionScreen | None = None

        self.stack = QStackedWidget()
        self.chooser = QWidget()
        self.stack.addWidget(self.chooser)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)

        # Choice of plan, task and date.
        self.plan_combo = QComboBox()
        self.plan_combo.setObjectName("draw-plan")
        self.task_combo = QComboBox()
        self.task_combo.setObjectName("draw-task")
        for combo in (self.plan_combo, self.task_combo):  # long names shrink (…) at 1024×768, never overlap
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
            combo.currentTextChanged.connect(lambda text, c=combo: c.setToolTip(text))
        self.date_edit = QDateEdit()
        self.date_edit.setObjectName("draw-date")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        d = today()
        self.date_edit.setDate(QDate(d.year, d.month, d.day))
        self.date_edit.setToolTip("抽取日期：执法证有效期、在岗状态、抽查周期和年度上限都按这一天判断")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("抽查计划："))
        bar.addWidget(self.plan_combo, 2)
        bar.addWidget(QLabel("抽查任务："))
        bar.addWidget(self.task_combo, 3)
        bar.addWidget(QLabel("抽取日期："))
        bar.addWidget(self.date_edit)

        # The pool.
        self.summary = QLabel()
        self.summary.setObjectName("pool-summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems = QLabel()
        self.problems.setObjectName("pool-problems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #b00020;")
        self.pool_tabs = QTabWidget()
        self.pool_tabs.setObjectName("pool-tabs")
        self.models: dict[str, ListTableModel] = {}
        self.views: list[QTableView] = []
        for key in ("strata", "exclusions", "mandatory", "inspectors", "experts"):
            model = ListTableModel([])
            self.models[key] = model
            view = make_table(model)
            self.views.append(view)
            view.setObjectName(f"pool-{key}")
            self.pool_tabs.addTab(view, "")
        self.rules_text = QPlainTextEdit()
        self.rules_text.setObjectName("pool-rules")
        self.rules_text.setReadOnly(True)
        self.pool_tabs.addTab(self.rules_text, "适用的规则")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.summary)
        left_layout.addWidget(self.problems)
        left_layout.addWidget(self.pool_tabs, 1)

        # Start a session.
        start_box = QGroupBox("开始新的抽取")
        self.place = QLineEdit(str(remembered(db, PLACE_KEY, "") or ""))
        self.place.setObjectName("draw-place")
        self.place.setPlaceholderText("例如：局三楼会议室")
        self.place.setMaxLength(sessions.MAX_PLACE)
        self.operator = QLineEdit(str(remembered(db, OPERATOR_KEY, "") or ""))
        self.operator.setObjectName("draw-operator")
        self.operator.setPlaceholderText("操作人员姓名")
        self.operator.setMaxLength(sessions.MAX_OPERATOR)
        self.btn_start = QPushButton("开始抽取（生成抽取前公告）")
        self.btn_start.setObjectName("start-button")
        self.btn_start.setStyleSheet("QPushButton { font-weight: bold; padding: 6px 14px; }")
        self.btn_start.clicked.connect(self.start_session)
        self.start_note = QLabel()
        self.start_note.setWordWrap(True)
        self.start_note.setStyleSheet("color: #57606a;")
        form = QFormLayout(start_box)
        form.addRow("抽取地点：", self.place)
        form.addRow("操作人员：", self.operator)
        form.addRow(self.btn_start)
        form.addRow(self.start_note)

        # Earlier sessions.
        sessions_box = QGroupBox("本任务的抽取场次")
        self.sessions_model = ListTableModel(["场次编号"])
        self.sessions_view = make_table(self.sessions_model)
        self.sessions_view.setObjectName("sessions-table")
        self.sessions_view.doubleClicked.connect(lambda _=None: self.open_selected())
        self.btn_open = QPushButton("打开场次页面")
        self.btn_open.setObjectName("open-session")
        self.btn_open.clicked.connect(self.open_selected)
        self.btn_papers = QPushButton("打印检查文书…")
        self.btn_papers.setObjectName("history-papers")
        self.btn_papers.setToolTip("为选中的已确认场次的每个检查对象生成检查通知书和实地检查记录表")
        self.btn_papers.clicked.connect(self.print_papers)
        sl = QVBoxLayout(sessions_box)
        sl.addWidget(self.sessions_view, 1)
        sl.addWidget(self.btn_open)
        sl.addWidget(self.btn_papers)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(start_box)
        right_layout.addWidget(sessions_box, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self.chooser)
        layout.addLayout(bar)
        layout.addWidget(split, 1)

        self.plan_combo.currentIndexChanged.connect(lambda _: self._fill_tasks())
        self.task_combo.currentIndexChanged.connect(lambda _: self.show_pool())
        self.date_edit.dateChanged.connect(lambda _: self.show_pool())
        self.refresh()

    # -- data ------------------------------------------------------------------------------

    @property
    def on(self) -> date:
        d = self.date_edit.date()
        return date(d.year(), d.month(), d.day())

    def on_data_changed(self, kinds: data_hub.Kinds, source: object) -> None:
        """Tasks, pools and sessions: reloaded now when the task chooser is in view, else when shown
        (an open session screen is never disturbed)."""
        if source is self or kinds == {data_hub.JOURNAL}:
            return
        if self.isVisible() and self.stack.currentWidget() is self.chooser:
            self.refresh()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if getattr(self, "_stale", False) and self.stack.currentWidget() is self.chooser:
            self._stale = False
            self.refresh()

    def refresh(self) -> None:
        """Reload plans and tasks (after an import), keeping the current choice."""
        keep = self.task_combo.currentData()
        with self.db.read() as conn:
            self.tasks = plan_service.list_tasks(conn)
        plans: dict[str, str] = {}
        for t in self.tasks:
            plans.setdefault(t.plan_code, f"{t.plan_year} {t.plan_name}（{t.plan_code}）")
        self.plan_combo.blockSignals(True)
        current_plan = self.plan_combo.currentData()
        self.plan_combo.clear()
        for code, title in plans.items():
            self.plan_combo.addItem(title, code)
        i = self.plan_combo.findData(current_plan)
        self.plan_combo.setCurrentIndex(max(0, i))
        self.plan_combo.blockSignals(False)
        self._fill_tasks(keep)

    def _fill_tasks(self, keep: str | None = None) -> None:
        plan = self.plan_combo.currentData()
        self.task_combo.blockSignals(True)
        self.task_combo.clear()
        for t in self.tasks:
            if t.plan_code == plan:
                self.task_combo.addItem(f"{t.code} {t.name}（{t.draw_type}，{t.ratio.text()}）", t.code)
        i = self.task_combo.findData(keep) if keep else -1
        self.task_combo.setCurrentIndex(max(0, i) if self.task_combo.count() else -1)
        self.task_combo.blockSignals(False)
        self.show_pool()

    def show_pool(self) -> None:
        """Show the chosen task's pool as of the chosen date: read off the GUI thread (a QueryOp: the
        window stays painted, a progress dialog appears if it takes long); only the latest request
        is shown, should another choice come while a read is under way."""
        code = self.task_combo.currentData()
        self._pool_request += 1
        request = self._pool_request
        self.preview = None
        if not code:
            self.summary.setText("没有抽查任务。请先在“抽查计划”中导入年度抽查计划。")
            self.problems.clear()
            for m in self.models.values():
                m.set_rows([], [])
            self.sessions_model.set_rows(["场次编号"], [])
            self.btn_start.setEnabled(False)
            return
        db, on = self.db, self.on

        def read() -> tuple[PoolPreview, list[str]]:  # on a worker thread: no widget here
            with db.read() as conn:
                pv = pool_preview(conn, code, on)
            # Everything that would stop the draw or its signed record, before anything starts.
            return pv, draw_ready.signing_problems(db)

        def shown(value: tuple[PoolPreview, list[str]]) -> None:
            if request == self._pool_request:  # else a later choice has been (or is being) shown
                self._show_preview(*value)

        def failed(out: Outcome) -> None:
            if request != self._pool_request:
                return
            if isinstance(out.error, UserError):
                self.summary.setText(str(out.error))
                self.btn_start.setEnabled(False)
            else:
                report_failure(self, "读取抽取名单", out)

        QueryOp(self, "读取抽取名单", read).success(shown).failure(failed).run()

    def _show_preview(self, pv: PoolPreview, signing: list[str]) -> None:
        self.preview = pv
        t, tp, pool = pv.task, pv.pool, pv.pool.pool
        items = "、".join(f"{it.code} {it.name}" for it in tp.items)
        period = period_state(t, self.on)  # outside the task's period: the start asks for a reason
        self.summary.setText(
            f"<b>{t.code} {t.name}</b>　{t.draw_type}抽查，比例 {t.ratio.text()}，每组 {t.team_size} 人"
            + (f"，专家 {t.expert_count} 人" if t.expert_count else "")
            + f"<br>抽查事项：{items or '—'}"
            + f"<br>候选 <b>{len(pool.candidates)}</b> 家（{len(pool.strata)} 层），本次抽取 <b>{pool.sample_size}</b> 家；"
            f"必查 {len(pool.mandatory)} 家；排除 {len(pool.exclusions)} 家；"
            f"可抽取执法检查人员 {len(pv.inspectors)} 人"
            + (f"，专家 {len(pv.experts)} 人" if t.expert_count else "")
            + (f"<br><span style='color:#8a5a00'>{period}</span>" if period else "")
        )
        problems = [*tp.problems, *signing]
        self.problems.setText("\n".join(f"· {p}" for p in problems))
        self.problems.setVisible(bool(problems))
        self.models["strata"].set_rows(
            ["分层", "候选数（家）", "抽取数（家）"],
            [[s or "全部（不分层）", n, pool.quotas.get(s, 0)] for s, n in pool.strata.items()]
            + [["合计", len(pool.candidates), pool.sample_size]],
        )
        self.models["exclusions"].set_rows(
            ["名称", "统一社会信用代码", "排除原因"], [[e.name, e.uscc, e.reason] for e in pool.exclusions]
        )
        self.models["mandatory"].set_rows(
            ["名称", "统一社会信用代码", "所属区域", "原因"],
            [[m.name, m.uscc, m.region, "黑名单（100% 检查）"] for m in pool.mandatory],
        )
        self.models["inspectors"].set_rows(["执法证号", "姓名", "所属科室"], [list(i) for i in pv.inspectors])
        self.models["experts"].set_rows(["编号", "姓名", "工作单位"], [list(e) for e in pv.experts])
        for i, title in enumerate((
            f"分层与配额（{len(pool.strata)}）", f"排除对象（{len(pool.exclusions)}）",
            f"必查对象·黑名单（{len(pool.mandatory)}）", f"可抽取执法人员（{len(pv.inspectors)}）",
            f"专家（{len(pv.experts)}）",
        )):  # fmt: skip
            self.pool_tabs.setTabText(i, title)
        self.pool_tabs.setTabVisible(4, bool(t.expert_count))
        self.rules_text.setPlainText("\n".join(f"· {line}" for line in pv.rules_text()))
        self.sessions_model.set_rows(
            ["场次编号", "抽取日期", "状态", "抽中", "作废原因"],
            [
                [s.id, s.draw_date.isoformat(), s.status_title, len(s.result), s.void_reason]
                for s in pv.sessions
            ],
        )
        for view in [*self.views, self.sessions_view]:
            view.resizeColumnsToContents()
        self.btn_open.setEnabled(bool(pv.sessions))
        self.btn_papers.setEnabled(any(s.status == sessions.CONFIRMED for s in pv.sessions))
        self.btn_start.setEnabled(pv.can_start and not problems)
        if pv.open_sessions:
            self.start_note.setText(
                f"本任务有进行中的场次 {pv.open_sessions[-1].id}：请在下方打开它继续，或作废后重新开始。"
            )
        elif problems:
            self.start_note.setText("上述问题解决后才能抽取。")
        elif done := [s.id for s in pv.sessions if s.status == sessions.CONFIRMED]:
            self.start_note.setText(
                f"本任务已于场次 {'、'.join(done)} 确认抽取结果。再次抽取须写明原因，原因和此前的场次将写入新的抽取记录。"
            )
        else:
            self.start_note.setText(
                "开始后，程序冻结候选名单、执法人员名单和抽取参数，生成随机数 N 并公布其摘要（承诺值 C）。"
            )

    # -- navigation ------------------------------------------------------------------------

    def select_task(self, task_code: str) -> bool:
        task = next((t for t in self.tasks if t.code == task_code), None)
        if task is None:
            self.refresh()
            task = next((t for t in self.tasks if t.code == task_code), None)
        if task is None:
            return False
        self.plan_combo.setCurrentIndex(self.plan_combo.findData(task.plan_code))
        self.task_combo.setCurrentIndex(self.task_combo.findData(task_code))
        return True

    def start_for_task(self, task_code: str) -> bool:
        """Show this tab with *task_code* chosen, ready to start a session (for the plan tab)."""
        found = self.select_task(task_code)
        self.show_chooser()
        parent = self.parentWidget()
        while parent is not None and not isinstance(parent, QTabWidget):
            parent = parent.parentWidget()
        if isinstance(parent, QTabWidget):
            parent.setCurrentWidget(self)
        if found:
            self.place.setFocus()
        return found

    def show_chooser(self) -> None:
        if self.session_screen is not None:
            self.session_screen.close_projector()  # the public screen never shows a page left behind
        self.stack.setCurrentWidget(self.chooser)
        if getattr(self, "_stale", False):  # data changed while a session was on screen
            self._stale = False
            self.refresh()
        else:
            self.show_pool()

    def selected_session(self) -> str | None:
        idx = self.sessions_view.currentIndex()
        rows = self.sessions_model.rows
        if idx.isValid():
            return str(rows[idx.row()][0])
        return str(rows[-1][0]) if rows else None

    def open_selected(self) -> None:
        sid = self.selected_session()
        if sid:
            self.open_session(sid)

    def print_papers(self) -> None:
        """The papers of the selected session (or the latest confirmed one when none is selected)."""
        from dsj_desktop.ui.papers_dialog import print_papers

        rows = self.sessions_model.rows
        sid = self.selected_session() if self.sessions_view.currentIndex().isValid() else None
        if sid is None:
            confirmed = [r[0] for r in rows if r[2] == sessions.STATUS_TITLES[sessions.CONFIRMED]]
            sid = str(confirmed[-1]) if confirmed else None
        if sid:
            print_papers(self, self.db, sid)

    def open_session(self, session_id: str) -> SessionScreen:
        self.close_session()
        screen = SessionScreen(self.db, session_id, self)
        screen.back.connect(self.show_chooser)
        screen.session_changed.connect(lambda _: self.changed.emit())
        self.session_screen = screen
        self.stack.addWidget(screen)
        self.stack.setCurrentWidget(screen)
        return screen

    def close_session(self) -> None:
        if self.session_screen is not None:
            self.session_screen.shutdown()
            self.stack.removeWidget(self.session_screen)
            self.session_screen.deleteLater()
            self.session_screen = None

    @property
    def controller(self) -> DrawController | None:
        return self.session_screen.controller if self.session_screen else None

    def start_session(self) -> SessionScreen | None:
        code = self.task_combo.currentData()
        if not code:
            return None
        place, operator = self.place.text().strip(), self.operator.text().strip()
        if not operator:
            QMessageBox.warning(self, "开始抽取", "请填写操作人员姓名（将写入抽取记录）。")
            self.operator.setFocus()
            return None
        again = ""
        done = [s.id for s in self.preview.sessions if s.status == sessions.CONFIRMED] if self.preview else []
        if done:  # a second draw of a drawn task: only with a reason, printed in the new record
            again, ok = QInputDialog.getText(
                self, "再次抽取", f"本任务已有确认的抽取场次 {'、'.join(done)}。\n"
                "再次抽取须写明原因（原因和此前的场次将写入新的抽取记录）：",
            )  # fmt: skip
            if not ok:
                return None
            if not again.strip():
                QMessageBox.warning(self, "再次抽取", "再次抽取必须写明原因。")
                return None
        args = {"on": self.on, "place": place, "operator": operator, "again": again}
        if self.preview is not None:  # the pool on the screen, frozen as it is if the data are unchanged
            args["plan"] = self.preview.plan
        out = run_with_progress(self, "开始抽取", start_job(self.db, code, **args), cancellable=False)
        if isinstance(out.error, sessions.OutsidePeriod):
            reason, ok = QInputDialog.getText(self, "期限外抽取", f"{out.error}\n\n原因：")
            if not ok or not reason.strip():
                return None
            args["outside_period_reason"] = reason
            out = run_with_progress(self, "开始抽取", start_job(self.db, code, **args), cancellable=False)
        if not out.ok:
            if isinstance(out.error, UserError):
                QMessageBox.warning(self, "开始抽取", str(out.error))
                self.show_pool()
                return None
            assert out.error is not None
            raise out.error
        s: sessions.Session = out.value
        self.changed.emit()
        return self.open_session(s.id)


def start_job(db: Database, task_code: str, **prepare_args: Any) -> Job[sessions.Session]:
    """A new session of *task_code*: its inputs frozen (seconds for 100,000 candidates), then its
    commitment published. Run on a worker thread."""
    yield Progress("正在冻结候选名单、执法人员名单和抽取参数……")
    remember(db, PLACE_KEY, prepare_args.get("place", ""))  # offered again next time, on this PC
    remember(db, OPERATOR_KEY, prepare_args.get("operator", ""))
    s = sessions.prepare(db, task_code, **prepare_args)
    yield Progress("正在生成随机数 N 并公布承诺值 C……")
    return sessions.commit(db, s.id, operator=prepare_args.get("operator", ""))
