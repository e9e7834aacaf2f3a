"""Add or edit one task of the annual plan; checked by exactly the plan import's rules."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop import clock
from dsj_desktop.db.engine import Database
from dsj_desktop.domain.plan_specs import PLAN_ROWS
from dsj_desktop.domain.pool import UNDIRECTED
from dsj_desktop.services.plan import TaskInfo, save_task
from dsj_desktop.services.plan_overview import PlanInfo, ratio_label, task_form_choices
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.editors import ChecklistEdit, editor_value, make_editor
from dsj_desktop.ui.kit import ok_cancel
from dsj_desktop.ui.ops import WriteOp, refusal_in
from dsj_desktop.ui.record_dialog import fit_to_screen

W = TypeVar("W", bound=QWidget)

LEFT = ("plan_code", "plan_name", "plan_year", "code", "name", "draw_type", "items", "ratio", "team_size",
        "expert_count")  # fmt: skip
RIGHT = (
    "industries",
    "regions",
    "conditions",
    "department",
    "partners",
    "start_date",
    "end_date",
    "scope_note",
)
SCOPE_ATTRS = ("industries", "regions", "conditions")


def task_values(task: TaskInfo) -> dict[str, Any]:
    """A task as the dialog's (and the import's) field values."""
    return {
        "plan_code": task.plan_code, "plan_name": task.plan_name, "plan_year": task.plan_year,
        "code": task.code, "name": task.name, "draw_type": task.draw_type, "items": "、".join(task.item_codes),
        "industries": "、".join(task.industries), "regions": "、".join(task.regions),
        "conditions": "、".join(task.conditions), "ratio": task.ratio.text(), "team_size": task.team_size,
        "expert_count": task.expert_count, "department": task.department, "partners": "、".join(task.partners),
        "start_date": task.start_date, "end_date": task.end_date, "scope_note": task.scope_note,
    }  # fmt: skip


class TaskDialog(QDialog):
    def __init__(
        self,
        db: Database,
        task: TaskInfo | None,
        parent: QWidget | None = None,
        *,
        plan: PlanInfo | None = None,
        department: str = "",
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.task = task
        self.saved: TaskInfo | None = None
        self.setWindowTitle("编辑抽查任务" if task else "新增抽查任务")
        self.setObjectName("task-dialog")
        choices = task_form_choices(db)
        codes = choices.codes
        self.plans = {p.code: p for p in choices.plans}
        items = choices.items
        if task is not None:
            values = task_values(task)
        else:
            year = plan.year if plan else clock.today().year
            values = {
                "plan_code": plan.code if plan else "", "plan_name": plan.name if plan else "",
                "plan_year": year, "draw_type": "定向", "team_size": 2, "expert_count": 0,
                "department": (plan.department if plan else "") or department,
                "start_date": date(year, 3, 1), "end_date": date(year, 11, 30),
            }  # fmt: skip
        item_options = [(str(c), f"{c}　{n}") for c, n in items]
        self.item_names = {str(c): str(n) for c, n in items}

        self.editors: dict[str, QWidget] = {}
        for f in PLAN_ROWS.fields:
            value = values.get(f.attr, f.empty_value())
            if f.attr == "plan_code":
                combo = QComboBox()
                combo.setEditable(True)
                combo.addItems(list(self.plans))
                combo.setCurrentText(str(value))
                line = combo.lineEdit()
                if line is not None:
                    line.setPlaceholderText("选择已有计划，或填写新计划的编号")
                editor: QWidget = combo
            elif f.attr in ("plan_year", "team_size", "expert_count"):
                spin = QSpinBox()
                low, high = {"plan_year": (2000, 2100), "team_size": (2, 50), "expert_count": (0, 50)}[f.attr]
                spin.setRange(low, high)
                spin.setValue(int(value or low))
                spin.setSuffix({"plan_year": " 年", "team_size": " 人", "expert_count": " 人"}[f.attr])
                editor = spin
            else:
                editor = make_editor(f, value, codes, item_options if f.attr == "items" else None)
            editor.setObjectName(f"edit-{f.attr}")
            if f.hint:
                editor.setToolTip(f.hint)
            self.editors[f.attr] = editor
        self.editor("ratio", QLineEdit).setPlaceholderText("如 5%")
        if task is not None:
            self.editors["code"].setEnabled(False)
            self.editors["code"].setToolTip("任务编号是任务的标识，不能修改")

        self.ratio_hint = QLabel()
        self.ratio_hint.setObjectName("ratio-hint")
        self.ratio_hint.setStyleSheet("color: #57606a;")
        self.items_hint = QLabel()
        self.items_hint.setObjectName("items-hint")
        self.items_hint.setWordWrap(True)
        self.items_hint.setStyleSheet("color: #57606a;")
        self.plan_hint = QLabel()
        self.plan_hint.setStyleSheet("color: #57606a;")
        self.plan_hint.setWordWrap(True)

        def form_for(attrs: tuple[str, ...]) -> QFormLayout:
            form = QFormLayout()
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            for attr in attrs:
                f = PLAN_ROWS.field(attr)
                form.addRow(f.header + ("（必填）" if f.required else ""), self.editors[attr])
                if attr == "plan_year":
                    form.addRow("", self.plan_hint)
                if attr == "ratio":
                    form.addRow("", self.ratio_hint)
                if attr == "items":
                    form.addRow("", self.items_hint)
            return form

        left = QGroupBox("计划与任务")
        left.setLayout(form_for(LEFT))
        right = QGroupBox("抽查范围与时间")
        right.setLayout(form_for(RIGHT))
        scope_note = QLabel(
            "定向抽查按行业领域、所属区域、对象条件筛选（留空表示不限）；不定向抽查面向全部名录，这三项不填。"
        )
        scope_note.setWordWrap(True)
        scope_note.setStyleSheet("color: #57606a;")
        right_form = right.layout()
        assert isinstance(right_form, QFormLayout)
        right_form.insertRow(0, scope_note)
        columns = QHBoxLayout()
        columns.addWidget(left, 1, Qt.AlignmentFlag.AlignTop)
        columns.addWidget(right, 1, Qt.AlignmentFlag.AlignTop)

        self.error = QLabel()
        self.error.setObjectName("error-label")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = ok_cancel(self, self.save, ok="保存").box
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

        self.plan_combo.currentTextChanged.connect(lambda _: self.update_plan_fields())
        self.editor("draw_type", QComboBox).currentTextChanged.connect(lambda _: self.update_scope_fields())
        self.editor("ratio", QLineEdit).textChanged.connect(lambda _: self.update_ratio_hint())
        self.update_plan_fields()
        self.update_scope_fields()
        self.editor("items", ChecklistEdit).changed.connect(self.update_items_hint)
        self.update_ratio_hint()
        self.update_items_hint()
        fit_to_screen(self, 900)

    @property
    def plan_combo(self) -> QComboBox:
        combo = self.editors["plan_code"]
        assert isinstance(combo, QComboBox)
        return combo

    def update_plan_fields(self) -> None:
        """An existing plan keeps its name and year (edit those with the plan itself)."""
        plan = self.plans.get(self.plan_combo.currentText().strip())
        name = self.editors["plan_name"]
        year = self.editors["plan_year"]
        assert isinstance(name, QLineEdit) and isinstance(year, QSpinBox)
        if plan is not None:
            name.setText(plan.name)
            name.setCursorPosition(0)
            year.setValue(plan.year)
            self.plan_hint.setText(f"已有计划（{plan.tasks} 个任务）" + ("，已归档" if plan.archived else ""))
        else:
            self.plan_hint.setText(
                "新计划：保存任务时一并建立" if self.plan_combo.currentText().strip() else ""
            )
        name.setReadOnly(plan is not None)
        year.setReadOnly(plan is not None)

    def update_scope_fields(self) -> None:
        undirected = editor_value(self.editors["draw_type"]) == UNDIRECTED
        for attr in SCOPE_ATTRS:
            self.editors[attr].setEnabled(not undirected)

    def update_ratio_hint(self) -> None:
        from dsj_desktop.domain.ratio import RatioError, parse_ratio

        text = str(editor_value(self.editors["ratio"])).strip()
        if not text:
            self.ratio_hint.setText("如 5%、20家，或 重大:100%;较大:30%;一般:10%;低:5%")
            return
        try:
            self.ratio_hint.setText("即：" + ratio_label(parse_ratio(text)))
            self.ratio_hint.setStyleSheet("color: #57606a;")
        except RatioError as exc:
            self.ratio_hint.setText(str(exc))
            self.ratio_hint.setStyleSheet("color: #b00020;")

    def update_items_hint(self) -> None:
        """The chosen items by name; a code that is not an item in use says so at once."""
        from dsj_desktop.domain.fields import split_list

        codes = split_list(str(editor_value(self.editors["items"])))
        names = [self.item_names.get(c, f"{c}（不在清单中或已停用）") for c in codes]
        self.items_hint.setText("即：" + "；".join(names) if names else "点“选择…”从抽查事项清单中勾选")
        bad = any(c not in self.item_names for c in codes)
        self.items_hint.setStyleSheet("color: #b00020;" if bad else "color: #57606a;")

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in PLAN_ROWS.fields:
            w = self.editors[f.attr]
            if isinstance(w, QSpinBox):
                out[f.attr] = w.value()
            elif f.attr == "plan_code":
                out[f.attr] = self.plan_combo.currentText()
            else:
                out[f.attr] = editor_value(w, f)
        if out["draw_type"] == UNDIRECTED:
            for attr in SCOPE_ATTRS:
                out[attr] = ""
        return out

    def editor(self, attr: str, kind: type[W]) -> W:
        """The editor of *attr*, known to be a *kind*."""
        w = self.editors[attr]
        assert isinstance(w, kind), (attr, type(w))
        return w

    def save(self) -> None:
        values, new = self.values(), self.task is None
        WriteOp(
            self, "保存抽查任务", lambda: save_task(self.db, values, new=new), changes={data_hub.PLAN}
        ).success(self._saved).failure(refusal_in(self.error)).run()

    def _saved(self, task: TaskInfo) -> None:
        self.saved = task
        self.accept()
