"""导入向导: a county's first day, the six lists in the order they depend on each other — each step
opens the usual import (checked whole, nothing written unless all is well) and may be skipped;
it ends on the plan tab, where the tasks show whether they can be drawn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.db.engine import Database
from dsj_desktop.domain.plan_specs import ITEMS
from dsj_desktop.domain.specs import DIRECTORIES
from dsj_desktop.services.directory import directory_counts
from dsj_desktop.services.plan import read_tasks


@dataclass(frozen=True)
class Step:
    kind: str  # a directory kind, "items" or "plan"
    title: str
    why: str


STEPS = (
    Step("targets", "检查对象名录库", "企业名单：统一社会信用代码、名称、行业领域、所属区域、风险等级……"),
    Step("inspectors", "执法检查人员名录库", "执法证号、姓名、执法证有效期、执法专长"),
    Step("experts", "专家库", "需要专家参加的任务才用；没有可跳过"),
    Step("conflicts", "回避关系", "人员与企业的回避关系（亲属、曾任职等）；没有可跳过"),
    Step("items", "抽查事项清单", "“一单”：每项的抽查依据、内容、方式和检查人员要求"),
    Step("plan", "年度抽查计划", "年度计划中的抽查任务：事项、范围、比例、每组人数"),
)  # fmt: skip


class ImportGuide(QDialog):
    """Walks through :data:`STEPS`. *start(kind)* runs that list's import (modal); *finish()* is
    called at the end (the main window shows the plan tab)."""

    def __init__(
        self,
        db: Database,
        start: Callable[[str], None],
        finish: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.start = start
        self.finish = finish
        self.index = 0
        self.skipped: set[str] = set()
        self.setObjectName("import-guide")
        self.setWindowTitle("导入本局的名录和计划")
        intro = QLabel(
            "按顺序导入本局的六份表格。每一步都会先逐行检查，有问题时整表不导入、说明在哪一行哪一列；"
            "暂时没有的表格可以跳过，以后在“文件”菜单中导入。"
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("import-steps")
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.current = QLabel()
        self.current.setObjectName("import-current")
        self.current.setWordWrap(True)
        self.btn_import = QPushButton("导入…")
        self.btn_import.setObjectName("guide-import")
        self.btn_import.setDefault(True)
        self.btn_skip = QPushButton("跳过这一步")
        self.btn_skip.setObjectName("guide-skip")
        self.btn_done = QPushButton("结束，查看年度计划")
        self.btn_done.setObjectName("guide-done")
        self.btn_import.clicked.connect(self.import_current)
        self.btn_skip.clicked.connect(self.skip)
        self.btn_done.clicked.connect(self.done_all)
        buttons = QHBoxLayout()
        buttons.addWidget(self.btn_import)
        buttons.addWidget(self.btn_skip)
        buttons.addStretch(1)
        buttons.addWidget(self.btn_done)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.current)
        layout.addLayout(buttons)
        self.resize(620, 440)
        # Continuing a first day: start at the first list that is still empty.
        self.index = next((i for i, step in enumerate(STEPS) if not self.count(step)), 0)
        self.update_view()

    def count(self, step: Step) -> int:
        if step.kind == "plan":
            return len(read_tasks(self.db, include_archived=True))
        spec = ITEMS if step.kind == "items" else DIRECTORIES[step.kind]
        return directory_counts(self.db, spec).total

    def update_view(self) -> None:
        self.list.clear()
        for i, step in enumerate(STEPS):
            n = self.count(step)
            state = f"已有 {n:,} 条" if n else ("已跳过" if step.kind in self.skipped else "尚未导入")
            mark = "▶ " if i == self.index else "　 "
            item = QListWidgetItem(f"{mark}第 {i + 1} 步　{step.title}　—　{state}")
            item.setToolTip(step.why)
            self.list.addItem(item)
        if self.index < len(STEPS):
            step = STEPS[self.index]
            self.current.setText(
                f"第 {self.index + 1} 步（共 {len(STEPS)} 步）：导入{step.title}。{step.why}"
            )
            self.btn_import.setText(f"导入{step.title}…")
            self.btn_import.setEnabled(True)
            self.btn_skip.setEnabled(True)
            self.btn_import.setDefault(True)
        else:
            self.current.setText("六份表格都已处理。点“结束”查看年度计划中各项任务能否抽取。")
            self.btn_import.setEnabled(False)
            self.btn_skip.setEnabled(False)
            self.btn_done.setDefault(True)
        self.list.setCurrentRow(min(self.index, len(STEPS) - 1))

    def import_current(self) -> None:
        step = STEPS[self.index]
        before = self.count(step)
        self.start(step.kind)
        if self.count(step) != before or before:
            self.index += 1  # imported (or already there and re-imported): on to the next list
        self.update_view()

    def skip(self) -> None:
        self.skipped.add(STEPS[self.index].kind)
        self.index += 1
        self.update_view()

    def done_all(self) -> None:
        self.accept()
        self.finish()
