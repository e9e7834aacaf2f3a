"""The signed draw record (DSJ-DRAW-1 section 8) and its verification (section 9).

A record is one JSON document. :func:`build_record` makes it from a draw and informative
metadata, :func:`sign_record` adds the Ed25519 signature, :func:`verify_record` re-checks
everything a third party can re-check and says exactly what differs.

Members this program writes beyond the specification's required ones:

* ``void_reason``: always present, ``null`` for a confirmed draw (the specification names it
  for voided ones);
* ``mandatory_targets``: ``[{id, name, reason}]`` for the mandatory targets (they are not in
  ``targets``, which lists the candidates only), informative;
* ``software``: ``"dsj-desktop <version>"``, informative;
* in a ``substitutions`` entry, ``kind: "expert"`` when an expert was replaced (absent for
  inspectors, the only case the specification describes).
* ``pdf_key_fingerprint``: the SHA-256 fingerprint (grouped upper-case hex) of the
  SubjectPublicKeyInfo of the key that signs the record PDF: a record key pinned by its published
  fingerprint thereby pins the PDF certificate too (docs/pdf-signature.md).

``previous[].nonce_revealed`` is the earlier attempt's nonce when it was revealed, else ``false``
(spec §3.4: an attempt interrupted before its reveal); ``null`` and ``true`` are also accepted when
verifying, as older records and other implementations may write them.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from operator import itemgetter
from pathlib import Path
from typing import Any

from dsj_desktop import __version__
from dsj_desktop.draw.algorithm import (
    KIND_EXPERT,
    KIND_INSPECTOR,
    MIN_WITNESS_DIGITS,
    SPEC_ID,
    DrawHashes,
    DrawInputError,
    DrawParams,
    DrawResult,
    DrawSetup,
    KnownColumns,
    SelectedTarget,
    Substituter,
    Substitution,
    SubstitutionRequest,
    TargetRows,
    Witness,
    all_code_characters,
    canonical_json,
    commitment_of,
    compute_seed,
    draw_from_groups,
    gc_paused,
    group_by_stratum,
    hash_ids,
    hash_params,
    hash_target_columns,
    normalize_text,
    normalize_texts,
    normalize_texts_joined,
    parse_params,
    replay_substitutions,
    show_value,
    sort_target_columns,
)
from dsj_desktop.errors import UserError

STATUS_CONFIRMED = "confirmed"
STATUS_VOIDED = "voided"
STATUSES = (STATUS_CONFIRMED, STATUS_VOIDED)
SIGNATURE_ALG = "Ed25519"
REQUIRED_MEMBERS = (
    "spec",
    "session",
    "status",
    "task",
    "targets",
    "inspectors",
    "experts",
    "params",
    "hashes",
    "commitment",
    "nonce",
    "witnesses",
    "seed",
    "selected",
    "substitutions",
    "exclusions",
    "previous",
    "signature",
)
MAX_SHOWN = 8  # differences listed per check before "…… N more"


class RecordError(UserError):
    """A record file cannot be read as a DSJ-DRAW-1 record, or a record cannot be built."""


# ---------------------------------------------------------------------------------------------
# Building


@dataclass(frozen=True, slots=True)
class PreviousAttempt:
    """An earlier attempt at the same task, listed in the next record (section 8)."""

    session: str
    status: str
    reason: str
    commitment: str
    nonce_revealed: str | bool | None  # the nonce when it was revealed, else False

    def to_json(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "status": self.status,
            "reason": self.reason,
            "commitment": self.commitment,
            "nonce_revealed": self.nonce_revealed,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> PreviousAttempt:
        """The summary of a (voided) record, to list under the next attempt's ``previous``."""
        return cls(
            session=record["session"],
            status=record["status"],
            reason=record.get("void_reason") or "",
            commitment=record["commitment"],
            nonce_revealed=record.get("nonce") or False,
        )


def _text(value: Any, what: str) -> str:
    return normalize_text("" if value is None else value, what, allow_empty=True)


def _target_rows(targets: Sequence[tuple[str, str]], names: Mapping[str, str]) -> list[dict[str, str]]:
    """The record's candidate rows: id, stratum and name (each name checked as :func:`_text` does)."""
    shown = normalize_texts(["" if (v := names.get(tid)) is None else v for tid, _ in targets], "对象名称")
    return [
        {"id": tid, "stratum": stratum, "name": name}
        for (tid, stratum), name in zip(targets, shown, strict=True)
    ]


def target_rows_json(targets: Sequence[tuple[str, str]], names: Mapping[str, str]) -> str:
    """The canonical JSON of a record's ``targets`` member (:func:`_target_rows`, names checked the
    same way), written column by column: every version of a session's record carries the same
    candidates, so this text is made once, when the session's inputs are frozen."""
    ids: Sequence[str]
    strata: Sequence[str]
    if isinstance(targets, TargetRows):
        ids, strata = targets.ids, targets.strata
    else:
        ids, strata = [t[0] for t in targets], [t[1] for t in targets]
    return target_columns_json(ids, strata, ["" if (v := names.get(tid)) is None else v for tid in ids])


