"""The dialogs of a draw session's page: 递补 (a substitute for a team member who cannot serve) and
导出到U盘/文件夹 (the signed record, its JSON and the result list, written where the user chooses)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.db.engine import Database
from dsj_desktop.draw.algorithm import Substitution
from dsj_desktop.errors import UserError
from dsj_desktop.publish.export import WrittenFile, export_session
from dsj_desktop.services import sessions
from dsj_desktop.ui.draw.controller import DrawController
from dsj_desktop.ui.kit import DestinationList, choose_folder, make_table, ok_cancel
from dsj_desktop.ui.runner import report_failure, run_with_progress
from dsj_desktop.ui.table_model import ListTableModel
from dsj_desktop.ui.trust_widgets import note_label

# --- 递补 -------------------------------------------------------------------------------------


class SubstituteDialog(QDialog):
    """Pick a target and the member who cannot serve, give the reason (and anyone else unavailable),
    and see the substitute the rule gives (DSJ-DRAW-1 section 6)."""

    def __init__(self, controller: DrawController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle("递补")
        self.setMinimumWidth(620)
        s = controller.session
        self.target = QComboBox()
        self.target.setObjectName("sub-target")
        for i, x in enumerate(s.result, start=1):
            self.target.addItem(f"{i}. {s.target_names.get(x['id'], '')}（{x['id']}）", x["id"])
        self.member = QComboBox()
        self.member.setObjectName("sub-member")
        self.reason = QLineEdit()
        self.reason.setObjectName("sub-reason")
        self.reason.setPlaceholderText("例如：因公出差、与该企业存在利害关系")
        self.other = QComboBox()
        self.other.setObjectName("sub-other")
        self.other_reason = QLineEdit()
        self.other_reason.setObjectName("sub-other-reason")
        self.other_reason.setPlaceholderText("不能递补的原因")
        add_other = QPushButton("加入")
        add_other.clicked.connect(self.add_unavailable)
        self.unavailable: list[tuple[str, str]] = []
        self.substitution: Substitution | None = None  # the last substitution made here
        self.unavailable_model = ListTableModel(["人员", "原因"])
        other_row = QHBoxLayout()
        other_row.addWidget(self.other, 2)
        other_row.addWidget(self.other_reason, 2)
        other_row.addWidget(add_other)

        form = QFormLayout()
        form.addRow("检查对象：", self.target)
        form.addRow("不能参加的成员：", self.member)
        form.addRow("原因（必填）：", self.reason)
        form.addRow("同时不能递补的人员：", other_row)
        view = make_table(self.unavailable_model)
        view.setMaximumHeight(110)
        form.addRow("", view)
        self.outcome = QLabel()
        self.outcome.setObjectName("sub-outcome")
        self.outcome.setWordWrap(True)
        self.outcome.setStyleSheet("font-size: 11pt;")
        self.buttons = QDialogButtonBox()
        self.btn_apply = self.buttons.addButton("递补", QDialogButtonBox.ButtonRole.ActionRole)
        self.btn_apply.setObjectName("sub-apply")
        self.btn_apply.clicked.connect(self.apply)
        close = self.buttons.addButton("关闭", QDialogButtonBox.ButtonRole.RejectRole)
        close.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            note_label(
                "递补人员由规则确定：该检查对象的执法人员排序中，不在组内、未被换下、无回避关系、"
                "且未声明不能参加的第一人。每次递补都写入新版本的签名抽取记录。"
            )
        )
        layout.addLayout(form)
        layout.addWidget(self.outcome)
        layout.addWidget(self.buttons)
        self.target.currentIndexChanged.connect(lambda _: self._fill_members())
        self.member.currentIndexChanged.connect(lambda _: self._fill_others())
        self._fill_members()

    def _member(self) -> tuple[str, str] | None:
        data = self.member.currentData()
        if not data:
            return None
        kind, pid = str(data).split(":", 1)
        return kind, pid

    def _kind(self) -> str:
        member = self._member()
        return member[0] if member else sessions.INSPECTOR

    def _fill_members(self) -> None:
        s = self.controller.session
        tid = self.target.currentData()
        team = s.current_teams().get(tid, {sessions.INSPECTOR: [], sessions.EXPERT: []})
        self.member.blockSignals(True)
        self.member.clear()
        for pid in team[sessions.INSPECTOR]:
            self.member.addItem(
                f"执法检查人员 {s.inspector_names.get(pid, '')}（{pid}）", f"{sessions.INSPECTOR}:{pid}"
            )
        for pid in team[sessions.EXPERT]:
            self.member.addItem(f"专家 {s.expert_names.get(pid, '')}（{pid}）", f"{sessions.EXPERT}:{pid}")
        self.member.blockSignals(False)
        self.unavailable.clear()
        self.unavailable_model.set_rows(["人员", "原因"], [])
        self._fill_others()

    def _fill_others(self) -> None:
        s = self.controller.session
        kind = self._kind()
        team = s.current_teams().get(self.target.currentData(), {}).get(kind, [])
        people = s.inputs["inspectors"] if kind == sessions.INSPECTOR else s.inputs["experts"]
        self.other.clear()
        for p in people:
            if p[0] not in team:
                self.other.addItem(f"{p[1]}（{p[0]}）", p[0])

    def add_unavailable(self) -> None:
        pid = self.other.currentData()
        why = self.other_reason.text().strip()
        if not pid:
            return
        if not why:
            QMessageBox.warning(self, "递补", "请写明该人员不能递补的原因。")
            return
        if pid not in [p for p, _ in self.unavailable]:
            self.unavailable.append((pid, why))
        names = self.controller.session.inspector_names | self.controller.session.expert_names
        self.unavailable_model.set_rows(
            ["人员", "原因"], [[f"{names.get(p, '')}（{p}）", r] for p, r in self.unavailable]
        )
        self.other_reason.clear()

    def apply(self) -> None:
        member = self._member()
        if member is None:
            return
        kind, removed = member
        try:
            new = self.controller.substitute(
                self.target.currentData(),
                removed,
                self.reason.text(),
                unavailable=self.unavailable,
                kind=kind,
            )
        except UserError as exc:
            QMessageBox.warning(self, "递补", str(exc))
            return
        s = self.controller.session
        names = s.inspector_names | s.expert_names
        skipped = "；".join(f"{names.get(p, p)}（{r}）" for p, r in new.skipped)
        self.substitution = new
        self.outcome.setText(
            f"<b>递补完成</b>：{names.get(new.removed, new.removed)} 由 "
            f"<b style='color:#1a7f37'>{names.get(new.substitute, new.substitute)}（{new.substitute}）</b> 递补。"
            + (f"<br>跳过：{skipped}" if skipped else "")
            + f"<br>抽取记录已更新为第 {s.record_version} 版。"
        )
        self.reason.clear()
        self._fill_members()


# --- export ----------------------------------------------------------------------------------


class ExportDialog(QDialog):
    """导出到U盘/文件夹: removable drives first; writes the PDF, the JSON record and the Excel list."""

    def __init__(self, db: Database, session_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.session_id = session_id
        self.written: list[WrittenFile] = []
        self.setWindowTitle("导出到U盘/文件夹")
        self.setMinimumWidth(620)
        self.places = DestinationList(tagged=True)
        self.places.setObjectName("export-places")
        other = QPushButton("选择其他文件夹…")
        other.clicked.connect(self.choose_other)
        again = QPushButton("刷新（插入U盘后）")
        again.clicked.connect(self.refresh)
        self.buttons, self.btn_export, _ = ok_cancel(self, self.export_selected, ok="导出")
        row = QHBoxLayout()
        row.addWidget(again)
        row.addWidget(other)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(
            note_label(
                "将写出三个文件：签章的抽取记录 PDF、JSON 抽取记录（可用于核验）和 Excel 结果清单"
                "（检查对象、票号、检查组，不含电话号码）。"
            )
        )
        layout.addWidget(QLabel("导出到："))
        layout.addWidget(self.places, 1)
        layout.addLayout(row)
        layout.addWidget(self.buttons)

    def refresh(self) -> None:
        self.places.refresh()

    def choose_other(self) -> None:
        folder = choose_folder(self, "选择导出文件夹")
        if folder is not None:
            self.export_to(folder)

    def export_selected(self) -> None:
        folder = self.places.chosen()
        if folder is None:
            QMessageBox.warning(self, "导出", "请选择导出位置。")
            return
        self.export_to(folder)

    def export_to(self, folder: Path) -> list[WrittenFile]:
        out = run_with_progress(self, "导出", export_session(self.db, self.session_id, folder))
        if not out.ok:
            report_failure(self, "导出", out)
            return []
        self.written = list(out.value)
        lines = "\n".join(f"· {w.path.name}（{w.size_text}）" for w in self.written)
        QMessageBox.information(self, "导出完成", f"已写入“{folder}”：\n{lines}")
        self.accept()
        return self.written
