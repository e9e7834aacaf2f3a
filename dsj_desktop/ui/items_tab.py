"""The item list (抽查事项清单): the generic directory tab, with 停用 / 启用 instead of 归档 / 恢复,
a warning before retiring an item that tasks use, and the publication export."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QWidget

from dsj_desktop.db.engine import Database
from dsj_desktop.domain.plan_specs import ITEMS
from dsj_desktop.publish.jobs import publish_items
from dsj_desktop.services.plan import tasks_using_items
from dsj_desktop.ui.directory_tab import DirectoryTab
from dsj_desktop.ui.publish_actions import export_publication


class ItemsTab(DirectoryTab):
    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(db, ITEMS, parent)
        self.btn_publish = QPushButton("导出公示…")
        self.btn_publish.setObjectName("publish-items")
        self.btn_publish.setToolTip("生成对外公示的抽查事项清单（Excel 或 PDF），只含启用的事项")
        self.btn_publish.clicked.connect(self.publish)
        self.buttons_layout.addWidget(self.btn_publish)

    def archive_tooltip(self) -> str:
        return "停用后不能再用于新任务；事项永远不会被删除，可随时启用"

    def archive_question(self, ids: list[int]) -> str:
        with self.db.read() as conn:
            used = tasks_using_items(conn, ids)
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
