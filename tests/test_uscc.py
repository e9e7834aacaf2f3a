import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsj_desktop.domain import uscc

VALID = [
    "91350100M000100Y43",  # the example in GB 32100-2015
    "914403001922038216",
    "91110000802100433B",
    "12100000400000707Q".replace("Q", uscc.check_character("12100000400000707")),
]


@pytest.mark.parametrize("code", VALID)
def test_valid_codes(code: str) -> None:
    assert uscc.problem(code) is None
    assert uscc.is_valid(code)


def test_lower_case_and_spaces_are_normalised() -> None:
    assert uscc.is_valid("91350100m000100y43")
    assert uscc.is_valid(" 9135 0100M0 00100Y43 ")


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91350100M000100Y44", "校验位错误"),
        ("91350100M000100Y4", "应为 18 位"),
        ("91350100M000100Y433", "应为 18 位"),
        ("91350100M0001O0Y43", "不允许的字符“O”"),
        ("9135010OI000100Y43", "不允许的字符“O、I”"),
    ],
)
def test_invalid_codes(code: str, fragment: str) -> None:
    msg = uscc.problem(uscc.normalize(code))
    assert msg is not None
    assert fragment in msg


def test_wrong_check_character_message_gives_the_right_one() -> None:
    msg = uscc.problem("914403001922038219")
    assert msg is not None and "应为“6”" in msg


def test_every_single_character_change_is_caught() -> None:
    """The check character detects any single substitution in the first 17 characters."""
    code = "91350100M000100Y43"
    for i in range(17):
        for c in uscc.ALPHABET:
            if c == code[i]:
                continue
            changed = code[:i] + c + code[i + 1 :]
            assert uscc.problem(changed) is not None, changed


def test_complete_appends_check_character() -> None:
    assert uscc.complete("91350100M000100Y4") == "91350100M000100Y43"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.builds(uscc.complete, st.text(uscc.ALPHABET, min_size=17, max_size=17)),
            st.text(uscc.ALPHABET, min_size=18, max_size=18),
            st.text(uscc.ALPHABET + "IOSVZa ,\u2028", min_size=16, max_size=20),
            st.sampled_from(
                ["", ",", uscc.complete("91149921000000001") + "," + uscc.complete("91149921000000002")]
            ),
        ),
        max_size=8,
    )
)
def test_a_column_is_valid_exactly_when_each_code_is(codes: list[str]) -> None:
    assert uscc.all_valid(codes) == all(map(uscc.is_valid_normalized, codes))


def test_a_column_of_valid_codes_and_one_wrong_check_character() -> None:
    codes = [uscc.complete(f"{n:017d}") for n in range(0, 10**17, 10**17 // 997)]
    assert uscc.all_valid(codes) and uscc.all_valid(VALID)
    for i in (0, 500, len(codes) - 1):
        for c in uscc.ALPHABET:
            if c != codes[i][17]:
                assert not uscc.all_valid([*codes[:i], codes[i][:17] + c, *codes[i + 1 :]])
