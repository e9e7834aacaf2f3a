"""统一社会信用代码 (unified social credit code), GB 32100-2015.

18 characters from a 31-character alphabet (digits and capitals without I, O, Z, S, V); the
last is a check character: with weights ``3**i mod 31`` for positions 1..17,
``check = 31 - (Σ value × weight) mod 31`` (31 becomes 0).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import repeat
from operator import itemgetter, mod, mul
from typing import Any

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


# all_valid: the code characters as base-36 digits of their values (0 … 30), and what a valid code's
# reversed text read in base 34 leaves modulo 31 for each check character (34 ≡ 3: the weights).
_DIGITS = str.maketrans(ALPHABET, "0123456789abcdefghijklmnopqrstu")
_K = (pow(3, 17, 31) - 1) % 31
_EXPECTED = {"0123456789abcdefghijklmnopqrstu"[v]: v * _K % 31 for v in range(31)}.__getitem__
_CODES = re.compile(f"(?:[{ALPHABET}]{{18}},)*[{ALPHABET}]{{18}}")


def all_valid(codes: Sequence[Any]) -> bool:
    """Whether every code of a column (texts, already normalised) is valid: ``all(map(is_valid_normalized,
    codes))`` in a few passes over the whole column. Reversed, a code reads in base 34 as
    ``check × 34**17 + Σ value × 34**i``; as ``34 ≡ 3 (mod 31)``, that is ``check × 3**17 + Σ value ×
    weight``, and the code is valid exactly when the sum is ``−check``, i.e. when the number is
    ``check × (3**17 − 1)`` modulo 31."""
    if not codes:
        return True
    joined = ",".join(codes)
    if not _CODES.fullmatch(joined):  # each 18 code characters (a comma inside a cell: see below)
        return False
    cells = joined.translate(_DIGITS)[::-1].split(",")
    if len(cells) != len(codes):
        return False
    return list(map(mod, map(int, cells, repeat(34)), repeat(31))) == list(
        map(_EXPECTED, map(itemgetter(0), cells))
    )


def is_valid(code: str) -> bool:
    return problem(normalize(code)) is None


def complete(first17: str) -> str:
    """Append the check character (used by the demo data and tests)."""
    return first17 + check_character(first17)
