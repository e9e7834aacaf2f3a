"""The annual plan (年度计划): a plan selector, its tasks with their live pool sizes (computed in the
background, one task at a time), the selected task's details, and the plan's files."""

from __future__ import annotations

import html
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.db.engine import Database
from dsj_desktop.domain.plan_specs import PLAN_ROWS
from dsj_desktop.io.exporter import write_template
from dsj_desktop.publish.jobs import publish_plan
from dsj_desktop.services import settings
from dsj_desktop.services.codes import all_code_lists
from dsj_desktop.services.plan import TaskInfo, archive_task, export_plan, import_plan
from dsj_desktop.services.plan_overview import (
    PERIOD_REASON,
    PlanInfo,
    PoolReady,
    PoolSummary,
    TaskRow,
    period_word,
    pool_summaries,
    read_plans,
    read_task_rows,
)
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.kit import save_template
from dsj_desktop.ui.ops import WriteOp
from dsj_desktop.ui.publish_actions import export_publication
from dsj_desktop.ui.runner import BackgroundJob, Outcome, report_failure, run_with_progress
from dsj_desktop.ui.table_model import GREY, RED, ListTableModel

Index = QModelIndex | QPersistentModelIndex
COMPUTING = "计算中…"
GREEN = QBrush(QColor("#1b5e20"))
AMBER = QBrush(QColor("#8a5a00"))
ALL_PLANS = None


def _num(n: int) -> str:
    return f"{n:,}"


