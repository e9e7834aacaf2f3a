"""The whole-column checks of an import (convert_column) give exactly what the cell-by-cell converter
gives: the same stored values, the same refusals with the same messages, the same new code values,
whatever mix of clean and awkward cells a column holds."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dsj_desktop.domain.fields import CellError, Converter, FieldSpec, Kind, UnknownCode, convert_column
from dsj_desktop.domain.specs import INSPECTORS, TARGETS
from dsj_desktop.domain.uscc import complete

CODES = {"industry": ("机械", "化工", "商贸"), "region": ("城关镇", "龙泉镇")}
FIELDS = [*TARGETS.fields, *INSPECTORS.fields,
          FieldSpec("note", "备注", multiline=True, max_len=12),
          FieldSpec("opt", "可选", Kind.CHOICE, choices=("甲", "乙"), default="甲"),
          FieldSpec("short", "简称", max_len=5, default="无")]  # fmt: skip

# Cells as offices type them: clean values, spaces around and inside, full-width letters, invisible
# characters, control characters, the separator the bulk checks use, numbers, dates, empties.
AWKWARD = st.sampled_from([
    "", " ", "\u3000", "是", "否", " 是 ", "一般", "重大", "机械", "化工 ", "商贸", "新行业", "城关镇",
    "测试企业有限公司", "ａｂｃ１２３", "a\u200bb", "x\ty", "a\nb", "a\r\nb", "line\u2028sep", "\u2028",
    "e\u0301", "é", "ﬁ", "x" * 13, "长" * 201, "2027-06-03", "2027年6月3日", "20270603", "46541",
    complete("91149921000000001"), complete("91149921000000002").lower(), " " + complete("91149921000000003"),
    "91149921000000001X", "９１１４９９２１０００００００４" + complete("91149921000000004")[-4:],
    "1.23E+17", "-5", "42", "男", "女",
])  # fmt: skip
CELL = st.one_of(
    AWKWARD,
    AWKWARD,
    AWKWARD,
    st.text(max_size=6),
    st.none(),
    st.integers(-10, 10**16),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.just(date(2027, 6, 3)),
    st.just(datetime(2027, 6, 3, 8)),
)


def cell_by_cell(f: FieldSpec, raw: list[Any]) -> tuple[list[Any], dict[int, str], set[str]]:
    conv = Converter(f, CODES)
    conv.tolerate_unknown = f.kind is Kind.CODELIST
    values: list[Any] = []
    errors: dict[int, str] = {}
    for i, v in enumerate(raw):
        try:
            values.append(conv(v))
        except CellError as exc:
            values.append(None)
            errors[i] = str(exc)
            assert not isinstance(exc, UnknownCode)
    return values, errors, conv.unknown_codes


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(FIELDS), st.lists(CELL, max_size=12), st.booleans())
def test_a_column_checks_exactly_as_its_cells(f: FieldSpec, raw: list[Any], only_text: bool) -> None:
    if only_text:
        raw = [v if isinstance(v, str) else "" for v in raw]
    conv = Converter(f, CODES)
    conv.tolerate_unknown = f.kind is Kind.CODELIST
    values, errors = convert_column(conv, list(raw))
    want_values, want_errors, want_unknown = cell_by_cell(f, raw)
    assert values == want_values
    assert [type(v) for v in values] == [type(v) for v in want_values]
    assert errors == want_errors
    assert conv.unknown_codes == want_unknown


def test_a_clean_column_of_many_cells() -> None:
    codes = [complete(f"91149921{n:09d}") for n in range(3000)]
    for f, raw in (
        (TARGETS.field("uscc"), codes),
        (TARGETS.field("name"), [f"企业{n}" for n in range(3000)]),
        (TARGETS.field("blacklist"), ["是", "否"] * 1500),
        (TARGETS.field("risk_level"), ["一般", "较大"] * 1500),
    ):
        conv = Converter(f, CODES)
        values, errors = convert_column(conv, list(raw))
        assert (values, errors) == cell_by_cell(f, raw)[:2]
    # One bad cell among thousands of good ones is found with its message.
    bad = [*codes[:1500], "", *codes[1500:2999]]
    conv = Converter(TARGETS.field("uscc"), CODES)
    values, errors = convert_column(conv, bad)
    assert list(errors) == [1500] and errors[1500] == "必填，不能为空"
