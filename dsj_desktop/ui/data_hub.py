"""One "data changed" signal for the whole window: tabs stay current without a restart.

The main window owns one :class:`DataHub`. Whatever changes data (an import, a confirmed draw, a
result, a restore, the settings) announces it with the kinds it touched; every tab listens through
its ``on_data_changed(kinds, source)`` and reloads what depends on those kinds — at once when it
is visible, else when it is next shown. A tab's reload never announces again (no loops).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from PySide6.QtCore import QObject, Signal

ALL = "all"  # everything may have changed (the demo, a restore)
DIRECTORIES = ("targets", "inspectors", "experts", "conflicts")
CODES = "codes"  # the code lists
ITEMS, PLAN, DRAW, RESULTS, SETTINGS, JOURNAL = "items", "plan", "draw", "results", "settings", "journal"

Kinds = frozenset[str]


@runtime_checkable
class Listener(Protocol):
    """A tab that reloads what it shows when data of the kinds it watches changed."""

    def on_data_changed(self, kinds: Kinds, source: object) -> None: ...


def touches(kinds: Iterable[str], *watched: str) -> bool:
    """Whether a change of *kinds* concerns a tab that shows data of the *watched* kinds."""
    kinds = set(kinds)
    return ALL in kinds or bool(kinds.intersection(watched))


class DataHub(QObject):
    """``changed(kinds, source)``: *kinds* a frozenset of the kinds above, *source* the widget that
    made the change (it may have reloaded itself already) or None."""

    changed = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._delivering = False
        self.sent: list[Kinds] = []  # the last announcements, for tests and diagnostics

    def announce(self, *kinds: str, source: object = None) -> None:
        if self._delivering:  # a listener's reload signalled again: it is part of this change
            return
        what: Kinds = frozenset(kinds) or frozenset({ALL})
        self.sent = [*self.sent[-19:], what]
        self._delivering = True
        try:
            self.changed.emit(what, source)
        finally:
            self._delivering = False
