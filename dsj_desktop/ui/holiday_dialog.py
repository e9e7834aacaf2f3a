"""Settings of the result deadline: N working days, and the official holiday arrangement of each year
the bundled calendar does not cover (entered by the operator from the State Council's notice)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.clock import today
from dsj_desktop.db.engine import Database
from dsj_desktop.domain.workdays import (
    MAX_DEADLINE_DAYS,
    MIN_DEADLINE_DAYS,
    PACKAGE_YEARS,
    DateListError,
    YearArrangement,
    format_date_list,
    parse_date_list,
)
from dsj_desktop.services import holidays
from dsj_desktop.ui import data_hub
from dsj_desktop.ui.kit import ok_cancel
from dsj_desktop.ui.ops import WriteOp, warn
from dsj_desktop.ui.table_model import RED, ListTableModel

DEADLINES = frozenset({data_hub.RESULTS})  # holidays and the deadline setting move every result's deadline


class HolidayDialog(QDialog):
    def __init__(
        self, db: Database, parent: QWidget | None = None, *, select_year: int | None = None
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.changed = False
        self.setObjectName("holiday-dialog")
        self.setWindowTitle("节假日安排与录入期限")
        self.resize(860, 600)

        self.days = QSpinBox()
        self.days.setObjectName("deadline-days")
        self.days.setRange(MIN_DEADLINE_DAYS, MAX_DEADLINE_DAYS)
        self.days.setSuffix(" 个工作日")
        self.days.setValue(holidays.read_deadline_days(db))
        days_row = QHBoxLayout()
        days_row.addWidget(QLabel("检查结果应在检查后"))
        days_row.addWidget(self.days)
        days_row.addWidget(QLabel("内录入（常见为 7 个工作日，也有 5 或 20 个工作日的）"))
        days_row.addStretch(1)

        intro = QLabel(
            "工作日按国家法定节假日和调休安排计算。程序自带 "
            f"{min(PACKAGE_YEARS)}–{max(PACKAGE_YEARS)} 年的官方安排；之后的年份需要在国务院办公厅公布当年"
            "《部分节假日安排的通知》后在此录入。未录入的年份，程序不会猜测，到期日显示为“无法计算”。"
        )
        intro.setWordWrap(True)
        self.model = ListTableModel(
            ("年度", "节假日安排来源", "放假天数", "调休上班天数", "录入人", "录入时间", "依据")
        )
        self.model.foreground = lambda r, c: RED if self.infos[r].missing else None
        self.table = QTableView()
        self.table.setObjectName("holiday-years")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)

        self.editor_box = QGroupBox("录入年度节假日安排")
        self.year_label = QLabel()
        self.off = QPlainTextEdit()
        self.off.setObjectName("holiday-off")
        self.off.setPlaceholderText(
            "每行一个日期或日期范围，例如：\n2027-01-01 至 2027-01-03\n2027-02-06 至 2027-02-12"
        )
        self.work = QPlainTextEdit()
        self.work.setObjectName("holiday-work")
        self.work.setPlaceholderText("调休上班的周六、周日，例如：\n2027-02-14\n2027-02-20")
        self.work.setMaximumHeight(90)
        self.note = QLineEdit()
        self.note.setPlaceholderText("依据，如：国务院办公厅关于 2027 年部分节假日安排的通知")
        self.operator = QLineEdit()
        self.operator.setPlaceholderText("录入人姓名")
        self.preview = QLabel()
        self.preview.setObjectName("holiday-preview")
        self.preview.setWordWrap(True)
        self.save_btn = QPushButton("保存该年安排")
        self.save_btn.setObjectName("holiday-save")
        self.save_btn.clicked.connect(self.save_year)
        form = QFormLayout(self.editor_box)
        form.addRow("", self.year_label)
        form.addRow("放假日期", self.off)
        form.addRow("调休上班日期", self.work)
        form.addRow("依据", self.note)
        form.addRow("录入人", self.operator)
        form.addRow("", self.preview)
        form.addRow("", self.save_btn)
        self.off.textChanged.connect(self.update_preview)
        self.work.textChanged.connect(self.update_preview)

        buttons = ok_cancel(self, self.accept_days).box
        layout = QVBoxLayout(self)
        layout.addLayout(days_row)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addWidget(self.editor_box, 1)
        layout.addWidget(buttons)

        self.infos: list[holidays.YearInfo] = []
        self.year: int | None = None
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.load_selected())
        self.reload(select_year)

    def reload(self, select_year: int | None = None) -> None:
        self.infos = holidays.read_year_table(self.db, today().year)
        rows = [
            (str(i.year), "未录入（到期日无法计算）" if i.missing else i.source,
             str(i.holidays) if i.source == "操作员录入" else "", str(i.workdays) if i.source == "操作员录入" else "",
             i.entered_by, i.entered_at[:16].replace("T", " "), i.note)
            for i in self.infos
        ]  # fmt: skip
        self.model.set_rows(self.model.headers, rows)
        header = self.table.horizontalHeader().sizeHint().height()
        self.table.setFixedHeight(header + 26 * min(len(rows), 8) + 2 * self.table.frameWidth() + 2)
        want = select_year
        if want is None:
            want = next((i.year for i in self.infos if i.missing), today().year)
        for r, info in enumerate(self.infos):
            if info.year == want:
                self.table.selectRow(r)
                break
        self.load_selected()

    def load_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        info = self.infos[rows[0].row()]
        self.year = info.year
        cal = holidays.read_calendar(self.db)
        packaged = info.year in PACKAGE_YEARS and info.year not in cal.entered
        self.editor_box.setTitle(f"{info.year} 年节假日安排")
        for w in (self.off, self.work, self.note, self.operator, self.save_btn):
            w.setEnabled(not packaged)
        if packaged:
            self.year_label.setText(f"{info.year} 年的安排由程序自带（{info.source}），无需录入。")
            self.off.setPlainText("")
            self.work.setPlainText("")
            self.preview.setText("")
            return
        arr = cal.entered.get(info.year)
        self.year_label.setText(
            f"{info.year} 年：请按国务院办公厅的通知录入全部放假日期（含节日中的周末）和调休上班日期。"
            if arr is None else f"{info.year} 年：已录入，可修改后重新保存。"
        )  # fmt: skip
        self.off.setPlainText(format_date_list(arr.holidays) if arr else "")
        self.work.setPlainText(format_date_list(arr.workdays) if arr else "")
        self.note.setText(info.note)
        self.update_preview()

    def arrangement(self) -> YearArrangement:
        assert self.year is not None
        off = parse_date_list(self.off.toPlainText(), self.year)
        work = parse_date_list(self.work.toPlainText(), self.year)
        return YearArrangement(self.year, frozenset(off), frozenset(work))

    def update_preview(self) -> None:
        if self.year is None or not self.off.isEnabled():
            return
        if not self.off.toPlainText().strip() and not self.work.toPlainText().strip():
            self.preview.setStyleSheet("color: #57606a;")
            self.preview.setText("尚未录入。放假日期包括节日期间的周六、周日；调休上班日期只填周六、周日。")
            return
        try:
            arr = self.arrangement()
        except DateListError as exc:
            self.preview.setStyleSheet("color: #b00020;")
            self.preview.setText(str(exc))
            return
        problems = arr.problems()
        if problems:
            self.preview.setStyleSheet("color: #b00020;")
            self.preview.setText("；".join(problems))
        else:
            self.preview.setStyleSheet("color: #1a7f37;")
            self.preview.setText(f"共放假 {len(arr.holidays)} 天，调休上班 {len(arr.workdays)} 天。")

    def save_year(self) -> None:
        try:
            arr = self.arrangement()
        except DateListError as exc:
            QMessageBox.warning(self, "保存节假日安排", str(exc))
            return
        operator, note = self.operator.text().strip(), self.note.text().strip()

        def saved(_: object) -> None:
            self.changed = True
            self.reload(arr.year)
            QMessageBox.information(
                self, "保存节假日安排", f"{arr.year} 年节假日安排已保存，该年的到期日现在可以计算。"
            )

        WriteOp(
            self, "保存节假日安排",
            lambda: holidays.save_arrangement(self.db, arr, operator=operator, note=note),
            changes=DEADLINES,
        ).success(saved).failure(warn(self, "保存节假日安排")).run()  # fmt: skip

    def accept_days(self) -> None:
        days = self.days.value()
        if days == holidays.read_deadline_days(self.db):
            self.accept()
            return

        def saved(_: object) -> None:
            self.changed = True
            self.accept()

        WriteOp(
            self, "录入期限", lambda: holidays.set_deadline_days(self.db, days), changes=DEADLINES
        ).success(saved).run()
