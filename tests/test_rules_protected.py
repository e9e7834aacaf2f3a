"""Rules that a one-line bug could silently break, each pinned by expectations worked out by hand (or by
an independent re-implementation written here), never by the code's own output: 执法证 validity on
the draw day, the journal's hash chain and its link check, region balance with its tie-breaks."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsj_desktop.db.engine import Database
from dsj_desktop.domain.specs import inspector_eligibility
from dsj_desktop.draw.algorithm import balance_regions
from dsj_desktop.services import integrity, sessions
from dsj_desktop.services import plan as plan_service

# --- 执法证 valid on the draw day ----------------------------------------------------------------


def test_an_expired_certificate_is_never_valid() -> None:
    day = date(2026, 6, 1)
    assert inspector_eligibility(day, "在岗", day) is None  # valid through its last day
    assert inspector_eligibility(day + timedelta(days=365), "在岗", day) is None
    assert inspector_eligibility(day - timedelta(days=1), "在岗", day) == "执法证已过期（2026-05-31）"
    assert inspector_eligibility("2020-01-01", "在岗", day) == "执法证已过期（2020-01-01）"
    assert inspector_eligibility(None, "在岗", day) == "无执法证有效期"
    assert inspector_eligibility(day, "休假", day) == "不在岗（休假）"


def _inspectors_valid_until(db: Database, until: date) -> list[str]:
    with db.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT cert_no FROM inspector WHERE cert_valid_until = ? AND duty_status = '在岗'",
            (until.isoformat(),),
        )
        return [r[0] for r in rows]


def test_only_inspectors_with_a_valid_certificate_are_drawn(demo_db: Database) -> None:
    # The demo bureau has one certificate ending 2026-06-30 and one that ended 2025-12-31.
    (ends_june,) = _inspectors_valid_until(demo_db, date(2026, 6, 30))
    (expired,) = _inspectors_valid_until(demo_db, date(2025, 12, 31))
    with demo_db.read() as conn:
        on_last_day = {i[0] for i in plan_service.eligible_inspectors(conn, date(2026, 6, 30), ())}
        day_after = {i[0] for i in plan_service.eligible_inspectors(conn, date(2026, 7, 1), ())}
        on_duty = {
            r[0] for r in conn.exec_driver_sql("SELECT cert_no FROM inspector WHERE duty_status = '在岗'")
        }
    assert ends_june in on_last_day and expired not in on_last_day
    assert ends_june not in day_after and expired not in day_after
    assert day_after == on_duty - {ends_june, expired}  # nobody else is left out
    # The frozen inputs of a draw say the same, and so does the draw screen's count.
    s = sessions.prepare(demo_db, "RW-2026-04", on=date(2026, 7, 1))
    drawn_from = {i[0] for i in s.inputs["inspectors"]}
    assert ends_june not in drawn_from and expired not in drawn_from
    # The task needs a 执法专长: everyone on duty with it and a certificate valid on the day, nobody else.
    with demo_db.read() as conn:
        rows = conn.exec_driver_sql("SELECT cert_no, specialties FROM inspector WHERE duty_status = '在岗'")
        need = set(s.inputs["task"]["inspector_req"])
        qualified = {r[0] for r in rows if need & set(r[1].split("、"))}
    assert need and drawn_from == qualified - {ends_june, expired}


# --- the journal's hash chain ---------------------------------------------------------------------

JOURNAL_SQL = "SELECT id, at, actor, action, detail, prev_hash, hash, signature FROM journal ORDER BY id"


def _journal(db: Database) -> list[tuple[Any, ...]]:
    for i in range(4):  # entries after the demo's two
        db.record(f"导出测试 {i}", {"n": i, "file": f"f{i}.xlsx"})
    with db.read() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(JOURNAL_SQL)]


def _by_hand(prev: str, at: str, who: str, action: str, detail: str) -> str:
    """The entry hash as the journal defines it, written out here independently of the code."""
    text = "\x1f".join(["DSJ-JOURNAL-1", prev, at, who, action, detail])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_every_journal_entry_hashes_its_predecessor(demo_db: Database) -> None:
    rows = _journal(demo_db)
    assert len(rows) == 6
    prev = "0" * 64
    for _id, at, who, action, detail, prev_hash, h, _sig in rows:
        assert prev_hash == prev
        assert h == _by_hand(prev_hash, at, who, action, detail)
        prev = h
    # The predecessor is part of what is hashed: the same entry after another one hashes differently.
    _id, at, who, action, detail, prev_hash, h, _sig = rows[-1]
    assert _by_hand("f" * 64, at, who, action, detail) != h


def test_the_integrity_check_finds_a_broken_link(demo_db: Database) -> None:
    rows = _journal(demo_db)
    key = demo_db.guard.public_key
    assert integrity.verify_journal(rows, key) == []
    # An entry taken out of the middle: every remaining entry is intact and signed, only the link breaks.
    cut = rows[:2] + rows[3:]
    assert integrity.verify_journal(cut, key)
    # An entry rewritten by someone holding the key, re-hashed and re-signed: the next link breaks.
    jid, at, who, action, detail, prev_hash, _h, _sig = rows[2]
    forged_detail = detail.replace("}", ', "x": 1}', 1) if detail.endswith("}") else detail + " "
    h = _by_hand(prev_hash, at, who, action, forged_detail)
    forged = (jid, at, who, action, forged_detail, prev_hash, h, demo_db.guard.sign(bytes.fromhex(h)).hex())
    assert integrity.verify_journal([*rows[:2], forged, *rows[3:]], key)


# --- region balance, ties included ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "sizes", "expected"),
    [
        # floors 1 + 3; remainders 15 mod 10 = 35 mod 10 = 5 tie → the larger region.
        (5, {"A": 3, "B": 7}, {"A": 1, "B": 4}),
        # remainders 10 = 10 tie → the larger region, though its name sorts last.
        (2, {"A": 5, "Z": 15}, {"A": 0, "Z": 2}),
        # a larger remainder beats a larger region: 6 mod 7 = 6 against 15 mod 7 = 1.
        (3, {"A": 2, "B": 5}, {"A": 1, "B": 2}),
        # remainders 7, 7, 5, 5: A and B, then C before D (equal size: the smaller name).
        (5, {"A": 3, "B": 3, "C": 1, "D": 1}, {"A": 2, "B": 2, "C": 1, "D": 0}),
        # equal remainders and sizes: by UTF-8 bytes, 中 (E4 B8 AD) before 国 (E5 9B BD), not by pinyin.
        (1, {"国区": 1, "中区": 1}, {"国区": 0, "中区": 1}),
        # by bytes, not case-folded: "B" (0x42) before "a" (0x61).
        (1, {"a": 2, "B": 2}, {"a": 0, "B": 1}),
        # no remainder left: exact shares.
        (6, {"东": 2, "西": 2, "南": 2}, {"东": 2, "西": 2, "南": 2}),
    ],
)
def test_region_balance_ties(total: int, sizes: dict[str, int], expected: dict[str, int]) -> None:
    assert balance_regions(total, sizes) == expected


def _reference_balance(total: int, sizes: dict[str, int]) -> dict[str, int]:
    """Spec §7 written out step by step: floors, then one unit at a time to the best remaining region."""
    n = sum(sizes.values())
    out = {r: total * s // n for r, s in sizes.items()}
    waiting = list(sizes)
    for _ in range(total - sum(out.values())):
        best = waiting[0]
        for r in waiting[1:]:
            a, b = (total * sizes[r]) % n, (total * sizes[best]) % n
            if (
                a > b
                or (a == b and sizes[r] > sizes[best])
                or (a == b and sizes[r] == sizes[best] and r.encode() < best.encode())
            ):
                best = r
        out[best] += 1
        waiting.remove(best)
    return out


@given(
    st.dictionaries(
        st.sampled_from(["城关镇", "北留镇", "A", "a", "B", "中区", "国区", "东", "西"]),
        st.integers(min_value=1, max_value=12),
        min_size=1,
    ),
    st.data(),
)
def test_region_balance_matches_the_rule_written_out(sizes: dict[str, int], data: Any) -> None:
    total = data.draw(st.integers(min_value=0, max_value=sum(sizes.values())))
    got = balance_regions(total, sizes)
    assert got == _reference_balance(total, sizes)
    assert sum(got.values()) == total and all(0 <= got[r] <= sizes[r] for r in sizes)
