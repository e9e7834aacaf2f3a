"""Field definitions shared by import, export, templates, the edit dialogs and the tables.

A :class:`FieldSpec` says how one column is named in the bureau's spreadsheets, how a cell is
turned into a stored value (or refused with a Chinese reason) and how a stored value is written
back, so that export → import is lossless.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from itertools import repeat
from typing import Any

from dsj_desktop.domain import uscc as uscc_mod


class Kind(Enum):
    TEXT = "text"
    USCC = "uscc"
    BOOL = "bool"  # 是/否
    DATE = "date"
    CHOICE = "choice"  # a fixed list of values
    CODELIST = "codelist"  # an editable code list in the database
    LIST = "list"  # several values separated by 、 (stored joined by 、)
    INT = "int"


YES, NO = "是", "否"
LIST_SEPARATORS = re.compile(r"[、,，;；/\s]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_EXCEPT_LF = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
# Characters nobody sees that copying from web pages and chat programs leaves in cells.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_FULLWIDTH_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_TO_HALFWIDTH = {c: c - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
                 for c in range(r[0], r[1] + 1)}  # fmt: skip
# A column holding any of these is cleaned cell by cell (see convert_column).
_BULK_UNSAFE = re.compile(
    "[\x00-\x1f\x7f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]"
)
_BULK_UNSAFE_ML = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]"
)
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[.日]?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_TIME_PART = re.compile(r"^(.*?\d)(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$")
# Excel serial numbers taken as dates: 1954-10-02 … 2119-01-01 (anything else is not a date someone meant).
SERIAL_MIN, SERIAL_MAX = 20000, 80000
_WS = " \t\r\n\u3000\u00a0\ufeff"
NUMBER_CODE_MESSAGE = (
    "这一格是数字格式：Excel 的数字只保留 15 位有效数字，18 位的代码已被改动（末几位变成 0 或显示为科学计数）。"
    "请在 Excel 中把这一列设置为“文本”格式，再重新输入（或粘贴）这些代码"
)
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d+$")


class CellError(ValueError):
    """A cell's value is refused; the message says why, in Chinese."""


class UnknownCode(CellError):
    """A value that is not (yet) in the column's code list."""

    def __init__(self, message: str, value: str) -> None:
        super().__init__(message)
        self.value = value


@dataclass(frozen=True)
class FieldSpec:
    attr: str
    header: str
    kind: Kind = Kind.TEXT
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    codelist: str | None = None
    default: Any = ""
    max_len: int = 200
    multiline: bool = False
    filterable: bool = False
    private: bool = False  # personal data: never published
    width: int = 14  # column width in exported sheets
    hint: str = ""  # shown in templates and dialogs
    # A custom parser (value after text normalisation → stored value) for special columns.
    parser: Callable[[str], Any] | None = field(default=None, compare=False)
    formatter: Callable[[Any], str] | None = field(default=None, compare=False)
    labels: tuple[str, str] = (YES, NO)  # BOOL: the words for true and false
    default_factory: Callable[[], Any] | None = field(default=None, compare=False)  # computed default
    code: bool = False  # an identifier or number typed by hand: a number cell of 16+ digits is refused

    def empty_value(self) -> Any:
        return self.default_factory() if self.default_factory is not None else self.default

    @property
    def is_flag(self) -> bool:
        return self.kind is Kind.BOOL


def clean_text(raw: str, *, multiline: bool = False, compat: bool = False) -> str:
    """NFC (*compat*: NFKC, for codes), invisible characters removed, full-width letters and digits
    as ASCII, trimmed (including full-width spaces), CRLF → LF; control characters refused."""
    s = unicodedata.normalize("NFKC" if compat else "NFC", raw)
    if _INVISIBLE.search(s):
        s = _INVISIBLE.sub("", s)
    if not multiline and _FULLWIDTH_ALNUM.search(s):
        s = s.translate(_TO_HALFWIDTH)
    if multiline:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
        bad = _CONTROL_EXCEPT_LF.search(s)
    else:
        bad = _CONTROL.search(s)
    if bad:
        code = f"U+{ord(bad.group()):04X}"
        what = "换行符" if bad.group() in "\r\n" else "控制字符"
        raise CellError(f"含有不可见的{what}（{code}），请删除后再导入")
    return s.strip(_WS)


