"""Draw sessions over the database: the state machine, its trace, voids, cycles, caps, 递补, records."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from dsj_desktop.clock import pinned
from dsj_desktop.db.engine import Database
from dsj_desktop.domain import codelists
from dsj_desktop.domain.plan_specs import PLAN_ROWS
from dsj_desktop.domain.rules import Rules
from dsj_desktop.draw.record import verify_record
from dsj_desktop.io.importer import ParsedSheet
from dsj_desktop.services import sessions
from dsj_desktop.services.plan import apply_plan, get_task, save_rules, task_pool

from . import draw_reference

ON = date(2026, 6, 1)
W1, W2 = ("企业代表", "3141592653"), ("纪检监督员", "2718281828")


def add_task(db: Database, code: str, **over: Any) -> None:
    row = {
        "plan_code": "JH-TEST", "plan_name": "测试计划", "plan_year": 2026, "code": code, "name": f"任务{code}",
        "draw_type": "定向", "items": "YJ-004", "industries": "烟花爆竹", "ratio": "30%", "team_size": 2,
        "expert_count": 0, "start_date": "2026-01-01", "end_date": "2026-12-31",
    }  # fmt: skip
    row.update(over)
    with db.write() as conn:
        apply_plan(conn, ParsedSheet.from_records(PLAN_ROWS, [row], codelists.all_lists(conn), "测试"))


def full_draw(
    db: Database,
    task: str,
    on: date = ON,
    witnesses: tuple[tuple[str, str], ...] = (W1, W2),
    again: str = "",
) -> sessions.Session:
    s = sessions.prepare(db, task, on=on, place="会议室", operator="测试员", again=again)
    s = sessions.commit(db, s.id, operator="测试员")
    for name, digits in witnesses:
        s = sessions.add_witness(db, s.id, name, digits, operator="测试员")
    s = sessions.do_reveal(db, s.id, operator="测试员")
    return sessions.confirm(db, s.id, operator="测试员")


def test_a_whole_session_leaves_a_trace_and_a_verifiable_record(demo_db: Database) -> None:
    # Who may be drawn, from the database (certificate valid on the day, on duty, the item's 执法专长).
    with demo_db.read() as conn:
        req = set(
            conn.exec_driver_sql("SELECT inspector_req FROM item WHERE code = 'YJ-005'")
            .scalar_one()
            .split("、")
        )
        eligible = sorted(
            r[0] for r in conn.exec_driver_sql(
                "SELECT cert_no, specialties FROM inspector WHERE archived = 0 AND duty_status = '在岗' "
                "AND cert_valid_until >= ?", (ON.isoformat(),))
            if not req - {""} or req & set(r[1].split("、"))
        )  # fmt: skip
        all_targets = [r[0] for r in conn.exec_driver_sql("SELECT uscc FROM target ORDER BY uscc")]
    # 回避: the first of them may never inspect any target; the second not the first three.
    with demo_db.write() as conn:
        pairs = [(eligible[0], t) for t in all_targets] + [(eligible[1], t) for t in all_targets[:3]]
        conn.exec_driver_sql(
            "INSERT OR IGNORE INTO conflict (person_code, uscc, reason, archived, created_at, updated_at) "
            "VALUES (?, ?, '亲属关系', 0, '2026-01-01', '2026-01-01')",
            pairs,
        )
    s = sessions.prepare(demo_db, "RW-2026-03", on=ON, operator="张明")
    assert s.status == sessions.PREPARED and not s.commitment  # nothing announced yet
    assert s.nonce == "" and sessions.is_live(s.id)  # N lives in memory only until the reveal (spec §3.4)
    s = sessions.commit(demo_db, s.id, operator="张明")
    assert s.status == sessions.COMMITTED and len(s.commitment) == 64 and set(s.hashes) == {
        "targets", "inspectors", "experts", "params"}  # fmt: skip
    with pytest.raises(sessions.DrawError, match="至少需要 20 位"):
        sessions.do_reveal(demo_db, s.id)
    with pytest.raises(sessions.DrawError, match="只能由半角数字"):
        sessions.add_witness(demo_db, s.id, "某人", "12a4")
    with pytest.raises(sessions.DrawError, match="不能确认"):
        sessions.confirm(demo_db, s.id)
    s = sessions.add_witness(demo_db, s.id, *W1)
    s = sessions.add_witness(demo_db, s.id, *W2)
    s = sessions.do_reveal(demo_db, s.id, operator="张明")
    assert s.status == sessions.REVEALED and len(s.result) == 20
    s = sessions.confirm(demo_db, s.id, operator="张明")
    assert s.status == sessions.CONFIRMED
    assert s.record is not None and verify_record(s.record).ok
    assert s.record["status"] == "confirmed" and s.record["version"] == 1
    assert demo_db.scalar("SELECT count(*) FROM draw_selection WHERE session_id = :s", {"s": s.id}) == 20
    with demo_db.read() as conn:
        kinds = [e["kind"] for e in sessions.events(conn, s.id)]
    assert kinds == ["prepare", "commit", "witness", "witness", "reveal", "confirm"]
    # Against expectations taken from the database and the specification, not from the program's own
    # frozen inputs: who may be drawn, the 回避 pairs as entered, the teams as sections 4–5 define them.
    with demo_db.read() as conn:
        experts = sorted(r[0] for r in conn.exec_driver_sql("SELECT code FROM expert WHERE archived = 0"))
        entered = [
            list(r) for r in conn.exec_driver_sql("SELECT person_code, uscc FROM conflict WHERE archived = 0")
        ]
        existing = {
            r[0] for r in conn.exec_driver_sql("SELECT uscc FROM target WHERE status NOT IN ('注销', '吊销')")
        }
    assert [i[0] for i in s.inputs["inspectors"]] == eligible
    candidates = {t[0] for t in s.inputs["targets"]}
    assert candidates <= existing
    params = dict(s.inputs["params"])
    params["inspector_conflicts"] = [p for p in entered if p[0] in eligible and p[1] in candidates]
    params["expert_conflicts"] = [p for p in entered if p[0] in experts and p[1] in candidates]
    assert len(params["inspector_conflicts"]) >= len(candidates)  # the 回避 pairs matter to this draw
    expected = draw_reference.select(s.seed, s.inputs["targets"], eligible, experts, params)
    assert s.result == expected
    for x in s.result:
        assert x["id"] in candidates and len(set(x["inspectors"])) == 2
        assert eligible[0] not in x["inspectors"]
        assert not (eligible[1] in x["inspectors"] and x["id"] in all_targets[:3])


def test_the_commitment_is_published_before_the_nonce(demo_db: Database) -> None:
    s = sessions.commit(demo_db, sessions.prepare(demo_db, "RW-2026-04", on=ON).id)
    with demo_db.read() as conn:
        commit_event = sessions.events(conn, s.id)[-1]
    assert commit_event["detail"]["commitment"] == s.commitment
    nonce = sessions._LIVE[s.id].setup.nonce  # held in memory only
    assert nonce not in json.dumps(commit_event, ensure_ascii=False) and s.nonce == ""


def test_a_void_is_never_silent(demo_db: Database) -> None:
    first = sessions.prepare(demo_db, "RW-2026-04", on=ON)
    with pytest.raises(sessions.DrawError, match="已有进行中的抽取场次"):
        sessions.prepare(demo_db, "RW-2026-04", on=ON)
    first = sessions.commit(demo_db, first.id)
    for w in (W1, W2):
        first = sessions.add_witness(demo_db, first.id, *w)
    first = sessions.do_reveal(demo_db, first.id)
    with pytest.raises(sessions.DrawError, match="原因"):
        sessions.void(demo_db, first.id, "  ")
    first = sessions.void(demo_db, first.id, "见证人未到场", operator="张明")
    assert first.status == sessions.VOIDED and first.record is not None
    rec = first.record
    assert rec["status"] == "voided" and rec["void_reason"] == "见证人未到场" and rec["selected"]
    assert verify_record(rec).ok
    second = full_draw(demo_db, "RW-2026-04")
    prev = second.record["previous"] if second.record else []
    assert prev == [{"session": first.id, "status": "voided", "reason": "见证人未到场",
                     "commitment": first.commitment, "nonce_revealed": first.nonce}]  # fmt: skip
    assert second.commitment != first.commitment
    # Both stay, forever.
    with demo_db.read() as conn:
        assert [s.id for s in sessions.list_sessions(conn, "RW-2026-04")] == [first.id, second.id]


def test_voiding_before_the_reveal_still_discloses_what_it_would_have_drawn(demo_db: Database) -> None:
    s = sessions.commit(demo_db, sessions.prepare(demo_db, "RW-2026-04", on=ON).id)
    for w in (W1, W2):
        s = sessions.add_witness(demo_db, s.id, *w)
    s = sessions.void(demo_db, s.id, "操作失误")
    rec = s.record
    assert rec is not None and rec["nonce"] == s.nonce and rec["seed"] and rec["selected"]
    assert verify_record(rec).ok
    # A session voided before any witness spoke discloses its nonce too.
    t = sessions.void(
        demo_db, sessions.commit(demo_db, sessions.prepare(demo_db, "RW-2026-04", on=ON).id).id, "停电"
    )
    assert t.record is not None and t.record["nonce"] == t.nonce and t.record["selected"] == []
    assert verify_record(t.record).ok


def test_second_session_in_a_cycle_excludes_the_first_ones_targets(demo_db: Database) -> None:
    first = full_draw(demo_db, "RW-2026-04")
    drawn = {x["id"] for x in first.result}
    # Another task with the same item, later in the same cycle (the default rule: same item, calendar year).
    add_task(demo_db, "RW-T-2", ratio="100%")
    second = sessions.prepare(demo_db, "RW-T-2", on=date(2026, 7, 1))
    excluded = {e[0]: e[1] for e in second.inputs["exclusions"]}
    assert drawn <= set(excluded)
    assert all(f"场次 {first.id}" in excluded[u] for u in drawn)
    assert not drawn & {t[0] for t in second.inputs["targets"]}
    # A voided session does not count.
    sessions.void(demo_db, first.id, "测试作废已确认的场次")
    sessions.void(demo_db, second.id, "重新准备")
    third = sessions.prepare(demo_db, "RW-T-2", on=date(2026, 7, 2))
    assert drawn <= {t[0] for t in third.inputs["targets"]}


def test_never_a_third_time_in_a_year_unless_blacklisted(demo_db: Database) -> None:
    save_rules(demo_db, Rules(once_per_cycle=False, yearly_cap=2))
    add_task(demo_db, "RW-ALL", ratio="100%")
    with demo_db.write() as conn:  # one blacklisted 烟花爆竹 unit
        conn.exec_driver_sql("UPDATE target SET blacklist = 1 WHERE id = (SELECT min(id) FROM target "
                             "WHERE industry = '烟花爆竹' AND status = '存续')")  # fmt: skip
    black = demo_db.scalar("SELECT uscc FROM target WHERE industry = '烟花爆竹' AND blacklist = 1")
    counts: dict[str, int] = {}
    for month in (3, 5, 9):
        s = full_draw(demo_db, "RW-ALL", on=date(2026, month, 1), again="" if month == 3 else "复查")
        for x in s.result:
            counts[x["id"]] = counts.get(x["id"], 0) + 1
        assert black in {x["id"] for x in s.result if x["mandatory"]}
    assert counts[black] == 3
    assert max(n for u, n in counts.items() if u != black) == 2
    s = sessions.prepare(demo_db, "RW-ALL", on=date(2026, 11, 1), again="复查")
    assert any("本年度已被抽查 2 次" in e[1] for e in s.inputs["exclusions"])
    # A new year starts afresh.
    sessions.void(demo_db, s.id, "换年度重试")
    with pinned(datetime(2027, 1, 5, 9, 30).astimezone()):  # (a draw date may not lie ahead)
        s = sessions.prepare(
            demo_db, "RW-ALL", on=date(2027, 1, 5), again="新年度", outside_period_reason="跨年补抽"
        )
    assert not s.inputs["exclusions"] or all("注销" in e[1] or "吊销" in e[1] for e in s.inputs["exclusions"])


def test_confirmation_is_refused_when_another_session_took_the_same_targets(demo_db: Database) -> None:
    add_task(demo_db, "RW-A", ratio="100%")
    add_task(demo_db, "RW-B", ratio="100%")
    a = sessions.prepare(demo_db, "RW-A", on=ON)
    b = sessions.prepare(demo_db, "RW-B", on=ON)
    for s in (a, b):
        sessions.commit(demo_db, s.id)
        for w in (W1, W2):
            sessions.add_witness(demo_db, s.id, *w)
        sessions.do_reveal(demo_db, s.id)
    sessions.confirm(demo_db, a.id)
    with pytest.raises(sessions.DrawError, match="另有场次确认了其中的检查对象"):
        sessions.confirm(demo_db, b.id)


def test_infeasible_draws_are_refused_before_anything_is_announced(demo_db: Database) -> None:
    add_task(demo_db, "RW-BIG", team_size=12)  # only 9 inspectors hold the 烟花爆竹 specialty
    with pytest.raises(sessions.DrawError, match="少于每组 12 人"):
        sessions.prepare(demo_db, "RW-BIG", on=ON)
    add_task(demo_db, "RW-MANY", ratio="500家")
    with pytest.raises(sessions.DrawError, match="要抽取 500 家"):
        sessions.prepare(demo_db, "RW-MANY", on=ON)
    add_task(demo_db, "RW-NONE", conditions="液氨制冷")  # no fireworks shop refrigerates with ammonia
    with pytest.raises(sessions.DrawError, match="候选名单为空"):
        sessions.prepare(demo_db, "RW-NONE", on=ON)
    assert demo_db.scalar("SELECT count(*) FROM draw_session") == 0


def test_substitution_makes_a_new_record_version_that_keeps_the_old_hash(demo_db: Database) -> None:
    s = full_draw(demo_db, "RW-2026-04")
    target = s.result[0]["id"]
    removed = s.result[0]["inspectors"][0]
    with pytest.raises(sessions.DrawError, match="不在对象"):
        sessions.substitute(demo_db, s.id, target, "无此人", "出差")
    v1 = s.record
    new = sessions.substitute(demo_db, s.id, target, removed, "因公出差", operator="张明")
    assert new.substitute not in s.result[0]["inspectors"]
    s2 = sessions.get_session(demo_db, s.id)
    assert s2.record_version == 2 and s2.record is not None
    assert s2.record["supersedes"] == {"version": 1, "sha256": sessions.record_sha256(v1)}
    assert verify_record(s2.record).ok
    assert s2.current_teams()[target]["inspector"][0] == new.substitute
    # A further unavailable inspector is skipped, with a reason, and the next one in rank steps in.
    again = sessions.substitute(demo_db, s.id, target, new.substitute, "生病",
                             unavailable=[(s.result[1]["inspectors"][0], "请假")])  # fmt: skip
    s3 = sessions.get_session(demo_db, s.id)
    assert s3.record_version == 3 and verify_record(s3.record).ok  # type: ignore[arg-type]
    assert again.substitute not in (removed, new.substitute)
    with demo_db.read() as conn:
        versions = sessions.record_versions(conn, s.id)
    assert [v for v, _, _ in versions] == [1, 2, 3]
    assert versions[2][2]["supersedes"]["sha256"] == versions[1][1]
    active = demo_db.scalar(
        "SELECT group_concat(person_code) FROM draw_member WHERE session_id = :s AND uscc = :t "
        "AND role = 'inspector' AND active = 1",
        {"s": s.id, "t": target},
    )
    assert sorted(active.split(",")) == sorted(s3.current_teams()[target]["inspector"])


def test_a_tampered_session_record_fails_verification(demo_db: Database) -> None:
    s = full_draw(demo_db, "RW-2026-04")
    rec = json.loads(json.dumps(s.record))
    rec["selected"][0]["inspectors"][0], rec["selected"][0]["inspectors"][1] = (
        rec["selected"][0]["inspectors"][1], rec["selected"][0]["inspectors"][0])  # fmt: skip
    report = verify_record(rec)
    assert not report.ok
    assert any(not c.ok and "分组" in c.name for c in report.checks)


def test_cli_draw_substitute_void_and_verify(demo_data_dir: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dsj_desktop", "--data-dir", str(demo_data_dir), *args],
                              capture_output=True, text=True, encoding="utf-8")  # fmt: skip

    out = tmp_path / "out"
    p = run("draw", "RW-2026-04", "--witness", "甲=31415926535", "--witness", "乙=27182818284",
            "--out", str(out), "--date", "2026-06-01")  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert p.stdout.index("承诺值") < p.stdout.index("随机种子")  # the commitment comes first
    (record_file,) = out.glob("S-2026-*.json")
    session = record_file.stem
    assert run("verify", str(record_file)).returncode == 0
    rec = json.loads(record_file.read_text(encoding="utf-8"))
    target, person = rec["selected"][0]["id"], rec["selected"][0]["inspectors"][0]
    p = run("substitute", session, target, person, "--reason", "因公出差", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "第 2 版" in p.stdout
    assert run("verify", str(record_file)).returncode == 0
    assert json.loads(record_file.read_text(encoding="utf-8"))["version"] == 2
    p = run("draw", "RW-2026-04", "--witness", "甲=1234", "--out", str(out))
    assert p.returncode == 1 and "至少需要 20 位" in p.stderr
    p = run("sessions", "RW-2026-04")  # the refused draw never opened a session
    assert p.stdout.count("S-2026-") == 1 and "已确认" in p.stdout
    p = run("void", session, "--reason", "测试", "--out", str(out))
    assert p.returncode == 0 and "已作废" in p.stdout
    assert json.loads(record_file.read_text(encoding="utf-8"))["status"] == "voided"
    assert run("verify", str(record_file)).returncode == 0


def test_task_pool_counts_confirmed_history(demo_db: Database) -> None:
    s = full_draw(demo_db, "RW-2026-04")
    with demo_db.read() as conn:
        tp = task_pool(conn, get_task(conn, "RW-2026-04"), on=date(2026, 6, 2))
    assert {e.uscc for e in tp.pool.exclusions} >= {x["id"] for x in s.result}


def _rederived_substitutes(record: dict[str, Any]) -> list[str]:
    """Replay the record's substitutions with the stand-alone rule (DSJ-DRAW-1 section 6)."""
    from dsj_desktop.draw.algorithm import Substituter, SubstitutionRequest, parse_params

    rec_inspectors = [p["id"] for p in record["inspectors"]]
    rec_experts = [p["id"] for p in record["experts"]]
    report = verify_record(record)
    assert report.ok, report.text()
    params = parse_params(record["params"], n_inspectors=len(rec_inspectors), n_experts=len(rec_experts))
    from dsj_desktop.draw.algorithm import SelectedTarget

    selected = tuple(
        SelectedTarget(
            x["id"], x["stratum"], x["mandatory"], x["ticket"], tuple(x["inspectors"]), tuple(x["experts"])
        )
        for x in record["selected"]
    )
    sub = Substituter(record["seed"], rec_inspectors, rec_experts, params, selected)
    out = []
    for x in record["substitutions"]:
        skipped = tuple((k["id"], k["reason"]) for k in x["skipped"])
        req = SubstitutionRequest(
            x["target"], x["removed"], x["reason"], skipped, x.get("kind", "inspector"), "", ""
        )
        out.append(sub.apply(req).substitute)
    return out


