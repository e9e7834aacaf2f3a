"""检查人员要求: an item's staffing requirement is free text, kept exactly as the bureau wrote it.

The program derives from it only what it can name:

* words that are 执法专长 values (the specialties the inspector directory uses, and the 行业领域 code
  list) become required specialties — an inspector needs one of them;
* "N人以上" / "不少于N人" / "至少N人" become a minimum team size, checked against the task's
  每组检查人数;
* a valid 执法证 is required of every inspector anyway, so a phrase about it needs nothing more.

Everything else stays a note for people to read; nothing is guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from dsj_desktop.domain import codelists

_SPLIT = re.compile(r"[、,，;；。.\s/]+|(?<!以)和|(?<!以)与")
_NUMBER = r"(\d+|[一二两三四五六七八九十])"
_TEAM = (
    re.compile(_NUMBER + r"\s*(?:名|个)?(?:人|名)(?:及|或)?以上"),
    re.compile(r"(?:不少于|不低于|至少|最少|不得少于)\s*" + _NUMBER + r"\s*(?:名|个)?(?:人|名)"),
)
_CN_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
# Words around a specialty that add nothing ("具备危险化学品执法专长的人员"): a phrase made only of
# these and recognised values is fully understood.
_FILLER = re.compile(
    r"具备|具有|熟悉|持有|持|有|从事|相关|专业|领域|背景|经验|执法|专长|人员|检查|的|等|行业|方面|知识|能力|要求|须|需|应"
)
_CERT = re.compile(r"执法证|执法资格|行政执法证件|执法证件")


@dataclass(frozen=True)
class StaffRequirement:
    """What the program understood of one item's 检查人员要求, and what it left as a note."""

    text: str  # as written
    specialties: tuple[str, ...] = ()
    min_team: int = 0  # 0: no minimum stated
    cert: bool = False  # the text mentions the 执法证 (required anyway)
    notes: tuple[str, ...] = ()  # phrases not understood, as written

    @property
    def derived(self) -> str:
        """ "要求执法专长：危险化学品；每组至少 2 人" — empty when nothing was derived."""
        parts = []
        if self.specialties:
            parts.append(f"要求执法专长：{'、'.join(self.specialties)}")
        if self.min_team:
            parts.append(f"每组至少 {self.min_team} 人")
        return "；".join(parts)

    def explain(self) -> str:
        """The whole reading in one line, for the item tab and the import summary."""
        if not self.text.strip():
            return "未填写：任何执法证有效且在岗的执法人员都可抽取"
        parts = [self.derived] if self.derived else ["未要求特定执法专长"]
        parts.append("执法证有效且在岗（程序一律要求）")
        if self.notes:
            parts.append(f"作为说明保留：{'、'.join(self.notes)}")
        return "；".join(parts)


def _number(s: str) -> int:
    return int(s) if s.isdigit() else _CN_DIGITS.get(s, 0)


def parse(text: str | None, known: Iterable[str]) -> StaffRequirement:
    """Read one 检查人员要求 against the known 执法专长 values."""
    text = text or ""
    vocabulary = sorted({k for k in known if k}, key=len, reverse=True)  # longest first: 非煤矿山 before 煤矿
    found: dict[str, None] = {}
    min_team = 0
    cert = False
    notes: list[str] = []
    for phrase in (p.strip() for p in _SPLIT.split(text)):
        if not phrase:
            continue
        rest = phrase
        for pattern in _TEAM:
            for m in pattern.finditer(rest):
                min_team = max(min_team, _number(m.group(1)))
            rest = pattern.sub(" ", rest)
        if _CERT.search(rest):
            cert = True
            rest = _CERT.sub(" ", rest).replace("有效", " ")
        for word in vocabulary:
            if word in rest:
                found[word] = None
                rest = rest.replace(word, " ")
        if _FILLER.sub("", rest).strip():
            notes.append(phrase)
    return StaffRequirement(text, tuple(found), min_team, cert, tuple(notes))


def known_specialties(conn: Connection) -> list[str]:
    """The 执法专长 values the program recognises: those the inspector directory uses and the
    行业领域 code list."""
    values: dict[str, None] = {}
    for (s,) in conn.exec_driver_sql("SELECT DISTINCT specialties FROM inspector WHERE specialties != ''"):
        for p in re.split(r"[、,，;；/\s]+", str(s)):
            if p:
                values[p] = None
    for v in codelists.values(conn, codelists.INDUSTRY):
        values[v] = None
    return list(values)


def import_notes(
    records: Sequence[Mapping[str, object]], known: Iterable[str], *, limit: int = 8
) -> list[str]:
    """Sentences for an item import's summary: what each distinct 检查人员要求 was read as."""
    vocabulary = list(known)
    by_text: dict[str, list[str]] = {}
    for rec in records:
        text = str(rec.get("inspector_req") or "").strip()
        if text:
            by_text.setdefault(text, []).append(str(rec.get("code", "")))
    if not by_text:
        return []
    out = [f"检查人员要求（{sum(map(len, by_text.values()))} 项填写，原文照存）的识别结果："]
    for n, (text, codes) in enumerate(sorted(by_text.items(), key=lambda kv: -len(kv[1]))):
        if n == limit:
            out.append(f"……另有 {len(by_text) - limit} 种写法，见“抽查事项清单”。")
            break
        which = "、".join(codes[:3]) + (f" 等 {len(codes)} 项" if len(codes) > 3 else "")
        out.append(f"“{text}”（{which}）→ {parse(text, vocabulary).explain()}。")
    return out
