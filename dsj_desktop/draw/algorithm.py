"""DSJ-DRAW-1, the publicly verifiable 双随机 draw (``/work/shared/spec/draw-v1.md``).

Pure functions and small frozen dataclasses: no database, no Qt, no randomness except the
nonce (:func:`new_nonce`). Section numbers in comments refer to the specification.

Two layers:

* the *core* (``H``, :func:`canonical_json`, the hashes, :func:`compute_seed`, the tickets,
  :func:`compute_selection`, :func:`replay_substitutions`) computes on text exactly as given.
  The verifier (:mod:`dsj_desktop.draw.record`) uses only this layer, so a record is checked
  byte for byte, never "repaired";
* the *input* layer (:class:`DrawSetup`, :func:`reveal`, :class:`DrawInput`, :func:`run_draw`,
  :func:`apply_substitutions`) normalises and validates everything first (section 1) and refuses
  a draw that cannot be made (sections 5 and 7) with a Chinese :class:`DrawInputError`, before
  any commitment is shown.

Ordering note: Python compares ``str`` by code point, and UTF-8 preserves code point order, so
sorting ids as ``str`` is the same as sorting them "by the UTF-8 bytes" (section 1).
"""

from __future__ import annotations

import gc
import hashlib
import heapq
import json
import operator
import re
import secrets
import unicodedata
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, compress, islice, pairwise, repeat
from json.encoder import encode_basestring
from operator import itemgetter
from types import MappingProxyType
from typing import Any, Literal, overload

from dsj_desktop.errors import UserError

SPEC_ID = "DSJ-DRAW-1"
SEP = "\x1f"
LF = "\n"
MIN_WITNESS_DIGITS = 20
PersonKind = Literal["inspector", "expert"]
KIND_INSPECTOR: PersonKind = "inspector"
KIND_EXPERT: PersonKind = "expert"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NONCE = re.compile(r"[0-9a-f]{32}")
_TARGET_ID = re.compile(r"[0-9A-Z]{18}")
_CODE_BYTES = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around allocation-heavy work that makes no cycles.

    Used by the verification, which allocates a few hundred thousand small objects while it
    holds a 100,000-row record: the collector would otherwise walk that record several times
    (measured: about 4 % of the verification). The draw itself gains nothing from it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class DrawInputError(UserError):
    """The inputs of a draw are not acceptable; the message (Chinese) names the offending value."""


# ---------------------------------------------------------------------------------------------
# Section 1: text, hashing, canonical JSON


def show_value(value: Any, limit: int = 72) -> str:
    """Any value for a Chinese message, in JSON terms (never Python's repr quotes): text in
    “”, null, true/false, numbers and lists as JSON, shortened."""
    if isinstance(value, str):
        return f"“{_show(value, limit)}”"
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _show(value: str, limit: int = 40) -> str:
    """A value for a message: control characters made visible, long values shortened."""
    shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def normalize_text(value: object, what: str, *, allow_empty: bool = False) -> str:
    """NFC, trimmed, without control characters (section 1); *what* names the value in errors."""
    if not isinstance(value, str):
        raise DrawInputError(f"{what}应为文本，现为 {show_value(value)}。")
    text = unicodedata.normalize("NFC", value).strip()
    bad = _CONTROL.search(text)
    if bad:
        raise DrawInputError(
            f"{what}“{_show(text)}”含有不允许的控制字符 U+{ord(bad.group()):04X}"
            "（如换行、制表符），请删除后重试。"
        )
    if not text and not allow_empty:
        raise DrawInputError(f"{what}不能为空。")
    return text


# Joins values for normalize_texts: printable, no white space, no control character, and composes with
# nothing (no decomposition, combining class 0, in no composition), so the joined text is NFC exactly
# when every value is. (THREE-EM DASH: a value holding it takes the slow way.)
_TEXTS_SEP = "\u2e3b"
_ANY_SPACE = re.compile(r"\s")  # \s is str.isspace()
_SPACE_BY_SEP = re.compile(rf"{_TEXTS_SEP}\s|\s{_TEXTS_SEP}")


def _edge_space(joined: str) -> bool:
    """Whether a value of the joined column starts or ends with white space (what strip() removes).
    Most columns hold none at all: one scan says so; otherwise a second looks beside the separators."""
    if not _ANY_SPACE.search(joined):
        return False
    return bool(_SPACE_BY_SEP.search(joined)) or joined[:1].isspace() or joined[-1:].isspace()


def _clean_edges_and_controls(joined: str) -> bool:
    """No control character anywhere in the joined column and no white space at a value's edge. A
    printable text (most columns: one C-level pass) holds no control character, and of all white space
    only U+0020 (every other kind is unprintable), sought beside the separators by plain text search."""
    if joined.isprintable():
        if " " not in joined:
            return True
        return not (
            joined.startswith(" ")
            or joined.endswith(" ")
            or f"{_TEXTS_SEP} " in joined
            or f" {_TEXTS_SEP}" in joined
        )
    return not _CONTROL.search(joined) and not _edge_space(joined)


def normalize_texts(values: Sequence[Any], what: str) -> list[str]:
    """``[normalize_text(v, what, allow_empty=True) for v in values]`` for a long column (the names
    of 100,000 candidates): when every value is already text as that gives it back (NFC, trimmed,
    without control characters), one check over the joined column proves it and the values are
    returned as they are; otherwise value by value, with the same result or error."""
    return normalize_texts_joined(values, what)[0]


def normalize_texts_joined(values: Sequence[Any], what: str) -> tuple[list[str], str]:
    """:func:`normalize_texts`, and the values it gives joined by U+2E3B (no control character, and
    JSON writes it as itself), for a caller that looks at the whole column once more."""
    try:
        joined = _TEXTS_SEP.join(values)
    except TypeError:
        joined = None
    if (
        joined is not None
        and joined.count(_TEXTS_SEP) == len(values) - 1  # no value holds the separator itself
        and _clean_edges_and_controls(joined)
        and unicodedata.is_normalized("NFC", joined)
    ):
        return list(values), joined
    out = [normalize_text(v, what, allow_empty=True) for v in values]
    return out, _TEXTS_SEP.join(out)