def test_expert_substitution_with_skipped_people_makes_a_verifiable_version(demo_db: Database) -> None:
    add_task(demo_db, "RW-EXP", expert_count=1)
    s = full_draw(demo_db, "RW-EXP")
    target = s.result[0]["id"]
    removed = s.result[0]["experts"][0]
    others = [e[0] for e in s.inputs["experts"] if e[0] != removed]
    new = sessions.substitute(demo_db, s.id, target, removed, "回避", kind=sessions.EXPERT,
                           unavailable=[(others[0], "外地")], operator="张明")  # fmt: skip
    assert new.kind == sessions.EXPERT and new.substitute not in (removed, others[0])
    s2 = sessions.get_session(demo_db, s.id)
    assert s2.record is not None and s2.record_version == 2
    last = s2.record["substitutions"][-1]
    assert last["kind"] == "expert" and last["skipped"] == [{"id": others[0], "reason": "外地"}]
    assert _rederived_substitutes(s2.record) == [new.substitute]
    assert s2.current_teams()[target]["expert"] == [new.substitute]
    with demo_db.read() as conn:
        kinds = [e["kind"] for e in sessions.events(conn, s.id)]
        detail = sessions.events(conn, s.id)[-1]["detail"]
    assert kinds[-1] == "substitute" and detail["kind"] == "expert"
    # then an inspector of the same target, skipping two people
    team = s2.current_teams()[target]["inspector"]
    free = [i[0] for i in s.inputs["inspectors"] if i[0] not in team]
    again = sessions.substitute(demo_db, s.id, target, team[1], "生病",
                             unavailable=[(free[0], "请假"), (free[1], "培训")])  # fmt: skip
    s3 = sessions.get_session(demo_db, s.id)
    assert s3.record is not None and _rederived_substitutes(s3.record) == [new.substitute, again.substitute]
    assert again.substitute not in free[:2]


