"""Draw commands: ``draw``, ``substitute``, ``void``, ``sessions`` (the headless counterparts of the
draw screen, over the same core). The session's files are :mod:`dsj_desktop.publish.session_files`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsj_desktop.cli.common import iso_date, open_db, run
from dsj_desktop.errors import UserError

if TYPE_CHECKING:
    from dsj_desktop.db.engine import Database
    from dsj_desktop.services.sessions import Session


def add_draw(sub: Any) -> None:
    p = sub.add_parser(
        "draw",
        help="按 DSJ-DRAW-1 为一个抽查任务完成一次抽取（准备→公告→见证人→开奖→确认），写出签名记录",
    )
    p.add_argument("task", metavar="TASK_CODE", help="抽查任务编号")
    p.add_argument("--witness", action="append", default=[], metavar="NAME=DIGITS",
                   help="见证人及其给出的数字，可重复；数字合计至少 20 位")  # fmt: skip
    p.add_argument("--out", type=Path, required=True, help="写出记录的文件夹")
    p.add_argument("--date", type=iso_date, help="抽取日期（默认今天；资格、周期和年度上限按此日判断）")
    p.add_argument("--place", default="", help="抽取地点")
    p.add_argument("--operator", default="", help="操作人员")
    p.add_argument("--outside-period", default="", metavar="原因",
                   help="抽取日期不在任务检查期限内时必须写明原因（印在抽取记录上）")  # fmt: skip
    p.add_argument(
        "--again", default="", metavar="REASON", help="任务已有确认的场次时再次抽取的原因（必填，写入记录）"
    )


def add_substitute(sub: Any) -> None:
    s = sub.add_parser("substitute", help="递补：为已确认场次中的某个检查对象替换不能参加的执法人员")
    s.add_argument("session", metavar="SESSION")
    s.add_argument("target", metavar="TARGET_ID", help="检查对象的统一社会信用代码")
    s.add_argument("person", metavar="INSPECTOR_ID", help="不能参加的执法人员的执法证号（专家用 --expert）")
    s.add_argument("--reason", required=True, help="不能参加的原因")
    s.add_argument("--skip", action="append", default=[], metavar="ID=REASON",
                   help="同时声明不能递补的人员及原因，可重复")  # fmt: skip
    s.add_argument("--expert", action="store_true", help="替换的是专家")
    s.add_argument("--out", type=Path, required=True, help="写出新版记录的文件夹")
    s.add_argument("--operator", default="")


def add_void(sub: Any) -> None:
    v = sub.add_parser("void", help="作废一个抽取场次（须写明原因；作废的场次永久保留）")
    v.add_argument("session", metavar="SESSION")
    v.add_argument("--reason", required=True)
    v.add_argument("--out", type=Path, help="写出作废记录的文件夹")
    v.add_argument("--operator", default="")


def add_sessions(sub: Any) -> None:
    ls = sub.add_parser("sessions", help="列出抽取场次")
    ls.add_argument("task", nargs="?", metavar="TASK_CODE")


def _write_files(db: Database, s: Session, out: Path) -> None:
    """The session's files in *out*, each path printed."""
    from dsj_desktop.publish.session_files import write_session_files

    for path in run(write_session_files(db, s, out)):
        print(f"已写出：{path}")


