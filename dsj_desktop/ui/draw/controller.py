"""One draw session's live state: the step on screen, the witness being typed, the rolling animation.

:class:`DrawController` performs every step through :mod:`dsj_desktop.services.sessions`, each write
on a worker thread (:mod:`dsj_desktop.ui.runner`), and checks H(N) and the seed with the functions of
:mod:`dsj_desktop.draw`. The operator's preview and the projector are two stage views driven by the
same controller and its signals: they paint the same state, each at its own size.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QTimer, QVariantAnimation, Signal
from PySide6.QtWidgets import QWidget

from dsj_desktop.db.engine import Database
from dsj_desktop.draw.algorithm import (
    MIN_WITNESS_DIGITS,
    DrawHashes,
    Substitution,
    commitment_of,
    compute_seed,
)
from dsj_desktop.errors import UserError
from dsj_desktop.progress import Job, Progress
from dsj_desktop.services import sessions
from dsj_desktop.ui import kit
from dsj_desktop.ui.draw import stage
from dsj_desktop.ui.draw.stage import (
    CLOSED,
    NOTICE,
    PAGE_MS,
    RESULT,
    REVEAL,
    ROLLING,
    SPEED_KEY,
    SPEEDS,
    TEAM,
    TIMINGS,
    WITNESSES,
    RollState,
    initial_step,
    make_reels,
    plan_beats,
    pool_names_by_stratum,
)
from dsj_desktop.ui.runner import run_with_progress

_T = TypeVar("_T")


def _job(title: str, call: Callable[[], _T]) -> Job[_T]:
    yield Progress(f"{title}……")
    return call()


def remembered(db: Database, key: str, default: object = None) -> object:
    """A choice of the draw screen remembered on this PC (see :func:`remember`; an upgraded install
    takes the one an earlier program kept among the bureau's settings: :func:`kit.remembered`)."""
    return kit.remembered(db, key, default)


def remember(db: Database, key: str, value: object) -> None:
    """Keep a choice of the draw screen for next time: the projector screen, the animation speed,
    the place and the operator belong to this PC and whoever works at it, not to the bureau's
    settings (which only an administrator may change, while operators run the draws, and which a
    server shares between PCs with other screens). The draw record itself keeps place and operator."""
    kit.remember(db, key, value)


class DrawController(QObject):
    """One session's live state; both stage views and the operator's controls follow it."""

    changed = Signal()  # the session, the step or what is typed changed: repaint, update controls
    frame = Signal()  # an animation frame: repaint only
    written = Signal()  # a write to the database succeeded (the window's "data changed" hub hears it)

    def __init__(self, db: Database, session_id: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.busy = False  # a write is running
        self.session = sessions.get_session(db, session_id)
        if sessions.is_interrupted(db, self.session):
            # Its nonce was in the memory of a program that is gone (spec §3.4): it can never be revealed.
            with contextlib.suppress(UserError):  # an account that may not void sees it as it is
                self.session = self._write(
                    "作废中断的场次",
                    sessions.void,
                    session_id,
                    sessions.INTERRUPTED,
                    operator=self.session.operator,
                )
        with db.read() as conn:
            self.digits_fixed = sessions.witnesses_fixed(conn, session_id) or bool(self.session.witnesses)
        self.step = initial_step(self.session)
        speed = remembered(db, SPEED_KEY, "normal")
        self.speed = speed if speed in SPEEDS else "normal"
        self.pending = ("", "")  # the witness being typed (name, digits), shown as typed
        self.roll: RollState | None = None
        self.result_page = 0
        self.last_substitution: dict[str, Any] | None = None
        self._pool: dict[str, list[str]] | None = None
        self._anim = QVariantAnimation(self)
        self._anim.setStartValue(0.0)
        self._anim.setEndValue(1.0)
        self._anim.valueChanged.connect(self._on_frame)
        self._anim.finished.connect(self._on_landed)
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.timeout.connect(self._next_beat)
        self._pager = QTimer(self)
        self._pager.setInterval(PAGE_MS)
        self._pager.timeout.connect(self._next_page)
        self._update_pager()

    # -- reading ----------------------------------------------------------------------------

    @property
    def operator(self) -> str:
        return self.session.operator

    @property
    def digits(self) -> int:
        return self.session.digits

    @property
    def can_reveal(self) -> bool:
        return self.session.status == sessions.COMMITTED and self.digits >= MIN_WITNESS_DIGITS

    def nonce_check(self) -> tuple[str, bool]:
        """H(N) computed here and now, and whether it equals the commitment shown before."""
        s = self.session
        if not s.nonce or s.status in (sessions.PREPARED, sessions.COMMITTED):
            return "", False
        h = commitment_of(s.nonce)
        return h, h == s.commitment

    def seed_check(self) -> bool:
        """The seed recomputed here and now from the public inputs (DSJ-DRAW-1 §4) equals the one used."""
        s = self.session
        if not s.seed:
            return False
        hashes = DrawHashes(**{k: s.hashes[k] for k in ("targets", "inspectors", "experts", "params")})
        return compute_seed(s.id, hashes, [w["digits"] for w in s.witnesses], s.nonce) == s.seed

    @property
    def nonce_public(self) -> bool:
        """The nonce may be shown: revealed, or disclosed by a void after the commitment."""
        return stage.nonce_public(self.session)

    @property
    def stratified(self) -> bool:
        return stage.stratified(self.session)

    def pages(self) -> int:
        return stage.pages(self.session)

    def result_view(self) -> list[dict[str, Any]]:
        """The result as the public sees it: names only (no personal ids), current teams."""
        return stage.result_view(self.session)

    def stratum_sizes(self) -> dict[str, int]:
        return dict(self.session.frozen_input("strata") or {})

    # -- writing: every database write runs on a worker thread (the animation keeps running) --

    def _write(
        self, title: str, fn: Callable[..., sessions.Session], *args: Any, **kw: Any
    ) -> sessions.Session:
        """``fn(db, *args, **kw)`` off the GUI thread; returns the session it returns."""

        def call() -> sessions.Session:
            s = fn(self.db, *args, **kw)
            if s.result:  # drawn: the result table and the stage name every drawn target, so the
                s.target_names  # noqa: B018  candidates (7 MB at city scale) are decoded here, off the GUI thread
            return s

        session: sessions.Session = self._write_job(title, call)
        return session

    def _write_job(self, title: str, call: Callable[[], _T]) -> _T:
        """Run *call* through the runner (a progress dialog if it takes long), then announce the
        write. A refusal of the core is raised here, on the GUI thread, as if the call were direct."""
        if self.busy:
            raise UserError("上一步操作尚未完成，请稍候。")
        self.busy = True
        try:
            out = run_with_progress(self._dialog_parent(), title, _job(title, call), cancellable=False)
        finally:
            self.busy = False
        if out.error is not None:
            raise out.error
        self.written.emit()
        value: _T = out.value
        return value

    def _dialog_parent(self) -> QWidget | None:
        parent = self.parent()
        return parent if isinstance(parent, QWidget) else None

    # -- steps -----------------------------------------------------------------------------

    def go(self, step: str) -> None:
        self.step = step
        self.result_page = 0
        self._update_pager()
        self.changed.emit()

    def reload(self) -> None:
        self.session = sessions.get_session(self.db, self.session.id)
        self.changed.emit()

    def commit(self) -> None:
        self.session = self._write("公告", sessions.commit, self.session.id, operator=self.operator)
        self.go(NOTICE)

    def set_pending(self, name: str, digits: str) -> None:
        if (name, digits) != self.pending:
            self.pending = (name, digits)
            self.changed.emit()

    def fix_witnesses(self) -> None:
        """The operator confirms every witness has written their digits down before any is read out."""
        self.session = self._write(
            "见证人写定数字", sessions.fix_witnesses, self.session.id, operator=self.operator
        )
        self.digits_fixed = True
        self.go(WITNESSES)

    def add_witness(self, name: str, digits: str) -> None:
        self.session = self._write(
            "录入见证人", sessions.add_witness, self.session.id, name, digits, operator=self.operator
        )
        self.pending = ("", "")
        self.go(WITNESSES)

    def reveal(self) -> None:
        self.session = self._write("开奖", sessions.do_reveal, self.session.id, operator=self.operator)
        self.go(REVEAL)

    def confirm(self) -> None:
        self._stop_animation()
        self.session = self._write("确认抽取结果", sessions.confirm, self.session.id, operator=self.operator)
        self.go(CLOSED)

    def void(self, reason: str) -> None:
        self._stop_animation()
        self.session = self._write(
            "作废本场次", sessions.void, self.session.id, reason, operator=self.operator
        )
        self.go(CLOSED)

    def substitute(
        self,
        target: str,
        removed: str,
        reason: str,
        *,
        unavailable: Sequence[tuple[str, str]] = (),
        kind: str = sessions.INSPECTOR,
    ) -> Substitution:
        def job() -> tuple[Substitution, sessions.Session]:
            new = sessions.substitute(self.db, self.session.id, target, removed, reason, unavailable=unavailable,
                                      kind=kind, operator=self.operator)  # fmt: skip
            return new, sessions.get_session(self.db, self.session.id)

        new, self.session = self._write_job("递补", job)
        self.last_substitution = new.to_json() | {"kind": kind}
        self.go(CLOSED)
        return new

    def set_speed(self, speed: str) -> None:
        if speed in SPEEDS and speed != self.speed:
            self.speed = speed
            self.changed.emit()
            remember(self.db, SPEED_KEY, speed)

    def shutdown(self) -> None:
        """Stop every timer (the screen showing this session is going away)."""
        self._stop_animation()
        self._pager.stop()

    # -- the rolling animation ---------------------------------------------------------------

    def start_roll(self) -> None:
        """Show the result (already fixed by the seed) target by target, then team by team."""
        if not self.session.result:
            self.go(RESULT)
            return
        self._stop_animation()
        self.roll = RollState(plan_beats(self.session))
        self.go(ROLLING)
        self._start_beat()

    def stop_roll(self) -> None:
        """End the animation now: everything lands at once (the result does not change)."""
        self._stop_animation()
        if self.roll is not None:
            self.roll.landed_targets = list(range(len(self.session.result)))
            self.roll.landed_teams = list(range(len(self.session.result)))
            self.roll.finished = True
        if self.step == ROLLING:
            self.go(RESULT)

    def _stop_animation(self) -> None:
        self._anim.stop()
        self._pause.stop()

    def _start_beat(self) -> None:
        roll = self.roll
        assert roll is not None
        beat = roll.beat
        if beat is None:
            roll.finished = True
            self.go(RESULT)
            return
        timing = TIMINGS[self.speed]
        if self._pool is None:
            self._pool = pool_names_by_stratum(self.session)
        make_reels(self.session, beat, timing, random.Random(f"{self.session.seed}:{roll.index}"), self._pool)
        roll.t = 0.0
        self._anim.setDuration(max(1, beat.duration_ms))
        self._anim.start()
        self.frame.emit()
        self.changed.emit()

    def _on_frame(self, value: Any) -> None:
        if self.roll is not None:
            self.roll.t = float(value)
            self.frame.emit()

    def _on_landed(self) -> None:
        roll = self.roll
        if roll is None or roll.beat is None:
            return
        roll.t = 1.0
        beat = roll.beat
        if beat.kind == TEAM:
            roll.landed_teams.extend(beat.indices)
        else:
            roll.landed_targets.extend(beat.indices)
        self.changed.emit()
        self._pause.start(TIMINGS[self.speed].pause_ms)

    def _next_beat(self) -> None:
        if self.roll is None:
            return
        self.roll.index += 1
        self._start_beat()

    # -- paging the result on the public screen ---------------------------------------------

    def _update_pager(self) -> None:
        if self.step in (RESULT, CLOSED) and self.pages() > 1:
            self._pager.start()
        else:
            self._pager.stop()

    def _next_page(self) -> None:
        self.result_page = (self.result_page + 1) % self.pages()
        self.frame.emit()

    def show_page(self, page: int) -> None:
        self.result_page = max(0, min(page, self.pages() - 1))
        if self._pager.isActive():
            self._pager.start()  # a full interval on the page chosen
        self.frame.emit()
