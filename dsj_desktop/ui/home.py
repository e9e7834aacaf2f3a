"""The start page: the bureau, the state of the directories, and the first steps for a newcomer."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.db.engine import Database
from dsj_desktop.domain.result_specs import INSPECTED
from dsj_desktop.domain.specs import DIRECTORIES, INSPECTORS
from dsj_desktop.domain.workdays import DUE_SOON_WORKDAYS
from dsj_desktop.services import settings
from dsj_desktop.services.directory import ELIGIBLE, DirectoryQuery, Filter, directory_counts
from dsj_desktop.services.results import deadline_counts
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.ops import WriteOp, run_write

DEADLINE_CARDS = (("", "待录入结果"), ("due_soon", "即将到期"), ("overdue", "已逾期"), ("late", "逾期录入"))


class _Card(QFrame):
    clicked = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("card")
        self.setStyleSheet("#card { background: #ffffff; border: 1px solid #d0d7de; border-radius: 6px; }")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.title = QLabel(title)
        self.title.setStyleSheet("color: #57606a;")
        self.value = QLabel("—")
        self.value.setStyleSheet("font-size: 22pt; font-weight: bold; color: #1f2328;")
        self.note = QLabel()
        self.note.setStyleSheet("color: #57606a;")
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.value)
        lay.addWidget(self.note)

    def mouseReleaseEvent(self, event: object) -> None:
        self.clicked.emit()


def missing_for_a_draw(db: Database) -> list[str]:
    """The lists a draw needs that are still empty (experts and conflicts are optional)."""
    from dsj_desktop.domain.plan_specs import ITEMS
    from dsj_desktop.domain.specs import TARGETS
    from dsj_desktop.services.plan import read_tasks

    out = [spec.title for spec in (TARGETS, INSPECTORS, ITEMS) if not directory_counts(db, spec).total]
    if not read_tasks(db):
        out.append("年度抽查计划")
    return out


class HomePage(QWidget):
    navigate = Signal(str)  # directory kind
    navigate_results = Signal(str)  # a deadline filter of the results tab ('' for all)
    import_guide_requested = Signal()  # the six imports in order (文件 › 导入向导)

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setObjectName("home-page")
        self.bureau = QLabel()
        self.bureau.setObjectName("bureau-label")
        self.bureau.setStyleSheet("font-size: 18pt; font-weight: bold;")
        rename = QPushButton("修改单位名称…")
        rename.clicked.connect(self.edit_bureau)
        head = QHBoxLayout()
        head.addWidget(self.bureau)
        head.addStretch(1)
        head.addWidget(rename)

        grid = QGridLayout()
        self.cards: dict[str, _Card] = {}
        for i, spec in enumerate(DIRECTORIES.values()):
            card = _Card(spec.title)
            card.clicked.connect(lambda k=spec.kind: self.navigate.emit(k))
            self.cards[spec.kind] = card
            grid.addWidget(card, 0, i)
        self.deadline_cards: dict[str, _Card] = {}
        for i, (key, title) in enumerate(DEADLINE_CARDS):
            card = _Card(title)
            card.clicked.connect(lambda k=key: self.navigate_results.emit(k))
            self.deadline_cards[key] = card
            grid.addWidget(card, 1, i)

        self.welcome = QFrame()
        self.welcome.setObjectName("welcome")
        self.welcome.setStyleSheet(
            "#welcome { background: #fff8e1; border: 1px solid #f0c36d; border-radius: 6px; }"
        )
        wl = QVBoxLayout(self.welcome)
        msg = QLabel(
            "<b>数据库还是空的。</b>可以先装入一个虚构的演示县（约 3000 家检查对象、48 名执法人员）熟悉程序，"
            "也可以直接导入本局的名录 Excel 表。"
        )
        msg.setWordWrap(True)
        self.demo_btn = QPushButton("装入演示数据")
        self.demo_btn.setObjectName("demo-button")
        self.demo_btn.clicked.connect(self.ask_demo)
        import_btn = QPushButton("导入本局的表格（导入向导）…")
        import_btn.setObjectName("welcome-import")
        import_btn.clicked.connect(self.import_guide_requested.emit)
        row = QHBoxLayout()
        row.addWidget(self.demo_btn)
        row.addWidget(import_btn)
        row.addStretch(1)
        wl.addWidget(msg)
        wl.addLayout(row)

        # After a first import: what is still missing before a draw, and the way on.
        self.next_step = QFrame()
        self.next_step.setObjectName("next-step")
        self.next_step.setStyleSheet(
            "#next-step { background: #eef6ff; border: 1px solid #9cc3ee; border-radius: 6px; }"
        )
        self.next_label = QLabel()
        self.next_label.setObjectName("next-step-text")
        self.next_label.setWordWrap(True)
        next_btn = QPushButton("继续导入（导入向导）…")
        next_btn.setObjectName("next-step-import")
        next_btn.clicked.connect(self.import_guide_requested.emit)
        nl = QHBoxLayout(self.next_step)
        nl.addWidget(self.next_label, 1)
        nl.addWidget(next_btn, 0, Qt.AlignmentFlag.AlignVCenter)

        self.data_label = QLabel()
        self.data_label.setStyleSheet("color: #57606a;")
        self.data_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(16)
        layout.addLayout(head)
        self.notices = QLabel()
        self.notices.setObjectName("notices")
        self.notices.setWordWrap(True)
        self.notices.setStyleSheet(
            "#notices { background: #fff4e5; border: 1px solid #f0a35e; border-radius: 6px; padding: 8px; }"
        )
        self.notices.hide()
        layout.addWidget(self.notices)
        layout.addLayout(grid)
        layout.addWidget(self.welcome)
        layout.addWidget(self.next_step)
        layout.addStretch(1)
        layout.addWidget(self.data_label)
        self.refresh()

    def show_notices(self, notices: list[str]) -> None:
        """Things the user must know about this start (an interrupted import, an upgrade, …)."""
        if not notices:
            self.notices.hide()
            return
        self.notices.setText("<b>请注意：</b><br>" + "<br>".join(f"· {n}" for n in notices))
        self.notices.show()

    def on_data_changed(self, kinds: data_hub.Kinds, source: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        name = settings.bureau_name(self.db)
        self.bureau.setText(name or "（尚未设置单位名称）")
        for kind, card in self.cards.items():
            spec = DIRECTORIES[kind]
            counts = directory_counts(self.db, spec)
            card.value.setText(f"{counts.total:,}")
            note = f"{spec.unit}" + (f"，已归档 {counts.archived:,}" if counts.archived else "")
            if spec is INSPECTORS:
                eligible = DirectoryQuery(self.db, spec).count(Filter(eligibility=ELIGIBLE))
                note += f"，今日可抽取 {eligible}"
            card.note.setText(note)
        from dsj_desktop.demo import is_empty

        empty = is_empty(self.db)
        self.welcome.setVisible(empty)
        missing = [] if empty else missing_for_a_draw(self.db)
        self.next_label.setText(
            f"<b>下一步：</b>抽取前还需要导入{'、'.join(missing)}。导入向导按顺序引导，暂时没有的表格可以跳过。"
        )
        self.next_step.setVisible(bool(missing))
        self.refresh_deadlines()

    def refresh_deadlines(self) -> None:
        c = deadline_counts(self.db)
        values = {
            "": (c.by_status.get(INSPECTED, 0), "家已检查，结果未录入", None),
            "due_soon": (c.due_soon, f"家在 {DUE_SOON_WORKDAYS} 个工作日内到期", "#b36b00"),
            "overdue": (c.overdue, "家已过期限仍未录入", "#b00020"),
            "late": (c.late, "家录入时已超过期限", "#b00020"),
        }
        for key, card in self.deadline_cards.items():
            n, note, color = values[key]
            card.value.setText(str(n))
            card.note.setText(note)
            shade = color if (n and color) else "#1f2328"
            card.value.setStyleSheet(f"font-size: 22pt; font-weight: bold; color: {shade};")
        if self.db.url:  # on the unit's server: the folder here keeps this PC's write key and anchor
            from dsj_desktop.db.pg import server_name

            self.data_label.setText(
                f"数据保存在单位服务器 {server_name(self.db.url)}；本机文件夹（本机的写入密钥等）：{self.db.data_dir}"
            )
        else:
            self.data_label.setText(f"数据保存在本机：{self.db.data_dir}")

    def edit_bureau(self) -> None:
        current = settings.bureau_name(self.db)
        text, ok = QInputDialog.getText(self, "单位名称", "本局全称（打印在每份记录上）：", text=current)
        if ok and text.strip():
            name = text.strip()
            run_write(self, "单位名称", lambda: settings.write(self.db, settings.BUREAU_NAME, name),
                      changes={data_hub.SETTINGS})  # fmt: skip

    def ask_demo(self) -> None:
        """The demo goes into this folder for good: only after saying so (never by pressing Enter)."""
        answer = QMessageBox.question(
            self,
            "装入演示数据",
            f"虚构的青山县演示数据将写进当前数据文件夹：\n{self.db.data_dir}\n\n"
            "装入后不能删除。正式使用的文件夹请不要装入；想试用可以先用“文件 › 切换数据文件夹”另建一个文件夹。"
            "\n\n仍要装入吗？",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.load_demo()

    def load_demo(self) -> None:
        from dsj_desktop.demo import fill_demo

        WriteOp(self, "装入演示数据", fill_demo(self.db), changes={data_hub.ALL}).success(
            lambda summary: QMessageBox.information(self, "装入演示数据", summary.text())
        ).run()
