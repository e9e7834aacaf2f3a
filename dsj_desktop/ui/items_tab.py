"""The item list (抽查事项清单): the generic directory tab, with 停用 / 启用 instead of 归档 / 恢复,
a warning before retiring an item that tasks use, and the publication export."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QWidget

from dsj_desktop.db.engine import Database
from dsj_desktop.domain import staffing
from dsj_desktop.domain.plan_specs import ITEMS
from dsj_desktop.publish.jobs import publish_items
from dsj_desktop.services.plan import read_known_specialties, read_tasks_using_items
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.directory_tab import DirectoryTab, full_text_tooltip
from dsj_desktop.ui.publish_actions import export_publication
from dsj_desktop.ui.table_model import Column

REQ = ITEMS.attrs.index("inspector_req")


class ItemsTab(DirectoryTab):
    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        self._known: list[str] | None = None  # the 执法专长 values recognised (read on refresh)
        super().__init__(db, ITEMS, parent)
        self.btn_publish = QPushButton("导出公示…")
        self.btn_publish.setObjectName("publish-items")
        self.btn_publish.setToolTip("生成对外公示的抽查事项清单（Excel 或 PDF），只含启用的事项")
        self.btn_publish.clicked.connect(self.publish)
        self.buttons_layout.addWidget(self.btn_publish)

    def build_columns(self) -> list[Column]:
        """Beside 检查人员要求 (kept as written): what the program reads in it."""
        cols = super().build_columns()
        at = next(i for i, c in enumerate(cols) if c.sort_key == "inspector_req")
        cols.insert(
            at + 1, Column("程序识别的人员要求", self._derived, None, tooltip=self._explained, width=24)
        )
        return cols

    def requirement(self, v: tuple[object, ...]) -> staffing.StaffRequirement:
        if self._known is None:
            self._known = read_known_specialties(self.db)
        return staffing.parse(str(v[REQ] or ""), self._known)

    def _derived(self, v: tuple[object, ...]) -> str:
        if not str(v[REQ] or "").strip():
            return ""
        req = self.requirement(v)
        text = req.derived or "执法证有效即可"
        return text + ("（另有说明）" if req.notes else "")

    def _explained(self, v: tuple[object, ...]) -> str | None:
        return full_text_tooltip(self.requirement(v).explain())

    def refresh(self) -> None:
        self._known = None
        super().refresh()

    def watches(self) -> tuple[str, ...]:
        return (data_hub.ITEMS, "inspectors", data_hub.CODES)  # the specialties come from the inspectors

    def on_data_changed(self, kinds: data_hub.Kinds, source: object) -> None:
        if source is not self and data_hub.touches(kinds, *self.watches()):
            self._known = None
        super().on_data_changed(kinds, source)

    def archive_tooltip(self) -> str:
        return "停用后不能再用于新任务；事项永远不会被删除，可随时启用"

    def archive_question(self, ids: list[int]) -> str:
        used = read_tasks_using_items(self.db, ids)
        if not used:
            return f"确定停用选中的 {len(ids)} 项抽查事项吗？\n停用后不能再用于新任务，可随时启用。"
        n = len({t for tasks in used.values() for t in tasks})
        if len(ids) == 1:
            head = f"该事项已被 {n} 个抽查任务使用"
        else:
            each = "、".join(f"{code}（{len(tasks)} 个）" for code, tasks in used.items())
            head = f"选中的事项中，{each}已被抽查任务使用，共 {n} 个抽查任务"
        tasks = "、".join(dict.fromkeys(t for tasks in used.values() for t in tasks))
        return (
            f"{head}，停用后不能再用于新任务，已有任务不受影响。\n"
            f"使用它的任务：{tasks}\n\n确定停用选中的 {len(ids)} 项抽查事项吗？"
        )

    def publish(self) -> None:
        export_publication(
            self, "导出抽查事项清单公示", "抽查事项清单（公示）", lambda p: publish_items(self.db, p)
        )
