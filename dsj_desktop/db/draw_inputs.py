"""A draw session's frozen inputs as stored (schema 7 on): one row of ``draw_input`` per session,
written once when the session is prepared and never changed (a ``keep_*`` trigger refuses it), beside
the small row of ``draw_session`` that changes at every step (commit, each witness, the reveal…).

Columns:
    task     JSON of the task as drawn (small: lists, results and publications read only this)
    targets  the canonical JSON of the record's ``targets`` member, ``[{id, name, stratum}]`` ordered
             by id as the draw orders them (:func:`dsj_desktop.draw.record.target_rows_json`): every
             version of the session's signed record copies this text as it is
    other    JSON of the rest: mandatory_reasons, mandatory_names, inspectors, experts, params,
             exclusions, exclusion_names, strata, previous

:func:`split` makes the three texts from the inputs as ``prepare`` builds them (``targets`` as
``[id, stratum]`` pairs, ``names`` by id); :func:`joined` gives that shape back.

A signed record's versions (``draw_record``, schema 8 on) do not store the candidates again: a
version whose ``targets`` member is exactly this row's ``targets`` text is stored with that member's
value written ``null`` and ``draw_record.targets_at`` giving where (in characters); the record is that
text with the candidates put back (:func:`record_with_candidates`). Nothing is weaker for it: the
digest and signature cover the whole record, the row's seal covers what it stores, and the
candidates' own row is sealed and never changes. At city scale a version then takes a few hundred
kB (the selection, teams, exclusions…) instead of 10 MB (:func:`record_without_candidates`).
"""

from __future__ import annotations

import json
import json.decoder
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

from dsj_desktop.draw.algorithm import DrawInputError, columns_json
from dsj_desktop.draw.record import RecordError, target_rows_json

COLUMNS = ("task", "targets", "other")
_OWN = frozenset({"task", "targets", "names"})


def split(
    inputs: Mapping[str, Any],
    *,
    lenient: bool = False,
    targets_json: str | None = None,
) -> tuple[str, str, str]:
    """(task, targets, other) texts of *inputs*. *targets_json*: the candidates' text made already
    (:func:`~dsj_desktop.draw.record.target_columns_json`, as ``prepare`` does), taken as it is; then
    ``inputs["names"]`` need only name the mandatory targets, and ``inputs["targets"]`` is not read.
    Else the candidates of ``inputs["targets"]`` are sorted here by id.
    *lenient* (upgrading a file): names the record would refuse are kept as they are, not refused."""
    names: Mapping[str, str] = inputs["names"]
    if targets_json is None:
        rows = sorted((str(t[0]), str(t[1])) for t in inputs["targets"])
        try:
            targets_json = target_rows_json(rows, names)
        except (RecordError, DrawInputError):
            if not lenient:
                raise
            targets_json = columns_json({
                "id": [t[0] for t in rows], "name": [str(names.get(t[0]) or "") for t in rows],
                "stratum": [t[1] for t in rows],
            })  # fmt: skip
    other = {k: v for k, v in inputs.items() if k not in _OWN}
    mandatory = inputs.get("params", {}).get("mandatory", [])
    other["mandatory_names"] = {m: names[m] for m in mandatory if m in names}
    return (
        json.dumps(inputs["task"], ensure_ascii=False),
        targets_json,
        json.dumps(other, ensure_ascii=False),
    )


def joined(task: str, targets: str, other: str) -> dict[str, Any]:
    """The inputs in the shape ``prepare`` builds them, from the three stored texts."""
    rows = json.loads(targets)
    out: dict[str, Any] = {"task": json.loads(task), **json.loads(other)}
    out["targets"] = [[r["id"], r["stratum"]] for r in rows]
    names = {r["id"]: r["name"] for r in rows}
    names.update(out.pop("mandatory_names", {}))
    out["names"] = names
    return out


_ROW = '{"id":'  # each candidate's object starts so; never inside a JSON string (its quotes are escaped)
# ... and each one's last member (members sorted: id, name, stratum) starts so, its value a JSON string
# (anything but a bare quote or backslash, or an escape) closing the object.
_STRATUM_MEMBER = ',"stratum":"'
_STRATUM = re.compile(r',"stratum":("(?:[^"\\]|\\.)*")\}', re.DOTALL)


def count_candidates(targets: str, *, strata: bool) -> tuple[int, Counter[str]]:
    """How many candidates the stored ``targets`` text holds and, when *strata*, how many per
    stratum: counted in the text as the program writes it (:func:`counted_in_text`; 9 MB at city
    scale, not decoded), else (never the program's text) decoded whole. The same numbers either way."""
    counted = counted_in_text(targets, strata=strata)
    if counted is not None:
        return counted
    rows = json.loads(targets)
    return len(rows), Counter(str(r["stratum"]) for r in rows) if strata else Counter()