def H(text: str) -> str:
    """SHA-256 of the UTF-8 bytes of *text*, 64 lowercase hex characters."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_SCALARS = frozenset({str, int, bool, type(None)})
_FAST_ROWS = 1000  # lists at least this long of flat text-valued objects take the columnar path


def _check_json_types(obj: Any) -> None:
    """Refuse floats (and anything else JSON cannot carry exactly) anywhere in *obj*.

    Works on batches of values with C-level iteration (``map``/``chain``): a list of 100,000
    similar objects is one batch, not 100,000 steps. Call it after ``json.dumps`` succeeded
    (that refused cycles and unknown types already).
    """
    stack: list[Sequence[Any]] = [[obj]]
    while stack:
        values = stack.pop()
        types = set(map(type, values))
        if types <= _SCALARS:
            continue
        if float in types:
            bad = next(x for x in values if type(x) is float)
            raise DrawInputError(
                f"规范 JSON 中不允许小数（浮点数）：{show_value(bad)}。请改用整数（如基点）。"
            )
        odd = types - _SCALARS - {dict, list, tuple}
        if odd:
            raise DrawInputError(
                f"规范 JSON 中不允许的值类型：{', '.join(sorted(t.__name__ for t in odd))}。"
            )
        mixed = len(types) > 1
        if dict in types:
            dicts = [x for x in values if type(x) is dict] if mixed else values
            if set(map(type, chain.from_iterable(dicts))) - {str}:
                raise DrawInputError("规范 JSON 的对象键必须是文本。")
            stack.append(list(chain.from_iterable(map(dict.values, dicts))))
        for seq_type in (list, tuple):
            if seq_type in types:
                seqs = [x for x in values if type(x) is seq_type] if mixed else values
                stack.append(list(chain.from_iterable(seqs)))


# Columns already taken out of a list of rows: ``id(rows)`` → key → the text values of that key,
# one per row in order (each row has the key and every value is a ``str``; see canonical_json).
KnownColumns = Mapping[int, Mapping[str, list[str]]]


def _rows_parts(rows: list[Any], known: Mapping[str, list[str]] | None = None) -> list[str] | None:
    """Pieces of the canonical JSON of a long list of objects with the same keys and text values.

    Built column by column: a column with nothing to escape is copied as is between quotes,
    others go through ``encode_basestring``, the very encoder ``json.dumps`` uses, so the text
    is identical to ``json.dumps`` (tests compare them) at a fraction of the cost for the
    100,000 candidate rows of a record. ``None`` when the list does not have that shape.
    *known* columns (already taken out and found to be text) are not taken out again.
    """
    if set(map(type, rows)) != {dict}:
        return None
    keys = sorted(rows[0])
    if not keys or set(map(type, keys)) != {str} or set(map(len, rows)) != {len(keys)}:
        return None
    known = known or {}
    try:  # KeyError: not all the same keys
        columns = [known[k] if k in known else list(map(itemgetter(k), rows)) for k in keys]
    except KeyError:
        return None
    if any(set(map(type, col)) != {str} for k, col in zip(keys, columns, strict=True) if k not in known):
        return None
    return _column_parts(keys, columns)


def _column_parts(keys: list[str], columns: list[list[str]]) -> list[str]:
    """The pieces of :func:`_rows_parts` from the sorted *keys* and their text *columns* (one or more rows)."""
    # A column with nothing to escape goes in as is, its quotes joining the pieces around it.
    # (Escaping only ever lengthens a text, so equal lengths mean nothing was escaped.)
    quotes = []
    for col in columns:
        joined = "".join(col)
        quotes.append('"' if len(encode_basestring(joined)) == len(joined) + 2 else "")
    n, width = len(columns[0]), 2 * len(keys) + 1
    parts: list[str] = [""] * (n * width)
    for j, (key, col, quote) in enumerate(zip(keys, columns, quotes, strict=True)):
        name = encode_basestring(key) + ":" + quote
        parts[2 * j :: width] = [",{" + name if j == 0 else quotes[j - 1] + "," + name] * n
        parts[2 * j + 1 :: width] = col if quote else list(map(encode_basestring, col))
    parts[width - 1 :: width] = [quotes[-1] + "}"] * n
    parts[0] = "[" + parts[0][1:]
    parts.append("]")
    return parts


def columns_json(columns: Mapping[str, Sequence[str]], *, texts: Sequence[str] = ()) -> str:
    """``canonical_json`` of the list of objects whose members are *columns* (key → the text value of
    each object in turn), without making the objects: the candidate list of a record, 100,000 rows.
    *texts*: keys whose columns the caller has already found to hold only ``str`` (not checked again)."""
    keys = sorted(columns)
    cols = [list(columns[k]) for k in keys]
    if not keys or set(map(type, keys)) != {str} or len(set(map(len, cols))) != 1:
        raise DrawInputError("列的长度不一致，或没有列。")
    if any(set(map(type, col)) - {str} for k, col in zip(keys, cols, strict=True) if k not in texts):
        raise DrawInputError("列中的值必须是文本。")
    if not cols[0]:
        return "[]"
    return "".join(_column_parts(keys, cols))


def _canonical_into(obj: Any, out: list[str], known: KnownColumns) -> None:
    """Append the canonical JSON of *obj* to *out* in pieces (joined once, at the end)."""
    if type(obj) is dict and any(type(v) is list and len(v) >= _FAST_ROWS for v in obj.values()):
        if set(map(type, obj)) != {str}:
            raise DrawInputError("规范 JSON 的对象键必须是文本。")
        out.append("{")
        for n, key in enumerate(sorted(obj)):
            out.append(("," if n else "") + encode_basestring(key) + ":")
            _canonical_into(obj[key], out, known)
        out.append("}")
        return
    if type(obj) is list and len(obj) >= _FAST_ROWS:
        parts = _rows_parts(obj, known.get(id(obj)))
        if parts is not None:
            out.extend(parts)
            return
    try:
        text = json.dumps(
            obj,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            check_circular=False,
        )
    except (TypeError, ValueError, RecursionError) as exc:
        raise DrawInputError(f"无法写成规范 JSON：{exc}") from None
    _check_json_types(obj)
    out.append(text)


def canonical_json(obj: Any, *, known: KnownColumns | None = None) -> str:
    """Canonical JSON (section 1): sorted keys, no whitespace, non-ASCII as itself, no floats.

    The same text as ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``; long lists of flat objects (the candidate list of a record) are
    written column by column for speed. *known* gives columns of such lists the caller has
    already taken out with ``itemgetter(key)`` over every row and found to be all ``str`` (the
    verifier's candidate ids and strata), keyed by ``id()`` of a list inside *obj*.
    """
    out: list[str] = []
    _canonical_into(obj, out, known or {})
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Section 2: the four hashes


@dataclass(frozen=True, slots=True)
class DrawHashes:
    targets: str
    inspectors: str
    experts: str
    params: str

    def to_json(self) -> dict[str, str]:
        return {
            "targets": self.targets,
            "inspectors": self.inspectors,
            "experts": self.experts,
            "params": self.params,
        }


def is_strictly_increasing(items: Sequence[str]) -> bool:
    """True when *items* are sorted (by code point, i.e. by UTF-8 bytes) and without repeats."""
    return all(map(operator.lt, items, islice(items, 1, None)))


def sort_target_columns(ids: Sequence[str], strata: Sequence[str]) -> tuple[list[str], list[str]]:
    """The candidate columns ordered by id; a repeated id is refused."""
    ids, strata = list(ids), list(strata)
    if is_strictly_increasing(ids):
        return ids, strata
    by_id = dict(zip(ids, strata, strict=True))
    if len(by_id) == len(ids):  # no repeats: sorting the ids alone (faster than by key) suffices
        ordered = sorted(by_id)
        return ordered, list(map(by_id.__getitem__, ordered))
    order = sorted(range(len(ids)), key=ids.__getitem__)
    ids = list(map(ids.__getitem__, order))
    strata = list(map(strata.__getitem__, order))
    if not is_strictly_increasing(ids):
        dup = next(a for a, b in pairwise(ids) if a == b)
        raise DrawInputError(f"检查对象“{_show(dup)}”在候选名单中重复出现。")
    return ids, strata


def hash_target_columns(ids: Sequence[str], strata: Sequence[str]) -> str:
    """``H_targets`` from columns already sorted by id (see :func:`sort_target_columns`)."""
    n = len(ids)
    if n == 0:
        return H("")
    suffix = {s: f"{SEP}{s}{LF}" for s in set(strata)}
    parts: list[str] = [""] * (2 * n)
    parts[0::2] = ids
    parts[1::2] = list(map(suffix.__getitem__, strata))
    return H("".join(parts))


def hash_targets(rows: Iterable[tuple[str, str]]) -> str:
    """``H_targets``: ``id SEP stratum LF`` over the ``(id, stratum)`` rows sorted by id."""
    rows = list(rows)
    ids, strata = sort_target_columns([r[0] for r in rows], [r[1] for r in rows])
    return hash_target_columns(ids, strata)


class TargetRows(Sequence[tuple[str, str]]):
    """Candidate rows ``(id, stratum)`` kept as two columns sorted by id.

    Reads like a tuple of pairs, without building 100,000 small tuples.
    """

    __slots__ = ("ids", "strata")

    def __init__(self, ids: Sequence[str], strata: Sequence[str]) -> None:
        self.ids = tuple(ids)
        self.strata = tuple(strata)

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> tuple[str, str]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[str, str]]: ...

    def __getitem__(self, index: int | slice) -> tuple[str, str] | Sequence[tuple[str, str]]:
        if isinstance(index, slice):
            return TargetRows(self.ids[index], self.strata[index])
        return self.ids[index], self.strata[index]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return zip(self.ids, self.strata, strict=True)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TargetRows):
            return self.ids == other.ids and self.strata == other.strata
        if isinstance(other, Sequence):
            return list(self) == [tuple(r) for r in other]
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TargetRows({len(self)} rows)"


def hash_ids(ids: Iterable[str]) -> str:
    """``H_inspectors`` / ``H_experts``: ``id LF`` over the sorted ids (``H("")`` when empty)."""
    ordered = sorted(ids)
    return H(LF.join(ordered) + LF) if ordered else H("")


def hash_params(params: Mapping[str, Any]) -> str:
    """``H_params``: SHA-256 of the canonical JSON of the parameters."""
    return H(canonical_json(params))


def commitment_of(nonce: str) -> str:
    """``C = H(N)``."""
    return H(nonce)


def new_nonce() -> str:
    """A fresh 128-bit nonce from the operating system's secure source, 32 lowercase hex."""
    return secrets.token_hex(16)


# ---------------------------------------------------------------------------------------------
# Section 4: seed and tickets


def compute_seed(session: str, hashes: DrawHashes, witness_digits: Sequence[str], nonce: str) -> str:
    parts = [SPEC_ID, session, hashes.targets, hashes.inspectors, hashes.experts, hashes.params]
    return H(SEP.join([*parts, *witness_digits, nonce]))


def target_ticket(seed: str, target_id: str) -> str:
    return H(f"{seed}{SEP}target{SEP}{target_id}")


def inspector_ticket(seed: str, target_id: str, inspector_id: str) -> str:
    return H(f"{seed}{SEP}inspector{SEP}{target_id}{SEP}{inspector_id}")


def expert_ticket(seed: str, target_id: str, expert_id: str) -> str:
    return H(f"{seed}{SEP}expert{SEP}{target_id}{SEP}{expert_id}")


def _digests(prefix: bytes, items: Sequence[bytes]) -> list[bytes]:
    """``sha256(prefix + item).digest()`` for every item, hashing the prefix only once.

    Raw digests order exactly like their lowercase hex forms, so comparisons use them and
    only the tickets that end up in a record are turned into hex.
    """
    base = hashlib.sha256(prefix)
    out: list[bytes] = []
    append = out.append
    for item in items:
        h = base.copy()
        h.update(item)
        append(h.digest())
    return out


def rank_people(seed: str, kind: PersonKind, target_id: str, people: Sequence[str]) -> list[str]:
    """All *people* ordered by their ticket for *target_id* (``I`` or ``E``), ties by id."""
    prefix = f"{seed}{SEP}{kind}{SEP}{target_id}{SEP}".encode()
    return [p for _, p in sorted(zip(_digests(prefix, [p.encode() for p in people]), people, strict=True))]


# ---------------------------------------------------------------------------------------------
# Section 7: rules applied before the seed


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def quota_from_basis_points(n: int, basis_points: int) -> int:
    """``k = ceil(N × bp / 10000)`` in integers."""
    if isinstance(basis_points, bool) or not isinstance(basis_points, int) or not 0 <= basis_points <= 10000:
        raise DrawInputError(
            f"抽取比例应为 0 到 10000 之间的整数基点（1 基点 = 0.01%），现为 {show_value(basis_points)}。"
        )
    if n < 0:
        raise DrawInputError(f"对象数量不能为负数：{n}。")
    return (n * basis_points + 9999) // 10000


def balance_regions(total: int, sizes: Mapping[str, int]) -> dict[str, int]:
    """Region balance (不定向, 地理区域均衡): share *total* over regions in proportion to their size.

    ``k_r = floor(K·N_r / N)``; the remaining units go one each to the largest remainders
    ``K·N_r mod N``, ties to the larger ``N_r``, then to the smaller region name by bytes.
    """
    n = sum(sizes.values())
    if any(v < 0 for v in sizes.values()):
        raise DrawInputError("区域对象数量不能为负数。")
    if not 0 <= total <= n:
        raise DrawInputError(f"抽取总数 {total} 应在 0 到对象总数 {n} 之间。")
    if n == 0:
        return dict.fromkeys(sizes, 0)
    quotas = {r: total * size // n for r, size in sizes.items()}
    left = total - sum(quotas.values())
    by_remainder = sorted(sizes, key=lambda r: (-(total * sizes[r] % n), -sizes[r], r))
    for r in by_remainder[:left]:
        quotas[r] += 1
    return quotas


def default_cap(total_targets: int, per_target: int, pool_size: int) -> int:
    """``ceil(total targets × per_target / pool size)``: the lowest cap that can hold at all."""
    if per_target <= 0 or total_targets <= 0:
        return 0
    if pool_size <= 0:
        return total_targets
    return ceil_div(total_targets * per_target, pool_size)


def canonical_conflicts(pairs: Iterable[Sequence[str]]) -> list[list[str]]:
    """Conflict pairs sorted and without duplicates: the form this program writes into ``params``.

    The specification does not fix their order (the vectors do not sort them), so the draw
    hashes whatever order it is given; building params with this keeps H_params independent
    of database order.
    """
    return [list(p) for p in sorted({(p[0], p[1]) for p in pairs})]


# ---------------------------------------------------------------------------------------------
# Section 2 table: the parameters the algorithm reads


@dataclass(frozen=True)
class DrawParams:
    """The parsed view of ``params`` (the dict itself is what is hashed)."""

    quotas: Mapping[str, int]
    mandatory: tuple[str, ...]
    team_size: int
    inspector_cap: int
    inspector_conflicts: Mapping[str, frozenset[str]]  # target id → inspector ids
    expert_count: int
    expert_cap: int
    expert_conflicts: Mapping[str, frozenset[str]]  # target id → expert ids

    @property
    def total_targets(self) -> int:
        return sum(self.quotas.values()) + len(self.mandatory)

    def conflicts(self, kind: PersonKind) -> Mapping[str, frozenset[str]]:
        return self.inspector_conflicts if kind == KIND_INSPECTOR else self.expert_conflicts


_PARAM_TITLES = {
    "quotas": "各分层抽取数量",
    "mandatory": "必查对象",
    "team_size": "每组执法人员人数",
    "inspector_cap": "每名执法人员最多分配对象数",
    "inspector_conflicts": "执法人员回避关系",
    "expert_count": "每个对象的专家人数",
    "expert_cap": "每名专家最多分配对象数",
    "expert_conflicts": "专家回避关系",
}


def _param_int(params: Mapping[str, Any], key: str, minimum: int) -> int:
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DrawInputError(
            f"抽取参数“{key}”（{_PARAM_TITLES[key]}）应为不小于 {minimum} 的整数，现为 {show_value(value)}。"
        )
    return value


def _param_conflicts(params: Mapping[str, Any], key: str) -> dict[str, frozenset[str]]:
    raw = params.get(key, [])
    if not isinstance(raw, list | tuple):
        raise DrawInputError(f"抽取参数“{key}”（{_PARAM_TITLES[key]}）应为 [人员, 对象] 对的列表。")
    out: dict[str, set[str]] = {}
    for pair in raw:
        if not (isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            raise DrawInputError(
                f"抽取参数“{key}”（{_PARAM_TITLES[key]}）中的 {show_value(pair)} 不是 [人员代码, 统一社会信用代码] 对。"
            )
        out.setdefault(pair[1], set()).add(pair[0])
    return {t: frozenset(ps) for t, ps in out.items()}


def parse_params(params: Mapping[str, Any], *, n_inspectors: int, n_experts: int) -> DrawParams:
    """Read the keys of section 2 from *params*, exactly as given (nothing is normalised).

    Missing optional keys take their documented defaults (``mandatory`` and conflicts empty,
    ``expert_count`` 0, caps per section 7); :class:`DrawSetup` writes those defaults into the
    params it hashes, so a record made by this program always carries them.
    """
    if not isinstance(params, Mapping):
        raise DrawInputError("抽取参数应为 JSON 对象。")
    for key in ("quotas", "team_size"):
        if key not in params:
            raise DrawInputError(f"抽取参数缺少“{key}”（{_PARAM_TITLES[key]}）。")
    quotas = params["quotas"]
    if not isinstance(quotas, Mapping):
        raise DrawInputError("抽取参数“quotas”（各分层抽取数量）应为“分层名称 → 数量”的对象。")
    for stratum, k in quotas.items():
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            raise DrawInputError(
                f"分层“{_show(str(stratum))}”的抽取数量应为不小于 0 的整数，现为 {show_value(k)}。"
            )
    mandatory = params.get("mandatory", [])
    if not isinstance(mandatory, list | tuple) or not all(isinstance(x, str) for x in mandatory):
        raise DrawInputError("抽取参数“mandatory”（必查对象）应为统一社会信用代码的列表。")
    if len(set(mandatory)) != len(mandatory):
        dup = sorted(x for x in set(mandatory) if mandatory.count(x) > 1)[0]
        raise DrawInputError(f"必查对象“{_show(dup)}”重复列出。")
    team_size = _param_int(params, "team_size", 2)
    expert_count = _param_int(params, "expert_count", 0) if "expert_count" in params else 0
    total = sum(quotas.values()) + len(mandatory)
    if total <= 0:
        raise DrawInputError("本次抽取的对象数量为 0：请设定至少一个分层的抽取数量或必查对象。")
    inspector_cap = (
        _param_int(params, "inspector_cap", 1)
        if "inspector_cap" in params
        else default_cap(total, team_size, n_inspectors)
    )
    expert_cap = (
        _param_int(params, "expert_cap", 1 if expert_count else 0)
        if "expert_cap" in params
        else default_cap(total, expert_count, n_experts)
    )
    return DrawParams(
        quotas=dict(quotas),
        mandatory=tuple(mandatory),
        team_size=team_size,
        inspector_cap=inspector_cap,
        inspector_conflicts=_param_conflicts(params, "inspector_conflicts"),
        expert_count=expert_count,
        expert_cap=expert_cap,
        expert_conflicts=_param_conflicts(params, "expert_conflicts"),
    )


# ---------------------------------------------------------------------------------------------
# Section 5: selection and teams


@dataclass(frozen=True, slots=True)
class SelectedTarget:
    """One drawn (or mandatory) target, in assignment order."""

    id: str
    stratum: str | None  # None for a mandatory target (it belongs to no stratum)
    mandatory: bool
    ticket: str
    inspectors: tuple[str, ...]
    experts: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "stratum": self.stratum,
            "mandatory": self.mandatory,
            "ticket": self.ticket,
            "inspectors": list(self.inspectors),
            "experts": list(self.experts),
        }


def group_by_stratum(ids: Sequence[str], strata: Sequence[str]) -> dict[str, list[str]]:
    """Stratum → its candidate ids, in the order of *ids* (one C-level pass, no Python loop)."""
    groups: dict[str, list[str]] = {s: [] for s in set(strata)}
    appenders = {s: ids_of.append for s, ids_of in groups.items()}
    deque(map(operator.call, map(appenders.__getitem__, strata), ids), maxlen=0)
    return groups


def _smallest(k: int, digests: list[bytes], ids: Sequence[str]) -> list[tuple[bytes, str]]:
    """The *k* pairs ``(digest, id)`` with the smallest digests, ties by id, in that order.

    The heap runs on bare digests (about ten times cheaper than on tuples); everything up to
    the k-th digest (more than k only on equal digests) is then picked out in C and sorted.
    """
    if k >= len(ids):
        return sorted(zip(digests, ids, strict=True))
    threshold = heapq.nsmallest(k, digests)[-1]
    positions = compress(range(len(digests)), map(operator.le, digests, repeat(threshold)))
    return sorted((digests[i], ids[i]) for i in positions)[:k]


def _select(
    seed: str,
    groups: Mapping[str, Sequence[str]],
    params: DrawParams,
    encoded: Mapping[str, Sequence[bytes]] | None = None,
) -> list[tuple[bytes, str, str | None]]:
    """Sections 5.1–5.2: ``(ticket digest, id, stratum or None)`` in assignment order."""
    prefix = f"{seed}{SEP}target{SEP}".encode()
    chosen: list[tuple[bytes, str, str | None]] = []
    for stratum, k in params.quotas.items():
        if k <= 0:
            continue  # nothing is drawn: its tickets are never needed
        ids = groups.get(stratum, ())
        if k > len(ids):
            raise DrawInputError(f"分层“{_show(stratum)}”只有 {len(ids)} 个候选对象，不能抽取 {k} 个。")
        id_bytes = encoded[stratum] if encoded is not None else list(map(str.encode, ids))
        digests = _digests(prefix, id_bytes)
        chosen.extend((d, i, stratum) for d, i in _smallest(k, digests, ids))
    mandatory = params.mandatory
    digests = _digests(prefix, list(map(str.encode, mandatory)))
    chosen.extend((d, i, None) for d, i in zip(digests, mandatory, strict=True))
    chosen.sort(key=lambda c: (c[0], c[1]))
    return chosen


def assign_people(
    seed: str,
    kind: PersonKind,
    order: Sequence[str],
    people: Sequence[str],
    size: int,
    cap: int,
    conflicts: Mapping[str, frozenset[str]],
) -> list[tuple[str, ...]]:
    """Section 5.3 (and 5.4 for experts): one team per target of *order*, in that order.

    For each target: rank everybody by ticket, drop those in conflict; take those whose count
    is below *cap* in rank order; if still short, a second walk down the same ranking takes
    anyone not yet on the team, whatever their count. The team lists members in the order taken.
    """
    if size <= 0:
        return [() for _ in order]
    people_bytes = [p.encode() for p in people]
    count = dict.fromkeys(people, 0)
    teams: list[tuple[str, ...]] = []
    for target_id in order:
        prefix = f"{seed}{SEP}{kind}{SEP}{target_id}{SEP}".encode()
        digests = _digests(prefix, people_bytes)
        banned = conflicts.get(target_id, frozenset())
        team: list[str] = []
        # The team usually comes from the head of the ranking: rank only that. When it holds
        # enough people below their cap, the first walk over the whole ranking would take the
        # very same ones; otherwise the whole ranking is made and walked as described.
        depth = 4 * size + len(banned)
        if depth < len(digests):
            for _, p in _smallest(depth, digests, people):
                if count[p] < cap and p not in banned:
                    team.append(p)
                    if len(team) == size:
                        break
            if len(team) < size:
                team = []
        ranked: list[str] = []
        if not team:
            ranking = sorted(zip(digests, people, strict=True))
            ranked = [p for _, p in ranking if p not in banned] if banned else [p for _, p in ranking]
            for p in ranked:
                if count[p] < cap:
                    team.append(p)
                    if len(team) == size:
                        break
        if len(team) < size:
            for p in ranked:
                if p not in team:
                    team.append(p)
                    if len(team) == size:
                        break
        if len(team) < size:
            who = "执法人员" if kind == KIND_INSPECTOR else "专家"
            raise DrawInputError(
                f"对象“{_show(target_id)}”回避后只有 {len(ranked)} 名{who}可以分配，"
                f"少于每组需要的 {size} 名。"
            )
        for p in team:
            count[p] += 1
        teams.append(tuple(team))
    return teams


def draw_from_groups(
    seed: str,
    groups: Mapping[str, Sequence[str]],
    inspectors: Sequence[str],
    experts: Sequence[str],
    params: DrawParams,
    encoded: Mapping[str, Sequence[bytes]] | None = None,
) -> tuple[SelectedTarget, ...]:
    """Sections 4–5 from candidates grouped by stratum (*encoded*: their UTF-8 bytes, if known)."""
    chosen = _select(seed, groups, params, encoded)
    order = [c[1] for c in chosen]
    teams = assign_people(
        seed,
        KIND_INSPECTOR,
        order,
        inspectors,
        params.team_size,
        params.inspector_cap,
        params.inspector_conflicts,
    )
    panels = assign_people(
        seed, KIND_EXPERT, order, experts, params.expert_count, params.expert_cap, params.expert_conflicts
    )
    return tuple(
        SelectedTarget(tid, stratum, stratum is None, digest.hex(), team, panel)
        for (digest, tid, stratum), team, panel in zip(chosen, teams, panels, strict=True)
    )


def compute_selection(
    seed: str,
    targets: Iterable[tuple[str, str]],
    inspectors: Sequence[str],
    experts: Sequence[str],
    params: DrawParams,
) -> tuple[SelectedTarget, ...]:
    """Sections 4–5 on data taken as given: the drawn targets with tickets, teams and experts."""
    rows = list(targets)
    groups = group_by_stratum([r[0] for r in rows], [r[1] for r in rows])
    return draw_from_groups(seed, groups, inspectors, experts, params)


# ---------------------------------------------------------------------------------------------
# Section 6: substitutes


@dataclass(frozen=True, slots=True)
class SubstitutionRequest:
    """A team member who cannot serve; *unavailable* are (id, reason) declared unable to step in.

    *kind* ``"expert"`` replaces an expert with the same rule over ``E`` (an extension: the
    specification only speaks of inspectors). *at* and *operator* are informative.
    """

    target: str
    removed: str
    reason: str
    unavailable: tuple[tuple[str, str], ...] = ()
    kind: PersonKind = "inspector"
    at: str = ""
    operator: str = ""


@dataclass(frozen=True, slots=True)
class Substitution:
    """A substitution that was made: the request and the substitute the rule gave."""

    target: str
    removed: str
    reason: str
    skipped: tuple[tuple[str, str], ...]
    substitute: str
    kind: PersonKind = "inspector"
    at: str = ""
    operator: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "target": self.target,
            "removed": self.removed,
            "reason": self.reason,
            "skipped": [{"id": i, "reason": r} for i, r in self.skipped],
            "substitute": self.substitute,
            "at": self.at,
            "operator": self.operator,
        }
        if self.kind == KIND_EXPERT:
            out["kind"] = KIND_EXPERT
        return out


@dataclass(frozen=True)
class SubstitutionOutcome:
    substitutions: tuple[Substitution, ...]
    selected: tuple[SelectedTarget, ...]  # the teams after all substitutions


class Substituter:
    """Section 6, one substitution at a time, on data taken as given.

    The substitute for target ``t`` is the first person in ``t``'s ranking who is not on the
    team now, was never removed from ``t``'s team before (the history is kept per target and
    kind), is not in conflict with ``t`` and is not declared unavailable in this request.
    """

    def __init__(
        self,
        seed: str,
        inspectors: Sequence[str],
        experts: Sequence[str],
        params: DrawParams,
        selected: Sequence[SelectedTarget],
    ) -> None:
        self.seed = seed
        self.pools = {KIND_INSPECTOR: list(inspectors), KIND_EXPERT: list(experts)}
        self.params = params
        self.selected = list(selected)
        self.teams = {
            s.id: {KIND_INSPECTOR: list(s.inspectors), KIND_EXPERT: list(s.experts)} for s in selected
        }
        self.removed_before: dict[tuple[str, str], set[str]] = {}
        self.done: list[Substitution] = []

    def apply(self, req: SubstitutionRequest) -> Substitution:
        kind = req.kind
        if kind not in (KIND_INSPECTOR, KIND_EXPERT):
            raise DrawInputError(f"递补的人员类别“{_show(str(kind))}”未知（应为 inspector 或 expert）。")
        who = "执法人员" if kind == KIND_INSPECTOR else "专家"
        if req.target not in self.teams:
            raise DrawInputError(f"对象“{_show(req.target)}”不在本次抽中的名单中，不能递补。")
        team = self.teams[req.target][kind]
        if req.removed not in team:
            raise DrawInputError(
                f"“{_show(req.removed)}”不在对象“{_show(req.target)}”当前的{who}中，无法替换。"
            )
        history = self.removed_before.setdefault((kind, req.target), set())
        unavailable = {i for i, _ in req.unavailable}
        banned = self.params.conflicts(kind).get(req.target, frozenset())
        substitute = next(
            (
                p
                for p in rank_people(self.seed, kind, req.target, self.pools[kind])
                if p not in team and p not in history and p not in banned and p not in unavailable
            ),
            None,
        )
        if substitute is None:
            raise DrawInputError(
                f"对象“{_show(req.target)}”已没有可以递补的{who}"
                "（其余人员均已在组内、曾被替换、需回避或声明不能参加）。"
            )
        team[team.index(req.removed)] = substitute
        history.add(req.removed)
        sub = Substitution(
            req.target,
            req.removed,
            req.reason,
            tuple(req.unavailable),
            substitute,
            kind,
            req.at,
            req.operator,
        )
        self.done.append(sub)
        return sub

    def outcome(self) -> SubstitutionOutcome:
        after = tuple(
            SelectedTarget(
                s.id,
                s.stratum,
                s.mandatory,
                s.ticket,
                tuple(self.teams[s.id][KIND_INSPECTOR]),
                tuple(self.teams[s.id][KIND_EXPERT]),
            )
            for s in self.selected
        )
        return SubstitutionOutcome(tuple(self.done), after)


def replay_substitutions(
    seed: str,
    inspectors: Sequence[str],
    experts: Sequence[str],
    params: DrawParams,
    selected: Sequence[SelectedTarget],
    requests: Iterable[SubstitutionRequest],
) -> SubstitutionOutcome:
    """Section 6: apply *requests* in order (see :class:`Substituter`); substitutes and final teams."""
    sub = Substituter(seed, inspectors, experts, params, selected)
    for req in requests:
        sub.apply(req)
    return sub.outcome()


# ---------------------------------------------------------------------------------------------
# Input layer: normalisation, validation and feasibility (before the commitment is shown)


@dataclass(frozen=True, slots=True)
class Witness:
    name: str
    digits: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "digits": self.digits}


