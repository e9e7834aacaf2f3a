"""The operator's page of one draw session: the public stage (as the projector shows it) beside the
controls of the current step, the full result list, 确认 / 作废, 递补, printing and export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRegularExpression, Qt, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QGuiApplication,
    QKeySequence,
    QRegularExpressionValidator,
    QScreen,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from dsj_desktop.db.engine import Database
from dsj_desktop.draw.algorithm import MIN_WITNESS_DIGITS
from dsj_desktop.errors import UserError
from dsj_desktop.keys import group_hex
from dsj_desktop.publish import record_pdf as rp
from dsj_desktop.publish.session_files import files_current, pdf_path, record_pdf_path, write_session_files
from dsj_desktop.services import sessions
from dsj_desktop.ui.draw.controller import DrawController, remember, remembered
from dsj_desktop.ui.draw.dialogs import ExportDialog, SubstituteDialog
from dsj_desktop.ui.draw.paint import StageView
from dsj_desktop.ui.draw.projector import ProjectorWindow, screens
from dsj_desktop.ui.draw.stage import CLOSED, NOTICE, RESULT, REVEAL, ROLLING, SPEEDS, WITNESSES
from dsj_desktop.ui.elide import ElidedLabel
from dsj_desktop.ui.kit import make_table
from dsj_desktop.ui.open_file import open_file
from dsj_desktop.ui.runner import report_failure, run_with_progress
from dsj_desktop.ui.table_model import ListTableModel
from dsj_desktop.ui.trust_widgets import note_label

PROJECTOR_SCREEN_KEY = "draw_projector_screen"
PRIMARY = "QPushButton { font-weight: bold; padding: 6px 14px; }"


class SessionScreen(QWidget):
    """One session, step by step, with the projector window on demand."""

    back = Signal()
    session_changed = Signal(str)  # the session was written (the tab announces it to the window's hub)

    def __init__(self, db: Database, session_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setObjectName("session-screen")
        self.controller = DrawController(db, session_id, self)
        self.projector: ProjectorWindow | None = None
        c = self.controller

        # Top bar.
        self.btn_back = QPushButton("← 返回抽取任务")
        self.btn_back.clicked.connect(self.back.emit)
        self.title = ElidedLabel()  # the task's name may be long: cut with "…", whole in the tooltip
        self.title.setObjectName("session-title")
        self.title.setStyleSheet("font-size: 12pt; font-weight: bold;")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.screen_combo = QComboBox()
        self.screen_combo.setObjectName("projector-screen")
        self.screen_combo.setToolTip("投影窗口显示在哪块屏幕上（只有一块屏幕时用于彩排）")
        self.btn_projector = QPushButton("打开投影")
        self.btn_projector.setObjectName("projector-button")
        self.btn_projector.setCheckable(True)
        self.btn_projector.setToolTip("在所选屏幕上全屏显示抽取过程；在本窗口按 Esc 关闭投影")
        self.btn_projector.toggled.connect(self._toggle_projector)
        self.speed_combo = QComboBox()
        self.speed_combo.setObjectName("speed-combo")
        for key, title in SPEEDS.items():
            self.speed_combo.addItem(title, key)
        self.speed_combo.setCurrentIndex(list(SPEEDS).index(c.speed))
        self.speed_combo.currentIndexChanged.connect(lambda _: c.set_speed(self.speed_combo.currentData()))
        self.btn_void = QPushButton("作废…")
        self.btn_void.setObjectName("void-button")
        self.btn_void.setToolTip("任何一步都可以作废本场次（须写明原因）；作废的场次永久保留并公开随机数")
        self.btn_void.clicked.connect(self.ask_void)
        top = QHBoxLayout()
        top.addWidget(self.btn_back)
        top.addWidget(self.title, 1)
        top.addWidget(QLabel("动画速度："))
        top.addWidget(self.speed_combo)
        top.addWidget(QLabel("投影到："))
        top.addWidget(self.screen_combo)
        top.addWidget(self.btn_projector)
        top.addWidget(self.btn_void)

        # The stage preview and the step controls.
        self.stage = StageView(c, parent=self)
        self.panel = QStackedWidget()
        self.panel.setObjectName("step-panel")
        self.panel.setMinimumWidth(340)
        self.pages: dict[str, QWidget] = {
            NOTICE: self._notice_page(),
            WITNESSES: self._witness_page(),
            REVEAL: self._reveal_page(),
            ROLLING: self._rolling_page(),
            RESULT: self._result_page(),
            CLOSED: self._closed_page(),
        }
        for page in self.pages.values():
            self.panel.addWidget(page)
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(self.stage)
        upper.addWidget(self.panel)
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 2)
        upper.setChildrenCollapsible(False)

        self.result_model = ListTableModel(["序号"])
        self.result_table = make_table(self.result_model)
        self.result_table.setObjectName("result-table")
        self.result_box = QWidget()
        lower_layout = QVBoxLayout(self.result_box)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        self.result_label = QLabel()
        lower_layout.addWidget(self.result_label)
        lower_layout.addWidget(self.result_table)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(self.result_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addWidget(split, 1)

        self.esc = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.esc.setContext(Qt.ShortcutContext.WindowShortcut)
        self.esc.activated.connect(self.close_projector)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.screenAdded.connect(self._screens_changed)
            app.screenRemoved.connect(self._screens_changed)
        self._fill_screens()
        c.changed.connect(self._sync)
        c.written.connect(lambda: self.session_changed.emit(c.session.id))
        self._sync()

    # -- pages ------------------------------------------------------------------------------

    def _page(self, title: str) -> tuple[QWidget, QVBoxLayout]:
        page = QWidget()
        layout = QVBoxLayout(page)
        head = QLabel(title)
        head.setStyleSheet("font-size: 13pt; font-weight: bold;")
        layout.addWidget(head)
        return page, layout

    def _notice_page(self) -> QWidget:
        page, lay = self._page("第 1 步　抽取前公告")
        lay.addWidget(
            note_label(
                "请向现场宣读并展示抽取前公告（右侧投影同步显示）：场次编号、候选名单与参数的四个摘要和承诺值 C。"
                "公告必须在见证人给出数字之前完成，可以先打印公告张贴。"
            )
        )
        self.notice_text = QPlainTextEdit()
        self.notice_text.setObjectName("notice-text")
        self.notice_text.setReadOnly(True)
        lay.addWidget(self.notice_text, 1)
        self.btn_commit = QPushButton("生成承诺值并公告")
        self.btn_commit.clicked.connect(lambda: self._do(self.controller.commit, "公告"))
        self.btn_print_notice = QPushButton("打印抽取前公告（PDF）…")
        self.btn_print_notice.setObjectName("print-notice")
        self.btn_print_notice.clicked.connect(self.print_notice)
        self.btn_to_witnesses = QPushButton("下一步：见证人输入 →")
        self.btn_to_witnesses.setObjectName("to-witnesses")
        self.btn_to_witnesses.setStyleSheet(PRIMARY)
        self.btn_to_witnesses.clicked.connect(lambda: self.controller.go(WITNESSES))
        for b in (self.btn_commit, self.btn_print_notice, self.btn_to_witnesses):
            lay.addWidget(b)
        return page

    def _witness_page(self) -> QWidget:
        page, lay = self._page("第 2 步　见证人输入")
        self.write_first = QLabel(
            "先写定，后宣读：请每位见证人先在纸上写下自己的数字（或掷骰子并记下点数），"
            "全部写好之前任何人都不要宣读。写数字时不知道别人的数字，任何人都无法借此操纵结果。"
        )
        self.write_first.setObjectName("write-first")
        self.write_first.setWordWrap(True)
        self.write_first.setStyleSheet("font-weight: bold; color: #9a6700;")
        lay.addWidget(self.write_first)
        self.btn_fixed = QPushButton("全部见证人已写定数字，开始逐一宣读")
        self.btn_fixed.setObjectName("witnesses-fixed")
        self.btn_fixed.setStyleSheet(PRIMARY)
        self.btn_fixed.clicked.connect(self.ask_fixed)
        lay.addWidget(self.btn_fixed)
        lay.addWidget(
            note_label(
                f"然后请见证人按顺序逐一宣读姓名和数字，录入后即在投影上显示。数字合计至少 "
                f"{MIN_WITNESS_DIGITS} 位才能开奖。录入后不能修改；如有错误，请作废本场次后重新抽取。"
            )
        )
        form = QFormLayout()
        self.witness_name = QLineEdit()
        self.witness_name.setObjectName("witness-name")
        self.witness_name.setPlaceholderText("例如：张三（企业代表）")
        self.witness_name.setMaxLength(sessions.MAX_WITNESS_NAME)
        self.witness_digits = QLineEdit()
        self.witness_digits.setObjectName("witness-digits")
        self.witness_digits.setPlaceholderText("例如：31415926（只能是数字）")
        self.witness_digits.setValidator(
            QRegularExpressionValidator(QRegularExpression("[0-9]{0,200}"), self)
        )
        form.addRow("见证人姓名：", self.witness_name)
        form.addRow("给出的数字：", self.witness_digits)
        lay.addLayout(form)
        self.btn_add_witness = QPushButton("录入此见证人")
        self.btn_add_witness.setObjectName("add-witness")
        self.btn_add_witness.clicked.connect(self.add_witness)
        self.witness_digits.returnPressed.connect(self.add_witness)
        lay.addWidget(self.btn_add_witness)
        for edit in (self.witness_name, self.witness_digits):
            edit.textChanged.connect(
                lambda _=None: self.controller.set_pending(
                    self.witness_name.text().strip(), self.witness_digits.text()
                )
            )
        self.witness_model = ListTableModel(["序号", "见证人", "数字", "位数"])
        view = make_table(self.witness_model)
        view.setObjectName("witness-table")
        lay.addWidget(view, 1)
        self.digits_label = QLabel()
        self.digits_label.setObjectName("digits-label")
        self.digits_label.setStyleSheet("font-size: 11pt;")
        lay.addWidget(self.digits_label)
        self.btn_reveal = QPushButton("开奖（公开随机数 N）")
        self.btn_reveal.setObjectName("reveal-button")
        self.btn_reveal.setStyleSheet(PRIMARY)
        self.btn_reveal.clicked.connect(self.reveal)
        lay.addWidget(self.btn_reveal)
        return page

    def _reveal_page(self) -> QWidget:
        page, lay = self._page("第 3 步　开奖")
        lay.addWidget(
            note_label(
                "随机数 N 已公开，程序当场计算 H(N) 并与公告的承诺值 C 比对，再算出随机种子。"
                "抽取结果此刻已由种子唯一确定；接下来的滚动动画只是逐一展示，停止或跳过都不会改变结果。"
            )
        )
        self.reveal_text = QPlainTextEdit()
        self.reveal_text.setObjectName("reveal-text")
        self.reveal_text.setReadOnly(True)
        lay.addWidget(self.reveal_text, 1)
        self.btn_roll = QPushButton("开始滚动抽取")
        self.btn_roll.setObjectName("roll-button")
        self.btn_roll.setStyleSheet(PRIMARY)
        self.btn_roll.clicked.connect(self.controller.start_roll)
        self.btn_skip = QPushButton("跳过动画，直接显示结果")
        self.btn_skip.setObjectName("skip-button")
        self.btn_skip.clicked.connect(lambda: self.controller.go(RESULT))
        lay.addWidget(self.btn_roll)
        lay.addWidget(self.btn_skip)
        return page

    def _rolling_page(self) -> QWidget:
        page, lay = self._page("第 4 步　滚动抽取")
        lay.addWidget(
            note_label(
                "正在逐一展示抽取结果：先按分层抽取检查对象，再为每个检查对象抽取检查组。"
                "可随时调整上方的动画速度。结果在开奖时已经确定，停止动画只是立即显示全部结果。"
            )
        )
        self.roll_label = QLabel()
        self.roll_label.setObjectName("roll-label")
        self.roll_label.setStyleSheet("font-size: 11pt;")
        lay.addWidget(self.roll_label)
        lay.addStretch(1)
        self.btn_stop = QPushButton("停止动画（显示全部结果）")
        self.btn_stop.setObjectName("stop-button")
        self.btn_stop.setStyleSheet(PRIMARY)
        self.btn_stop.clicked.connect(self.controller.stop_roll)
        lay.addWidget(self.btn_stop)
        self.controller.frame.connect(self._update_roll_label)
        return page

    def _result_page(self) -> QWidget:
        page, lay = self._page("第 5 步　结果确认")
        lay.addWidget(
            note_label(
                "请核对下方的完整结果（检查对象、票号、检查组）。点“确认”后结果生效并生成签名的抽取记录；"
                "如有异议，点“作废…”并写明原因（作废同样留下记录）。"
            )
        )
        self.result_summary = QLabel()
        self.result_summary.setWordWrap(True)
        lay.addWidget(self.result_summary)
        lay.addStretch(1)
        self.btn_replay = QPushButton("重新播放滚动动画")
        self.btn_replay.clicked.connect(self.controller.start_roll)
        lay.addWidget(self.btn_replay)
        self.btn_confirm = QPushButton("确认抽取结果（生效）")
        self.btn_confirm.setObjectName("confirm-button")
        self.btn_confirm.setStyleSheet(PRIMARY)
        self.btn_confirm.clicked.connect(self.ask_confirm)
        lay.addWidget(self.btn_confirm)
        return page

    def _closed_page(self) -> QWidget:
        page, lay = self._page("抽取记录")
        self.closed_label = QLabel()
        self.closed_label.setObjectName("closed-label")
        self.closed_label.setWordWrap(True)
        self.closed_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.closed_label)
        self.subs_model = ListTableModel(["检查对象", "不能参加", "原因", "递补人员", "时间"])
        self.subs_view = make_table(self.subs_model)
        lay.addWidget(self.subs_view, 1)
        self.btn_open_pdf = QPushButton("打开抽取记录 PDF（打印、签字）")
        self.btn_open_pdf.setObjectName("open-pdf")
        self.btn_open_pdf.clicked.connect(self.open_record_pdf)
        self.btn_save_pdf = QPushButton("另存抽取记录 PDF…")
        self.btn_save_pdf.clicked.connect(self.save_record_pdf_as)
        self.btn_export = QPushButton("导出到U盘/文件夹…")
        self.btn_export.setObjectName("export-button")
        self.btn_export.clicked.connect(self.export)
        self.btn_substitute = QPushButton("递补…")
        self.btn_substitute.setObjectName("substitute-button")
        self.btn_substitute.setToolTip("检查组成员不能参加时，按规则递补（生成新版本的抽取记录）")
        self.btn_substitute.clicked.connect(self.substitute)
        self.btn_papers = QPushButton("打印检查文书…")
        self.btn_papers.setObjectName("papers-button")
        self.btn_papers.setToolTip("为每个检查对象生成检查通知书和实地检查记录表（PDF，按递补后的检查组）")
        self.btn_papers.clicked.connect(self.print_papers)
        for b in (self.btn_open_pdf, self.btn_save_pdf, self.btn_export, self.btn_substitute):
            lay.addWidget(b)
        lay.addWidget(self.btn_papers)
        return page

    # -- keeping the controls in step --------------------------------------------------------

    def _sync(self) -> None:
        c = self.controller
        s = c.session
        self.title.setText(f"场次 {s.id}　【{s.status_title}】　{s.task_code} {s.task.get('name', '')}")
        self.panel.setCurrentWidget(self.pages[c.step])
        self.btn_void.setEnabled(s.status != sessions.VOIDED)
        # notice
        self.btn_commit.setVisible(s.status == sessions.PREPARED)
        self.btn_print_notice.setEnabled(bool(s.commitment))
        self.btn_to_witnesses.setVisible(s.status == sessions.COMMITTED)
        lines = [
            f"场次编号：{s.id}",
            f"抽取日期：{s.draw_date}　地点：{s.place or '—'}　操作人员：{s.operator or '—'}",
        ]
        for key, title in (("targets", "检查对象名单摘要"), ("inspectors", "执法人员名单摘要"),
                           ("experts", "专家名单摘要"), ("params", "抽取参数摘要")):  # fmt: skip
            lines.append(f"{title}：\n  {group_hex(s.hashes.get(key, ''))}")
        lines.append(f"承诺值 C = H(N)：\n  {group_hex(s.commitment)}")
        self.notice_text.setPlainText("\n".join(lines))
        # witnesses
        self.witness_model.set_rows(
            ["序号", "见证人", "数字", "位数"],
            [[i, w["name"], w["digits"], len(w["digits"])] for i, w in enumerate(s.witnesses, start=1)],
        )
        need = max(0, MIN_WITNESS_DIGITS - s.digits)
        self.digits_label.setText(f"已录入 {s.digits} 位" + (f"，还需 {need} 位" if need else "，可以开奖 ✔"))
        self.btn_reveal.setEnabled(c.can_reveal)
        self.btn_fixed.setVisible(s.status == sessions.COMMITTED and not c.digits_fixed)
        self.write_first.setVisible(s.status == sessions.COMMITTED and not c.digits_fixed)
        for w in (self.witness_name, self.witness_digits, self.btn_add_witness):
            w.setEnabled(s.status == sessions.COMMITTED and c.digits_fixed)
        # reveal
        if s.seed:
            h, ok = c.nonce_check()
            self.reveal_text.setPlainText(
                f"随机数 N：\n  {group_hex(s.nonce)}\n\nH(N)（现场计算）：\n  {group_hex(h)}\n"
                f"承诺值 C：\n  {group_hex(s.commitment)}\n"
                f"{'✔ H(N) = C' if ok else '✘ H(N) 与 C 不一致！'}\n\n"
                f"随机种子：\n  {group_hex(s.seed)}\n{'✔ 种子重算一致' if c.seed_check() else '✘ 种子重算不一致'}"
            )
        # result
        mandatory = sum(1 for x in s.result if x["mandatory"])
        self.result_summary.setText(
            f"共抽中 {len(s.result)} 家" + (f"（其中必查 {mandatory} 家）" if mandatory else "") + "。"
        )
        self.btn_confirm.setEnabled(s.status == sessions.REVEALED)
        self.btn_replay.setEnabled(bool(s.result))
        self._fill_result_table()
        # The full list once the public has seen it (not during the reveal and the animation).
        self.result_box.setVisible(c.step in (RESULT, CLOSED) and bool(s.result))
        # closed
        digest = sessions.record_sha256(s.record) if s.record else ""
        if s.status == sessions.CONFIRMED:
            text = f"<b style='color:#1a7f37'>已确认（生效）</b>　记录第 {s.record_version} 版"
        elif s.status == sessions.VOIDED:
            text = f"<b style='color:#b00020'>已作废</b>　原因：{s.void_reason}"
        else:
            text = s.status_title
        if digest:
            text += f"<br>记录摘要（SHA-256）：<br><tt>{digest}</tt>"
        self.closed_label.setText(text)
        people = s.inspector_names | s.expert_names
        self.subs_model.set_rows(
            ["检查对象", "不能参加", "原因", "递补人员", "时间"],
            [[s.target_names.get(x["target"], x["target"]), people.get(x["removed"], x["removed"]), x["reason"],
              people.get(x["substitute"], x["substitute"]), rp.format_time(x.get("at"))]
             for x in s.substitutions],
        )  # fmt: skip
        self.subs_view.setVisible(bool(s.substitutions))
        has_record = s.record is not None
        for b in (self.btn_open_pdf, self.btn_save_pdf, self.btn_export):
            b.setEnabled(has_record)
        self.btn_substitute.setEnabled(s.status == sessions.CONFIRMED)
        self.btn_papers.setEnabled(s.status == sessions.CONFIRMED)
        self._update_roll_label()

    def _fill_result_table(self) -> None:
        s = self.controller.session
        people = {sessions.INSPECTOR: s.inspector_names, sessions.EXPERT: s.expert_names}
        teams = s.current_teams()
        replaced = {(x["target"], x["substitute"]) for x in s.substitutions}

        def members(tid: str, kind: str) -> str:
            return "、".join(
                f"{people[kind].get(p, p)}（{p}）" + ("（递补）" if (tid, p) in replaced else "")
                for p in teams[tid][kind]
            )

        rows = []
        stratified = any(x["stratum"] for x in s.result)  # else the column says how each was chosen
        for i, x in enumerate(s.result, start=1):
            how = "必查" if x["mandatory"] else (x["stratum"] if stratified else "随机抽取")
            rows.append([
                i, s.target_names.get(x["id"], ""), x["id"], how,
                x["ticket"][:16] + "…", members(x["id"], sessions.INSPECTOR), members(x["id"], sessions.EXPERT),
            ])  # fmt: skip
        headers = ["序号", "检查对象", "统一社会信用代码", "分层" if stratified else "抽取方式", "票号",
                   "执法检查人员", "专家"]  # fmt: skip
        if self.result_model.rows != rows:
            self.result_model.set_rows(headers, rows)
            header = self.result_table.horizontalHeader()
            for col, width in enumerate((48, 260, 170, 110, 150, 300, 160)):
                header.resizeSection(col, width)
        status = "待确认" if s.status == sessions.REVEALED else s.status_title
        self.result_label.setText(
            f"<b>抽取结果（{status}）</b>：共 {len(rows)} 家，按分配顺序（票号从小到大）"
        )

    def _update_roll_label(self) -> None:
        roll = self.controller.roll
        if roll is None or self.controller.step != ROLLING:
            return
        n = len(self.controller.session.result)
        self.roll_label.setText(
            f"检查对象：已展示 {len(roll.landed_targets)} / {n} 家\n检查组：已展示 {len(roll.landed_teams)} / {n} 组"
        )

    # -- actions ----------------------------------------------------------------------------

    def _do(self, action: Callable[[], object], title: str) -> bool:
        try:
            action()
        except UserError as exc:
            QMessageBox.warning(self, title, str(exc))
            return False
        return True

    def ask_fixed(self) -> None:
        answer = QMessageBox.question(
            self,
            "见证人写定数字",
            "请确认：每位见证人都已在纸上写下（或掷出并记下）自己的数字，并且还没有任何人宣读。\n"
            "确认后请见证人按顺序逐一宣读，操作人员依次录入。",
        )
        if answer == QMessageBox.StandardButton.Yes and self._do(
            self.controller.fix_witnesses, "见证人写定数字"
        ):
            self.witness_name.setFocus()

    def add_witness(self) -> None:
        name = self.witness_name.text().strip()
        digits = self.witness_digits.text().strip()
        if self._do(lambda: self.controller.add_witness(name, digits), "录入见证人"):
            self.witness_name.clear()
            self.witness_digits.clear()
            self.controller.set_pending("", "")
            self.witness_name.setFocus()

    def reveal(self) -> None:
        answer = QMessageBox.question(
            self,
            "开奖",
            f"见证人数字共 {self.controller.digits} 位。开奖后不能再录入或更改见证人数字。\n现在公开随机数 N 吗？",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._do(self.controller.reveal, "开奖")

    def ask_confirm(self) -> None:
        answer = QMessageBox.question(
            self,
            "确认抽取结果",
            f"确认后，这 {len(self.controller.session.result)} 家检查对象和检查组正式生效，"
            "并生成签名的抽取记录。确认吗？",
        )
        if answer == QMessageBox.StandardButton.Yes and self._do(self.controller.confirm, "确认抽取结果"):
            self._write_record_pdf(open_after=False)

    def ask_void(self) -> None:
        reason, ok = QInputDialog.getText(
            self, "作废本场次", "作废原因（必填；将写入签名记录，永久保留并公开）："
        )
        if not ok:
            return
        if not reason.strip():
            QMessageBox.warning(self, "作废本场次", "作废必须写明原因。")
            return
        self._do(lambda: self.controller.void(reason.strip()), "作废本场次")

    def print_notice(self) -> None:
        s = self.controller.session
        default = rp.notice_pdf_path(self.db, s)
        default.parent.mkdir(parents=True, exist_ok=True)
        path, _ = QFileDialog.getSaveFileName(self, "保存抽取前公告", str(default), "PDF 文件 (*.pdf)")
        if not path:
            return
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        try:
            rp.write_notice_pdf(self.db, s, Path(path))
        except UserError as exc:
            QMessageBox.warning(self, "打印抽取前公告", str(exc))
            return
        self.notice_path = Path(path)
        QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def _write_record_pdf(self, path: Path | None = None, *, open_after: bool = True) -> Path | None:
        s = self.controller.session
        folder, name = (path.parent, path.stem) if path is not None else (rp.records_dir(self.db), None)
        out = run_with_progress(self, "生成抽取记录", write_session_files(self.db, s, folder, name=name))
        if not out.ok:
            report_failure(self, "生成抽取记录", out)
            return None
        self.record_path = pdf_path(folder, s, name)
        if open_after:
            open_file(self, self.record_path)
        return self.record_path

    def open_record_pdf(self) -> None:
        s = self.controller.session
        path = record_pdf_path(self.db, s)
        if files_current(s, path.parent):
            open_file(self, path)
        else:
            self._write_record_pdf()

    def save_record_pdf_as(self) -> None:
        s = self.controller.session
        path, _ = QFileDialog.getSaveFileName(
            self, "另存抽取记录", str(Path.home() / f"{s.id}.pdf"), "PDF 文件 (*.pdf)"
        )
        if path:
            self._write_record_pdf(
                Path(path if path.lower().endswith(".pdf") else path + ".pdf"), open_after=False
            )

    def export(self) -> None:
        ExportDialog(self.db, self.controller.session.id, self).exec()

    def substitute(self) -> None:
        SubstituteDialog(self.controller, self).exec()

    def print_papers(self) -> None:
        from dsj_desktop.ui.papers_dialog import print_papers

        print_papers(self, self.db, self.controller.session.id)

    # -- the projector ----------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fill_screens()  # now the window is on its screen: that one is the operator's

    def _screens_changed(self, _screen: QScreen) -> None:
        self._fill_screens()

    def _fill_screens(self) -> None:
        """List the screens; keep the choice, else the remembered one, else a screen other than
        the operator's (the projector), else the operator's own (a rehearsal)."""
        current = self.screen_combo.currentData()
        kept = remembered(self.db, PROJECTOR_SCREEN_KEY)
        mine = self.screen()
        all_ = screens()
        names = [scr.name() for scr in all_]
        self.screen_combo.blockSignals(True)
        self.screen_combo.clear()
        for i, scr in enumerate(all_):
            g = scr.geometry()
            own = "（本窗口，彩排）" if scr is mine else ""
            self.screen_combo.addItem(f"屏幕{i + 1} {g.width()}×{g.height()}{own}", scr.name())
            self.screen_combo.setItemData(i, f"{scr.name()}", Qt.ItemDataRole.ToolTipRole)
        others = [i for i, scr in enumerate(all_) if scr is not mine]
        if current in names:
            choice = names.index(current)
        elif kept in names and (kept != (mine.name() if mine else None) or not others):
            choice = names.index(str(kept))
        else:
            choice = others[0] if others else 0
        self.screen_combo.setCurrentIndex(choice)
        self.screen_combo.blockSignals(False)

    def chosen_screen(self) -> QScreen | None:
        name = self.screen_combo.currentData()
        all_ = screens()
        for scr in all_:
            if scr.name() == name:
                return scr
        others = [scr for scr in all_ if scr is not self.screen()]
        return others[0] if others else (self.screen() or (all_[0] if all_ else None))

    def _toggle_projector(self, on: bool) -> None:
        if on:
            self.open_projector()
        else:
            self.close_projector()

    def open_projector(self) -> ProjectorWindow | None:
        screen = self.chosen_screen()
        if screen is None:
            return None
        if self.projector is None:
            self.projector = ProjectorWindow(self.controller, self)
            self.projector.closed.connect(self._projector_closed)
        remember(self.db, PROJECTOR_SCREEN_KEY, screen.name())
        self.projector.show_on(screen)
        self.btn_projector.blockSignals(True)
        self.btn_projector.setChecked(True)
        self.btn_projector.setText("关闭投影（Esc）")
        self.btn_projector.blockSignals(False)
        if QGuiApplication.platformName() != "offscreen":
            self.activateWindow()  # keep the keyboard on the operator's window
        return self.projector

    def close_projector(self) -> None:
        if self.projector is not None:
            self.projector.close()

    def _projector_closed(self) -> None:
        proj = self.projector
        self.projector = None
        if proj is not None:
            proj.deleteLater()
        self.btn_projector.blockSignals(True)
        self.btn_projector.setChecked(False)
        self.btn_projector.setText("打开投影")
        self.btn_projector.blockSignals(False)

    def shutdown(self) -> None:
        self.close_projector()
        self.controller.shutdown()
