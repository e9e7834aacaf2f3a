"""Section 1 normalisation, section 7 rules and the checks made before a commitment is shown."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsj_desktop.draw import algorithm
from dsj_desktop.draw.algorithm import (
    DrawInput,
    DrawInputError,
    DrawSetup,
    H,
    SubstitutionRequest,
    apply_substitutions,
    balance_regions,
    canonical_conflicts,
    canonical_json,
    default_cap,
    hash_ids,
    hash_params,
    quota_from_basis_points,
    reveal,
    run_draw,
)
from dsj_desktop.errors import UserError


def tid(n: int, prefix: str = "91140522") -> str:
    return f"{prefix}{n:010d}"


TARGETS = [(tid(i), "城关镇" if i % 2 else "北留镇") for i in range(20)]
INSPECTORS = [f"P{i:02d}" for i in range(6)]
WITNESSES = [("见证人甲", "1234567890"), ("见证人乙", "0987654321")]


def params(**over: Any) -> dict[str, Any]:
    p: dict[str, Any] = {"quotas": {"城关镇": 2, "北留镇": 2}, "team_size": 2, "expert_count": 0}
    p.update(over)
    return p


def setup(**over: Any) -> DrawSetup:
    kw: dict[str, Any] = {
        "session": "S-1",
        "targets": tuple(TARGETS),
        "inspectors": tuple(INSPECTORS),
        "experts": (),
        "params": params(),
        "nonce": "0" * 32,
    }
    kw.update(over)
    return DrawSetup(**kw)


# -- section 1 -----------------------------------------------------------------------------


def test_user_error_subclass() -> None:
    assert issubclass(DrawInputError, UserError)


def test_text_is_nfc_and_trimmed() -> None:
    decomposed = unicodedata.normalize("NFD", "Café区")
    assert decomposed != "Café区"
    a = setup(
        targets=((" " + tid(1) + "\u3000", decomposed + " "), (tid(2), "Café区")),
        params=params(quotas={"Café区": 1}),
    )
    assert a.targets == ((tid(1), "Café区"), (tid(2), "Café区"))
    b = setup(targets=((tid(1), "Café区"), (tid(2), "Café区")), params=params(quotas={decomposed: 1}))
    assert a.hashes == b.hashes
    assert a.params["quotas"] == {"Café区": 1}


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("target id", tid(1)[:10] + "\x1f" + tid(1)[11:], "\\x1f"),
        ("stratum", "城关\n镇", "\\x0a"),
        ("inspector", "P0\x7f1", "\\x7f"),
        ("session", "S\t1", "\\x09"),
    ],
)
def test_control_characters_refused(field: str, value: str, shown: str) -> None:
    if field == "target id":
        kw: dict[str, Any] = {"targets": ((value, "城关镇"), *TARGETS[1:])}
    elif field == "stratum":
        kw = {"targets": ((tid(1), value), *TARGETS[1:])}
    elif field == "inspector":
        kw = {"inspectors": (*INSPECTORS, value)}
    else:
        kw = {"session": value}
    with pytest.raises(DrawInputError) as info:
        setup(**kw)
    assert shown in str(info.value)
    assert "控制字符" in str(info.value)


def test_target_id_form() -> None:
    with pytest.raises(DrawInputError, match="91140522abc"):
        setup(targets=(("91140522abc", "城关镇"), *TARGETS[1:]))


def test_duplicates_refused() -> None:
    with pytest.raises(DrawInputError, match=tid(3)):
        setup(targets=(*TARGETS, (tid(3), "城关镇")))
    with pytest.raises(DrawInputError, match="P01"):
        setup(inspectors=(*INSPECTORS, " P01"))


@pytest.mark.parametrize(
    ("witnesses", "message"),
    [
        ([("甲", "12345678901234567890")], None),
        ([("甲", "1234567890"), ("乙", "123456789")], "19 位"),
        ([("甲", "１２３４５６７８９０１２３４５６７８９０")], "半角数字"),
        ([("甲", "12345 67890123456789")], "半角数字"),
        ([("甲\n乙", "12345678901234567890")], "控制字符"),
        ([("", "12345678901234567890")], "姓名不能为空"),
        ([("甲", "1234567890\x1f1234567890")], "控制字符"),
    ],
)
def test_witnesses(witnesses: list[tuple[str, str]], message: str | None) -> None:
    s = setup()
    if message is None:
        assert reveal(s, witnesses).seed
    else:
        with pytest.raises(DrawInputError, match=message):
            reveal(s, witnesses)


def test_nonce_form() -> None:
    with pytest.raises(DrawInputError, match="nonce"):
        setup(nonce="ABCDEF" * 5 + "00")


def test_fresh_nonce_by_default() -> None:
    a = DrawSetup("S-1", tuple(TARGETS), tuple(INSPECTORS), (), params())
    b = DrawSetup("S-1", tuple(TARGETS), tuple(INSPECTORS), (), params())
    assert len(a.nonce) == 32 and a.nonce != b.nonce and a.commitment == H(a.nonce)


def test_canonical_json_and_floats() -> None:
    assert canonical_json({"b": 1, "a": ["中", True, None]}) == '{"a":["中",true,null],"b":1}'
    for bad in ({"x": 0.5}, {"x": [1, {"y": 2.0}]}, {"x": float("nan")}, {1: "a"}):
        with pytest.raises(DrawInputError):
            canonical_json(bad)
    with pytest.raises(DrawInputError, match="小数"):
        hash_params({"quotas": {"": 1}, "ratio": 0.05})
    with pytest.raises(DrawInputError, match="小数"):
        setup(params=params(ratio_bp=[{"x": 5.0}]))


def test_empty_expert_list_hash() -> None:
    assert hash_ids([]) == H("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert setup().hashes.experts == H("")


def test_byte_order_not_locale_order() -> None:
    # 中 (U+4E2D) sorts before 国 (U+56FD) by UTF-8 bytes; a pinyin collation would put 国 first.
    assert hash_ids(["国", "中", "A"]) == H("A\n中\n国\n")


# -- section 7 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "bp", "k"), [(100, 500, 5), (101, 500, 6), (95, 500, 5), (0, 500, 0), (7, 10000, 7), (7, 1, 1)]
)
def test_quota_from_basis_points(n: int, bp: int, k: int) -> None:
    assert quota_from_basis_points(n, bp) == k


def test_quota_from_basis_points_refuses_floats() -> None:
    with pytest.raises(DrawInputError, match="基点"):
        quota_from_basis_points(100, 5.0)  # type: ignore[arg-type]


def test_balance_regions() -> None:
    assert balance_regions(10, {"A": 5, "B": 3, "C": 2}) == {"A": 5, "B": 3, "C": 2}
    # 28, 21, 21 over 10: floors 2, 2, 2; remainders 8, 1, 1 → A gets the last unit.
    assert balance_regions(7, {"A": 4, "B": 3, "C": 3}) == {"A": 3, "B": 2, "C": 2}
    # Equal remainders: the larger region first.
    assert balance_regions(2, {"a": 1, "b": 3}) == {"a": 0, "b": 2}
    # Equal remainders and sizes: the smaller name by UTF-8 bytes (丙 E4B899 < 乙 E4B999 < 甲 E794B2).
    assert balance_regions(2, {"甲": 1, "乙": 1, "丙": 1}) == {"甲": 0, "乙": 1, "丙": 1}
    with pytest.raises(DrawInputError):
        balance_regions(5, {"A": 2, "B": 2})


def test_default_caps_written_into_params() -> None:
    s = setup(params=params(quotas={"城关镇": 3, "北留镇": 2}, mandatory=[tid(90, "91140599")]))
    assert s.params["inspector_cap"] == default_cap(6, 2, 6) == 2
    assert s.params["expert_cap"] == 0
    assert s.params["expert_count"] == 0


def test_mandatory_sorted_and_outside_strata() -> None:
    m = [tid(99, "91140599"), tid(98, "91140599")]
    s = setup(params=params(mandatory=m))
    assert s.params["mandatory"] == sorted(m)
    result = reveal(s, WITNESSES)
    assert {x.id for x in result.selected if x.mandatory} == set(m)
    assert all(x.stratum is None for x in result.selected if x.mandatory)
    with pytest.raises(DrawInputError, match="同时在随机抽取的候选名单中"):
        setup(params=params(mandatory=[tid(4)]))


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"quotas": {"城关镇": 11}}, "只有 10 个候选对象"),
        ({"quotas": {"城关镇": 1, "润城镇": 1}}, "“润城镇”在候选名单中没有任何对象"),
        ({"quotas": {"城关镇": 0}}, "数量为 0"),
        ({"quotas": {"城关镇": -1}}, "不小于 0"),
        ({"quotas": {"城关镇": True}}, "不小于 0"),
        ({"team_size": 1}, "team_size"),
        ({"team_size": 7}, "只有 6 人"),
        ({"inspector_cap": 1}, "至少需要每人 2 个"),
        ({"expert_count": 1}, "专家名单只有 0 人"),
        (
            {"inspector_conflicts": [[p, tid(1)] for p in INSPECTORS[:5]]},
            f"对象“{tid(1)}”回避后只剩 1 名执法人员",
        ),
        ({"mandatory": [tid(1, "91140599"), tid(1, "91140599")]}, "重复"),
        ({"quotas": [1]}, "quotas"),
    ],
)
def test_infeasible_draws_refused_before_commitment(over: dict[str, Any], message: str) -> None:
    with pytest.raises(DrawInputError, match=message):
        setup(params=params(**over))


def test_conflicts_on_mandatory_target_checked() -> None:
    m = tid(1, "91140599")
    with pytest.raises(DrawInputError, match=m):
        setup(params=params(mandatory=[m], inspector_conflicts=[[p, m] for p in INSPECTORS[1:]]))


def test_conflicts_on_undrawable_stratum_allowed() -> None:
    # 北留镇 draws nothing, so a target there with everybody in conflict cannot block the draw.
    s = setup(
        params=params(
            quotas={"城关镇": 2, "北留镇": 0}, inspector_conflicts=[[p, tid(0)] for p in INSPECTORS]
        )
    )
    assert s.commitment


def test_conflicts_respected_and_canonical() -> None:
    pairs = [[p, t] for p in INSPECTORS[:3] for t, _ in TARGETS]
    result = reveal(setup(params=params(inspector_conflicts=canonical_conflicts(reversed(pairs)))), WITNESSES)
    for item in result.selected:
        assert not set(item.inspectors) & set(INSPECTORS[:3])
    assert canonical_conflicts([["b", "x"], ["a", "y"], ["b", "x"]]) == [["a", "y"], ["b", "x"]]


def test_fallback_continues_down_the_ranking() -> None:
    """With a cap that cannot hold (everybody but two in conflict), the fallback still makes teams."""
    conflicts = [[p, t] for p in INSPECTORS[2:] for t, s in TARGETS if s == "城关镇"]
    s = setup(
        params=params(quotas={"城关镇": 4, "北留镇": 0}, inspector_cap=2, inspector_conflicts=conflicts)
    )
    result = reveal(s, WITNESSES)
    for item in result.selected:
        assert sorted(item.inspectors) == ["P00", "P01"]


# -- substitutions ---------------------------------------------------------------------------


def test_substitution_errors_and_history() -> None:
    result = run_draw(DrawInput("S-1", TARGETS, INSPECTORS, [], params(), WITNESSES, "0" * 32))
    first = result.selected[0]
    out = first.inspectors[0]
    with pytest.raises(DrawInputError, match="不在本次抽中的名单中"):
        apply_substitutions(result, [SubstitutionRequest(tid(77, "91140577"), out, "病假")])
    stranger = next(p for p in INSPECTORS if p not in first.inspectors)
    with pytest.raises(DrawInputError, match="当前的执法人员中"):
        apply_substitutions(result, [SubstitutionRequest(first.id, stranger, "病假")])
    with pytest.raises(DrawInputError, match="替换原因不能为空"):
        apply_substitutions(result, [SubstitutionRequest(first.id, out, " ")])
    with pytest.raises(DrawInputError, match="不在本次抽取的人员名单中"):
        apply_substitutions(result, [SubstitutionRequest(first.id, out, "病假", (("X9", "出差"),))])
    # Replace the same slot repeatedly: nobody removed before ever comes back.
    reqs = []
    current = out
    seen = {out}
    outcome = apply_substitutions(result, [])
    for _ in range(len(INSPECTORS) - 2):
        reqs.append(SubstitutionRequest(first.id, current, "不能参加"))
        outcome = apply_substitutions(result, reqs)
        current = outcome.substitutions[-1].substitute
        assert current not in seen
        seen.add(current)
    reqs.append(SubstitutionRequest(first.id, current, "不能参加"))
    with pytest.raises(DrawInputError, match="没有可以递补"):
        apply_substitutions(result, reqs)
    assert outcome.selected[0].inspectors[1] == first.inspectors[1]


# -- canonical JSON fast path ----------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8"), max_size=6)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)
_rows = st.lists(_text, min_size=1, max_size=4, unique=True).flatmap(
    lambda keys: st.lists(st.fixed_dictionaries({k: _text for k in keys}), min_size=1, max_size=6)
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_text, _json | _rows, max_size=5) | _rows)
def test_canonical_json_equals_json_dumps(obj: Any) -> None:
    """The columnar path for long lists of flat objects writes exactly what json.dumps writes."""
    plain = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(algorithm, "_FAST_ROWS", 1)
        assert canonical_json(obj) == plain
    assert canonical_json(obj) == plain
