"""The signed record: building, signing, verifying, tampering, voided attempts, loading."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsj_desktop.draw.algorithm import (
    DrawInput,
    DrawInputError,
    DrawResult,
    SubstitutionRequest,
    apply_substitutions,
    canonical_json,
    run_draw,
)
from dsj_desktop.draw.record import (
    REQUIRED_MEMBERS,
    EncodedUtf8,
    PreviousAttempt,
    RecordError,
    build_record,
    canonical_members,
    generate_private_key,
    join_members,
    load_record,
    public_key_fingerprint,
    public_key_of,
    sign_record,
    sign_utf8,
    signed_text,
    target_columns_json,
    target_rows_json,
    verify_record,
)

VECTORS_PATH = Path(__file__).parent / "fixtures" / "draw-v1-vectors.json"  # a copy of the spec's file
VECTORS = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
KEY = bytes(range(32))  # a fixed test key


def vector_result(n: int) -> tuple[DrawResult, dict[str, Any]]:
    v = VECTORS[n]
    i = v["inputs"]
    inp = DrawInput(
        i["session"],
        [(t["id"], t["stratum"]) for t in i["targets"]],
        [p["id"] for p in i["inspectors"]],
        [p["id"] for p in i["experts"]],
        i["params"],
        [(w["name"], w["digits"]) for w in i["witnesses"]],
        i["nonce"],
    )
    return run_draw(inp), v["expected"]


def signed_record(n: int = 2) -> dict[str, Any]:
    result, expected = vector_result(n)
    reqs = [
        SubstitutionRequest(
            s["target"],
            s["removed"],
            s["reason"],
            tuple((x["id"], x["reason"]) for x in s["skipped"]),
            at="2026-03-02T09:30:00+08:00",
            operator="王明",
        )
        for s in expected["substitutions"]
    ]
    outcome = apply_substitutions(result, reqs)
    setup = result.setup
    record = build_record(
        result,
        task={"code": "2026-ZX-01", "name": "2026 年第一季度危险化学品专项检查", "plan": "2026-JH"},
        target_names={t: f"测试企业{n:03d}有限公司" for n, (t, _) in enumerate(setup.targets)},
        inspector_names={p: f"执法人员{p[-2:]}" for p in setup.inspectors},
        inspector_units=dict.fromkeys(setup.inspectors, "综合行政执法队"),
        expert_names={e: f"专家{e}" for e in setup.experts},
        mandatory_reasons=dict.fromkeys(setup.parsed.mandatory, "列入黑名单"),
        substitutions=outcome.substitutions,
        exclusions=[("91140522ZZZZZZZZZ1", "本周期已抽中"), ("91140522ZZZZZZZZZ0", "已注销")],
    )
    return sign_record(record, KEY)


@pytest.fixture(scope="module")
def good() -> dict[str, Any]:
    return signed_record()


def failed(report: Any) -> dict[str, str]:
    return {c.name: c.detail for c in report.checks if not c.ok}


def test_record_members_and_matches_vector(good: dict[str, Any]) -> None:
    required = REQUIRED_MEMBERS
    assert all(k in good for k in required)
    extra = set(good) - set(required)
    assert extra == {"void_reason", "mandatory_targets", "software"}
    expected = VECTORS[2]["expected"]
    assert good["hashes"] == expected["hashes"]
    assert good["selected"] == expected["selected"]
    assert good["params"] == VECTORS[2]["inputs"]["params"]
    sub = good["substitutions"][0]
    assert {k: sub[k] for k in ("target", "removed", "reason", "skipped", "substitute")} == expected[
        "substitutions"
    ][0]
    assert sub["at"] and sub["operator"] == "王明"
    assert [e["id"] for e in good["exclusions"]] == sorted(e["id"] for e in good["exclusions"])
    assert good["signature"]["alg"] == "Ed25519"
    assert good["signature"]["public_key"] == public_key_of(KEY).hex()


def test_unmodified_record_passes(good: dict[str, Any]) -> None:
    report = verify_record(good)
    assert report.ok, report.text()
    assert report.fingerprint == public_key_fingerprint(public_key_of(KEY))
    names = [c.name for c in report.checks]
    for name in (
        "检查对象名单摘要",
        "承诺值",
        "见证人数字",
        "随机种子",
        "抽中对象",
        "执法人员分组",
        "递补",
        "签名",
    ):
        assert name in names
    # Survives a round trip through a file.
    assert verify_record(json.loads(json.dumps(good, ensure_ascii=False, indent=1))).ok


def signed_as_stored(record: dict[str, Any]) -> tuple[bytes, int | None, str]:
    """As the service stores a record: its canonical JSON as UTF-8, its length and its digest,
    the signature checked against the bytes returned."""
    signed = sign_utf8(record, KEY)
    signed.checked()
    return signed.data, signed.chars, signed.sha256


def test_a_record_signed_from_its_members_is_the_same_record(good: dict[str, Any]) -> None:
    """The draw service signs and hashes a record from the canonical JSON of each member: the same
    text as canonical_json of the whole, so the same signature and digest (a record with the
    candidate list long enough for the columnar path too)."""
    body = {k: v for k, v in good.items() if k != "signature"}
    long = dict(
        body, targets=[{"id": f"9114{n:014d}", "stratum": "一般", "name": f"企业{n}"} for n in range(3000)]
    )
    for record in (body, good, long):
        assert join_members(canonical_members(record)) == canonical_json(record)
    for record in (body, long):
        assert sign_record(record, KEY, members=canonical_members(record)) == sign_record(record, KEY)
        # As the service stores it: the signed record's canonical JSON as UTF-8, and its length.
        text = canonical_json(sign_record(record, KEY))
        assert signed_text(record, KEY) == text
        assert signed_as_stored(record)[:2] == (text.encode("utf-8"), len(text))
        # With the candidates given as their UTF-8 (as confirm reads them from the database).
        candidates = canonical_json(record["targets"])
        ready = dict(record, targets=EncodedUtf8(candidates.encode("utf-8"), len(candidates)))
        assert signed_as_stored(ready)[:2] == (text.encode("utf-8"), len(text))
        assert canonical_members(ready) == canonical_members(record)
        # With its digest (made while the signature is checked), and with the candidates' length not
        # counted (then neither is the record's).
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        assert signed_as_stored(ready) == (text.encode("utf-8"), len(text), digest)
        uncounted = dict(record, targets=EncodedUtf8(candidates.encode("utf-8"), None))
        assert signed_as_stored(uncounted) == (text.encode("utf-8"), None, digest)
    # The "signature" member put in its place among the others (first of several, last, or alone) and
    # its check left to the caller (sign_utf8: made when the text is stored).
    for record in ({"status": "voided", "targets": []}, {"commitment": "c", "nonce": None}, {}):
        text = canonical_json(sign_record(record, KEY))
        assert signed_as_stored(record)[:2] == (text.encode("utf-8"), len(text))
        signed = sign_utf8(record, KEY)
        assert (signed.data, signed.chars) == (text.encode("utf-8"), len(text))
        assert signed.sha256 == hashlib.sha256(signed.data).hexdigest()
        signed.checked()


def test_fingerprint_format() -> None:
    fp = public_key_fingerprint(public_key_of(KEY))
    groups = fp.split(" ")
    assert len(groups) == 16 and all(len(g) == 4 for g in groups)
    assert int(fp.replace(" ", ""), 16) >= 0
    report = verify_record(signed_record(), expected_fingerprint=fp.upper().replace(" ", ""))
    assert report.ok
    other = public_key_fingerprint(public_key_of(generate_private_key()))
    report = verify_record(signed_record(), expected_fingerprint=other)
    assert not report.ok and "公钥指纹" in failed(report)


def bump(text: str, i: int = -1) -> str:
    """Change one character, keeping its kind (hex stays hex, digit stays digit)."""
    c = text[i]
    alphabet = "0123456789abcdef" if c in "0123456789abcdef" else "ABCDEFGHJKLMNPQRTUWXY0123456789"
    if c not in alphabet:
        alphabet = "甲乙丙丁"
    new = alphabet[(alphabet.index(c) + 1) % len(alphabet)] if c in alphabet else alphabet[0]
    i %= len(text)
    return text[:i] + new + text[i + 1 :]


Tamper = Callable[[dict[str, Any]], None]


def _set(path: tuple[Any, ...], change: Callable[[Any], Any]) -> Tamper:
    def apply(r: dict[str, Any]) -> None:
        node: Any = r
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = change(node[path[-1]])

    return apply


CASES: list[tuple[str, Tamper, str, str]] = [
    # (description, tamper, check that must fail, text its detail must contain)
    ("selected id", _set(("selected", 4, "id"), bump), "抽中对象", "第 5 个抽中对象"),
    ("selected ticket", _set(("selected", 0, "ticket"), bump), "抽中对象", "签值"),
    (
        "selected stratum",
        _set(("selected", 1, "stratum"), lambda s: "城关镇" if s != "城关镇" else "北留镇"),
        "抽中对象",
        "分层",
    ),
    ("mandatory flag", _set(("selected", 2, "mandatory"), lambda b: not b), "抽中对象", "必查标记"),
    ("team member", _set(("selected", 3, "inspectors", 1), bump), "执法人员分组", "第 2 名"),
    ("team order", _set(("selected", 3, "inspectors"), lambda t: t[::-1]), "执法人员分组", "第 1 名"),
    ("expert", _set(("selected", 6, "experts", 0), bump), "专家分配", "第 1 名"),
    ("seed", _set(("seed",), bump), "随机种子", "记录中为"),
    ("witness digit", _set(("witnesses", 1, "digits"), lambda d: bump(d, 3)), "随机种子", "应为"),
    ("witness digits too few", _set(("witnesses", 1, "digits"), lambda d: d[:5]), "见证人数字", "少于 20 位"),
    (
        "witness digit not ascii",
        _set(("witnesses", 0, "digits"), lambda d: "０" + d[1:]),
        "见证人数字",
        "半角数字",
    ),
    ("witness name", _set(("witnesses", 0, "name"), lambda n: n + "乙"), "签名", "签名无效"),
    ("target id", _set(("targets", 7, "id"), bump), "检查对象名单摘要", "重算为"),
    ("target stratum", _set(("targets", 7, "stratum"), lambda s: s + "镇"), "检查对象名单摘要", "重算为"),
    ("target name", _set(("targets", 7, "name"), bump), "签名", "签名无效"),
    ("inspector id", _set(("inspectors", 2, "id"), lambda s: bump(s, 0)), "执法人员名单摘要", "重算为"),
    ("expert id", _set(("experts", 0, "id"), lambda s: s + "X"), "专家名单摘要", "重算为"),
    ("params quota", _set(("params", "quotas", "城关镇"), lambda k: k + 1), "抽取参数摘要", "重算为"),
    ("params cap", _set(("params", "inspector_cap"), lambda k: k + 1), "抽取参数摘要", "重算为"),
    ("params conflict", _set(("params", "inspector_conflicts", 0, 1), bump), "抽取参数摘要", "重算为"),
    ("hashes", _set(("hashes", "targets"), bump), "检查对象名单摘要", "记录中为"),
    ("nonce", _set(("nonce",), bump), "承诺值", "不符"),
    ("commitment", _set(("commitment",), bump), "承诺值", "不符"),
    ("session", _set(("session",), lambda s: s + "X"), "随机种子", "应为"),
    ("substitute", _set(("substitutions", 0, "substitute"), bump), "递补", "应为“14052200011”"),
    ("substitution skip", _set(("substitutions", 0, "skipped"), lambda s: []), "递补", "应为“14052200006”"),
    ("substitution removed", _set(("substitutions", 0, "removed"), bump), "递补", "无法重放"),
    ("task", _set(("task", "name"), lambda s: s + "（改）"), "签名", "签名无效"),
    ("exclusion", _set(("exclusions", 0, "reason"), bump), "签名", "签名无效"),
    ("status", _set(("status",), lambda s: "voided"), "记录结构", "作废原因"),
    ("signature value", _set(("signature", "value"), bump), "签名", "签名无效"),
    (
        "signature key",
        _set(("signature", "public_key"), lambda k: public_key_of(generate_private_key()).hex()),
        "签名",
        "签名无效",
    ),
    ("float", lambda r: r["task"].__setitem__("ratio", 0.05), "签名", "小数"),
    ("removed signature", lambda r: r.pop("signature"), "记录结构", "signature"),
]


@pytest.mark.parametrize(("what", "tamper", "check", "detail"), CASES, ids=[c[0] for c in CASES])
def test_tampering_detected_and_named(
    good: dict[str, Any], what: str, tamper: Tamper, check: str, detail: str
) -> None:
    record = copy.deepcopy(good)
    tamper(record)
    assert record != good
    report = verify_record(record)
    assert not report.ok
    bad = failed(report)
    assert check in bad, report.text()
    assert detail in bad[check], bad[check]
    if "signature" in record:
        assert "签名" in bad


def test_every_single_leaf_change_fails() -> None:
    """Change each string, number and boolean of a small record once: every change is caught."""
    good = signed_record(0)
    assert verify_record(good).ok
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, i))
        else:
            paths.append(path)

    walk(good, ())
    assert len(paths) > 50
    for path in paths:
        record = copy.deepcopy(good)

        def change(v: Any) -> Any:
            if isinstance(v, bool):
                return not v
            if isinstance(v, int):
                return v + 1
            if v is None:
                return "x"
            return bump(v) if v else "x"

        _set(path, change)(record)
        assert not verify_record(record).ok, path


def test_selection_differences_are_itemised(good: dict[str, Any]) -> None:
    record = copy.deepcopy(good)
    record["selected"][0], record["selected"][1] = record["selected"][1], record["selected"][0]
    detail = failed(verify_record(record))["抽中对象"]
    assert (
        f"第 1 个抽中对象应为“{good['selected'][0]['id']}”，记录中为“{good['selected'][1]['id']}”" in detail
    )
    record = copy.deepcopy(good)
    record["selected"].pop()
    assert "应抽中 19 个对象，记录中有 18 个" in failed(verify_record(record))["抽中对象"]


# -- voided attempts ----------------------------------------------------------------------


def test_voided_before_reveal_verifies() -> None:
    result, _ = vector_result(1)
    record = sign_record(
        build_record(result.setup, status="voided", void_reason="见证人未到场", witnesses=[("甲", "123")]),
        KEY,
    )
    assert record["nonce"] is None and record["seed"] is None and record["selected"] == []
    report = verify_record(record)
    assert report.ok, report.text()
    assert "不适用" in next(c.detail for c in report.checks if c.name == "随机种子")
    tampered = copy.deepcopy(record)
    tampered["hashes"]["params"] = bump(tampered["hashes"]["params"])
    assert "抽取参数摘要" in failed(verify_record(tampered))
    tampered = copy.deepcopy(record)
    tampered["selected"] = copy.deepcopy(VECTORS[1]["expected"]["selected"])
    assert "抽中对象" in failed(verify_record(tampered))


def test_voided_after_reveal_verifies_fully_and_is_listed_next_time() -> None:
    result, _ = vector_result(1)
    voided = sign_record(build_record(result, status="voided", void_reason="系统故障，重新抽取"), KEY)
    report = verify_record(voided)
    assert report.ok and report.status == "voided"
    tampered = copy.deepcopy(voided)
    tampered["selected"][0]["inspectors"][0] = bump(tampered["selected"][0]["inspectors"][0])
    assert "执法人员分组" in failed(verify_record(tampered))

    nxt = run_draw(
        DrawInput(
            "S-2026-0002-2",
            result.setup.targets,
            result.setup.inspectors,
            result.setup.experts,
            result.setup.params,
            [("见证人丙", "31415926535897932384")],
        )
    )
    before = PreviousAttempt.from_record(voided)
    assert before.nonce_revealed == result.setup.nonce and before.reason == "系统故障，重新抽取"
    record = sign_record(build_record(nxt, previous=[before]), KEY)
    report = verify_record(record)
    assert report.ok, report.text()
    assert "S-2026-0002" in next(c.detail for c in report.checks if c.name == "此前的抽取")
    record["previous"][0]["nonce_revealed"] = bump(record["previous"][0]["nonce_revealed"])
    assert "此前的抽取" in failed(verify_record(record))


def test_build_record_refusals() -> None:
    result, _ = vector_result(0)
    with pytest.raises(RecordError, match="作废原因"):
        build_record(result, status="voided")
    with pytest.raises(RecordError, match="只能作为作废记录"):
        build_record(result.setup)
    with pytest.raises(RecordError, match="confirmed 或 voided"):
        build_record(result, status="draft")


def test_signature_is_over_canonical_json_without_signature(good: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    body = {k: v for k, v in good.items() if k != "signature"}
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(good["signature"]["public_key"]))
    key.verify(bytes.fromhex(good["signature"]["value"]), canonical_json(body).encode())


# -- loading -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "不是有效的 JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"[1, 2]", "最外层应为 JSON 对象"),
        (b'{"spec": "OTHER-1"}', "spec 为“OTHER-1”"),
        (b'{"a": 1}', "没有 spec 字段"),
        (b'{"spec": "DSJ-DRAW-1", "seed": "a", "seed": "b"}', "两次键“seed”"),
        (b'{"spec": "DSJ-DRAW-1", "x": NaN}', "NaN"),
    ],
)
def test_load_record_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(content)
    with pytest.raises(RecordError, match=message):
        load_record(path)


def test_load_record_missing_and_good(tmp_path: Path, good: dict[str, Any]) -> None:
    with pytest.raises(RecordError, match="找不到文件"):
        load_record(tmp_path / "nope.json")
    path = tmp_path / "good.json"
    path.write_text(json.dumps(good, ensure_ascii=False, indent=2), encoding="utf-8")
    assert verify_record(load_record(path)).ok


def test_structure_errors_do_not_crash() -> None:
    for record in ({}, {"spec": "DSJ-DRAW-1"}, {"spec": "DSJ-DRAW-1", "targets": [1, 2], "selected": "x"}):
        report = verify_record(record)
        assert not report.ok
        assert "记录结构" in failed(report)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), replacement=_json_values)
def test_verify_never_crashes(good: dict[str, Any], data: st.DataObject, replacement: Any) -> None:
    """Any part of a record replaced by any JSON value: a report (not an exception), and not ok."""
    record = copy.deepcopy(good)
    node: Any = record
    path: list[Any] = []
    while True:
        keys = (
            list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        )
        if not keys or data.draw(st.booleans()):
            break
        key = data.draw(st.sampled_from(keys[:30]))
        path.append(key)
        node = node[key]
    if not path:
        return
    parent: Any = record
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = replacement
    report = verify_record(record)
    if record != good:
        assert not report.ok
    for bad in ([], "x", 3, None):
        assert not verify_record(bad).ok  # type: ignore[arg-type]


def test_messages_show_values_in_json_terms_not_python_quotes(good: dict[str, Any]) -> None:
    record = copy.deepcopy(good)
    record["seed"] = "x'y"
    record["commitment"] = "c'd"
    record["selected"][1]["stratum"] = "某镇"
    text = verify_record(record).text()
    assert "记录中为 “x'y”" in text and "与承诺值 “c'd” 不符" in text and "记录中为 “某镇”" in text
    assert "'" not in text.replace("x'y", "").replace("c'd", "")


def test_candidates_written_from_columns_are_the_rows_written_by_id() -> None:
    """target_columns_json (names given in the ids' order) makes the very text of target_rows_json
    (names looked up by id): names to escape, none, or not composed (NFC) included; a non-text
    value is refused whichever column holds it."""
    ids = ["91110000AAAAAAAA01", "91110000AAAAAAAA02", "91110000AAAAAAAA03", "91110000AAAAAAAA04"] * 300
    ids = [f"{i[:-4]}{n:04d}" for n, i in enumerate(ids)]
    strata = ["城区", "郊区\\", "城区", '"山区"'] * 300
    names = ['某"公司"', None, "Cafe\u0301 有限公司", "  两端空格  "] * 300
    by_id = {i: n for i, n in zip(ids, names, strict=True) if n is not None}
    rows = list(zip(ids, strata, strict=True))
    text = target_columns_json(ids, strata, names)
    assert text == target_rows_json(rows, by_id)
    assert json.loads(text) == [
        {"id": i, "name": "" if n is None else n.strip().replace("e\u0301", "\u00e9"), "stratum": s}
        for i, s, n in zip(ids, strata, names, strict=True)
    ]
    assert text == json.dumps(json.loads(text), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    with pytest.raises(DrawInputError):
        target_columns_json(ids, [*strata[:-1], 7], names)  # type: ignore[list-item]
    with pytest.raises(DrawInputError):
        target_columns_json(ids, strata, [*names[:-1], 7])
    # Ids the draw would refuse (a quote, a backslash, a control character) are still written as
    # json.dumps writes them; one row, and rows whose every column needs escaping.
    odd = ['91"10', "91\\10", "91\x0110"]
    for rows in ([("A", "s", "n")], [(f"{i}{n}", '"s"', 'n"') for n in range(3) for i in odd]):
        ids_, strata_, names_ = (list(c) for c in zip(*rows, strict=True))
        expected = json.dumps(
            [{"id": i, "name": n, "stratum": s} for i, s, n in rows],
            ensure_ascii=False, sort_keys=True, separators=(",", ":"),
        )  # fmt: skip
        assert target_columns_json(ids_, strata_, names_) == expected
    assert target_columns_json([], [], []) == "[]"