def cmd_draw(args: argparse.Namespace) -> int:
    from dsj_desktop.draw.algorithm import DrawInputError, normalize_witnesses
    from dsj_desktop.services import sessions

    witnesses = sessions.witness_list(args.witness)
    if not witnesses:
        raise UserError("请用 --witness 姓名=数字 给出见证人的数字（合计至少 20 位）。")
    try:  # checked before a session exists, so a typo never leaves an open session behind
        normalize_witnesses(witnesses)
    except DrawInputError as exc:
        raise UserError(str(exc)) from None
    sessions.check_text(
        place=args.place, operator=args.operator, witnesses=[(w.name, w.digits) for w in witnesses]
    )
    with open_db(args) as db:
        s = sessions.prepare(
            db,
            args.task,
            on=args.date,
            place=args.place,
            operator=args.operator,
            out_dir=args.out,
            again=args.again,
            outside_period_reason=args.outside_period,
        )
        t = s.task
        print(f"抽取场次：{s.id}")
        print(f"抽查任务：{t['code']} {t['name']}（{t['draw_type']}，抽查比例 {t['ratio']}）")
        print(f"候选对象 {len(s.inputs['targets'])} 家，必查 {len(s.inputs['params']['mandatory'])} 家，"
              f"执法人员 {len(s.inputs['inspectors'])} 人，专家 {len(s.inputs['experts'])} 人")  # fmt: skip
        s = sessions.commit(db, s.id, operator=args.operator)
        print("【抽取前公告】")
        for key, title in (("targets", "检查对象名单摘要"), ("inspectors", "执法人员名单摘要"),
                           ("experts", "专家名单摘要"), ("params", "抽取参数摘要")):  # fmt: skip
            print(f"  {title}：{s.hashes[key]}")
        print(f"  承诺值 C = H(N)：{s.commitment}")
        # The digits were all given on the command line before the session began: fixed (spec §3.5).
        s = sessions.fix_witnesses(db, s.id, operator=args.operator)
        for w in witnesses:
            s = sessions.add_witness(db, s.id, w.name, w.digits, operator=args.operator)
            print(f"见证人 {w.name}：{w.digits}")
        s = sessions.do_reveal(db, s.id, operator=args.operator)
        print(f"【开奖】随机数 N：{s.nonce}（H(N) 与承诺值一致）")
        print(f"随机种子：{s.seed}")
        s = sessions.confirm(db, s.id, operator=args.operator)
        names, people = s.target_names, s.inspector_names | s.expert_names
        print(f"【抽取结果】共 {len(s.result)} 家（已确认）")
        for i, x in enumerate(s.result, start=1):
            team = "、".join(people.get(p, p) for p in x["inspectors"] + x["experts"])
            mark = "必查" if x["mandatory"] else x["stratum"] or "—"
            print(
                f"  {i:>3}. {names.get(x['id'], '')} {x['id']} [{mark}] 票号 {x['ticket'][:12]}… 检查组：{team}"
            )
        _write_files(db, s, args.out)
    return 0


def _pairs(items: list[str]) -> list[tuple[str, str]]:
    out = []
    for item in items:
        if "=" not in item:
            raise UserError(f"“{item}”的格式应为 证号=原因")
        pid, why = item.split("=", 1)
        out.append((pid.strip(), why.strip()))
    return out


def cmd_substitute(args: argparse.Namespace) -> int:
    from dsj_desktop.services import sessions

    with open_db(args) as db:
        new = sessions.substitute(
            db, args.session, args.target, args.person, args.reason, unavailable=_pairs(args.skip),
            kind=sessions.EXPERT if args.expert else sessions.INSPECTOR, operator=args.operator,
        )  # fmt: skip
        s = sessions.get_session(db, args.session)
        people = s.inspector_names | s.expert_names
        print(f"递补完成：{s.target_names.get(new.target, new.target)} 的 {people.get(new.removed, new.removed)} "
              f"由 {people.get(new.substitute, new.substitute)}（{new.substitute}）递补。")  # fmt: skip
        for pid, why in new.skipped:
            print(f"  跳过：{people.get(pid, pid)}（{why}）")
        print(f"抽取记录已更新为第 {s.record_version} 版。")
        _write_files(db, s, args.out)
    return 0


def cmd_void(args: argparse.Namespace) -> int:
    from dsj_desktop.services import sessions

    with open_db(args) as db:
        s = sessions.void(db, args.session, args.reason, operator=args.operator)
        print(
            f"场次 {s.id} 已作废（原因：{s.void_reason}）。该场次永久保留，并将列入本任务下一次抽取的记录。"
        )
        if args.out:
            _write_files(db, s, args.out)
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    from dsj_desktop.services import sessions

    with open_db(args) as db:
        with db.read() as conn:
            rows = sessions.session_summaries(conn, args.task)
        if not rows:
            print("没有抽取场次。")
        for s in rows:
            extra = f"  作废原因：{s.void_reason}" if s.void_reason else ""
            if sessions.is_interrupted(db, s):
                extra = f"  （{sessions.INTERRUPTED}：随机数已无法公开，再次抽取时自动作废）"
            print(f"{s.id}  {s.task_code}  {s.draw_date}  {s.status_title}  抽中 {s.selected} 家{extra}")
    return 0
