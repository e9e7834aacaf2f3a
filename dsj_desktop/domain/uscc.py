"""统一社会信用代码 (unified social credit code), GB 32100-2015.

18 characters from a 31-character alphabet (digits and capitals without I, O, Z, S, V); the
last is a check character: with weights ``3**i mod 31`` for positions 1..17,
``check = 31 - (Σ value × weight) mod 31`` (31 becomes 0).
"""

from __future__ import annotations

from operator import mul

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = tuple(
    pow(3, i, 31) for i in range(17)
)  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28


def check_character(first17: str) -> str:
    """The check character for the first 17 characters (which must be valid code characters)."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalize(code: str) -> str:
    """Upper case, without any whitespace (copied codes often carry spaces)."""
    return "".join(code.split()).upper()


def problem(code: str) -> str | None:
    """``None`` when *code* (already normalised) is valid, else a Chinese description of the fault."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位，“{code}”是 {len(code)} 位"
    bad = [c for c in code if c not in _VALUE]
    if bad:
        shown = "、".join(dict.fromkeys(bad))
        return f"统一社会信用代码“{code}”含有不允许的字符“{shown}”（不使用 I、O、Z、S、V）"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码“{code}”校验位错误：按 GB 32100-2015 第 18 位应为“{expected}”"
    return None


_VALUE_OF = _VALUE.__getitem__


def is_valid_normalized(code: str) -> bool:
    """Fast validity test of an already normalised code (used for whole columns)."""
    if len(code) != 18:
        return False
    try:
        total = sum(map(mul, map(_VALUE_OF, code[:17]), WEIGHTS))
        return ALPHABET[(31 - total % 31) % 31] == code[17]
    except KeyError:
        return False


def is_valid(code: str) -> bool:
    return problem(normalize(code)) is None


def complete(first17: str) -> str:
    """Append the check character (used by the demo data and tests)."""
    return first17 + check_character(first17)