def all_code_characters(text: str) -> bool:
    """Only 0-9 and A-Z (C-level string methods, no per-character Python)."""
    return text.isascii() and not text.encode().translate(None, _CODE_BYTES)


def _normalize_target_columns(rows: Iterable[Sequence[str]]) -> tuple[list[str], list[str]]:
    """Candidate rows → (ids, strata) normalised and sorted by id; refuses repeats.

    Written for 100,000 rows: type checks, the id form and the order are tested with
    C-level passes, and rows are only normalised one by one when that fast test fails.
    """
    ids: list[str]
    strata: list[str]
    if isinstance(rows, TargetRows):  # columns already: pairs by construction
        ids, strata = list(rows.ids), list(rows.strata)
    else:
        rows = rows if isinstance(rows, list | tuple) else list(rows)
        if set(map(len, rows)) - {2}:
            bad = next(r for r in rows if len(r) != 2)
            raise DrawInputError(f"检查对象应为（统一社会信用代码, 分层）两项，现为 {show_value(bad)}。")
        ids = list(map(itemgetter(0), rows))
        strata = list(map(itemgetter(1), rows))
    # Fast path: every id already 18 characters from 0-9 and A-Z (then it is NFC and trimmed).
    if not (
        set(map(type, ids)) <= {str} and set(map(len, ids)) <= {18} and all_code_characters("".join(ids))
    ):
        ids = [normalize_target_id(i) for i in ids]
    if set(map(type, strata)) - {str}:
        bad_s = next(s for s in strata if type(s) is not str)
        raise DrawInputError(f"分层名称应为文本，现为 {show_value(bad_s)}。")
    names = {s: normalize_text(s, "分层名称", allow_empty=True) for s in set(strata)}
    if any(k != v for k, v in names.items()):
        strata = list(map(names.__getitem__, strata))
    return sort_target_columns(ids, strata)


