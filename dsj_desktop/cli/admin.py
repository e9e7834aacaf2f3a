"""Trust on the command line: ``check``, ``backup``, ``restore``, ``users``, ``recover-admin``,
``key-passphrase``, ``write-key``, ``journal``, and the global ``--user`` login (password from the terminal or ``DSJ_PASSWORD``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dsj_desktop.cli.common import open_db, password
from dsj_desktop.errors import UserError

ROLE_NAMES = {"admin": "admin", "管理员": "admin", "operator": "operator", "操作员": "operator",
              "viewer": "viewer", "查看": "viewer"}  # fmt: skip


def login_from_args(args: argparse.Namespace) -> None:
    """``--user NAME``: log this process in before the command runs."""
    user = getattr(args, "user", None)
    if not user:
        return
    from dsj_desktop.services import accounts

    with open_db(args) as db:
        accounts.login(db, user, password(f"账户 {user} 的密码："))


def add_check(sub: Any) -> None:
    sub.add_parser("check", help="完整性检查：数据库结构、操作日志链与签名、每一行的封存、抽取记录签名")


def add_backup(sub: Any) -> None:
    b = sub.add_parser("backup", help="把数据库备份到指定文件夹（如 U 盘），备份经校验后才算完成")
    b.add_argument("folder", type=Path)


def add_restore(sub: Any) -> None:
    r = sub.add_parser("restore", help="从备份文件恢复数据（先自动备份当前数据）")
    r.add_argument("file", type=Path)
    r.add_argument("--yes", action="store_true", help="不再询问，直接恢复")


def add_users(sub: Any) -> None:
    u = sub.add_parser("users", help="账户管理")
    us = u.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    us.add_parser("list", help="列出账户")
    a = us.add_parser("add", help="新建账户（第一个账户须为管理员）")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=sorted(ROLE_NAMES), help="admin/operator/viewer")
    a.add_argument("--name", default="", help="姓名")
    p = us.add_parser("passwd", help="修改自己的密码（或管理员重设他人的密码：--reset）")
    p.add_argument("username")
    p.add_argument("--reset", action="store_true")
    s = us.add_parser("set", help="修改账户的角色或启用状态（管理员）")
    s.add_argument("username")
    s.add_argument("--role", choices=sorted(ROLE_NAMES))
    s.add_argument("--disable", action="store_true")
    s.add_argument("--enable", action="store_true")


def add_recover_admin(sub: Any) -> None:
    rc = sub.add_parser("recover-admin", help="忘记管理员密码时，用建立账户时打印的恢复码重设（离线流程）")
    rc.add_argument("username")


def add_key_passphrase(sub: Any) -> None:
    k = sub.add_parser(
        "key-passphrase",
        help="更改本局密钥口令（数据在单位服务器上时；管理员）。现在的和新的口令从终端输入；"
        "脚本可用环境变量 DSJ_KEY_PASSPHRASE（现在的）和 DSJ_NEW_KEY_PASSPHRASE（新的）",
    )
    k.add_argument(
        "--from-keys",
        type=Path,
        metavar="FOLDER",
        help="忘记口令时：用明文保存的本局密钥文件夹（上传密钥的那台电脑的 keys 文件夹，或它的U盘备份旁的 ….keys）重设口令",
    )
    k.add_argument(
        "--new-keys",
        action="store_true",
        help="口令和本局密钥文件都已丢失时：生成新的本局签名密钥并设定新口令（以前的记录仍按原来的指纹核验，"
        "以后的记录用新指纹签署；请公布新指纹）。新口令从终端输入，或用环境变量 DSJ_NEW_KEY_PASSPHRASE",
    )
    k.add_argument("--reason", default="", help="与 --new-keys 一起：原因，记入操作日志")
    k.add_argument("--yes", action="store_true", help="与 --new-keys 一起：不再询问")


def cmd_key_passphrase(args: argparse.Namespace) -> int:
    import os

    from dsj_desktop.db import server_keys

    new = os.environ.get("DSJ_NEW_KEY_PASSPHRASE") or None
    if args.new_keys:
        return _new_bureau_keys(args, new)
    with open_db(args) as db:
        if args.from_keys is not None:
            server_keys.reset_from_folder(db, args.from_keys, new)
        else:
            server_keys.change_passphrase(db, os.environ.get("DSJ_KEY_PASSPHRASE") or None, new)
    print(
        "本局密钥口令已更改（服务器上的本局密钥已用新口令重新加密，已记入操作日志）。旧口令从此无效，请把新口令抄写后锁进保险柜。"
    )
    return 0


def add_write_key(sub: Any) -> None:
    w = sub.add_parser(
        "write-key",
        help="更换服务器写入密钥：撤销丢失、被盗或停用的电脑（数据在单位服务器上时；管理员）。"
        "本局密钥口令从终端输入，脚本可用环境变量 DSJ_KEY_PASSPHRASE；其他电脑下次连接时由管理员再输入一次口令",
    )
    w.add_argument("--reason", default="", help="原因，记入操作日志（例如：抽取室旧电脑报废）")


def cmd_write_key(args: argparse.Namespace) -> int:
    import os

    from dsj_desktop.db import server_keys

    with open_db(args) as db:
        fp = server_keys.rotate_write_key(db, os.environ.get("DSJ_KEY_PASSPHRASE") or None, args.reason)
    print(
        f"服务器写入密钥已更换（新的写入密钥指纹 {fp}），所有数据行已用新密钥重新封存，已记入操作日志。"
        "旧的写入密钥从此无效：用它写入的数据和日志都会被完整性检查指出。"
        "其他电脑下次连接服务器时，请管理员在那台电脑上再输入一次本局密钥口令。"
    )
    return 0


def _new_bureau_keys(args: argparse.Namespace, new: str | None) -> int:
    from dsj_desktop.db import server_keys

    if args.from_keys is not None:
        raise UserError("--new-keys 与 --from-keys 不能同时使用：有密钥文件时请用 --from-keys 重设口令。")
    if not args.yes:
        if not sys.stdin or not sys.stdin.isatty():
            raise UserError("生成新的本局签名密钥：请在终端中运行并确认，或加 --yes。")
        answer = input(
            "口令和本局密钥文件都已丢失时才这样做：生成新的本局签名密钥，以后的记录用新指纹签署，"
            "以前的记录仍按原来的指纹核验。确认请输入“是”："
        )
        if answer.strip() != "是":
            print("已取消，没有任何改动。")
            return 1
    with open_db(args) as db:
        fp = server_keys.new_bureau_keys(db, new, args.reason)
    print(
        f"已生成新的本局签名密钥（已记入操作日志）。新的抽取记录签名公钥指纹：{fp}\n"
        "请公布新指纹并保留原来的指纹（以前的记录仍按它核验）；把新口令抄写后锁进保险柜。"
        "其他电脑下次连接服务器时，请管理员在那台电脑上输入一次新口令确认。"
    )
    return 0


def add_journal(sub: Any) -> None:
    j = sub.add_parser("journal", help="显示或导出操作日志")
    j.add_argument("--last", type=int, default=30, help="显示最近多少条")
    j.add_argument("--out", type=Path, help="导出为 .xlsx 或 .json")


def cmd_check(args: argparse.Namespace) -> int:
    from dsj_desktop.progress import run_job
    from dsj_desktop.services import integrity

    with open_db(args) as db:
        report = run_job(integrity.check(db))
        db.record("完整性检查（命令行）", {"ok": report.ok, "findings": len(report.findings)})
    print(report.text())
    return 0 if report.ok else 1


def cmd_backup(args: argparse.Namespace) -> int:
    from dsj_desktop.services import backup

    with open_db(args) as db:
        info = backup.backup_to_folder(db, args.folder)
    print(f"已备份并校验：{info.path}")
    print(info.text())
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from dsj_desktop.services import backup

    with open_db(args) as db:
        info = backup.inspect(args.file, db.guard.public_key, db.url)
        print(info.text())
        if not info.ok:
            raise UserError("这个备份文件校验不通过，不能用于恢复。")
        if not args.yes:
            if not sys.stdin.isatty():
                raise UserError("恢复会替换当前数据：请在终端中确认，或加 --yes。")
            if input("恢复后当前数据将被替换（会先自动备份）。确定恢复吗？[y/N] ").strip().lower() not in (
                "y",
                "yes",
            ):
                print("已取消。")
                return 1
        safety, info = backup.restore(db, args.file)
    with open_db(args) as db:
        backup.note_restore(db, safety, info)
    print(f"已恢复。恢复前的数据已备份到：{safety}")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from dsj_desktop.actor import ROLE_TITLES
    from dsj_desktop.services import accounts

    with open_db(args) as db:
        if args.users_command == "list":
            for a in accounts.list_accounts(db):
                state = "启用" if a.active else "停用"
                print(f"{a.username}\t{a.display_name}\t{a.role_title}\t{state}")
        elif args.users_command == "add":
            role = ROLE_NAMES[args.role]
            pw = password(f"新账户 {args.username} 的密码：", "DSJ_NEW_PASSWORD")
            code = accounts.create_account(
                db, args.username, args.name, role, pw, with_recovery=role == "admin"
            )
            print(f"已建立账户 {args.username}（{ROLE_TITLES[role]}）。")
            if code:
                print(f"管理员恢复码：{code}")
                print(
                    "请把恢复码打印或抄写后锁入保险柜：忘记密码时，只能用它离线重设（dsj-desktop recover-admin）。"
                )
        elif args.users_command == "passwd":
            new = password(f"账户 {args.username} 的新密码：", "DSJ_NEW_PASSWORD")
            if args.reset:
                accounts.reset_password(db, args.username, new)
            else:
                accounts.change_password(db, args.username, password("原密码："), new)
            print("密码已修改。")
        elif args.users_command == "set":
            active = False if args.disable else True if args.enable else None
            accounts.update_account(
                db, args.username, role=ROLE_NAMES[args.role] if args.role else None, active=active
            )
            print("账户已修改。")
    return 0


def cmd_recover_admin(args: argparse.Namespace) -> int:
    from dsj_desktop.services import accounts

    with open_db(args) as db:
        code = password("恢复码：", "DSJ_RECOVERY_CODE")
        new = password("新密码：", "DSJ_NEW_PASSWORD")
        fresh = accounts.recover_admin(db, args.username, code, new)
    print(f"管理员 {args.username} 的密码已重设。原恢复码已作废，新的恢复码：{fresh}")
    print("请把新恢复码打印或抄写后锁入保险柜。")
    return 0


def cmd_journal(args: argparse.Namespace) -> int:
    from dsj_desktop.services import journal

    with open_db(args) as db:
        if args.out:
            n = journal.export(db, args.out)
            print(f"已导出操作日志 {n} 条到“{args.out}”。")
        else:
            for e in journal.entries(db, limit=args.last):
                print(f"{e.id:>6}  {e.at}  {e.actor}  {e.action}")
    return 0