class TaskTableModel(QAbstractTableModel):
    """The tasks of the chosen plan; pool columns show “计算中…” until their summary arrives."""

    # The pool columns come first after the name: they are what the user checks before a draw.
    HEADERS = ("任务编号", "任务名称", "状态", "候选数", "应抽数", "可抽执法人员", "抽查类型", "抽查比例", "每组人数",
               "抽查事项", "范围", "起止日期")  # fmt: skip
    CODE, NAME, STATUS, CANDIDATES, SAMPLE, INSPECTORS, TYPE, RATIO, TEAM, ITEMS, SCOPE, DATES = range(12)
    POOL_COLUMNS = (STATUS, CANDIDATES, SAMPLE, INSPECTORS)
    NUMBERS = (CANDIDATES, SAMPLE, INSPECTORS, TEAM)
    WIDTHS = (92, 176, 180, 64, 124, 90, 66, 120, 100, 170, 190, 170)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[TaskRow] = []
        self.pools: dict[str, PoolSummary] = {}

    def set_rows(self, rows: list[TaskRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.pools = {}
        self.endResetModel()

    def clear_pools(self) -> None:
        self.pools = {}
        self._pool_columns_changed()

    def set_pool(self, summary: PoolSummary) -> None:
        self.pools[summary.task_code] = summary
        row = self.row_of(summary.task_code)
        if row is not None:
            for c in self.POOL_COLUMNS:
                self.dataChanged.emit(self.index(row, c), self.index(row, c))

    def _pool_columns_changed(self) -> None:
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, self.columnCount() - 1))

    def row_of(self, code: str) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r.task.code == code), None)

    def pool(self, row: int) -> PoolSummary | None:
        return self.pools.get(self.rows[row].task.code)

    @property
    def complete(self) -> bool:
        return all(r.task.code in self.pools for r in self.rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section] if orientation == Qt.Orientation.Horizontal else str(section + 1)
        if role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Horizontal:
            return {
                self.CANDIDATES: "符合范围、未被排除、参加随机抽取的检查对象数（按当前名录和抽查规则实时计算）",
                self.SAMPLE: "按抽查比例应抽取的家数；黑名单企业按规则 100% 检查，另计在内",
                self.INSPECTORS: "执法证有效、在岗、具备所需执法专长的执法人员数",
                self.STATUS: "能否按现在的名录、人员和规则抽取；有问题时显示原因",
            }.get(section)
        return None

    def text(self, row: int, col: int) -> str:
        r = self.rows[row]
        t = r.task
        p = self.pools.get(t.code)
        if col == self.CODE:
            return t.code
        if col == self.NAME:
            return t.name
        if col == self.TYPE:
            return t.draw_type + ("·联合" if t.partners else "")
        if col == self.ITEMS:
            return "、".join(r.item_names)
        if col == self.SCOPE:
            return r.scope
        if col == self.RATIO:
            return r.ratio
        if col == self.TEAM:
            return f"{t.team_size} 人" + (f" + 专家 {t.expert_count}" if t.expert_count else "")
        if col == self.DATES:
            return f"{t.start_date.isoformat()} 至 {t.end_date.isoformat()}"
        if p is None:
            return "已归档" if t.archived and col == self.STATUS else COMPUTING
        if col == self.CANDIDATES:
            return _num(p.candidates)
        if col == self.SAMPLE:
            return _num(p.to_inspect) + (f"（含黑名单{len(p.mandatory)}）" if p.mandatory else "")
        if col == self.INSPECTORS:
            return f"{p.inspectors_eligible} 人"
        if col == self.STATUS:
            if t.archived:
                return "已归档"
            if p.problems:
                more = f"（等 {len(p.problems)} 项）" if len(p.problems) > 1 else ""
                return f"⚠ {p.problems[0]}{more}"
            if p.drawn:
                return f"已抽取（场次 {'、'.join(p.drawn)} 已确认）；再次抽取须写明原因"
            if p.period:  # short, the column is narrow: the dates are in 检查期限, the tooltip and below
                return f"{period_word(t, p.on)}，{PERIOD_REASON}"
            return "可以抽取"
        return ""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        r = self.rows[row]
        p = self.pools.get(r.task.code)
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if r.task.archived:
                return GREY
            if col in self.POOL_COLUMNS and p is None:
                return GREY
            if col == self.STATUS and p is not None:
                return RED if p.problems else GREY if p.drawn else AMBER if p.period else GREEN
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and col in self.NUMBERS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            t = r.task
            if col == self.ITEMS:
                return "\n".join(f"{c}　{n}" for c, n in zip(t.item_codes, r.item_names, strict=True))
            if col == self.SCOPE:
                return r.scope + (f"\n{t.scope_note}" if t.scope_note else "")
            if col == self.CANDIDATES and p is not None:
                return f"范围内 {_num(p.in_scope)} 家，排除 {_num(len(p.exclusions))} 家，黑名单必查 {len(p.mandatory)} 家"
            if col == self.INSPECTORS and p is not None:
                need = "、".join(p.inspector_req) or "不限"
                return f"执法人员共 {p.inspectors_total} 人，可抽取 {p.inspectors_eligible} 人（执法专长：{need}）"
            if col == self.STATUS and p is not None and p.problems:
                return "\n".join(p.problems)
            if col == self.STATUS and p is not None and p.period and not p.drawn:
                return _period_tip(t, self.text(row, col))
            if col in (self.NAME, self.RATIO, self.SAMPLE, self.STATUS):  # the whole text where it is cut
                return self.text(row, col)
        if role == Qt.ItemDataRole.UserRole:
            return r.task.code
        return None


def _period_tip(t: TaskInfo, headline: str) -> str:
    return (
        f"{headline}。\n检查期限 {t.start_date.isoformat()} 至 {t.end_date.isoformat()}；"
        "确需在期限外抽取的，开始抽取时写明原因，原因将印在抽取记录上。"
    )


def _small_table(name: str, headers: list[str], stretch: bool = True) -> tuple[QTableView, ListTableModel]:
    model = ListTableModel(headers)
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setDefaultSectionSize(22)
    view.horizontalHeader().setStretchLastSection(stretch)
    return view, model