class PreparedTargets(TargetRows):
    """Candidate rows normalised, checked and sorted by id (:func:`_normalize_target_columns`), with
    what the draw derives from them alone: the ids of each stratum (in id order) and ``H_targets``.

    Made by its constructor only, from any rows a :class:`DrawSetup` takes; a setup given one does not
    repeat that work (about 0.1 s for 100,000 candidates). The draw screen makes it when a task's pool
    is read, so that a draw started from that pool, with the data unchanged, begins at once.
    """

    __slots__ = ("groups", "hash")

    def __init__(self, rows: Iterable[Sequence[str]]) -> None:
        ids, strata = _normalize_target_columns(rows)
        super().__init__(ids, strata)
        self.groups: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {s: tuple(g) for s, g in group_by_stratum(ids, strata).items()}
        )
        self.hash = hash_target_columns(ids, strata)


def _encode_ids(ids: Sequence[str]) -> list[bytes]:
    """``[i.encode() for i in ids]`` for normalised target ids (no id holds a line feed): one
    encoding of the joined column, split again."""
    return LF.join(ids).encode().split(LF.encode()) if ids else []


def _first_duplicate(items: Iterable[str]) -> str:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            return item
        seen.add(item)
    raise ValueError("no duplicate")


def normalize_target_id(value: object) -> str:
    """A target id (统一社会信用代码): normalised text of 18 digits or upper-case letters.

    The check character is not verified here (the directory import does that); the draw only
    insists on the form the specification names, so all implementations hash the same bytes.
    """
    text = normalize_text(value, "统一社会信用代码")
    if not _TARGET_ID.fullmatch(text):
        raise DrawInputError(f"统一社会信用代码“{_show(text)}”应为 18 位数字或大写字母。")
    return text