def test_cli_expert_substitution(demo_data_dir: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dsj_desktop", "--data-dir", str(demo_data_dir), *args],
                              capture_output=True, text=True, encoding="utf-8")  # fmt: skip

    out = tmp_path / "out"
    p = run("draw", "RW-2026-03", "--witness", "甲=31415926535", "--witness", "乙=27182818284",
            "--out", str(out), "--date", "2026-06-01")  # fmt: skip
    assert p.returncode == 0, p.stderr
    (record_file,) = out.glob("S-2026-*.json")
    rec = json.loads(record_file.read_text(encoding="utf-8"))
    target, expert = rec["selected"][0]["id"], rec["selected"][0]["experts"][0]
    skip = next(e["id"] for e in rec["experts"] if e["id"] != expert)
    p = run("substitute", record_file.stem, target, expert, "--expert", "--reason", "回避",
            "--skip", f"{skip}=外地", "--out", str(out))  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "第 2 版" in p.stdout and "外地" in p.stdout and not p.stderr
    new = json.loads(record_file.read_text(encoding="utf-8"))
    assert new["version"] == 2 and new["substitutions"][0]["kind"] == "expert"
    assert _rederived_substitutes(new) == [new["substitutions"][0]["substitute"]]
    assert run("verify", str(record_file)).returncode == 0


