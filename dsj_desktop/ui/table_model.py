"""A lazy table model over a SQL query: it holds only the ids of the matching rows and fetches the
visible rows page by page, so 100,000 rows open instantly and scroll smoothly."""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

PAGE_SIZE = 200
MAX_PAGES = 100

GREY = QBrush(QColor("#8a8a8a"))
RED = QBrush(QColor("#b00020"))
ORANGE = QBrush(QColor("#b36b00"))

Index = QModelIndex | QPersistentModelIndex


class RowSource(Protocol):
    """What the model needs from the core: ordered ids for a filter, and rows by id."""

    def ids(self, flt: Any, sort: str | None = None, descending: bool = False) -> list[int]: ...

    def rows(self, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]: ...


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[tuple[Any, ...]], str]
    sort_key: str | None = None  # the SQL column to sort by; None: not sortable
    foreground: Callable[[tuple[Any, ...]], QBrush | None] | None = None
    tooltip: Callable[[tuple[Any, ...]], str | None] | None = None
    align_center: bool = False
    width: int | None = None


class LazyTableModel(QAbstractTableModel):
    def __init__(
        self, source: RowSource, columns: Sequence[Column], flt: Any = None, parent: Any = None
    ) -> None:
        super().__init__(parent)
        self.source = source
        self.columns = list(columns)
        self.flt = flt
        self.sort_key: str | None = None
        self.descending = False
        self.row_foreground: Callable[[tuple[Any, ...]], QBrush | None] | None = None
        self._ids = array("q")
        self._pages: OrderedDict[int, list[tuple[Any, ...]]] = OrderedDict()
        self.fetches = 0  # page fetches, for tests and benchmarks

    # --- data -------------------------------------------------------------------------------

    def set_filter(self, flt: Any) -> None:
        self.flt = flt
        self.refresh()

    def refresh(self) -> None:
        self.beginResetModel()
        self._ids = array("q", self.source.ids(self.flt, self.sort_key, self.descending))
        self._pages.clear()
        self.endResetModel()

    def row_id(self, row: int) -> int:
        return int(self._ids[row])

    def row_of(self, row_id: int) -> int | None:
        try:
            return self._ids.index(row_id)
        except ValueError:
            return None

    def values(self, row: int) -> tuple[Any, ...] | None:
        page_no = row // PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None:
            start = page_no * PAGE_SIZE
            ids = self._ids[start : start + PAGE_SIZE]
            fetched = self.source.rows(ids)
            page = [fetched.get(i, ()) for i in ids]
            self._pages[page_no] = page
            self.fetches += 1
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        vals = page[row - page_no * PAGE_SIZE]
        return vals or None

    # --- Qt interface -----------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            vals = self.values(index.row())
            return col.value(vals) if vals else ""
        if role == Qt.ItemDataRole.ForegroundRole:
            vals = self.values(index.row())
            if not vals:
                return None
            if col.foreground is not None:
                brush = col.foreground(vals)
                if brush is not None:
                    return brush
            return self.row_foreground(vals) if self.row_foreground else None
        if role == Qt.ItemDataRole.ToolTipRole and col.tooltip is not None:
            vals = self.values(index.row())
            return col.tooltip(vals) if vals else None
        if role == Qt.ItemDataRole.TextAlignmentRole and col.align_center:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.UserRole:
            return self.row_id(index.row())
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.columns[section].header
        return str(section + 1)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if column < 0:  # no sort column: the source's own order
            if self.sort_key is not None:
                self.sort_key = None
                self.descending = False
                self.refresh()
            return
        key = self.columns[column].sort_key
        if key is None:
            return
        self.sort_key = key
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.refresh()


class ListTableModel(QAbstractTableModel):
    """A small read-only table (previews, summaries): rows of display strings."""

    def __init__(
        self, headers: Sequence[str], rows: Sequence[Sequence[Any]] = (), parent: Any = None
    ) -> None:
        super().__init__(parent)
        self.headers = list(headers)
        self.rows = [list(r) for r in rows]
        self.foreground: Callable[[int, int], QBrush | None] | None = None  # (row, column) → colour

    def set_rows(self, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.beginResetModel()
        self.headers = list(headers)
        self.rows = [list(r) for r in rows]
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and role == Qt.ItemDataRole.DisplayRole:
            v = self.rows[index.row()][index.column()]
            return "" if v is None else str(v)
        if index.isValid() and role == Qt.ItemDataRole.ForegroundRole and self.foreground is not None:
            return self.foreground(index.row(), index.column())
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.headers[section] if section < len(self.headers) else None
        return str(section + 1)