def _normalize_people(ids: Iterable[str], who: str) -> list[str]:
    out = sorted(normalize_text(i, f"{who}代码") for i in ids)
    if len(set(out)) != len(out):
        raise DrawInputError(f"{who}“{_show(_first_duplicate(out))}”在名单中重复出现。")
    return out


def normalize_witness(name: object, digits: object, position: int = 1) -> Witness:
    """One witness (section 3.2): a name and a string of ASCII digits."""
    name = normalize_text(name, f"第 {position} 位见证人的姓名")
    digits = normalize_text(digits, f"见证人“{name}”给出的数字")
    if not (digits.isascii() and digits.isdigit()):
        raise DrawInputError(f"见证人“{name}”给出的“{_show(digits)}”只能由半角数字 0–9 组成。")
    return Witness(name, digits)


def normalize_witnesses(witnesses: Iterable[Witness | Sequence[str]]) -> tuple[Witness, ...]:
    """Section 3.2: each witness a name and a string of ASCII digits; at least 20 digits in all."""
    out = []
    for n, w in enumerate(witnesses, 1):
        name, digits = (w.name, w.digits) if isinstance(w, Witness) else (w[0], w[1])
        out.append(normalize_witness(name, digits, n))
    total = sum(len(w.digits) for w in out)
    if total < MIN_WITNESS_DIGITS:
        raise DrawInputError(f"见证人给出的数字共 {total} 位，至少需要 {MIN_WITNESS_DIGITS} 位。")
    return tuple(out)