def test_a_draw_outside_the_task_period_needs_a_reason_printed_in_the_record(demo_db: Database) -> None:
    add_task(demo_db, "RW-LATE", start_date="2026-07-01", end_date="2026-08-31")
    with pytest.raises(
        sessions.OutsidePeriod, match="不在抽查任务 RW-LATE 的检查期限（2026-07-01 至 2026-08-31）内"
    ):
        sessions.prepare(demo_db, "RW-LATE", on=ON)
    assert demo_db.scalar("SELECT count(*) FROM draw_session WHERE task_code = 'RW-LATE'") == 0
    s = sessions.prepare(demo_db, "RW-LATE", on=ON, outside_period_reason="上级部署提前开展")
    assert s.task["outside_period_reason"] == "上级部署提前开展"
    s = sessions.commit(demo_db, s.id)
    for name, digits in (W1, W2):
        s = sessions.add_witness(demo_db, s.id, name, digits)
    sessions.do_reveal(demo_db, s.id)
    s = sessions.confirm(demo_db, s.id)
    assert s.record is not None and s.record["task"]["outside_period_reason"] == "上级部署提前开展"
    from dsj_desktop.publish.record_pdf import build_record_document
    from tests.pdf_helpers import pdf_pages_text

    path = Path(demo_db.data_dir) / "late.pdf"
    build_record_document(s.record).save(path)
    assert "期限外抽取原因上级部署提前开展" in "".join(pdf_pages_text(path))
    # inside the period no reason is asked for, and none is recorded
    inside = sessions.prepare(
        demo_db, "RW-LATE", on=date(2026, 7, 2), outside_period_reason="多余", again="期限内再抽一次"
    )
    assert "outside_period_reason" not in inside.task