def counted_in_text(targets: str, *, strata: bool) -> tuple[int, Counter[str]] | None:
    """:func:`count_candidates` without decoding the rows (each distinct stratum decoded once); None
    when the text is not written as the program writes it."""
    if targets == "[]":
        return 0, Counter()
    if not (targets.startswith("[" + _ROW) and targets.endswith('"}]')):
        return None
    n = targets.count(_ROW)
    if not strata:
        return (n, Counter()) if targets.count(_STRATUM_MEMBER) == n else None
    raw = Counter(_STRATUM.findall(targets))
    if sum(raw.values()) != n:
        return None
    sizes: Counter[str] = Counter()
    for text, k in raw.items():
        sizes[json.loads(text)] += k
    return n, sizes


def names_of(targets: str | bytes, ids: Sequence[str]) -> dict[str, str]:
    """The names of a few candidates (*ids*, e.g. the 200 drawn) from the stored ``targets`` text (or
    its UTF-8, as confirm reads it), without decoding its 100,000 rows: the rows are ordered by id, so
    each is found by bisection."""
    return _names_of_utf8(targets.encode("utf-8") if isinstance(targets, str) else targets, ids)


_ROW_UTF8, _NAME_UTF8 = _ROW.encode(), b',"name":'  # (the members of a row: id, name, stratum)


def _names_of_utf8(targets: bytes, ids: Sequence[str]) -> dict[str, str]:
    """:func:`names_of` in the UTF-8 of the text. The ids in order, each row sought from where the
    last one was found (the rows are ordered by id): one forward pass over the text for all of them,
    each row found by its start as written (``{"id":`` and the id as JSON writes it, then
    ``,"name":``, which never occur inside a JSON string); an id not found so is sought by bisection."""
    out: dict[str, str] = {}
    pos = 0
    for wanted in sorted(set(ids)):
        head = _ROW_UTF8 + encode_basestring(wanted).encode("utf-8") + _NAME_UTF8
        start = targets.find(head, pos)
        if start < 0:
            name = _bisect_name(targets, wanted)
            if name is not None:
                out[wanted] = name
            continue
        pos = start + len(head)
        out[wanted] = _row_name(targets, start, pos)
    return out


def _row_name(targets: bytes, start: int, after: int) -> str:
    """The name of the row that starts at *start* (its next row is sought from *after*)."""
    end = targets.find(_ROW_UTF8, after)
    return str(json.loads(targets[start : len(targets) if end < 0 else end].rstrip(b",]"))["name"])


def _bisect_name(targets: bytes, wanted: str) -> str | None:
    """One candidate's name by bisection over the rows: each row probed decodes only its id (between
    ``{"id":`` and ``,"name":``); None when no row has that id."""
    lo, hi = 0, len(targets)
    while lo < hi:
        mid = (lo + hi) // 2
        start = targets.find(_ROW_UTF8, mid)
        if start < 0 or start >= hi:
            hi = mid
            continue
        sep = targets.find(_NAME_UTF8, start)
        raw = targets[start + len(_ROW_UTF8) : sep]  # the id as a JSON string
        found = raw[1:-1].decode("utf-8") if b"\\" not in raw else json.loads(raw)
        if found == wanted:
            return _row_name(targets, start, sep)
        if found < wanted:
            lo = sep
        else:
            hi = start
    return None


PLACEHOLDER = "null"  # the candidates' value as a record version stores it (valid JSON)


def record_without_candidates(data: bytes, span: tuple[int, int], targets: bytes) -> tuple[bytes, int] | None:
    """A signed record's UTF-8 *data* as ``draw_record`` stores it when the value at *span* (its
    ``targets`` member) is exactly *targets*, the session's frozen candidates as ``draw_input``
    holds them (as UTF-8): that value written :data:`PLACEHOLDER`, and where in characters (the
    ``targets_at`` column). None when the bytes differ: the record is then stored whole."""
    a, b = span
    if b - a != len(targets) or not data.startswith(targets, a):  # (memcmp, no copy)
        return None
    head = data[:a]
    return b"".join((head, PLACEHOLDER.encode("ascii"), memoryview(data)[b:])), len(head.decode("utf-8"))


def record_with_candidates(stored: str, targets_at: int | None, targets: str | None) -> str:
    """A record version's text from its stored text (``draw_record.record``), its ``targets_at`` and
    the session's frozen candidates (``draw_input.targets``; read only when *targets_at* is given).
    Raises ValueError if the stored text has no placeholder there or the candidates are missing (the
    database changed outside the program)."""
    if targets_at is None:
        return stored
    end = targets_at + len(PLACEHOLDER)
    if targets is None or targets_at < 1 or stored[targets_at:end] != PLACEHOLDER:
        raise ValueError("the record's candidates are not where its row says")
    return "".join((stored[:targets_at], targets, stored[end:]))


# One record version (parameters: session id, version) as :func:`record_with_candidates` takes it: its
# stored text, ``targets_at`` and the session's candidates (their 10 MB read only for a version stored
# without them).
RECORD_SQL = (
    "SELECT r.record, r.targets_at, CASE WHEN r.targets_at IS NULL THEN NULL ELSE i.targets END "
    "FROM draw_record AS r LEFT JOIN draw_input AS i ON i.session_id = r.session_id "
    "WHERE r.session_id = ? AND r.version = ?"
)
