"""Operations: the GUI's one way to run core work, in the manner of Anki's ``QueryOp``/``CollectionOp``.

An operation runs one core function off the GUI thread (through :func:`ui.runner.run_with_progress`:
a progress dialog after half a second, the window kept live), then, back on the GUI thread, reports
the outcome: the ``success`` callback with the function's value, or the ``failure`` callback (by
default :func:`ui.runner.report_failure`: a refusal in plain words, anything else as an internal
error). A :class:`WriteOp` also announces the kinds of data it changed on the window's
:class:`ui.data_hub.DataHub` before its ``success`` callback runs, so every tab — the one that asked
included — reloads from that one signal::

    (WriteOp(self, "添加行业领域", lambda: codes.add_code(db, INDUSTRY, text), changes={data_hub.CODES})
        .success(lambda added: ...)
        .run())

The core function is either a plain callable (run as a whole on the worker thread) or a job (a
generator yielding :class:`progress.Progress`, which may be cancelled between steps). ``run()``
returns when the work has ended, with the :class:`ui.runner.Outcome`; callers rarely need it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from typing import Any, Generic, TypeVar, cast

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QProgressDialog, QWidget

from dsj_desktop.errors import UserError, ValidationError
from dsj_desktop.progress import Job
from dsj_desktop.ui.data_hub import DataHub
from dsj_desktop.ui.runner import Outcome, report_failure, run_with_progress

T = TypeVar("T")


def _job(work: Callable[[], T] | Job[T]) -> Job[T]:
    """The work as a job run on the worker thread (a plain callable is called there, not here)."""
    if isinstance(work, Generator):
        result: T = yield from work
        return result
    value: object = work()
    if isinstance(value, Generator):  # a callable that returns a job
        inner = cast(Job[T], value)
        return (yield from inner)
    return cast(T, value)


def find_hub(widget: QWidget | None) -> DataHub | None:
    """The "data changed" hub of the main window *widget* belongs to (None outside a main window,
    e.g. a dialog opened on its own in a test)."""
    while widget is not None:  # the window owns its hub as a direct child QObject
        hub = widget.findChild(DataHub, options=Qt.FindChildOption.FindDirectChildrenOnly)
        if hub is not None:
            return hub
        widget = widget.parentWidget()
    return None


def announce(widget: QWidget | None, kinds: Iterable[str], *, source: object = None) -> None:
    """Tell every tab of *widget*'s window that data of *kinds* changed (no-op outside a window)."""
    hub = find_hub(widget)
    if hub is not None:
        hub.announce(*kinds, source=source)


class _InputBlocker(QObject):
    """While an operation runs, the window stays painted and live but takes no input (a second click
    on 保存 must not save twice), until the progress dialog appears: it alone (取消) takes clicks."""

    BLOCKED = frozenset({
        QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick,
        QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.Wheel, QEvent.Type.Shortcut,
        QEvent.Type.ShortcutOverride,
    })  # fmt: skip

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() not in self.BLOCKED:
            return False
        return not (isinstance(watched, QWidget) and isinstance(watched.window(), QProgressDialog))


class QueryOp(Generic[T]):
    """Core work that changes nothing: run it off the GUI thread, then hand its value to ``success``."""

    def __init__(self, parent: QWidget | None, title: str, work: Callable[[], T] | Job[T]) -> None:
        self.parent = parent
        self.title = title
        self.work = work
        self._success: Callable[[T], object] | None = None
        self._failure: Callable[[Outcome], object] | None = None
        self._cancellable = isinstance(work, Generator)

    def success(self, fn: Callable[[T], object]) -> QueryOp[T]:
        self._success = fn
        return self

    def failure(self, fn: Callable[[Outcome], object]) -> QueryOp[T]:
        """Replace the default report (a message box) of a failed or cancelled outcome."""
        self._failure = fn
        return self

    def cancellable(self, yes: bool = True) -> QueryOp[T]:
        """Offer a cancel button (only a job can stop: between its steps, rolling back)."""
        self._cancellable = yes
        return self

    def run(self) -> Outcome:
        app = QApplication.instance()
        blocker = _InputBlocker()
        if app is not None:
            app.installEventFilter(blocker)
        try:
            out = run_with_progress(self.parent, self.title, _job(self.work), cancellable=self._cancellable)
        finally:
            if app is not None:
                app.removeEventFilter(blocker)
        if out.ok:
            self._succeeded(out)
        elif self._failure is not None:
            self._failure(out)
        else:
            report_failure(self.parent, self.title, out)
        return out

    def _succeeded(self, out: Outcome) -> None:
        if self._success is not None:
            self._success(out.value)


class WriteOp(QueryOp[T]):
    """Core work that writes: like :class:`QueryOp`, and on success the window's hub hears
    ``changes`` (the kinds of data written, see :mod:`ui.data_hub`) before ``success`` runs."""

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        work: Callable[[], T] | Job[T],
        *,
        changes: Iterable[str],
        source: object = None,
    ) -> None:
        super().__init__(parent, title, work)
        self.changes = frozenset(changes)
        self.source = source

    def _succeeded(self, out: Outcome) -> None:
        if self.changes:
            announce(self.parent, self.changes, source=self.source)
        super()._succeeded(out)


def refusal_in(label: QLabel, title: str = "保存", *, listed: bool = True) -> Callable[[Outcome], None]:
    """A ``failure`` handler for a form: a refusal (:class:`ValidationError`) shown in the form's
    *label* (its problems one a line when *listed*, else its message); anything else reported."""

    def show(out: Outcome) -> None:
        if not isinstance(out.error, ValidationError):
            report_failure(label.window(), title, out)
            return
        label.setText("无法保存：\n" + "\n".join(out.error.problems) if listed else str(out.error))
        label.show()

    return show


def warn(parent: QWidget | None, title: str) -> Callable[[Outcome], None]:
    """A ``failure`` handler: a refusal in a plain warning box (as a message box of the screen
    itself would show it), anything else reported as usual."""

    def show(out: Outcome) -> None:
        if isinstance(out.error, UserError):
            QMessageBox.warning(parent, title, str(out.error))
        else:
            report_failure(parent, title, out)

    return show


def run_write(
    parent: QWidget | None, title: str, work: Callable[[], Any], *, changes: Iterable[str]
) -> Outcome:
    """A :class:`WriteOp` without callbacks (the common case of a short write)."""
    return WriteOp(parent, title, work, changes=changes).run()