def test_demo_draw_events_happen_on_their_draw_dates(demo_results_db: Database) -> None:
    from dsj_desktop.progress import run_job
    from dsj_desktop.services.integrity import check

    with demo_results_db.read() as conn:
        listed = sessions.list_sessions(conn)
        assert listed
        for s in listed:
            times = [e["at"] for e in sessions.events(conn, s.id)]
            assert times and all(t[:10] == s.draw_date.isoformat() for t in times), (s.id, times)
            assert times == sorted(times)
    report = run_job(check(demo_results_db))
    assert report.ok, report


def test_a_draw_dated_after_today_is_refused(demo_db: Database) -> None:
    """The draw is held on its day: a date that has not come yet is refused, nothing written."""

    def count() -> int:
        with demo_db.read() as conn:
            return len(sessions.list_sessions(conn, "RW-2026-04"))

    before = count()
    with pinned(datetime(2026, 7, 1, 9, 0).astimezone()):
        with pytest.raises(sessions.DrawError, match="抽取日期 2026-07-02 还没有到（今天是 2026-07-01）"):
            sessions.prepare(demo_db, "RW-2026-04", on=date(2026, 7, 2))
        assert count() == before
        s = sessions.prepare(demo_db, "RW-2026-04", on=date(2026, 7, 1))
    assert s.draw_date == date(2026, 7, 1) and count() == before + 1