def cell_to_text(value: Any) -> str:
    """Whatever a spreadsheet cell holds, as the text the user sees."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == 0:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def date_from_number(v: float) -> date | None:
    """A number in a date column: 20270603 (typed without separators) or an Excel serial number."""
    if not SERIAL_MIN <= v <= 21001231:  # also NaN and infinities
        return None
    n = int(v)  # a serial with a time of day: its day
    if 19000101 <= n <= 21001231:
        y, md = divmod(n, 10000)
        try:
            return date(y, *divmod(md, 100))
        except ValueError:
            return None
    if SERIAL_MIN <= n <= SERIAL_MAX:
        from openpyxl.utils.datetime import from_excel

        d = from_excel(n)
        return d.date() if isinstance(d, datetime) else d if isinstance(d, date) else None
    return None


def parse_date_text(s: str) -> date:
    s = s.replace(" ", "").replace("\u3000", "") if " " in s and ":" not in s else s
    if s.isdigit() and len(s) == 5:  # an Excel serial number stored as text
        serial = date_from_number(int(s))
        if serial is not None:
            return serial
    m = _TIME_PART.match(s)
    if m:  # 2027/6/3 0:00:00, 2027-06-03T00:00:00
        try:
            return datetime.fromisoformat(s).date()
        except ValueError:
            s = m.group(1)
    s = re.sub(r"\s+", "", s)
    for pat in _DATE_PATTERNS:
        m = pat.match(s)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            try:
                return date(y, mo, d)
            except ValueError:
                raise CellError(f"“{s}”不是有效日期") from None
    raise CellError(f"无法识别的日期“{s}”，请写作 2027-12-31 或设为日期格式")


def split_list(s: str) -> list[str]:
    return [p for p in (x.strip(_WS) for x in LIST_SEPARATORS.split(s)) if p]


class Converter:
    """Turns raw cells of one field into stored values; built once per import for speed."""

    def __init__(self, spec: FieldSpec, codes: Mapping[str, Sequence[str]] | None = None) -> None:
        self.spec = spec
        self.allowed: frozenset[str] | None = None
        self.ordered: tuple[str, ...] = ()
        if spec.kind is Kind.CHOICE:
            self.ordered = spec.choices
        elif spec.kind is Kind.CODELIST or (spec.kind is Kind.LIST and spec.codelist):
            assert spec.codelist is not None
            self.ordered = tuple((codes or {}).get(spec.codelist, ()))
        elif spec.kind is Kind.LIST and spec.choices:
            self.ordered = spec.choices
        if spec.kind in (Kind.CHOICE, Kind.CODELIST) or (
            spec.kind is Kind.LIST and (spec.codelist or spec.choices)
        ):
            self.allowed = frozenset(self.ordered)
        self.unknown_codes: set[str] = set()  # filled when unknown code values are tolerated
        self.refused_codes: set[int] = set()  # indexes of the cells refused for a value not in the code list
        self.tolerate_unknown = False
        # Set by convert_column: every value it returned is a str (the cells as read, all text).
        self.texts_only = False

    def __call__(self, raw: Any) -> Any:
        spec = self.spec
        kind = spec.kind
        if kind is Kind.DATE and isinstance(raw, (date, datetime)):
            return raw.date() if isinstance(raw, datetime) else raw
        if kind is Kind.BOOL and isinstance(raw, bool):
            return raw
        number = isinstance(raw, (int, float)) and not isinstance(raw, bool)
        if number and (kind is Kind.USCC or (spec.code and abs(raw) >= 1e15)):
            raise CellError(NUMBER_CODE_MESSAGE)
        s = clean_text(
            raw if isinstance(raw, str) else cell_to_text(raw),
            multiline=spec.multiline,
            compat=kind is Kind.USCC,
        )
        if not s:
            if spec.required:
                raise CellError("必填，不能为空")
            return spec.empty_value()
        if len(s) > spec.max_len:
            raise CellError(f"内容过长（{len(s)} 字，最多 {spec.max_len} 字）")
        if spec.parser is not None:
            return spec.parser(s)
        if kind is Kind.TEXT:
            return s
        if kind is Kind.USCC:
            if _SCIENTIFIC.match(s):
                raise CellError(NUMBER_CODE_MESSAGE)
            code = uscc_mod.normalize(s)
            fault = uscc_mod.problem(code)
            if fault:
                raise CellError(fault)
            return code
        if kind is Kind.BOOL:
            yes, no = spec.labels
            if s == yes:
                return True
            if s == no:
                return False
            raise CellError(f"应填“{yes}”或“{no}”，而不是“{s}”")
        if kind is Kind.DATE:
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                d = date_from_number(raw)
                if d is None:
                    raise CellError(f"“{s}”不是日期，请写作 2027-12-31 或设为日期格式")
                return d
            return parse_date_text(s)
        if kind is Kind.INT:
            if not re.fullmatch(r"-?\d+", s):
                raise CellError(f"应为整数，而不是“{s}”")
            return int(s)
        if kind is Kind.CHOICE or kind is Kind.CODELIST:
            assert self.allowed is not None
            if s in self.allowed:
                return s
            if kind is Kind.CODELIST and self.tolerate_unknown:
                self.unknown_codes.add(s)
                return s
            if kind is Kind.CHOICE:
                raise CellError(f"“{s}”不是允许的值（可选值：{'、'.join(spec.choices)}）")
            raise UnknownCode(f"“{s}”不是允许的值（{spec.header}代码表中没有）", s)
        if kind is Kind.LIST:
            parts = split_list(s)
            if self.allowed is not None:
                unknown = [p for p in parts if p not in self.allowed]
                if unknown:
                    where = f"{spec.header}代码表中现有" if spec.codelist else "可选值"
                    raise CellError(
                        f"“{'、'.join(unknown)}”不是允许的值（{where}：{_preview(self.ordered)}）"
                    )
            return "、".join(dict.fromkeys(parts))
        raise AssertionError(kind)


def convert_column(conv: Converter, raw: list[Any]) -> tuple[list[Any], dict[int, str]]:
    """A whole column at once: the stored values, and the error message of each refused cell by index.

    The rules are exactly :class:`Converter`'s: the common, clean case is checked in bulk (one
    regular-expression scan and one normalisation test over the joined column, then list
    comprehensions), and every cell the bulk checks cannot vouch for goes through the converter
    itself, which gives the exact message. A 100,000-row import spends most of its time here.
    """
    spec = conv.spec
    kind = spec.kind
    n = len(raw)
    values: list[Any] = []
    bulk = kind in (Kind.TEXT, Kind.USCC, Kind.BOOL, Kind.CHOICE, Kind.CODELIST) and (
        spec.parser is None or kind in (Kind.CHOICE, Kind.CODELIST)
    )
    texts: list[str | None] = raw
    slow: list[int] = []
    joined = ""
    if bulk:
        try:  # the common case: every cell text (calamine reads empty cells as ""); the join proves it
            joined = _SEP.join(raw)
        except TypeError:
            texts = [v if type(v) is str else "" if v is None else None for v in raw]
            # Numbers, dates and booleans go cell by cell.
            slow = [i for i, t in enumerate(texts) if t is None] if None in texts else []
            joined = _SEP.join([t or "" for t in texts] if slow else texts)  # type: ignore[arg-type]
    # clean: no cell holds the separator, a character the bulk checks must leave to the converter or
    # any space (the cells are stored as they are), and the column is normalised.
    clean = False
    if bulk:
        if not slow and joined.count(_SEP) == n - 1 and not _UNSAFE_OR_SPACE.search(joined):
            clean = unicodedata.is_normalized("NFKC" if kind is Kind.USCC else "NFC", joined)
            bulk = clean
        else:
            pattern = _BULK_UNSAFE_ML if spec.multiline else _BULK_UNSAFE
            normalized = unicodedata.is_normalized("NFKC" if kind is Kind.USCC else "NFC", joined)
            bulk = not pattern.search(joined) and normalized
            if spec.multiline and "\r" in joined:
                bulk = False
    if not bulk:
        slow = list(range(n))
        values = [None] * n
    else:
        stripped: list[Any]
        if clean:  # no space of any kind in the column: the cells as they are
            stripped = texts
        elif slow:
            stripped = [t.strip(_WS) if t is not None else "" for t in texts]
        elif _ANY_SPACE.search(joined):
            stripped = list(map(str.strip, texts, repeat(_WS, n)))  # type: ignore[arg-type]
        else:
            stripped = texts
        # Whether a cell is empty: with every cell as it is and none holding the separator, the
        # joined column shows it (an empty first or last cell, or two separators in a row).
        if clean:
            has_empty = n > 0 and (
                joined == "" or joined.startswith(_SEP) or joined.endswith(_SEP) or _SEP + _SEP in joined
            )
        else:
            has_empty = "" in stripped
        default = spec.empty_value()
        limit = spec.max_len
        if kind is Kind.TEXT:
            values = list(map(_or_default(default), stripped)) if default != "" and has_empty else stripped
            if spec.required and has_empty:
                slow += [i for i, s in enumerate(stripped) if not s]
            if len(joined) > limit and max(map(len, stripped), default=0) > limit:
                slow += [i for i, s in enumerate(stripped) if len(s) > limit]
        elif kind is Kind.USCC:
            if (clean or len(joined.split()) == n) and joined.upper() == joined:
                # No cell with any space or a small letter: normalize() would keep every one.
                values = stripped
            else:
                values = list(map(uscc_mod.normalize, stripped))
            if not uscc_mod.all_valid(values):
                slow += [i for i, c in enumerate(values) if not uscc_mod.is_valid_normalized(c)]
        elif kind is Kind.BOOL:
            table: dict[str, Any] = {spec.labels[0]: True, spec.labels[1]: False}
            if not spec.required:
                table[""] = default
            values = list(map(table.get, stripped))
            if None in values:
                slow += [i for i, v in enumerate(values) if v is None]
        else:  # CHOICE / CODELIST
            allowed = set(conv.allowed or ())
            if not spec.required:
                allowed.add("")
            outside = set(stripped) - allowed
            if outside and kind is Kind.CODELIST and conv.tolerate_unknown:
                new = {s for s in outside if s and len(s) <= limit}
                conv.unknown_codes |= new
                outside -= new
            values = stripped
            if outside:  # aliases, refused values, required empties
                slow += [i for i, s in enumerate(stripped) if s in outside]
            if not spec.required and default != "" and has_empty:
                values = [v if v != "" else default for v in values]
    # Proven, not guessed: the values are the cells themselves, which the join showed to be all text.
    conv.texts_only = bulk and clean and not slow and values is raw
    if slow and values is raw:  # the cells the converter redoes are written into a list of our own
        values = list(values)
    errors: dict[int, str] = {}
    for i in sorted(set(slow)):
        try:
            values[i] = conv(raw[i])
        except CellError as exc:
            values[i] = None
            errors[i] = str(exc)
            if isinstance(exc, UnknownCode):
                conv.refused_codes.add(i)
    return values, errors


_ANY_SPACE = re.compile(f"[{_WS}]")
_SEP = "\u2028"  # joins a column's cells for the bulk checks: neither a control character nor stripped
# Any character the bulk checks leave to the converter, or any space: one scan of a clean column.
_UNSAFE_OR_SPACE = re.compile(_BULK_UNSAFE.pattern[:-1] + _WS + "]")


def _or_default(default: Any) -> Callable[[str], Any]:
    return lambda s: s or default


def _preview(vals: tuple[str, ...], limit: int = 20) -> str:
    if not vals:
        return "（空）"
    shown = "、".join(vals[:limit])
    return shown + ("…" if len(vals) > limit else "")


def format_value(spec: FieldSpec, value: Any) -> Any:
    """The stored value as written to a spreadsheet cell (dates stay dates)."""
    if spec.formatter is not None:
        return spec.formatter(value)
    if value is None:
        return ""
    if spec.kind is Kind.BOOL:
        return spec.labels[0] if value else spec.labels[1]
    if spec.kind is Kind.DATE:
        if isinstance(value, str):
            return date.fromisoformat(value) if value else ""
        return value
    return value


def display_value(spec: FieldSpec, value: Any) -> str:
    """The stored value as shown in a table cell."""
    v = format_value(spec, value)
    if isinstance(v, date):
        return v.isoformat()
    return "" if v is None else str(v)


_HEADER_NOISE = re.compile(r"[\s*＊※:：\u200b-\u200d\u2060\ufeff]")
_NOTE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕|<[^<>]*>")


def normalize_header(h: Any) -> str:
    s = cell_to_text(h)
    s = unicodedata.normalize("NFKC", s)  # full-width brackets and letters → half-width
    s = _HEADER_NOISE.sub("", s)
    return s.strip()


def strip_note(h: str) -> str:
    """A normalised header without the notes offices put in brackets: 统一社会信用代码(18位) → 统一社会信用代码."""
    return _NOTE.sub("", h) if "(" in h or "[" in h or "【" in h or "〔" in h or "<" in h else h