def target_columns_json(ids: Sequence[str], strata: Sequence[str], names: Sequence[Any]) -> str:
    """:func:`target_rows_json` from columns: *names* holds each candidate's name in the order of
    *ids* (``None`` shown as empty), so no lookup by id is needed.

    The text of :func:`~dsj_desktop.draw.algorithm.columns_json` (tests compare them), written for
    100,000 rows in four pieces a row: the id, ``","name":"``, the name, and the row's end with the
    next row's start, one text per stratum. A column with nothing to escape (JSON escapes only
    quotes, backslashes and control characters; seen in one pass over the joined column) is copied
    as it is between quotes, others go through ``encode_basestring`` (the encoder of ``json.dumps``)."""
    if None in names:
        names = ["" if v is None else v for v in names]
    shown, joined_names = normalize_texts_joined(names, "对象名称")  # text only, or refused
    n = len(ids)
    if len(strata) != n or len(shown) != n:
        raise DrawInputError("列的长度不一致，或没有列。")
    if not n:
        return "[]"
    try:  # (joining refuses any id that is not text)
        joined_ids = "".join(ids)
        kinds = set(strata)
    except TypeError:
        raise DrawInputError("列中的值必须是文本。") from None
    if set(map(type, kinds)) != {str}:
        raise DrawInputError("列中的值必须是文本。")
    # (Ids are mostly of 0-9 and A-Z, found at once; names have no control characters by now.)
    plain_ids = all_code_characters(joined_ids) or not _ESCAPED.search(joined_ids)
    plain_names = '"' not in joined_names and "\\" not in joined_names
    qi, qn = ('"' if plain_ids else ""), ('"' if plain_names else "")
    head = '{"id":' + qi
    tails = {s: f'{qn},"stratum":{encode_basestring(s)}}},{head}' for s in kinds}
    parts: list[str] = [""] * (4 * n)
    parts[0::4] = ids if plain_ids else list(map(encode_basestring, ids))
    parts[1::4] = [qi + ',"name":' + qn] * n
    parts[2::4] = shown if plain_names else list(map(encode_basestring, shown))
    parts[3::4] = list(map(tails.__getitem__, strata))
    parts[0] = "[" + head + parts[0]
    parts[-1] = f'{qn},"stratum":{encode_basestring(strata[-1])}}}]'
    return "".join(parts)


_ESCAPED = re.compile(r'["\\\x00-\x1f]')  # what encode_basestring (ensure_ascii=False) escapes


@dataclass(frozen=True)
class Encoded:
    """A record member given as its canonical JSON text (see :func:`build_record`'s *targets_json*);
    :func:`canonical_members` copies it as it is."""

    text: str


@dataclass(frozen=True)
class EncodedUtf8:
    """A record member given as the UTF-8 of its canonical JSON, *chars* characters long: the
    candidates as read from the database, copied as they are into the bytes :func:`sign_utf8` makes
    (neither decoded nor encoded again). *chars* None: not counted (whoever needs the length counts it)."""

    data: bytes
    chars: int | None


def build_record(
    draw: DrawResult | DrawSetup,
    *,
    commitment: str | None = None,
    status: str = STATUS_CONFIRMED,
    void_reason: str | None = None,
    task: Mapping[str, Any] | None = None,
    target_names: Mapping[str, str] | None = None,
    inspector_names: Mapping[str, str] | None = None,
    inspector_units: Mapping[str, str] | None = None,
    expert_names: Mapping[str, str] | None = None,
    mandatory_reasons: Mapping[str, str] | None = None,
    witnesses: Iterable[Witness | Sequence[str]] = (),
    substitutions: Sequence[Substitution] = (),
    exclusions: Iterable[tuple[str, str]] = (),
    previous: Iterable[PreviousAttempt] = (),
    targets_json: str | EncodedUtf8 | None = None,
) -> dict[str, Any]:
    """The record of a draw, without signature (see :func:`sign_record`).

    *targets_json*: :func:`target_rows_json` of the setup's candidates, made once for all versions
    of a session's record; the record's ``targets`` is then that text as :class:`Encoded`, for
    :func:`canonical_members` (and *target_names* need only name the mandatory targets), or that
    text's UTF-8 (:class:`EncodedUtf8`), for :func:`sign_utf8`.

    *draw* is a :class:`DrawResult`, or a bare :class:`DrawSetup` for an attempt voided before
    the nonce was revealed (then *witnesses* may hold the digits given so far, and the record
    has ``nonce``, ``seed`` null and ``selected`` empty). Substitutions are replayed here too,
    so a record never carries a substitute the rule would not give.

    *commitment* is the commitment as announced (stored at commit): the record carries it, and a
    revealed nonce that does not hash to it is refused. Without it, the setup's own commitment is
    used (a draw made and recorded in one piece, as in tests and benchmarks).
    """
    if status not in STATUSES:
        raise RecordError(f"记录状态“{status}”无效（应为 confirmed 或 voided）。")
    reason = _text(void_reason, "作废原因")
    if status == STATUS_VOIDED and not reason:
        raise RecordError("作废的抽取必须写明作废原因。")
    if status == STATUS_CONFIRMED and reason:
        raise RecordError("已确认的抽取不应有作废原因。")
    result = draw if isinstance(draw, DrawResult) else None
    setup = draw.setup if isinstance(draw, DrawResult) else draw
    announced = setup.commitment if commitment is None else commitment
    if result is not None and commitment_of(setup.nonce) != announced:
        raise RecordError("随机数 N 与抽取前公告的承诺值 C 不符，不能生成抽取记录。")
    if result is None and status == STATUS_CONFIRMED:
        raise RecordError("尚未揭示随机数的抽取只能作为作废记录保存。")
    if result is None and substitutions:
        raise RecordError("尚未抽取，不能有递补记录。")
    if result is not None:
        replayed = replay_substitutions(
            result.seed,
            setup.inspectors,
            setup.experts,
            setup.parsed,
            result.selected,
            [
                SubstitutionRequest(s.target, s.removed, s.reason, s.skipped, s.kind, s.at, s.operator)
                for s in substitutions
            ],
        )
        if [s.substitute for s in replayed.substitutions] != [s.substitute for s in substitutions]:
            raise RecordError("递补记录与递补规则算出的人员不一致。")
    names = target_names or {}
    i_names, i_units, e_names = inspector_names or {}, inspector_units or {}, expert_names or {}
    m_reasons = mandatory_reasons or {}
    if result is not None:
        shown_witnesses = [w.to_json() for w in result.witnesses]
    else:
        shown_witnesses = []
        for w in witnesses:
            name, digits = (w.name, w.digits) if isinstance(w, Witness) else (w[0], w[1])
            shown_witnesses.append({"name": _text(name, "见证人姓名"), "digits": _text(digits, "见证人数字")})
    return {
        "spec": SPEC_ID,
        "session": setup.session,
        "status": status,
        "void_reason": reason or None,
        "task": json.loads(canonical_json(dict(task or {}))),
        "targets": (
            _target_rows(setup.targets, names)
            if targets_json is None
            else Encoded(targets_json)
            if isinstance(targets_json, str)
            else targets_json
        ),
        "mandatory_targets": [
            {
                "id": tid,
                "name": _text(names.get(tid), "对象名称"),
                "reason": _text(m_reasons.get(tid), "必查原因"),
            }
            for tid in setup.parsed.mandatory
        ],
        "inspectors": [
            {
                "id": pid,
                "name": _text(i_names.get(pid), "执法人员姓名"),
                "unit": _text(i_units.get(pid), "单位"),
            }
            for pid in setup.inspectors
        ],
        "experts": [{"id": pid, "name": _text(e_names.get(pid), "专家姓名")} for pid in setup.experts],
        "params": json.loads(canonical_json(setup.params)),
        "hashes": setup.hashes.to_json(),
        "commitment": announced,
        "nonce": setup.nonce if result is not None else None,
        "witnesses": shown_witnesses,
        "seed": result.seed if result is not None else None,
        "selected": [s.to_json() for s in result.selected] if result is not None else [],
        "substitutions": [s.to_json() for s in substitutions],
        "exclusions": _exclusion_rows(exclusions),
        "previous": [p.to_json() for p in previous],
        "software": f"dsj-desktop {__version__}",
    }


