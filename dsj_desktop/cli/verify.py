"""``dsj-desktop verify FILE``: check a draw record without a data folder (the report is
:mod:`dsj_desktop.publish.verify_report`). Exit status 0 验证通过, 3 签名人未经核实, 1 验证不通过."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dsj_desktop.cli.common import guarded, utf8_streams
from dsj_desktop.errors import UserError


def add_verify(sub: Any) -> None:
    p = sub.add_parser(
        "verify",
        help="验证抽取记录（重算摘要、随机种子、抽取结果、分组、递补并核对签名），不需要数据文件夹",
        description="按 DSJ-DRAW-1 第 9 节验证一份抽取记录。验证通过时退出码为 0；"
        "各项均符合但签名人未经核实（没有给出本局公布的指纹）时为 3；不通过时为 1。"
        "给出全局选项 --data-dir 时，该数据文件夹登记的本局密钥和证书视为已核实。",
    )
    p.add_argument("file", type=Path, help="抽取记录文件（.json，或带签章和附件记录的 .pdf）")
    p.add_argument(
        "--fingerprint",
        metavar="指纹",
        help="本局公布的指纹（记录签名公钥或签章证书的 SHA-256 指纹，64 位十六进制，可含空格）；"
        "给出时核对签名人是否为该密钥",
    )


def cmd_verify(args: argparse.Namespace) -> int:
    from dsj_desktop.publish.verify_report import EXIT_CODES, check_file, registered_keys

    data_dir = getattr(args, "data_dir", None)
    trusted = registered_keys(Path(data_dir) if data_dir else None)
    try:
        verdict = check_file(Path(args.file), args.fingerprint, trusted=trusted)
    except UserError:
        raise
    except Exception as exc:  # hostile input must never end in a traceback
        raise UserError(
            f"无法核验“{args.file}”：文件内容异常（{type(exc).__name__}），不能认定是原始抽取记录。"
        ) from None
    print(verdict.text)
    return EXIT_CODES[verdict.status]


def main(argv: list[str]) -> int:
    """``dsj-desktop [--data-dir DIR] verify ...`` on its own (see :mod:`dsj_desktop.launch`):
    the same options and messages as the full command line, without loading the rest."""
    utf8_streams()
    parser = argparse.ArgumentParser(prog="dsj-desktop")
    parser.add_argument("--data-dir", help="数据文件夹：其中登记的本局密钥和证书视为已核实")
    parser.add_argument("--user", help=argparse.SUPPRESS)
    add_verify(parser.add_subparsers(dest="command", metavar="SUBCOMMAND"))
    args = parser.parse_args(argv)
    return guarded(lambda: cmd_verify(args))
