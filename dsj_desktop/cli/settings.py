"""``dsj-desktop settings``: show the settings kept in the data file; ``--bureau-name NAME`` sets the
bureau's full name (journalled like the 设置 dialog), which a draw needs before it may start."""

from __future__ import annotations

import argparse
import json
from typing import Any

from dsj_desktop.cli.common import open_db
from dsj_desktop.errors import UserError


def add_settings(sub: Any) -> None:
    p = sub.add_parser("settings", help="显示设置；--bureau-name 设置单位名称（抽取记录以此名义签署）")
    p.add_argument("--bureau-name", metavar="NAME", help="本局全称，如：青山县应急管理局")


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def cmd_settings(args: argparse.Namespace) -> int:
    from dsj_desktop.keys import KeyStore
    from dsj_desktop.services import settings

    with open_db(args) as db:
        if args.bureau_name is not None:
            name = args.bureau_name.strip()
            problem = settings.check_bureau_name(name)
            if problem:
                raise UserError(f"单位名称未修改：{problem}")
            if name != settings.bureau_name(db):
                settings.write(db, settings.BUREAU_NAME, name)
            print(f"单位名称已设置为：{name}")
        values = settings.read_all(db)
        print(f"数据文件夹：{db.data_dir}")
        print(
            f"{settings.TITLES[settings.BUREAU_NAME]}：{values.pop(settings.BUREAU_NAME, '') or '（未设置）'}"
        )
        keys = KeyStore(db.data_dir)
        print(f"记录签名公钥指纹：{keys.record_fingerprint()}")
        if keys.on_server:
            print(
                "本局签名私钥：用本局密钥口令加密保存在单位服务器上（签署时输入口令；本机只保存服务器写入密钥）"
            )
        on_cert = keys.pdf_certificate_bureau_name()
        if on_cert is None:
            print("签章证书：尚未生成（第一次抽取时自动生成）")
        else:
            print(f"签章证书：{on_cert}（指纹 {keys.pdf_certificate_fingerprint()}）")
            if on_cert != settings.bureau_name(db):
                print("  注意：证书上的单位名称与当前单位名称不一致，请在程序的“设置”中重新生成证书。")
        for key, value in values.items():
            print(f"{settings.TITLES.get(key, key)}：{_shown(value)}")
    return 0
