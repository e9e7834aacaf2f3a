"""Runs core jobs (generators yielding Progress) on a worker thread, with a progress dialog that
appears after half a second and a cancel button. Widgets are only touched on the GUI thread."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, Qt, QThread, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from dsj_desktop.errors import UserError
from dsj_desktop.progress import Job, Progress

SHOW_AFTER_MS = 500


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None
    cancelled: bool = False
    trace: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled


def _drive(job: Job[Any], cancel: threading.Event, on_step: Callable[[Progress], None]) -> Outcome:
    """Run *job* to its end on the calling thread; never raises (errors go into the outcome)."""
    out = Outcome()
    try:
        while True:
            if cancel.is_set():
                job.close()  # GeneratorExit inside the job: open transactions roll back
                out.cancelled = True
                break
            try:
                step = next(job)
            except StopIteration as stop:
                out.value = stop.value
                break
            on_step(step)
    except BaseException as exc:  # reported to the GUI thread, never lost
        out.error = exc
        out.trace = traceback.format_exc()
    return out


class _Worker(QObject):
    progress = Signal(str, int, int)  # message, done, total (-1: unknown)
    done = Signal(object)

    def __init__(self, job: Job[Any]) -> None:
        super().__init__()
        self.job = job
        self.cancel = threading.Event()

    @Slot()
    def run(self) -> None:
        def step(p: Progress) -> None:
            self.progress.emit(p.message, p.done, -1 if p.total is None else p.total)

        self.done.emit(_drive(self.job, self.cancel, step))


class _Receiver(QObject):
    """Lives on the GUI thread, so the worker's signals arrive here queued, never on the worker thread."""

    def __init__(self, dialog: QProgressDialog, loop: QEventLoop, result: list[Outcome]) -> None:
        super().__init__()
        self.dialog = dialog
        self.loop = loop
        self.result = result

    @Slot(str, int, int)
    def on_progress(self, message: str, done: int, total: int) -> None:
        if self.result:
            return
        self.dialog.setLabelText(message)
        if total > 0:
            self.dialog.setMaximum(total)
            self.dialog.setValue(min(done, total))
        else:
            self.dialog.setMaximum(0)

    @Slot(object)
    def on_done(self, out: Outcome) -> None:
        self.result.append(out)
        self.loop.quit()


def run_with_progress(
    parent: QWidget | None, title: str, job: Job[Any], *, cancellable: bool = True
) -> Outcome:
    """Run *job* on a worker thread and wait (the GUI stays live) for its outcome."""
    worker = _Worker(job)
    thread = QThread()
    worker.moveToThread(thread)
    loop = QEventLoop()
    result: list[Outcome] = []

    dialog = QProgressDialog(title, "取消" if cancellable else "", 0, 0, parent)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(10**9)  # shown by our own timer, not by Qt's heuristics
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    if not cancellable:
        dialog.setCancelButton(None)
    dialog.reset()
    dialog.hide()

    receiver = _Receiver(dialog, loop, result)

    def on_cancel() -> None:
        dialog.setLabelText("正在取消……")
        worker.cancel.set()

    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(lambda: None if result else dialog.show())
    worker.progress.connect(receiver.on_progress)
    worker.done.connect(receiver.on_done)
    dialog.canceled.connect(on_cancel)
    thread.started.connect(worker.run)
    thread.start()
    timer.start(SHOW_AFTER_MS)
    if not result:
        loop.exec()
    timer.stop()
    thread.quit()
    thread.wait()
    dialog.hide()
    dialog.deleteLater()
    return result[0]


class BackgroundJob(QObject):
    """A job run on the thread pool without a dialog and without waiting: for work the user need not
    wait for (e.g. the plan tab's pool sizes). Every step arrives on the GUI thread through
    ``stepped`` and the outcome through ``finished`` (connect them to slots of GUI objects); a
    cancelled job stops at its next step. Keep it without a Qt parent: the pool thread holds it
    until the job has ended, whatever happens to the window meanwhile."""

    stepped = Signal(object)  # Progress (or a subclass carrying a partial result)
    finished = Signal(object)  # Outcome

    def __init__(self, job: Job[Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job = job
        self._cancel = threading.Event()
        self._ended = threading.Event()
        self.outcome: Outcome | None = None

    def start(self) -> None:
        QThreadPool.globalInstance().start(self._run)

    def _run(self) -> None:  # on a pool thread
        try:
            out = _drive(self._job, self._cancel, self._emit_step)
            self.outcome = out
            self.finished.emit(out)
        except RuntimeError:
            pass  # the Qt side is gone (the window closed): nobody is waiting for the result
        finally:
            self._ended.set()

    def _emit_step(self, step: Progress) -> None:
        if self._cancel.is_set():
            return  # nobody wants it any more
        self.stepped.emit(step)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def running(self) -> bool:
        return not self._ended.is_set()

    def wait(self, timeout_s: float = 30.0) -> bool:
        """Block until the job has ended (for shutting down); True if it did."""
        return self._ended.wait(timeout_s)


def report_failure(parent: QWidget | None, title: str, out: Outcome) -> None:
    """Show a failed outcome: a user error plainly, anything else as an internal error with details."""
    if out.cancelled:
        QMessageBox.information(parent, title, "已取消，数据库没有任何改动。")
        return
    if isinstance(out.error, UserError):
        box = QMessageBox(QMessageBox.Icon.Warning, title, _first_lines(str(out.error)), parent=parent)
        if str(out.error).count("\n") > 8:
            box.setDetailedText(str(out.error))
        box.exec()
        return
    box = QMessageBox(QMessageBox.Icon.Critical, title, f"程序内部错误：{out.error}", parent=parent)
    box.setDetailedText(out.trace)
    box.exec()


def _first_lines(text: str, n: int = 8) -> str:
    lines = text.splitlines()
    if len(lines) <= n:
        return text
    return "\n".join(lines[:n]) + f"\n……（共 {len(lines) - 1} 处，点“显示详细信息”查看全部）"
