"""``dsj-desktop verify FILE``: check a draw record (DSJ-DRAW-1 section 9) without a data folder.

Exit status 0 only when every check holds, 1 otherwise (also for an unreadable file).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dsj_desktop.draw.record import STATUS_CONFIRMED, STATUS_VOIDED, load_record, verify_record
from dsj_desktop.errors import UserError

COMMAND = "verify"
_STATUS_TITLES = {STATUS_CONFIRMED: "已确认", STATUS_VOIDED: "已作废"}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        COMMAND,
        help="验证抽取记录（重算摘要、随机种子、抽取结果、分组、递补并核对签名），不需要数据文件夹",
        description="按 DSJ-DRAW-1 第 9 节验证一份抽取记录。全部符合时退出码为 0，否则为 1。",
    )
    p.add_argument("file", type=Path, help="抽取记录文件（.json）")
    p.add_argument(
        "--fingerprint",
        metavar="指纹",
        help="本局公布的签名公钥指纹（64 位十六进制，可含空格）；给出时还核对签名公钥是否为该公钥",
    )


def _load(path: Path) -> dict[str, Any]:
    if path.suffix.lower() == ".pdf":
        # HOOK (PDF): a signed PDF carries the JSON record as an attached file. When the PDF
        # module lands, extract that attachment here and return load_record-equivalent data
        # (and also report the PDF signature). Until then, refuse clearly.
        raise UserError(f"暂不支持直接验证 PDF 文件“{path.name}”：请验证随 PDF 一同导出的 .json 抽取记录。")
    return load_record(path)


def cmd_verify(args: argparse.Namespace) -> int:
    path = Path(args.file)
    record = _load(path)
    report = verify_record(record, expected_fingerprint=args.fingerprint)
    status = _STATUS_TITLES.get(str(report.status), str(report.status))
    print(f"抽取记录：{path}")
    print(f"场次：{report.session}    状态：{status}")
    if record.get("status") == STATUS_VOIDED and record.get("void_reason"):
        print(f"作废原因：{record['void_reason']}")
    if report.fingerprint:
        print(f"签名公钥指纹：{report.fingerprint}")
    print()
    print(report.text())
    return 0 if report.ok else 1


def register(
    parser_hooks: list[Callable[[Any], None]], handlers: dict[str, Callable[[argparse.Namespace], int]]
) -> None:
    """Add ``verify`` to the command line (called from :mod:`dsj_desktop.cli`)."""
    parser_hooks.append(add_parser)
    handlers[COMMAND] = cmd_verify