def _normalize_pairs(raw: Any, key: str) -> list[list[str]]:
    if not isinstance(raw, list | tuple):
        raise DrawInputError(f"抽取参数“{key}”（{_PARAM_TITLES[key]}）应为 [人员, 对象] 对的列表。")
    out = []
    for pair in raw:
        if not (isinstance(pair, list | tuple) and len(pair) == 2):
            raise DrawInputError(
                f"抽取参数“{key}”（{_PARAM_TITLES[key]}）中的 {show_value(pair)} 不是 [人员代码, 统一社会信用代码] 对。"
            )
        out.append(
            [normalize_text(pair[0], "回避关系中的人员代码"), normalize_text(pair[1], "回避关系中的对象代码")]
        )
    return out


def normalize_params(params: Mapping[str, Any], *, n_inspectors: int, n_experts: int) -> dict[str, Any]:
    """The params to hash: known texts normalised, ``mandatory`` sorted (the specification says it
    is), defaults written in (``expert_count`` 0, caps per section 7). Conflict pairs keep their
    order (see :func:`canonical_conflicts`); other keys are kept as given (hashed like the rest).
    """
    if not isinstance(params, Mapping):
        raise DrawInputError("抽取参数应为 JSON 对象。")
    out: dict[str, Any] = json.loads(canonical_json(dict(params)))  # a deep copy, and floats refused
    if "quotas" in out and isinstance(out["quotas"], dict):
        quotas: dict[str, Any] = {}
        for stratum, k in out["quotas"].items():
            name = normalize_text(stratum, "抽取数量中的分层名称", allow_empty=True)
            if name in quotas:
                raise DrawInputError(f"抽取数量中的分层“{_show(name)}”重复出现。")
            quotas[name] = k
        out["quotas"] = quotas
    if "mandatory" in out:
        if not isinstance(out["mandatory"], list):
            raise DrawInputError("抽取参数“mandatory”（必查对象）应为统一社会信用代码的列表。")
        out["mandatory"] = sorted(normalize_target_id(i) for i in out["mandatory"])
    for key in ("inspector_conflicts", "expert_conflicts"):
        if key in out:
            out[key] = _normalize_pairs(out[key], key)
    parsed = parse_params(out, n_inspectors=n_inspectors, n_experts=n_experts)  # type checks, defaults
    out.setdefault("expert_count", parsed.expert_count)
    out.setdefault("inspector_cap", parsed.inspector_cap)
    out.setdefault("expert_cap", parsed.expert_cap)
    return out


