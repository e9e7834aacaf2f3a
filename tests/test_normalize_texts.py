"""normalize_texts (a whole column of names checked at once) gives exactly what normalize_text gives
value by value: the same texts, or the same error for the first bad value."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dsj_desktop.draw.algorithm import DrawInputError, normalize_text, normalize_texts

VALUES = st.one_of(
    st.sampled_from([
        "", " ", "青山宏达机械有限公司", " 前后有空格 ", "中间 有空格", "Qingshan Co. Ltd", "\u3000全角空格", "e\u0301", "é", "\u0301开头是组合符",
        "tab\there", "换行\n", "a\uffffb", "\uffff", "a\u2e3bb", "\u2e3b", " \u2e3b", "\u2e3b\u0301", "\u2028", "\u3000", "\x85", "a b ", "x\x7f", "\xa0", "Å", "\u212b", 5, None,
    ]),
    st.text(max_size=5),
)  # fmt: skip


def one_by_one(values: list[Any]) -> list[str] | str:
    try:
        return [normalize_text(v, "对象名称", allow_empty=True) for v in values]
    except DrawInputError as exc:
        return str(exc)


@settings(max_examples=1500, deadline=None)
@given(st.lists(VALUES, max_size=8))
def test_a_column_as_its_values(values: list[Any]) -> None:
    try:
        got: list[str] | str = normalize_texts(values, "对象名称")
    except DrawInputError as exc:
        got = str(exc)
    assert got == one_by_one(values)


def test_a_long_clean_column_is_given_back() -> None:
    names = [f"企业{n}有限公司" for n in range(5000)]
    assert normalize_texts(names, "对象名称") == names
    assert normalize_texts([*names, "末尾 "], "对象名称")[-1] == "末尾"
