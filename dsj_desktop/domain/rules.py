"""The bureau's draw rules (a settings dialog; stored in the database; applied before any seed exists)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from dsj_desktop.domain.specs import STATUSES
from dsj_desktop.errors import ValidationError

CYCLES = {"year": "自然年", "half": "半年", "quarter": "季度"}
SCOPES = {"item": "同一抽查事项", "task": "同一抽查任务", "all": "所有任务"}
SETTING_KEY = "rules"


@dataclass(frozen=True)
class Rules:
    cycle: str = "year"  # 抽查周期
    once_per_cycle: bool = True  # 本周期已抽中的不再抽取
    once_per_cycle_scope: str = "item"  # … within the same item / task / any task
    yearly_cap: int = 2  # a unit at most this many times a calendar year (0: no cap)
    blacklist_exempt_from_cap: bool = True
    blacklist_full: bool = True  # 黑名单 inspected at 100 % (mandatory, without sampling)
    excluded_statuses: tuple[str, ...] = ("注销", "吊销")
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def validate(self) -> Rules:
        problems = []
        if self.cycle not in CYCLES:
            problems.append(f"抽查周期“{self.cycle}”无效")
        if self.once_per_cycle_scope not in SCOPES:
            problems.append(f"不重复抽取的范围“{self.once_per_cycle_scope}”无效")
        if self.yearly_cap < 0:
            problems.append("每年抽查次数上限不能为负数")
        bad = [s for s in self.excluded_statuses if s not in STATUSES]
        if bad:
            problems.append(f"经营状态“{'、'.join(bad)}”无效")
        if "存续" in self.excluded_statuses:
            problems.append("不能排除经营状态为“存续”的企业")
        if problems:
            raise ValidationError("；".join(problems), problems)
        return self

    def to_json(self) -> str:
        d = asdict(self)
        d["excluded_statuses"] = list(self.excluded_statuses)
        d.pop("extra")
        return json.dumps(d, ensure_ascii=False, sort_keys=True)

    @staticmethod
    def from_json(text: str | None) -> Rules:
        if not text:
            return Rules()
        d = json.loads(text)
        known = {k: d[k] for k in Rules.__dataclass_fields__ if k in d and k != "extra"}
        if "excluded_statuses" in known:
            known["excluded_statuses"] = tuple(known["excluded_statuses"])
        return Rules(**known)

    def cycle_of(self, on: date) -> tuple[date, date, str]:
        """The cycle containing *on*: (first day, last day, a Chinese label)."""
        y = on.year
        if self.cycle == "half":
            if on.month <= 6:
                return date(y, 1, 1), date(y, 6, 30), f"{y}年上半年"
            return date(y, 7, 1), date(y, 12, 31), f"{y}年下半年"
        if self.cycle == "quarter":
            q = (on.month - 1) // 3
            start = date(y, 3 * q + 1, 1)
            end = date(y, 3 * q + 3, 31 if q in (0, 3) else 30)
            return start, end, f"{y}年第{q + 1}季度"
        return date(y, 1, 1), date(y, 12, 31), f"{y}年"

    def describe(self) -> list[str]:
        """The rules in plain Chinese (shown before a draw and printed on records)."""
        lines = [f"抽查周期：{CYCLES[self.cycle]}"]
        if self.once_per_cycle:
            lines.append(f"本周期内{SCOPES[self.once_per_cycle_scope]}已抽中的检查对象不再抽取")
        if self.yearly_cap:
            cap = f"同一检查对象每年最多被抽查 {self.yearly_cap} 次"
            lines.append(cap + ("（黑名单除外）" if self.blacklist_exempt_from_cap else ""))
        if self.blacklist_full:
            lines.append("黑名单企业 100% 检查（必查，不参加随机抽取）")
        if self.excluded_statuses:
            lines.append(f"经营状态为{'、'.join(self.excluded_statuses)}的不参加抽取")
        return lines