class TaskDetail(QWidget):
    """The selected task: rules, strata and quotas, 黑名单 units, exclusions, people, partners."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("task-detail")
        self.summary = QLabel()
        self.summary.setObjectName("detail-summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.summary)
        scroll.setMinimumWidth(360)
        self.strata_view, self.strata = _small_table(
            "strata-table", ["分层", "候选数", "应抽数"], stretch=False
        )
        self.mandatory_view, self.mandatory = _small_table(
            "mandatory-table", ["企业名称", "统一社会信用代码"]
        )
        self.excluded_view, self.excluded = _small_table(
            "excluded-table", ["企业名称", "统一社会信用代码", "排除原因"]
        )
        self.tabs = QTabWidget()
        self.tabs.setObjectName("detail-tabs")
        self.tabs.addTab(self.strata_view, "分层与应抽数")
        self.tabs.addTab(self.mandatory_view, "黑名单必查")
        self.tabs.addTab(self.excluded_view, "排除")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        split = QSplitter()
        split.addWidget(scroll)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([600, 400])
        split.setChildrenCollapsible(False)
        lay.addWidget(split)
        self.show_task(None, None)

    def show_task(self, row: TaskRow | None, pool: PoolSummary | None) -> None:
        if row is None:
            self.summary.setText(
                "<p style='color:#57606a'>选中上面的一个任务，这里显示它的抽取规则、候选名单和人员情况。</p>"
            )
            self._fill(None)
            return
        t = row.task
        e = html.escape
        parts = [f"<p><b>{e(t.code)}　{e(t.name)}</b></p>"]
        if t.archived:
            parts.append("<p style='color:#8a8a8a'>此任务已归档，不参加抽取，也不公示。</p>")
        facts = [
            ("抽查事项", "、".join(f"{c} {n}" for c, n in zip(t.item_codes, row.item_names, strict=True))),
            ("抽查类型", t.draw_type),
            ("范围", row.scope),
            ("抽查比例", row.ratio),
            (
                "每组人数",
                f"执法人员 {t.team_size} 人" + (f"，专家 {t.expert_count} 人" if t.expert_count else ""),
            ),
            ("发起部门", t.department or "—"),
        ]
        if t.partners:
            facts.append(("联合部门", "、".join(t.partners) + "（部门联合抽查，各部门分别选派人员）"))
        if t.scope_note:
            facts.append(("对象范围说明", t.scope_note))
        if pool is None:
            facts.append(("候选名单", COMPUTING))
        else:
            facts += [
                ("候选名单", f"范围内 {_num(pool.in_scope)} 家，排除 {_num(len(pool.exclusions))} 家，"
                             f"参加随机抽取 {_num(pool.candidates)} 家"),
                ("应抽数", f"随机抽取 {_num(pool.sample)} 家" + (f" + 黑名单必查 {len(pool.mandatory)} 家"
                                                               f"，共 {_num(pool.to_inspect)} 家" if pool.mandatory else "")),
                ("执法人员", f"可抽取 {pool.inspectors_eligible} 人（共 {pool.inspectors_total} 人；"
                             f"需具备执法专长：{'、'.join(pool.inspector_req) or '不限'}）"),
                ("专家", f"专家库 {pool.experts} 人" + (f"，每组抽 {pool.expert_count} 人" if pool.expert_count else "，本任务不抽专家")),
            ]  # fmt: skip
            facts += [(f"检查人员要求 {code}", reading) for code, reading in pool.staffing]
        parts.append("<table cellspacing='0' cellpadding='2'>")
        for k, v in facts:
            parts.append(
                f"<tr><td style='color:#57606a; white-space:nowrap'>{e(k)}：</td><td>{e(v)}</td></tr>"
            )
        parts.append("</table>")
        if pool is not None:
            if pool.period and not pool.drawn:
                tip = e(_period_tip(t, pool.period)).replace("\n", "<br>")
                parts.append(f"<p style='color:#8a5a00'>{tip}</p>")
            if pool.problems:
                items = "".join(f"<li>{e(p)}</li>" for p in pool.problems)
                parts.append(
                    f"<p style='color:#b00020'><b>现在还不能抽取：</b></p><ul style='color:#b00020'>{items}</ul>"
                )
            if pool.notes:
                notes = "".join(f"<li>{e(n)}</li>" for n in pool.notes)
                parts.append(
                    f"<p style='color:#8a5a00'><b>提示：</b></p><ul style='color:#8a5a00'>{notes}</ul>"
                )
            rules = "".join(f"<li>{e(x)}</li>" for x in pool.rules)
            parts.append(
                f"<p style='color:#57606a'>适用的抽查规则（{pool.on.isoformat()}）：</p><ul>{rules}</ul>"
            )
        self.summary.setText("".join(parts))
        self._fill(pool)

    def _fill(self, pool: PoolSummary | None) -> None:
        strata = [[s.label, _num(s.size), _num(s.quota)] for s in pool.strata] if pool else []
        if pool and len(pool.strata) > 1:
            strata.append(["合计", _num(pool.candidates), _num(pool.sample)])
        self.strata.set_rows(["分层", "候选数", "应抽数"], strata)
        self.mandatory.set_rows(
            ["企业名称", "统一社会信用代码"], [list(m)[::-1] for m in pool.mandatory] if pool else []
        )
        self.excluded.set_rows(
            ["企业名称", "统一社会信用代码", "排除原因"],
            [[x.name, x.uscc, x.reason] for x in pool.exclusions] if pool else [],
        )
        n_m = len(pool.mandatory) if pool else 0
        n_x = len(pool.exclusions) if pool else 0
        self.tabs.setTabText(1, f"黑名单必查（{n_m}）")
        self.tabs.setTabText(2, f"排除（{n_x}）")
        for view in (self.strata_view, self.mandatory_view, self.excluded_view):
            view.resizeColumnsToContents()


class PlanTab(QWidget):
    # The draw screen (a later part) connects here: the user asked to draw this task.
    draw_requested = Signal(str)

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setObjectName("tab-plan")
        self._job: BackgroundJob | None = None
        self._generation = 0
        self._stale = True

        self.plan_combo = QComboBox()
        self.plan_combo.setObjectName("plan-combo")
        self.plan_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.plan_combo.setMinimumContentsLength(24)
        self.show_archived = QCheckBox("显示已归档任务")
        self.show_archived.setObjectName("show-archived-tasks")
        self.btn_rules = QPushButton("抽查规则设置…")
        self.btn_rules.setObjectName("rules-button")
        top = QHBoxLayout()
        top.addWidget(QLabel("抽查计划："))
        top.addWidget(self.plan_combo, 1)
        top.addWidget(self.show_archived)
        top.addStretch(0)
        top.addWidget(self.btn_rules)
        self.plan_info = QLabel()
        self.plan_info.setObjectName("plan-info")
        self.plan_info.setStyleSheet("color: #57606a;")
        self.plan_info.setWordWrap(True)

        self.model = TaskTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("task-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().setStretchLastSection(True)
        for i, w in enumerate(TaskTableModel.WIDTHS):
            self.table.horizontalHeader().resizeSection(i, w)
        self.table.doubleClicked.connect(lambda _=None: self.edit_task())

        self.detail = TaskDetail()
        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("plan-split")
        split.addWidget(self.table)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([280, 420])
        split.setChildrenCollapsible(False)

        self.btn_add = QPushButton("新增任务")
        self.btn_edit = QPushButton("编辑任务")
        self.btn_archive = QPushButton("归档任务")
        self.btn_archive.setToolTip("归档的任务不再参加抽取，也不公示；任务记录永远不会被删除，可随时恢复")
        self.btn_restore = QPushButton("恢复任务")
        self.btn_draw = QPushButton("抽取…")
        self.btn_draw.setObjectName("draw-task")
        self.btn_draw.setToolTip("到“抽取”页为选中的任务开始一次公开抽取")
        self.btn_import = QPushButton("导入计划…")
        self.btn_export = QPushButton("导出计划…")
        self.btn_template = QPushButton("下载模板…")
        self.btn_publish = QPushButton("导出公示…")
        self.btn_publish.setObjectName("publish-plan")
        self.btn_publish.setToolTip("生成对外公示的年度抽查计划（Excel 或 PDF），不含已归档的任务")
        self.status = QLabel()
        self.status.setObjectName("pool-status")
        buttons = QHBoxLayout()
        for b in (self.btn_add, self.btn_edit, self.btn_archive, self.btn_restore, self.btn_draw):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.status)
        buttons.addStretch(1)
        for b in (self.btn_import, self.btn_export, self.btn_template, self.btn_publish):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.plan_info)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)

        self.plan_combo.currentIndexChanged.connect(lambda _: self.reload_tasks())
        self.show_archived.toggled.connect(lambda _: self.reload_tasks())
        self.btn_rules.clicked.connect(self.edit_rules)
        self.btn_add.clicked.connect(self.add_task)
        self.btn_edit.clicked.connect(self.edit_task)
        self.btn_archive.clicked.connect(lambda: self.archive_selected(True))
        self.btn_restore.clicked.connect(lambda: self.archive_selected(False))
        self.btn_import.clicked.connect(self.import_file)
        self.btn_export.clicked.connect(self.export_file)
        self.btn_template.clicked.connect(self.save_template)
        self.btn_publish.clicked.connect(self.publish)
        self.btn_draw.clicked.connect(self._draw_selected)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.on_selection())
        self.reload_plans()

    # --- plans and tasks --------------------------------------------------------------------

    def current_plan(self) -> PlanInfo | None:
        data = self.plan_combo.currentData()
        return data if isinstance(data, PlanInfo) else None

    def reload_plans(self) -> None:
        current = self.current_plan()
        plans = read_plans(self.db, include_archived=self.show_archived.isChecked())
        self.plan_combo.blockSignals(True)
        self.plan_combo.clear()
        for p in plans:
            self.plan_combo.addItem(p.label() + ("（已归档）" if p.archived else ""), p)
        if not plans:
            self.plan_combo.addItem("（还没有抽查计划：请导入计划，或新增任务）", ALL_PLANS)
        pos = next((i for i, p in enumerate(plans) if current is not None and p.code == current.code), 0)
        self.plan_combo.setCurrentIndex(pos)
        self.plan_combo.blockSignals(False)
        self.reload_tasks()

    def reload_tasks(self) -> None:
        plan = self.current_plan()
        selected = self.selected_code()
        if plan is None:
            rows: list[TaskRow] = []
            self.plan_info.setText("")
        else:
            rows = read_task_rows(self.db, plan_id=plan.id, include_archived=self.show_archived.isChecked())
            self.plan_info.setText(
                f"计划编号 {plan.code}　{plan.year} 年度　发起部门：{plan.department or '—'}　"
                f"任务 {plan.tasks} 个" + ("　（此计划已归档）" if plan.archived else "")
            )
        self.model.set_rows(rows)
        if selected is not None:
            self.select_code(selected)
        self.on_selection()
        self.refresh_pools()

    def refresh(self) -> None:
        """After data changed anywhere: plans, tasks, then pools (when the tab is seen)."""
        self.reload_plans()

    def on_data_changed(self, kinds: data_hub.Kinds, source: object) -> None:
        """Pools depend on the directories, the items, the plan, the confirmed draws and the rules."""
        watched = (*data_hub.DIRECTORIES, data_hub.ITEMS, data_hub.PLAN, data_hub.DRAW, data_hub.SETTINGS,
                   data_hub.CODES)  # fmt: skip
        if source is not self and data_hub.touches(kinds, *watched):
            self.mark_stale()

    def mark_stale(self) -> None:
        """The directories or items changed: recompute the pools now if visible, else when shown."""
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    # --- pools ------------------------------------------------------------------------------

    def refresh_pools(self) -> None:
        """Recompute every pool in the background; the table says “计算中…” meanwhile."""
        self.stop_pools()
        self._generation += 1
        self.model.clear_pools()
        codes = [r.task.code for r in self.model.rows if not r.task.archived]
        if not self.isVisible():
            self._stale = True
            self._update_status()
            return
        self._stale = False
        if not codes:
            self._update_status()
            return
        job = BackgroundJob(pool_summaries(self.db, codes))
        job.setProperty("generation", self._generation)
        job.stepped.connect(self._on_pool_step)
        job.finished.connect(self._on_pool_done)
        self._job = job
        self._update_status()
        job.start()

    def stop_pools(self, wait: bool = False) -> None:
        if self._job is not None:
            self._job.cancel()
            if wait:
                self._job.wait()
            self._job = None

    def shutdown(self) -> None:
        """Stop the background work (the window is closing)."""
        self.stop_pools(wait=True)

    @Slot(object)
    def _on_pool_step(self, step: object) -> None:
        job = self.sender()
        if job is None or job.property("generation") != self._generation:
            return  # a result of an older computation
        if isinstance(step, PoolReady) and step.summary is not None:
            self.model.set_pool(step.summary)
            if step.summary.task_code == self.selected_code():
                self.on_selection()
        self._update_status()

    @Slot(object)
    def _on_pool_done(self, out: Outcome) -> None:
        job = self.sender()
        if job is None or job.property("generation") != self._generation:
            return
        self._job = None
        if out.error is not None:
            report_failure(self, "计算候选名单", out)
        self._update_status()

    def _update_status(self) -> None:
        rows = [r for r in self.model.rows if not r.task.archived]
        done = sum(1 for r in rows if r.task.code in self.model.pools)
        bad = sum(1 for r in rows if (p := self.model.pools.get(r.task.code)) is not None and p.problems)
        if rows and done < len(rows):
            self.status.setText(f"正在按当前名录和规则计算候选名单（{done}/{len(rows)}）……")
            self.status.setStyleSheet("color: #57606a;")
        elif bad:
            self.status.setText(f"{bad} 个任务现在还不能抽取（见“状态”列）")
            self.status.setStyleSheet("color: #b00020;")
        elif rows:
            on = next(iter(self.model.pools.values())).on
            self.status.setText(f"候选名单已按 {on.isoformat()} 的名录和规则计算")
            self.status.setStyleSheet("color: #1b5e20;")
        else:
            self.status.setText("")

    # --- selection and detail ---------------------------------------------------------------

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def selected_code(self) -> str | None:
        row = self.selected_row()
        return None if row is None else self.model.rows[row].task.code

    def select_code(self, code: str) -> None:
        row = self.model.row_of(code)
        if row is not None:
            self.table.selectRow(row)

    def _draw_selected(self) -> None:
        code = self.selected_code()
        if code:
            self.draw_requested.emit(code)

    def on_selection(self) -> None:
        row = self.selected_row()
        archived = row is not None and self.model.rows[row].task.archived
        self.btn_edit.setEnabled(row is not None and not archived)
        self.btn_archive.setEnabled(row is not None and not archived)
        self.btn_draw.setEnabled(row is not None and not archived)
        self.btn_restore.setVisible(self.show_archived.isChecked())
        self.btn_restore.setEnabled(archived)
        if row is None:
            self.detail.show_task(None, None)
        else:
            self.detail.show_task(self.model.rows[row], self.model.pool(row))

    # --- editing ----------------------------------------------------------------------------

    def add_task(self) -> None:
        from dsj_desktop.ui.task_dialog import TaskDialog

        dlg = TaskDialog(
            self.db, None, self, plan=self.current_plan(), department=settings.bureau_name(self.db)
        )
        if dlg.exec() and dlg.saved is not None:
            self._after_save(dlg.saved.plan_code, dlg.saved.code)

    def edit_task(self) -> None:
        from dsj_desktop.ui.task_dialog import TaskDialog

        row = self.selected_row()
        if row is None or self.model.rows[row].task.archived:
            return
        dlg = TaskDialog(self.db, self.model.rows[row].task, self)
        if dlg.exec() and dlg.saved is not None:
            self._after_save(dlg.saved.plan_code, dlg.saved.code)

    def _after_save(self, plan_code: str, task_code: str) -> None:
        """The saved task selected (the tab has reloaded already: the save was announced)."""
        pos = next(
            (i for i in range(self.plan_combo.count())
             if isinstance(self.plan_combo.itemData(i), PlanInfo) and self.plan_combo.itemData(i).code == plan_code),
            None,
        )  # fmt: skip
        if pos is not None:
            self.plan_combo.setCurrentIndex(pos)
        self.select_code(task_code)

    def archive_selected(self, archived: bool) -> None:
        row = self.selected_row()
        if row is None:
            return
        t = self.model.rows[row].task
        verb = "归档" if archived else "恢复"
        if archived:
            answer = QMessageBox.question(
                self,
                "归档任务",
                f"确定归档抽查任务“{t.code} {t.name}”吗？\n归档后不再参加抽取，也不出现在公示的计划中；"
                "任务记录仍然保留，可在“显示已归档任务”中恢复。",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        WriteOp(
            self, f"{verb}任务", lambda: archive_task(self.db, t.code, archived), changes={data_hub.PLAN}
        ).success(
            lambda _: QMessageBox.information(self, f"{verb}任务", f"已{verb}抽查任务“{t.code}”。")
        ).run()

    def edit_rules(self) -> None:
        from dsj_desktop.ui.rules_dialog import RulesDialog

        RulesDialog(self.db, self).exec()  # a saved change reaches this tab through the data hub

    # --- files ------------------------------------------------------------------------------

    def import_wizard(self, path: str = "") -> Any:
        """The import wizard for plan files: the same steps and guarantees as for the directories
        (every problem listed, nothing written unless all rows are good), with :func:`import_plan`."""
        from dsj_desktop.ui.import_wizard import ImportWizard

        def importer(path: Path, add_unknown_codes: bool = False, **kw: Any) -> Any:
            return import_plan(self.db, path, **kw)

        return ImportWizard(self.db, PLAN_ROWS, self, path, importer=importer, new_codes=False)

    def import_file(self) -> None:
        wizard = self.import_wizard()
        if wizard.exec() and wizard.summary is not None:  # the import was announced: the tab has reloaded
            QMessageBox.information(self, "导入年度计划", wizard.summary.text())

    def export_file(self) -> None:
        default = str(Path.home() / f"{PLAN_ROWS.title}-{date.today():%Y%m%d}.xlsx")
        path, _ = QFileDialog.getSaveFileName(self, "导出年度计划", default, "Excel 工作簿 (*.xlsx)")
        if not path:
            return
        if not path.lower().endswith(".xlsx"):
            path += ".xlsx"
        out = run_with_progress(self, "导出年度计划", export_plan(self.db, Path(path)))
        if not out.ok:
            report_failure(self, "导出年度计划", out)
            return
        QMessageBox.information(self, "导出年度计划", f"已导出 {out.value} 个抽查任务到：\n{path}")

    def save_template(self) -> None:
        def write(path: Path) -> None:
            write_template(path, PLAN_ROWS, all_code_lists(self.db))

        save_template(self, f"{PLAN_ROWS.title}导入模板.xlsx", write)

    def publish(self) -> None:
        plan = self.current_plan()
        code = plan.code if plan is not None else None
        name = f"{plan.year}年度抽查计划（公示）" if plan is not None else "年度抽查计划（公示）"
        export_publication(self, "导出年度计划公示", name, lambda p: publish_plan(self.db, p, plan=code))