def check_feasible(
    ids: Sequence[str],
    strata: Sequence[str],
    inspectors: Sequence[str],
    experts: Sequence[str],
    params: DrawParams,
    sizes: Mapping[str, int] | None = None,
) -> None:
    """Refuse a draw that cannot be made or whose rules cannot hold (sections 5 and 7).

    Decisions where the specification leaves room:

    * ``mandatory`` ids are *not* candidates: they are inspected without sampling, so they stand
      outside every stratum (``stratum`` null in ``selected``, as in the test vectors, where they
      are absent from ``targets``). An id listed both as mandatory and as a candidate is refused,
      because it would be unclear whether it also uses up a place in its stratum's quota.
    * A stratum without a key in ``quotas`` draws nothing (quota 0). A key naming no stratum of
      the candidate list is refused (a misspelt region would otherwise silently draw nothing).
    * Caps: the default ``ceil(K × team_size / inspectors)`` is the lowest value that can hold at
      all (K targets need K × team_size places). Section 7 allows a task to set "a lower one that
      still leaves the draw feasible"; no lower value can hold, so a cap below that bound is
      refused instead of being silently exceeded through the section 5.3 fallback. A higher cap
      is allowed (it is fixed and hashed before the seed). Experts likewise.
    * Every mandatory target, and every candidate of a stratum whose quota is above 0, needs at
      least ``team_size`` inspectors and ``expert_count`` experts outside its conflicts: otherwise
      some seed would make the draw impossible, which must be known before the commitment is
      shown. (Candidates of a stratum drawing 0 can never be drawn and are not held to this.)
    * Conflict pairs naming people or targets outside this draw are allowed and have no effect.
    """
    candidates = Counter(strata) if sizes is None else sizes  # candidates per stratum
    total = params.total_targets
    if total <= 0:
        raise DrawInputError("本次抽取的对象数量为 0：请设定至少一个分层的抽取数量或必查对象。")
    for stratum, k in params.quotas.items():
        if stratum not in candidates:
            shown = "（未分层）" if stratum == "" else f"“{_show(stratum)}”"
            raise DrawInputError(f"抽取数量中的分层{shown}在候选名单中没有任何对象。")
        if k > candidates[stratum]:
            raise DrawInputError(
                f"分层“{_show(stratum)}”只有 {candidates[stratum]} 个候选对象，不能抽取 {k} 个。"
            )

    def position(tid: str) -> int | None:  # index of a candidate id (ids are sorted)
        i = bisect_left(ids, tid)
        return i if i < len(ids) and ids[i] == tid else None

    for tid in params.mandatory:
        if position(tid) is not None:
            raise DrawInputError(
                f"必查对象“{tid}”同时在随机抽取的候选名单中。必查对象不参加抽签，请把它从候选名单中移出。"
            )

    # Targets any seed could put in the draw: the mandatory ones and every candidate of a
    # stratum with a quota above 0 (candidates of a stratum drawing 0 can never need a team).
    def drawable(tid: str) -> bool:
        if tid in params.mandatory:
            return True
        i = position(tid)
        return i is not None and params.quotas.get(strata[i], 0) > 0

    for kind, pool, size, cap in (
        (KIND_INSPECTOR, inspectors, params.team_size, params.inspector_cap),
        (KIND_EXPERT, experts, params.expert_count, params.expert_cap),
    ):
        if size <= 0:
            continue
        who = "执法人员" if kind == KIND_INSPECTOR else "专家"
        n = len(pool)
        if n < size:
            raise DrawInputError(f"{who}名单只有 {n} 人，少于每个对象需要的 {size} 人。")
        lowest = default_cap(total, size, n)
        if cap < lowest:
            raise DrawInputError(
                f"每名{who}最多分配 {cap} 个对象过低：{total} 个对象 × 每个 {size} 人 = {total * size} 人次，"
                f"{n} 名{who}至少需要每人 {lowest} 个。"
            )
        conflicts = params.conflicts(kind)
        if not conflicts:
            continue
        members = set(pool)
        for tid in sorted(t for t in conflicts if drawable(t)):
            free = n - len(conflicts[tid] & members)
            if free < size:
                raise DrawInputError(
                    f"对象“{tid}”回避后只剩 {free} 名{who}可以分配，少于每个对象需要的 {size} 名。"
                    f"请增加{who}或核对回避关系。"
                )


