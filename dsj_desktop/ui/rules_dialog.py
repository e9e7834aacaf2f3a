"""抽查规则设置: the bureau's draw rules, stored in the database (validated by the core)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.db.engine import Database
from dsj_desktop.domain.rules import CYCLES, SCOPES, Rules
from dsj_desktop.domain.specs import STATUSES
from dsj_desktop.services.plan import read_rules, save_rules
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.kit import ok_cancel
from dsj_desktop.ui.ops import WriteOp, refusal_in

ALWAYS_IN = "存续"


class RulesDialog(QDialog):
    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setWindowTitle("抽查规则设置")
        self.setObjectName("rules-dialog")
        rules = read_rules(db)
        self.original = rules

        self.cycle = QComboBox()
        self.cycle.setObjectName("rules-cycle")
        for key, label in CYCLES.items():
            self.cycle.addItem(label, key)
        self.cycle.setCurrentIndex(self.cycle.findData(rules.cycle))

        self.once = QCheckBox("本周期已抽中的检查对象不再抽取")
        self.once.setObjectName("rules-once")
        self.once.setChecked(rules.once_per_cycle)
        self.scope = QComboBox()
        self.scope.setObjectName("rules-scope")
        for key, label in SCOPES.items():
            self.scope.addItem(label, key)
        self.scope.setCurrentIndex(self.scope.findData(rules.once_per_cycle_scope))
        once_row = QHBoxLayout()
        once_row.addWidget(self.once)
        once_row.addWidget(QLabel("范围："))
        once_row.addWidget(self.scope)
        once_row.addStretch(1)

        self.cap = QSpinBox()
        self.cap.setObjectName("rules-cap")
        self.cap.setRange(0, 50)
        self.cap.setSpecialValueText("不限")
        self.cap.setSuffix(" 次")
        self.cap.setValue(rules.yearly_cap)
        self.cap_exempt = QCheckBox("黑名单企业不受此限")
        self.cap_exempt.setObjectName("rules-cap-exempt")
        self.cap_exempt.setChecked(rules.blacklist_exempt_from_cap)
        cap_row = QHBoxLayout()
        cap_row.addWidget(self.cap)
        cap_row.addWidget(self.cap_exempt)
        cap_row.addStretch(1)

        self.blacklist = QCheckBox("黑名单企业 100% 检查（必查，不参加随机抽取）")
        self.blacklist.setObjectName("rules-blacklist")
        self.blacklist.setChecked(rules.blacklist_full)

        self.statuses: dict[str, QCheckBox] = {}
        status_row = QHBoxLayout()
        for s in STATUSES:
            box = QCheckBox(s)
            box.setObjectName(f"rules-status-{s}")
            box.setChecked(s in rules.excluded_statuses)
            if s == ALWAYS_IN:
                box.setEnabled(False)
                box.setToolTip("经营状态为“存续”的企业是正常经营的企业，不能排除")
            self.statuses[s] = box
            status_row.addWidget(box)
        status_row.addStretch(1)

        form = QFormLayout()
        form.addRow("抽查周期：", self.cycle)
        form.addRow("不重复抽取：", once_row)
        form.addRow("每年最多抽查：", cap_row)
        form.addRow("黑名单：", self.blacklist)
        form.addRow("不参加抽取的经营状态：", status_row)
        group = QGroupBox("抽取规则（在随机抽取之前确定候选名单，所有任务共用）")
        group.setLayout(form)

        self.preview = QLabel()
        self.preview.setObjectName("rules-preview")
        self.preview.setWordWrap(True)
        self.preview.setTextFormat(Qt.TextFormat.PlainText)
        self.preview.setStyleSheet(
            "color: #1f2328; background: #f6f8fa; border: 1px solid #d0d7de; padding: 6px;"
        )
        note = QLabel("保存后，年度计划中各任务的候选名单和应抽数会按新规则重新计算；已完成的抽取不受影响。")
        note.setWordWrap(True)
        note.setStyleSheet("color: #57606a;")

        self.error = QLabel()
        self.error.setObjectName("error-label")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = ok_cancel(self, self.save, ok="保存").box

        layout = QVBoxLayout(self)
        layout.addWidget(group)
        layout.addWidget(QLabel("按以上设置，抽取时将："))
        layout.addWidget(self.preview)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

        for w in (self.cycle, self.scope):
            w.currentIndexChanged.connect(lambda _: self.update_preview())
        for b in (self.once, self.cap_exempt, self.blacklist, *self.statuses.values()):
            b.toggled.connect(lambda _: self.update_preview())
        self.cap.valueChanged.connect(lambda _: self.update_preview())
        self.update_preview()
        self.resize(max(560, self.sizeHint().width()), self.sizeHint().height())

    def rules(self) -> Rules:
        return Rules(
            cycle=str(self.cycle.currentData()),
            once_per_cycle=self.once.isChecked(),
            once_per_cycle_scope=str(self.scope.currentData()),
            yearly_cap=self.cap.value(),
            blacklist_exempt_from_cap=self.cap_exempt.isChecked(),
            blacklist_full=self.blacklist.isChecked(),
            excluded_statuses=tuple(s for s, b in self.statuses.items() if b.isChecked()),
            extra=self.original.extra,
        )

    def update_preview(self) -> None:
        self.scope.setEnabled(self.once.isChecked())
        self.cap_exempt.setEnabled(self.cap.value() > 0)
        self.preview.setText("\n".join(f"· {line}" for line in self.rules().describe()))

    def save(self) -> None:
        rules = self.rules()
        WriteOp(
            self, "保存抽查规则", lambda: save_rules(self.db, rules), changes={data_hub.SETTINGS}
        ).success(lambda _: self.accept()).failure(refusal_in(self.error)).run()