def test_validated_setups_kept_for_the_next_steps_are_bounded_and_let_go_of_at_a_void(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A revealed session's validated setup is kept for its confirmation and any 递补 (not validated
    again), but the program holds candidates for about one city-scale draw at most, the newest
    setup always, and none of a voided session."""
    monkeypatch.setattr(sessions, "_SETUPS", {})
    first = full_draw(demo_db, "RW-2026-04")
    assert [k[0] for k in sessions._SETUPS] == [first.id]
    size = len(next(iter(sessions._SETUPS.values())).targets)
    monkeypatch.setattr(sessions, "_SETUPS_CANDIDATES", size + 1)  # room for one such draw only
    second = full_draw(demo_db, "RW-2026-05")
    assert [k[0] for k in sessions._SETUPS] == [second.id]
    validated: list[str] = []
    real = sessions._frozen_setup

    def frozen_setup(s: sessions.Session, nonce: str) -> Any:
        validated.append(s.id)
        return real(s, nonce)

    monkeypatch.setattr(sessions, "_frozen_setup", frozen_setup)
    team = second.result[0]
    sessions.substitute(demo_db, second.id, team["id"], team["inspectors"][0], "出差")
    assert validated == []  # the kept one
    team = first.result[0]
    sessions.substitute(demo_db, first.id, team["id"], team["inspectors"][0], "出差")
    assert validated == [first.id]  # validated again (let go of), and now kept instead
    sessions.void(demo_db, first.id, "测试：作废")
    assert first.id not in {k[0] for k in sessions._SETUPS}