@dataclass(frozen=True)
class DrawSetup:
    """Everything fixed before the seed exists (section 2) plus the nonce: the 抽取前公告.

    Constructing one normalises and validates every input and checks that the draw can be
    made; it then holds the four hashes and the commitment to show. The lists are stored
    sorted by id; ``params`` is the exact object hashed (do not mutate it).
    """

    session: str
    targets: Sequence[tuple[str, str]]  # after construction: PreparedTargets (sorted by id)
    inspectors: tuple[str, ...]
    experts: tuple[str, ...]
    params: dict[str, Any]
    nonce: str = field(default_factory=new_nonce, repr=False)
    hashes: DrawHashes = field(init=False)
    commitment: str = field(init=False)
    parsed: DrawParams = field(init=False, repr=False, compare=False)
    groups: Mapping[str, Sequence[str]] = field(init=False, repr=False, compare=False)
    encoded: Mapping[str, Sequence[bytes]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        session = normalize_text(self.session, "抽取场次编号")
        targets = self.targets if type(self.targets) is PreparedTargets else PreparedTargets(self.targets)
        ids, strata = targets.ids, targets.strata
        inspectors = _normalize_people(self.inspectors, "执法人员")
        experts = _normalize_people(self.experts, "专家")
        if not isinstance(self.nonce, str) or not _NONCE.fullmatch(self.nonce):
            raise DrawInputError("随机数（nonce）应为 32 位小写十六进制字符。")
        params = normalize_params(self.params, n_inspectors=len(inspectors), n_experts=len(experts))
        parsed = parse_params(params, n_inspectors=len(inspectors), n_experts=len(experts))
        groups = targets.groups
        check_feasible(ids, strata, inspectors, experts, parsed, {s: len(g) for s, g in groups.items()})
        # Seed-independent work done once, so the reveal itself stays cheap.
        encoded = {s: _encode_ids(groups[s]) for s, k in parsed.quotas.items() if k > 0}
        hashes = DrawHashes(
            targets=targets.hash,
            inspectors=hash_ids(inspectors),
            experts=hash_ids(experts),
            params=hash_params(params),
        )
        for name, value in (
            ("session", session),
            ("targets", targets),
            ("inspectors", tuple(inspectors)),
            ("experts", tuple(experts)),
            ("params", params),
            ("hashes", hashes),
            ("commitment", commitment_of(self.nonce)),
            ("parsed", parsed),
            ("groups", groups),
            ("encoded", encoded),
        ):
            object.__setattr__(self, name, value)

    def announcement(self) -> dict[str, Any]:
        """What is shown and printed before any witness speaks (section 3.1)."""
        return {
            "spec": SPEC_ID,
            "session": self.session,
            "hashes": self.hashes.to_json(),
            "commitment": self.commitment,
        }


@dataclass(frozen=True)
class DrawResult:
    setup: DrawSetup
    witnesses: tuple[Witness, ...]
    seed: str
    selected: tuple[SelectedTarget, ...]

    @property
    def hashes(self) -> DrawHashes:
        return self.setup.hashes

    @property
    def commitment(self) -> str:
        return self.setup.commitment

    def to_json(self) -> dict[str, Any]:
        """hashes, commitment, seed and selected, as in the test vectors' ``expected``."""
        return {
            "hashes": self.hashes.to_json(),
            "commitment": self.commitment,
            "seed": self.seed,
            "selected": [s.to_json() for s in self.selected],
        }


def reveal(setup: DrawSetup, witnesses: Iterable[Witness | Sequence[str]]) -> DrawResult:
    """Sections 3.3–5 after the witnesses have spoken: seed, selection, teams and experts."""
    ws = normalize_witnesses(witnesses)
    seed = compute_seed(setup.session, setup.hashes, [w.digits for w in ws], setup.nonce)
    selected = draw_from_groups(
        seed, setup.groups, setup.inspectors, setup.experts, setup.parsed, setup.encoded
    )
    return DrawResult(setup, ws, seed, selected)


@dataclass(frozen=True)
class DrawInput:
    """All inputs of a draw at once (tests, replays, benchmarks): see :func:`run_draw`."""

    session: str
    targets: Sequence[tuple[str, str]]
    inspectors: Sequence[str]
    experts: Sequence[str]
    params: Mapping[str, Any]
    witnesses: Sequence[Witness | tuple[str, str]]
    nonce: str = field(default_factory=new_nonce, repr=False)

    def setup(self) -> DrawSetup:
        return DrawSetup(
            self.session,
            self.targets,
            tuple(self.inspectors),
            tuple(self.experts),
            dict(self.params),
            self.nonce,
        )


def run_draw(inp: DrawInput) -> DrawResult:
    """The whole draw from its inputs: validate, hash, commit, seed, select, assign."""
    return reveal(inp.setup(), inp.witnesses)


def _normalize_request(req: SubstitutionRequest) -> SubstitutionRequest:
    reasons = []
    for pid, why in req.unavailable:
        pid = normalize_text(pid, "声明不能参加的人员代码")
        reasons.append((pid, normalize_text(why, f"“{_show(pid)}”不能参加的原因")))
    return SubstitutionRequest(
        target=normalize_target_id(req.target),
        removed=normalize_text(req.removed, "被替换人员代码"),
        reason=normalize_text(req.reason, "替换原因"),
        unavailable=tuple(reasons),
        kind=req.kind,
        at=normalize_text(req.at, "递补时间", allow_empty=True),
        operator=normalize_text(req.operator, "操作人", allow_empty=True),
    )


def apply_substitutions(result: DrawResult, requests: Iterable[SubstitutionRequest]) -> SubstitutionOutcome:
    """Section 6: validate and apply *requests* in order to the teams of *result*."""
    reqs = [_normalize_request(r) for r in requests]
    setup = result.setup
    for req in reqs:
        pool = set(setup.inspectors if req.kind == KIND_INSPECTOR else setup.experts)
        for pid, _ in req.unavailable:
            if pid not in pool:
                raise DrawInputError(f"声明不能参加的“{_show(pid)}”不在本次抽取的人员名单中。")
    return replay_substitutions(
        result.seed, setup.inspectors, setup.experts, setup.parsed, result.selected, reqs
    )