def _exclusion_rows(exclusions: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """The record's ``exclusions`` (thousands at city scale), each id and reason checked as
    :func:`_text` does: the two columns at once (:func:`normalize_texts`), value by value in the
    order of the pairs when a column is not text as it stands (the same values, or the same error)."""
    pairs = [("" if i is None else i, "" if r is None else r) for i, r in exclusions]
    try:
        ids = normalize_texts([p[0] for p in pairs], "排除对象代码")
        reasons = normalize_texts([p[1] for p in pairs], "排除原因")
    except DrawInputError:  # the first bad value as the pairs give it
        rows = [{"id": _text(i, "排除对象代码"), "reason": _text(r, "排除原因")} for i, r in pairs]
    else:
        rows = [{"id": i, "reason": r} for i, r in zip(ids, reasons, strict=True)]
    return sorted(rows, key=lambda e: e["id"])


# ---------------------------------------------------------------------------------------------
# Signing


def generate_private_key() -> bytes:
    """A new Ed25519 private key, as its raw 32 bytes (keep it secret)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    return Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def public_key_of(private_key: bytes) -> bytes:
    """The raw 32-byte public key of a raw private key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.from_private_bytes(private_key)
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_fingerprint(public_key: bytes) -> str:
    """The fingerprint people compare: SHA-256 of the raw 32-byte public key, in the program's one
    human format (:func:`dsj_desktop.keys.format_fingerprint`: 64 uppercase hex characters in 16
    groups of 4, e.g. ``"3F2A 09C1 … 7D4E"``). Printed on the notice board and on every record."""
    from dsj_desktop.keys import sha256_fingerprint

    if len(public_key) != 32:
        raise RecordError("Ed25519 公钥应为 32 字节。")
    return sha256_fingerprint(public_key)


def _signed_bytes(record: Mapping[str, Any], known: KnownColumns | None = None) -> bytes:
    body = {k: v for k, v in record.items() if k != "signature"}
    return canonical_json(body, known=known).encode("utf-8")


def canonical_members(record: Mapping[str, Any]) -> dict[str, str]:
    """The canonical JSON of each member of a record (a dict with text keys), from which
    :func:`join_members` makes the canonical JSON of the record, or of the record with one more
    member, without encoding the 100,000 candidates again."""
    if set(map(type, record)) - {str}:
        raise RecordError("规范 JSON 的对象键必须是文本。")
    return {
        k: v.text
        if type(v) is Encoded
        else v.data.decode("utf-8")
        if type(v) is EncodedUtf8
        else canonical_json(v)
        for k, v in record.items()
    }


def join_members(members: Mapping[str, str]) -> str:
    """``canonical_json`` of the dict whose members' canonical JSON is *members* (keys sorted)."""
    return "{" + ",".join(encode_basestring(k) + ":" + members[k] for k in sorted(members)) + "}"


def sign_record(
    record: Mapping[str, Any], private_key: bytes, *, members: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A copy of *record* with ``signature``: Ed25519 over the canonical JSON without it.
    *members*: :func:`canonical_members` of *record*, when the caller has them."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(private_key)
    if members is not None:
        signed_bytes = join_members({k: v for k, v in members.items() if k != "signature"}).encode("utf-8")
    else:
        signed_bytes = _signed_bytes(record)
    value = key.sign(signed_bytes)
    signed = {k: v for k, v in record.items() if k != "signature"}
    signed["signature"] = {
        "alg": SIGNATURE_ALG,
        "public_key": public_key_of(private_key).hex(),
        "value": value.hex(),
    }
    return signed


def signed_text(record: Mapping[str, Any], private_key: bytes) -> str:
    """The canonical JSON of *record* signed (:func:`sign_record`), made from its members' canonical
    JSON once (an :class:`Encoded` member copied as it is). The signature is checked with the public
    key against the very bytes it covers before the text is returned."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    members = canonical_members({k: v for k, v in record.items() if k != "signature"})
    body = join_members(members).encode("utf-8")
    key = Ed25519PrivateKey.from_private_bytes(private_key)
    value = key.sign(body)
    key.public_key().verify(value, body)  # raises InvalidSignature
    del body
    signature = {"alg": SIGNATURE_ALG, "public_key": public_key_of(private_key).hex(), "value": value.hex()}
    members["signature"] = canonical_json(signature)
    return join_members(members)


@dataclass
class SignedUtf8:
    """A record signed as its UTF-8 (:func:`sign_utf8`), its signature not yet checked."""

    data: bytes  # the signed record's canonical JSON, as UTF-8
    chars: int | None  # its length in characters (None: an EncodedUtf8 member's is not counted)
    sha256: str  # the SHA-256 of *data* (hex): the record's digest, as ``record_sha256`` gives it
    # Where in *data* the value of each member given as EncodedUtf8 lies (start, end).
    spans: dict[str, tuple[int, int]]
    _check: Callable[[], None] = field(repr=False)

    def checked(self) -> None:
        """Checks the signature with the public key against the bytes it covers (raises
        InvalidSignature). Whoever keeps *data* asks this before it is kept."""
        self._check()


def sign_utf8(record: Mapping[str, Any], private_key: bytes) -> SignedUtf8:
    """:func:`signed_text` as its UTF-8 bytes, its length in characters and its SHA-256: each member
    encoded once (an :class:`EncodedUtf8` member not at all), for the bytes signed and again (copied,
    not encoded) for the text stored. The signature's check, with the public key against the bytes
    it covers as taken back out of the bytes returned, is left to :meth:`SignedUtf8.checked`, made
    when it suits the caller (while a server stores the text)."""
    import hashlib

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    body = {k: v for k, v in record.items() if k != "signature"}
    ready = {k: v for k, v in body.items() if type(v) is EncodedUtf8}
    members = canonical_members({k: v for k, v in body.items() if k not in ready})
    parts: dict[str, bytes] = {k: v.encode("utf-8") for k, v in members.items()}
    parts.update((k, v.data) for k, v in ready.items())
    counted = [v.chars for v in ready.values()]
    chars = sum(map(len, members.values())) + sum(n for n in counted if n is not None)
    del members
    # join_members, in bytes (keys sorted), without the "signature" member: the bytes signed, and
    # where that member goes (after the members whose keys sort before it).
    keys = sorted(parts)
    pieces = [b"{"]
    at = done = 1
    spans: dict[str, tuple[int, int]] = {}
    for n, k in enumerate(keys):
        member = [b"," if n else b"", encode_basestring(k).encode("utf-8"), b":", parts[k]]
        size = sum(map(len, member))
        if k in ready:
            spans[k] = (done + size - len(parts[k]), done + size)
        if k < "signature":
            at += size
        done += size
        pieces += member
    pieces.append(b"}")
    message = b"".join(pieces)
    del pieces, parts
    key = Ed25519PrivateKey.from_private_bytes(private_key)
    value = key.sign(message)
    signature = {"alg": SIGNATURE_ALG, "public_key": public_key_of(private_key).hex(), "value": value.hex()}
    named = encode_basestring("signature").encode("utf-8") + b":" + canonical_json(signature).encode("utf-8")
    chars += len(named) - len(encode_basestring("signature")) - 1  # its value (ASCII)
    # Braces, keys, colons and commas.
    chars += 1 + sum(len(encode_basestring(k)) + 2 for k in [*keys, "signature"])
    # The "signature" member with the comma between it and a neighbour: first of several, the comma
    # after it; else the one before it. The bytes signed are the text without it.
    middle = named if not keys else named + b"," if at == 1 else b"," + named
    shift = len(middle)
    spans = {k: (a + shift, b + shift) if a >= at else (a, b) for k, (a, b) in spans.items()}
    view = memoryview(message)
    data = b"".join((view[:at], middle, view[at:]))
    del view, message
    sha256_hex = hashlib.sha256(data).hexdigest()
    checked: list[bool] = []

    def check() -> None:  # the bytes signed, taken back out of the very bytes returned
        if not checked:
            cut = memoryview(data)
            key.public_key().verify(value, b"".join((cut[:at], cut[at + shift :])))  # raises InvalidSignature
            checked.append(True)

    return SignedUtf8(data, None if None in counted else chars, sha256_hex, spans, check)


# ---------------------------------------------------------------------------------------------
# Loading


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        dup = next(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
        raise RecordError(f"记录中同一个对象里出现了两次键“{dup}”：这样的文件可能被改动过，不能验证。")
    return out


def _bad_constant(name: str) -> Any:
    raise RecordError(f"记录中含有 JSON 不允许的数值 {name}。")


MAX_RECORD_BYTES = 50 * 1024 * 1024  # a 2,400-candidate record is about 1 MB
MAX_DEPTH = 32  # a record nests 5 levels deep
MAX_INT_DIGITS = 40  # quotas, caps, versions: small numbers only


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise RecordError(f"记录中含有 {len(text)} 位的整数，抽取记录中没有这样的数，不能验证。")
    return int(text)


def _too_deep(value: Any) -> bool:
    """Nesting deeper than :data:`MAX_DEPTH` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def size_error(name: str, size: int) -> RecordError:
    return RecordError(
        f"文件“{name}”有 {size / 1048576:.0f} MB，超过 {MAX_RECORD_BYTES // 1048576} MB 的上限，不是抽取记录，未读取。"
    )


def load_record(path: Path | str) -> dict[str, Any]:
    """Read a record file (JSON, UTF-8) with clear Chinese errors for anything else; files over
    :data:`MAX_RECORD_BYTES` are refused before reading."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_RECORD_BYTES:
            raise size_error(path.name, size)
        data = path.read_bytes()
    except FileNotFoundError:
        raise RecordError(f"找不到文件“{path}”。") from None
    except OSError as exc:
        raise RecordError(f"无法读取文件“{path}”：{exc.strerror or exc}") from None
    return parse_record(data, path.name)


def parse_record(data: bytes, name: str) -> dict[str, Any]:
    """A record from the bytes of a JSON file called *name* (e.g. a PDF attachment), with the same
    checks and messages as :func:`load_record`: bounded size, depth and numbers, no duplicate keys."""
    if len(data) > MAX_RECORD_BYTES:
        raise size_error(name, len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RecordError(f"文件“{name}”不是 UTF-8 编码的 JSON 文本，不是抽取记录。") from None
    try:
        record = json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_constant=_bad_constant, parse_int=_bounded_int
        )
    except json.JSONDecodeError as exc:
        raise RecordError(
            f"文件“{name}”不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列附近有错误），不是抽取记录。"
        ) from None
    except (RecursionError, ValueError):
        raise RecordError(f"文件“{name}”的 JSON 嵌套过深或含有过大的数值，不是抽取记录。") from None
    if _too_deep(record):
        raise RecordError(f"文件“{name}”的 JSON 嵌套超过 {MAX_DEPTH} 层，不是抽取记录。")
    if not isinstance(record, dict):
        raise RecordError(f"文件“{name}”不是抽取记录：最外层应为 JSON 对象。")
    spec = record.get("spec")
    if spec != SPEC_ID:
        found = (
            "没有 spec 字段"
            if spec is None
            else f"spec 为“{spec[:40]}”"
            if isinstance(spec, str)
            else "spec 不是文本"
        )
        raise RecordError(f"文件“{name}”不是 {SPEC_ID} 抽取记录（{found}）。")
    return record


# ---------------------------------------------------------------------------------------------
# Verifying


@dataclass(frozen=True, slots=True)
class Check:
    name: str  # Chinese, e.g. "随机种子"
    ok: bool
    detail: str  # Chinese: what was checked, or exactly what differs


@dataclass(frozen=True)
class VerifyReport:
    checks: tuple[Check, ...]
    session: str | None
    status: str | None
    fingerprint: str | None  # of the signing key, when the record carries a readable one

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def text(self) -> str:
        lines = [f"{'✔' if c.ok else '✘'} {c.name}：{c.detail}" for c in self.checks]
        if self.ok:
            lines.append(f"结论：验证通过（{len(self.checks)} 项全部符合）。")
        else:
            lines.append(
                f"结论：验证不通过（{len(self.failed)} 项不符：{'、'.join(c.name for c in self.failed)}）。"
            )
        return "\n".join(lines)


def _limit(problems: Sequence[str]) -> str:
    shown = "；".join(problems[:MAX_SHOWN])
    if len(problems) > MAX_SHOWN:
        shown += f"；……共 {len(problems)} 处不同"
    return shown


class _Verifier:
    """Section 9, check by check; every check appends one :class:`Check`."""

    def __init__(self, record: Mapping[str, Any]) -> None:
        self.r = record
        self.checks: list[Check] = []
        self.fingerprint: str | None = None
        self.target_columns: tuple[list[str], list[str]] | None = None  # set by structure()

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))

    # -- structure --------------------------------------------------------------------------

    def _columns(self, key: str, fields: Sequence[str], problems: list[str]) -> list[list[str]] | None:
        """The text columns *fields* of the list of objects *key* (C-level passes over the rows)."""
        rows = self.r.get(key)
        if not isinstance(rows, list):
            problems.append(f"“{key}”应为列表")
            return None
        try:
            columns = [list(map(itemgetter(f), rows)) for f in fields]
        except (KeyError, TypeError, IndexError):
            problems.append(f"“{key}”的每一项都应为含 {'、'.join(fields)} 的对象")
            return None
        if any(set(map(type, col)) - {str} for col in columns):
            problems.append(f"“{key}”中的 {'、'.join(fields)} 应为文本")
            return None
        return columns

    def _known_columns(self) -> KnownColumns:
        """The candidate columns :meth:`structure` took out (and found to be text), so the
        canonical JSON of the signature check does not take them out again."""
        rows = self.r.get("targets")
        if self.target_columns is None or not isinstance(rows, list):
            return {}
        return {id(rows): {"id": self.target_columns[0], "stratum": self.target_columns[1]}}

    def structure(self) -> bool:
        r = self.r
        problems: list[str] = []
        if not isinstance(r, Mapping):
            self.add("记录结构", False, "记录最外层应为 JSON 对象")
            return False
        missing = [k for k in REQUIRED_MEMBERS if k not in r]
        if missing:
            problems.append("缺少成员 " + "、".join(missing))
        for key in ("session", "status", "commitment"):
            if key in r and not isinstance(r[key], str):
                problems.append(f"“{key}”应为文本")
        for key in ("task", "params", "hashes", "signature"):
            if key in r and not isinstance(r[key], dict):
                problems.append(f"“{key}”应为 JSON 对象")
        for key in ("nonce", "seed"):
            if key in r and not (r[key] is None or isinstance(r[key], str)):
                problems.append(f"“{key}”应为文本或 null")
        status = r.get("status")
        if isinstance(status, str) and status not in STATUSES:
            problems.append(f"状态“{status}”无效（应为 confirmed 或 voided）")
        if status == STATUS_VOIDED and not (
            isinstance(r.get("void_reason"), str) and r["void_reason"].strip()
        ):
            problems.append("作废的记录没有写明作废原因（void_reason）")
        if status == STATUS_CONFIRMED:
            for key in ("nonce", "seed"):
                if r.get(key) is None:
                    problems.append(f"已确认的抽取缺少“{key}”")
        targets = self._columns("targets", ("id", "stratum"), problems)
        self.target_columns = None if targets is None else (targets[0], targets[1])
        self.sorted_targets: tuple[list[str], list[str]] | None = None  # set by hashes()
        self.groups: dict[str, list[str]] | None = None  # likewise
        inspectors = self._columns("inspectors", ("id",), problems)
        experts = self._columns("experts", ("id",), problems)
        self.inspectors = None if inspectors is None else inspectors[0]
        self.experts = None if experts is None else experts[0]
        witnesses = self._columns("witnesses", ("name", "digits"), problems)
        self.witnesses = None if witnesses is None else list(zip(witnesses[0], witnesses[1], strict=True))
        self.selected = self._parse_selected(problems)
        self.substitutions = self._parse_substitutions(problems)
        if problems:
            self.add("记录结构", False, _limit(problems))
        else:
            self.add("记录结构", True, "成员齐全，格式正确")
        return not problems

    def _parse_selected(self, problems: list[str]) -> list[dict[str, Any]] | None:
        items = self.r.get("selected")
        if not isinstance(items, list):
            problems.append("“selected”应为列表")
            return None
        for n, item in enumerate(items, 1):
            if not (
                isinstance(item, dict)
                and isinstance(item.get("id"), str)
                and (item.get("stratum") is None or isinstance(item.get("stratum"), str))
                and isinstance(item.get("mandatory"), bool)
                and isinstance(item.get("ticket"), str)
                and isinstance(item.get("inspectors"), list)
                and all(isinstance(x, str) for x in item["inspectors"])
                and isinstance(item.get("experts"), list)
                and all(isinstance(x, str) for x in item["experts"])
            ):
                problems.append(
                    f"“selected”第 {n} 项应含 id、stratum、mandatory、ticket、inspectors、experts"
                )
                return None
        return items

    def _parse_substitutions(self, problems: list[str]) -> list[SubstitutionRequest] | None:
        items = self.r.get("substitutions")
        if not isinstance(items, list):
            problems.append("“substitutions”应为列表")
            return None
        out = []
        for n, s in enumerate(items, 1):
            try:
                skipped = tuple((x["id"], x["reason"]) for x in s["skipped"])
                fields = (
                    s["target"],
                    s["removed"],
                    s["reason"],
                    s["substitute"],
                    *(x for pair in skipped for x in pair),
                )
                kind = s.get("kind", KIND_INSPECTOR)
            except (KeyError, TypeError, AttributeError):
                problems.append(f"“substitutions”第 {n} 项应含 target、removed、reason、skipped、substitute")
                return None
            if not all(isinstance(x, str) for x in fields) or kind not in (KIND_INSPECTOR, KIND_EXPERT):
                problems.append(f"“substitutions”第 {n} 项的内容应为文本")
                return None
            out.append(SubstitutionRequest(s["target"], s["removed"], s["reason"], skipped, kind))
        return out

    # -- the checks -------------------------------------------------------------------------

    def spec(self) -> None:
        spec = self.r.get("spec") if isinstance(self.r, Mapping) else None
        self.add(
            "规范版本",
            spec == SPEC_ID,
            SPEC_ID if spec == SPEC_ID else f"应为 {SPEC_ID}，记录中为 {show_value(spec)}",
        )

    def hashes(self) -> DrawHashes | None:
        raw = self.r.get("hashes")
        recorded: dict[str, Any] = raw if isinstance(raw, dict) else {}
        computed: dict[str, str | None] = {}

        def one(key: str, title: str, compute: Any) -> None:
            try:
                value = compute()
            except DrawInputError as exc:
                computed[key] = None
                self.add(title, False, f"无法重算：{exc}")
                return
            if value is None:
                computed[key] = None
                self.add(title, False, "名单格式有误，无法重算")
                return
            computed[key] = value
            found = recorded.get(key)
            if value == found:
                self.add(title, True, f"{value}")
            else:
                self.add(title, False, f"按记录中的名单重算为 {value}，记录中为 {show_value(found)}")

        one("targets", "检查对象名单摘要", self._hash_targets)
        ins, exs = self.inspectors, self.experts
        one(
            "inspectors",
            "执法人员名单摘要",
            lambda: None if ins is None else self._hash_people(ins, "执法人员"),
        )
        one("experts", "专家名单摘要", lambda: None if exs is None else self._hash_people(exs, "专家"))
        params = self.r.get("params")
        one("params", "抽取参数摘要", lambda: hash_params(params) if isinstance(params, dict) else None)
        if any(v is None for v in computed.values()):
            return None
        return DrawHashes(
            targets=str(computed["targets"]),
            inspectors=str(computed["inspectors"]),
            experts=str(computed["experts"]),
            params=str(computed["params"]),
        )

    def _hash_targets(self) -> str | None:
        if self.target_columns is None:
            return None
        self.sorted_targets = sort_target_columns(*self.target_columns)
        self.groups = group_by_stratum(*self.sorted_targets)
        return hash_target_columns(*self.sorted_targets)

    @staticmethod
    def _hash_people(ids: list[str], who: str) -> str:
        if len(set(ids)) != len(ids):
            raise DrawInputError(f"{who}名单中有重复的代码")
        return hash_ids(ids)

    def commitment(self) -> None:
        nonce, commitment = self.r.get("nonce"), self.r.get("commitment")
        if nonce is None:
            if self.r.get("status") == STATUS_VOIDED:
                self.add("承诺值", True, f"作废于揭示随机数之前，随机数未公开（承诺值 {commitment}）")
                return
            self.add("承诺值", False, "记录中没有随机数（nonce），无法核对承诺值")
            return
        if not isinstance(nonce, str):
            self.add("承诺值", False, "随机数（nonce）格式有误")
            return
        if isinstance(commitment, str) and commitment_of(nonce) == commitment:
            self.add("承诺值", True, f"H(随机数 {nonce}) = 抽取前公布的承诺值 {commitment}")
        else:
            self.add(
                "承诺值",
                False,
                f"H(随机数 {nonce}) = {commitment_of(nonce)}，与承诺值 {show_value(commitment)} 不符",
            )

    def witness_digits(self, needed: bool) -> list[str] | None:
        """The digits for the seed; *needed* is False for a record voided before the reveal."""
        ws = self.witnesses
        if ws is None:
            self.add("见证人数字", False, "见证人记录格式有误")
            return None
        bad = [f"见证人“{n}”的“{d}”不全是半角数字" for n, d in ws if not (d.isascii() and d.isdigit())]
        total = sum(len(d) for _, d in ws)
        if needed and total < MIN_WITNESS_DIGITS:
            bad.append(f"共 {total} 位，少于 {MIN_WITNESS_DIGITS} 位")
        if bad:
            self.add("见证人数字", False, _limit(bad))
            return None
        if needed:
            self.add("见证人数字", True, f"{len(ws)} 位见证人共给出 {total} 位数字")
        else:
            self.add(
                "见证人数字", True, f"作废于揭示之前（不适用）；已记录 {len(ws)} 位见证人的 {total} 位数字"
            )
        return [d for _, d in ws]

    def seed(self, hashes: DrawHashes | None, digits: list[str] | None) -> str | None:
        recorded = self.r.get("seed")
        if recorded is None:
            if self.r.get("status") == STATUS_VOIDED:
                self.add("随机种子", True, "作废于揭示之前，没有随机种子（不适用）")
            else:
                self.add("随机种子", False, "记录中没有随机种子")
            return None
        session, nonce = self.r.get("session"), self.r.get("nonce")
        if hashes is None or digits is None or not isinstance(session, str) or not isinstance(nonce, str):
            self.add("随机种子", False, "上面的项目有误，无法重算随机种子")
            return None
        seed = compute_seed(session, hashes, digits, nonce)
        if seed == recorded:
            self.add("随机种子", True, seed)
        else:
            self.add("随机种子", False, f"按记录中的数据应为 {seed}，记录中为 {show_value(recorded)}")
        return seed

    def params(self) -> DrawParams | None:
        params = self.r.get("params")
        if not isinstance(params, dict) or self.inspectors is None or self.experts is None:
            self.add("抽取数量与参数", False, "抽取参数或人员名单格式有误")
            return None
        try:
            parsed = parse_params(params, n_inspectors=len(self.inspectors), n_experts=len(self.experts))
        except DrawInputError as exc:
            self.add("抽取数量与参数", False, str(exc))
            return None
        problems: list[str] = []
        sizes = {s: len(ids) for s, ids in (self.groups or {}).items()}
        for stratum, k in parsed.quotas.items():
            label = "（未分层）" if stratum == "" else f"“{stratum}”"
            if stratum not in sizes:
                problems.append(f"分层{label}在检查对象名单中不存在")
            elif k > sizes[stratum]:
                problems.append(f"分层{label}只有 {sizes[stratum]} 个对象，参数却要抽 {k} 个")
        sorted_ids = self.sorted_targets[0] if self.sorted_targets is not None else []
        for tid in parsed.mandatory:
            i = bisect_left(sorted_ids, tid)
            if i < len(sorted_ids) and sorted_ids[i] == tid:
                problems.append(f"必查对象“{tid}”同时在候选名单中")
        if self.selected is not None and self.selected:
            drawn = Counter(s["stratum"] for s in self.selected if not s["mandatory"])
            for stratum in sorted(set(drawn) | {s for s, k in parsed.quotas.items() if k > 0}, key=str):
                want = parsed.quotas.get(stratum, 0) if isinstance(stratum, str) else 0
                if drawn.get(stratum, 0) != want:
                    label = "（未分层）" if stratum == "" else f"“{stratum}”"
                    problems.append(f"分层{label}应抽 {want} 个，记录中抽中 {drawn.get(stratum, 0)} 个")
            marked = sorted(s["id"] for s in self.selected if s["mandatory"])
            if marked != sorted(parsed.mandatory):
                problems.append(
                    f"必查对象应为 {len(parsed.mandatory)} 个，记录中标为必查的有 {len(marked)} 个"
                )
        if problems:
            self.add("抽取数量与参数", False, _limit(problems))
        else:
            n_strata = sum(1 for k in parsed.quotas.values() if k > 0)
            self.add(
                "抽取数量与参数",
                True,
                f"{n_strata} 个分层共抽 {sum(parsed.quotas.values())} 个，必查 {len(parsed.mandatory)} 个；"
                f"每组 {parsed.team_size} 人（每人最多 {parsed.inspector_cap} 个对象），"
                f"专家每个对象 {parsed.expert_count} 人",
            )
        return parsed

    def selection(self, seed: str | None, params: DrawParams | None) -> tuple[SelectedTarget, ...] | None:
        titles = ("抽中对象", "执法人员分组", "专家分配")
        found = self.selected
        if self.r.get("seed") is None and self.r.get("status") == STATUS_VOIDED:
            ok = not found
            for title in titles:
                self.add(
                    title,
                    ok,
                    "作废于揭示之前，没有抽取结果（不适用）" if ok else "没有随机种子却列有抽取结果",
                )
            return None
        if seed is None or params is None or self.groups is None or found is None:
            for title in titles:
                self.add(title, False, "上面的项目有误，无法重算")
            return None
        assert self.inspectors is not None and self.experts is not None
        try:
            expected = draw_from_groups(seed, self.groups, self.inspectors, self.experts, params)
        except DrawInputError as exc:
            for title in titles:
                self.add(title, False, f"无法重算：{exc}")
            return None
        problems: list[str] = []
        if len(found) != len(expected):
            problems.append(f"应抽中 {len(expected)} 个对象，记录中有 {len(found)} 个")
        for n, (exp, got) in enumerate(zip(expected, found, strict=False), 1):
            if exp.id != got["id"]:
                problems.append(f"第 {n} 个抽中对象应为“{exp.id}”，记录中为“{got['id']}”")
                continue
            if exp.stratum != got["stratum"]:
                problems.append(
                    f"对象“{exp.id}”的分层应为 {show_value(exp.stratum)}，记录中为 {show_value(got['stratum'])}"
                )
            if exp.mandatory != got["mandatory"]:
                problems.append(f"对象“{exp.id}”的必查标记应为 {exp.mandatory}，记录中为 {got['mandatory']}")
            if exp.ticket != got["ticket"]:
                problems.append(f"对象“{exp.id}”的签值应为 {exp.ticket}，记录中为 {got['ticket']}")
        if problems:
            self.add("抽中对象", False, _limit(problems))
        else:
            self.add("抽中对象", True, f"{len(expected)} 个对象及其签值、顺序与重算结果一致")
        by_id = {s["id"]: s for s in found}
        for title, attr, key, who in (
            ("执法人员分组", "inspectors", "inspectors", "检查组"),
            ("专家分配", "experts", "experts", "专家"),
        ):
            diffs: list[str] = []
            for exp in expected:
                item = by_id.get(exp.id)
                if item is None:
                    continue  # reported under 抽中对象
                want, have = list(getattr(exp, attr)), item[key]
                if len(want) != len(have):
                    diffs.append(f"对象“{exp.id}”的{who}应有 {len(want)} 人，记录中为 {len(have)} 人")
                for i, (a, b) in enumerate(zip(want, have, strict=False), 1):
                    if a != b:
                        diffs.append(f"对象“{exp.id}”的{who}第 {i} 名应为“{a}”，记录中为“{b}”")
            if diffs:
                self.add(title, False, _limit(diffs))
            else:
                n = sum(len(getattr(e, attr)) for e in expected)
                self.add(title, True, f"共 {n} 人次，与重算结果一致" if n else "本次不分配（0 人）")
        return expected

    def substitutions_check(
        self, seed: str | None, params: DrawParams | None, expected: tuple[SelectedTarget, ...] | None
    ) -> None:
        title = "递补"
        recorded = self.r.get("substitutions")
        reqs = self.substitutions
        if reqs is None or not isinstance(recorded, list):
            self.add(title, False, "递补记录格式有误")
            return
        if not reqs:
            self.add(title, True, "没有递补")
            return
        if seed is None or params is None or expected is None:
            self.add(title, False, "没有可重算的抽取结果，无法重放递补")
            return
        assert self.inspectors is not None and self.experts is not None
        sub = Substituter(seed, self.inspectors, self.experts, params, expected)
        problems: list[str] = []
        for n, (req, raw) in enumerate(zip(reqs, recorded, strict=True), 1):
            try:
                done = sub.apply(req)
            except DrawInputError as exc:
                problems.append(f"第 {n} 次递补无法重放：{exc}")
                break
            if done.substitute != raw["substitute"]:
                problems.append(
                    f"第 {n} 次递补（对象“{req.target}”，替换“{req.removed}”）的递补人员"
                    f"应为“{done.substitute}”，记录中为“{raw['substitute']}”"
                )
        if problems:
            self.add(title, False, _limit(problems))
        else:
            self.add(title, True, f"{len(reqs)} 次递补逐一重放，递补人员一致")

    def previous(self) -> None:
        items = self.r.get("previous")
        if not isinstance(items, list):
            self.add("此前的抽取", False, "“previous”应为列表")
            return
        if not items:
            self.add("此前的抽取", True, "无（本任务第一次抽取）")
            return
        problems: list[str] = []
        notes: list[str] = []
        for n, p in enumerate(items, 1):
            if not isinstance(p, dict) or not isinstance(p.get("commitment"), str):
                problems.append(f"第 {n} 项格式有误")
                continue
            nonce = p.get("nonce_revealed")
            if isinstance(nonce, str):
                if commitment_of(nonce) != p["commitment"]:
                    problems.append(f"第 {n} 项（场次 {p.get('session')}）公开的随机数与其承诺值不符")
                    continue
                notes.append(
                    f"场次 {p.get('session')}（{p.get('status')}：{p.get('reason')}），随机数与承诺值相符"
                )
            else:
                notes.append(f"场次 {p.get('session')}（{p.get('status')}：{p.get('reason')}），随机数未公开")
        if problems:
            self.add("此前的抽取", False, _limit(problems))
        else:
            self.add("此前的抽取", True, f"共 {len(items)} 次：" + "；".join(notes))

    def signature(self, expected_fingerprint: str | None) -> None:
        sig = self.r.get("signature")
        if not isinstance(sig, dict):
            self.add("签名", False, "记录没有签名")
            return
        if sig.get("alg") != SIGNATURE_ALG:
            self.add("签名", False, f"签名算法应为 {SIGNATURE_ALG}，记录中为 {show_value(sig.get('alg'))}")
            return
        try:
            public_key = bytes.fromhex(sig["public_key"])
            value = bytes.fromhex(sig["value"])
        except (KeyError, TypeError, ValueError):
            self.add("签名", False, "签名的公钥或签名值不是十六进制文本")
            return
        if len(public_key) != 32 or len(value) != 64:
            self.add("签名", False, "公钥应为 32 字节、签名值应为 64 字节")
            return
        self.fingerprint = public_key_fingerprint(public_key)
        try:
            message = _signed_bytes(self.r, self._known_columns())
        except DrawInputError as exc:
            self.add("签名", False, f"记录不是规范 JSON：{exc}")
            return
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(value, message)
        except InvalidSignature:
            self.add("签名", False, "签名无效：记录在签名之后被改动过（或签名不属于这份记录）")
        else:
            self.add("签名", True, f"Ed25519 签名有效；公钥指纹 {self.fingerprint}（请与本局公布的指纹核对）")
        if expected_fingerprint is not None:
            want = "".join(ch for ch in expected_fingerprint.upper() if ch not in " :-\t")
            ok = want == self.fingerprint.replace(" ", "")
            self.add(
                "公钥指纹",
                ok,
                "与给定的指纹一致" if ok else f"签名公钥指纹为 {self.fingerprint}，与给定的指纹不同",
            )


def verify_record(record: Mapping[str, Any], *, expected_fingerprint: str | None = None) -> VerifyReport:
    """Section 9: recompute and compare everything; each check says what it found.

    A voided record may stop before the reveal (no nonce, seed or selection): what exists is
    verified (hashes, commitment when the nonce is there, signature) and the rest is "不适用".
    With *expected_fingerprint*, the signing key must also be that one.
    """
    with gc_paused():
        return _verify(record, expected_fingerprint)


def _verify(record: Mapping[str, Any], expected_fingerprint: str | None) -> VerifyReport:
    if not isinstance(record, Mapping):
        return VerifyReport((Check("记录结构", False, "记录最外层应为 JSON 对象"),), None, None, None)
    v = _Verifier(record)
    v.spec()
    if not v.structure():
        v.signature(expected_fingerprint)
        r = record
        return VerifyReport(
            tuple(v.checks), _str_or_none(r.get("session")), _str_or_none(r.get("status")), v.fingerprint
        )
    hashes = v.hashes()
    v.commitment()
    digits = v.witness_digits(
        needed=record.get("seed") is not None or record.get("status") == STATUS_CONFIRMED
    )
    seed = v.seed(hashes, digits)
    params = v.params()
    expected = v.selection(seed, params)
    v.substitutions_check(seed, params, expected)
    v.previous()
    v.signature(expected_fingerprint)
    return VerifyReport(tuple(v.checks), record.get("session"), record.get("status"), v.fingerprint)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
