"""抽查比例: a single rate (``5%``), a fixed count (``20家``) or rates by risk tier
(``重大:100%;较大:30%;一般:10%;低:5%``). Rates are kept exactly, in basis points (1% = 100 bp),
never as floats; quotas follow section 7 of DSJ-DRAW-1: ``k = ceil(N × bp / 10000)``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from dsj_desktop.domain.specs import RISK_LEVELS
from dsj_desktop.draw.algorithm import quota_from_basis_points

FULL = 10000  # 100 %


class RatioError(ValueError):
    """The text is not a ratio; the message says why, in Chinese."""


@dataclass(frozen=True)
class Ratio:
    kind: str  # "rate" | "count" | "tiers"
    bp: int = 0  # rate
    count: int = 0  # count
    tiers: tuple[tuple[str, int], ...] = ()  # (risk level, bp) in RISK_LEVELS order

    def to_json(self) -> str:
        d: dict[str, Any] = {"kind": self.kind}
        if self.kind == "rate":
            d["bp"] = self.bp
        elif self.kind == "count":
            d["count"] = self.count
        else:
            d["tiers"] = dict(self.tiers)
        return json.dumps(d, ensure_ascii=False, sort_keys=True)

    @staticmethod
    def from_json(text: str) -> Ratio:
        d = json.loads(text)
        if d["kind"] == "rate":
            return Ratio("rate", bp=int(d["bp"]))
        if d["kind"] == "count":
            return Ratio("count", count=int(d["count"]))
        tiers = d["tiers"]
        return Ratio("tiers", tiers=tuple((t, int(tiers[t])) for t in RISK_LEVELS if t in tiers))

    def text(self) -> str:
        """The canonical text (what export writes and import reads back)."""
        if self.kind == "rate":
            return format_bp(self.bp)
        if self.kind == "count":
            return f"{self.count}家"
        return ";".join(f"{t}:{format_bp(bp)}" for t, bp in self.tiers)

    def tier_bp(self, risk_level: str) -> int:
        return dict(self.tiers).get(risk_level, 0)


def format_bp(bp: int) -> str:
    whole, frac = divmod(bp, 100)
    return f"{whole}%" if frac == 0 else f"{whole}.{frac:02d}".rstrip("0") + "%"


quota = quota_from_basis_points  # section 7: ceil(n × bp / 10000) in integers


_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)\s*[%％]$")
_COUNT = re.compile(r"^(\d+)\s*[家户个]?$")
_FULL_WORDS = ("全覆盖", "全部", "全检")


def parse_percent(s: str) -> int:
    s = s.strip()
    if s in _FULL_WORDS:
        return FULL
    m = _PERCENT.match(s)
    if not m:
        raise RatioError(f"“{s}”不是百分比，请写作 5% 这样的形式")
    try:
        bp = Decimal(m.group(1)) * 100
    except InvalidOperation:
        raise RatioError(f"“{s}”不是百分比") from None
    if bp != bp.to_integral_value():
        raise RatioError(f"“{s}”精度过高：比例最多精确到 0.01%")
    if bp > FULL:
        raise RatioError(f"“{s}”超过 100%")
    return int(bp)


def parse_ratio(text: str) -> Ratio:
    """Parse the 抽查比例 column. Raises :class:`RatioError` with a Chinese message."""
    s = (
        text.strip()
        .replace("：", ":")
        .replace("；", ";")
        .replace("，", ";")
        .replace(",", ";")
        .replace("、", ";")
    )
    s = s.rstrip(";")
    if not s:
        raise RatioError("抽查比例不能为空")
    if ":" in s:
        tiers: dict[str, int] = {}
        for part in s.split(";"):
            part = part.strip()
            if not part:
                continue
            if ":" not in part:
                raise RatioError(f"“{part}”缺少冒号：按风险等级写作 重大:100%;较大:30%;一般:10%;低:5%")
            level, rate = (p.strip() for p in part.split(":", 1))
            level = level.removesuffix("风险")
            if level not in RISK_LEVELS:
                raise RatioError(f"“{level}”不是风险等级（可选：{'、'.join(RISK_LEVELS)}）")
            if level in tiers:
                raise RatioError(f"风险等级“{level}”写了两次")
            tiers[level] = parse_percent(rate)
        if not tiers:
            raise RatioError(f"“{text}”不是抽查比例")
        return Ratio("tiers", tiers=tuple((t, tiers[t]) for t in RISK_LEVELS if t in tiers))
    if _PERCENT.match(s) or s in _FULL_WORDS:
        return Ratio("rate", bp=parse_percent(s))
    m = _COUNT.match(s)
    if m:
        n = int(m.group(1))
        if n <= 0:
            raise RatioError("抽取家数应大于 0")
        return Ratio("count", count=n)
    raise RatioError(f"无法识别的抽查比例“{text}”：可写 5%、20家，或 重大:100%;较大:30%;一般:10%;低:5%")
