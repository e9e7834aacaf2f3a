"""“打印检查文书”: the 检查通知书 and 实地检查记录表 of a confirmed session, written as PDF into a
folder (a USB stick) with a progress dialog; the 文号 pattern and the contact line are set here
(administrators only: the core refuses anyone else)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop import actor as actor_mod
from dsj_desktop.actor import ADMIN
from dsj_desktop.db.engine import Database
from dsj_desktop.errors import UserError
from dsj_desktop.publish import papers as pp
from dsj_desktop.services import sessions
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.kit import ok_cancel, remember, remembered
from dsj_desktop.ui.ops import WriteOp, warn
from dsj_desktop.ui.runner import report_failure, run_with_progress

TITLE = "打印检查文书"
FOLDER_KEY = "papers_last_folder"


class PapersDialog(QDialog):
    def __init__(self, db: Database, session_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.session_id = session_id
        self.papers: pp.Papers | None = None
        self.setObjectName("papers-dialog")
        self.setWindowTitle(f"{TITLE}：场次 {session_id}")
        s = sessions.get_session(db, session_id)
        pattern, contact = pp.read_number_settings(db)
        folder = str(remembered(db, FOLDER_KEY, "") or Path.home())  # this PC's
        intro = QLabel(
            f"场次 {s.id}（{s.task_code} {s.task.get('name', '')}，抽中 {len(s.result)} 家，"
            f"抽取记录第 {s.record_version} 版）。按递补后的检查组，为每个检查对象生成检查文书，"
            "每页印有场次、记录版本和二维码（录入结果时扫码即可打开该单位的结果表）。"
        )
        intro.setWordWrap(True)
        self.kind = QComboBox()
        self.kind.setObjectName("papers-kind")
        for kind in (pp.BOTH, pp.NOTICE, pp.RECORD):
            self.kind.addItem(pp.KIND_TITLES[kind], kind)
        self.per_target = QCheckBox("每个检查对象单独一个 PDF 文件")
        self.per_target.setObjectName("papers-per-target")
        self.folder = QLineEdit(folder)
        self.folder.setObjectName("papers-folder")
        browse = QPushButton("选择…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        who = actor_mod.current()
        self.editable = who is None or who.role == ADMIN
        self.pattern = QLineEdit(pattern)
        self.pattern.setObjectName("papers-pattern")
        self.pattern.setToolTip(
            "{year} 为抽取年度，{n} 为当年序号（连续编号，不跳号）；例如 X应急双随机〔{year}〕第{n}号"
        )
        self.contact = QLineEdit(contact)
        self.contact.setObjectName("papers-contact")
        self.contact.setPlaceholderText("例如：王明　0351-1234567")
        for w in (self.pattern, self.contact):
            w.setReadOnly(not self.editable)
        form = QFormLayout()
        form.addRow("文书", self.kind)
        form.addRow("", self.per_target)
        form.addRow("保存到文件夹", folder_row)
        form.addRow("通知书文号格式", self.pattern)
        form.addRow("联系人及电话", self.contact)
        note = QLabel(
            "文号按年度连续编号，每个检查对象编号一次，重新打印时沿用原文号。"
            + ("" if self.editable else "（只有管理员可以修改文号格式和联系人。）")
        )
        note.setWordWrap(True)
        buttons, self.btn_make, _ = ok_cancel(self, self.make, ok="生成 PDF")
        self.btn_make.setObjectName("papers-make")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(640, self.sizeHint().height())

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "保存检查文书到", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _save_settings(self) -> bool:
        if not self.editable:
            return True
        old_pattern, old_contact = pp.read_number_settings(self.db)
        pattern, contact = self.pattern.text(), self.contact.text()

        def write() -> None:
            if pattern.strip() != old_pattern:
                pp.set_number_pattern(self.db, pattern)
            if contact.strip() != old_contact:
                pp.set_contact(self.db, contact)

        if pattern.strip() == old_pattern and contact.strip() == old_contact:
            return True
        return WriteOp(self, TITLE, write, changes={data_hub.SETTINGS}).failure(warn(self, TITLE)).run().ok

    def make(self, *, open_after: bool = True) -> pp.Papers | None:
        folder = Path(self.folder.text().strip() or Path.home())
        if not self._save_settings():
            return None
        job = pp.make_papers(
            self.db,
            self.session_id,
            folder,
            kind=str(self.kind.currentData()),
            per_target=self.per_target.isChecked(),
            operator=actor_mod.label(),
        )
        out = run_with_progress(self, TITLE, job)
        if not out.ok:
            report_failure(self, TITLE, out)
            return None
        papers: pp.Papers = out.value
        self.papers = papers
        remember(self.db, FOLDER_KEY, str(folder))  # this PC's folder, whoever prints
        numbers = [t.number for t in papers.targets if t.number]
        lines = [
            f"已生成 {len(papers.targets)} 个检查对象的{self.kind.currentText()}，共 {papers.pages} 页：",
            *(str(p) for p in papers.written[:5]),
        ]
        if len(papers.written) > 5:
            lines.append(f"……共 {len(papers.written)} 个文件，在文件夹“{folder}”中")
        if numbers:
            lines.append(f"通知书文号：{numbers[0]}" + (f" 至 {numbers[-1]}" if len(numbers) > 1 else ""))
        self.accept()
        if open_after:
            QMessageBox.information(self.parentWidget(), TITLE, "\n".join(lines))
            target = papers.written[0] if len(papers.written) == 1 else folder
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))
        return papers


def print_papers(parent: QWidget, db: Database, session_id: str) -> None:
    """Open the dialog for a session; an unknown, voided or unconfirmed session is refused at once."""
    try:
        s = sessions.get_session(db, session_id)
        pp.check_printable(s)
    except UserError as exc:
        QMessageBox.warning(parent, TITLE, str(exc))
        return
    PapersDialog(db, session_id, parent).exec()
