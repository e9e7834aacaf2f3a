"""``dsj-desktop verify FILE``: check a draw record (DSJ-DRAW-1 section 9) without a data folder.

``FILE`` is the JSON record, or the signed record PDF: then the PDF signature is checked too, and
the record attached to the PDF is the one verified.

Exit status 0 only when every check holds, 1 otherwise (also for an unreadable file).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dsj_desktop.draw.record import STATUS_CONFIRMED, STATUS_VOIDED, VerifyReport, load_record, verify_record
from dsj_desktop.errors import UserError

COMMAND = "verify"
_STATUS_TITLES = {STATUS_CONFIRMED: "已确认", STATUS_VOIDED: "已作废"}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        COMMAND,
        help="验证抽取记录（重算摘要、随机种子、抽取结果、分组、递补并核对签名），不需要数据文件夹",
        description="按 DSJ-DRAW-1 第 9 节验证一份抽取记录。全部符合时退出码为 0，否则为 1。",
    )
    p.add_argument("file", type=Path, help="抽取记录文件（.json，或带签章和附件记录的 .pdf）")
    p.add_argument(
        "--fingerprint",
        metavar="指纹",
        help="本局公布的签名公钥指纹（64 位十六进制，可含空格）；给出时还核对签名公钥是否为该公钥",
    )


def cmd_verify(args: argparse.Namespace) -> int:
    ok, text = verify_file(Path(args.file), args.fingerprint)
    print(text)
    return 0 if ok else 1


def verify_file(path: Path, fingerprint: str | None = None) -> tuple[bool, str]:
    """Check a record (.json) or a signed record PDF; (all checks hold, the report in Chinese).
    The command line prints it; the GUI shows it."""
    if path.suffix.lower() == ".pdf":
        return _verify_pdf(path, fingerprint)
    record = load_record(path)
    report = verify_record(record, expected_fingerprint=fingerprint)
    return report.ok, "\n".join([f"抽取记录：{path}", *_record_lines(record, report)])


def _record_lines(record: dict[str, Any], report: VerifyReport) -> list[str]:
    status = _STATUS_TITLES.get(str(report.status), str(report.status))
    lines = [f"场次：{report.session}    状态：{status}"]
    if record.get("status") == STATUS_VOIDED and record.get("void_reason"):
        lines.append(f"作废原因：{record['void_reason']}")
    if report.fingerprint:
        lines.append(f"签名公钥指纹：{report.fingerprint}")
    return [*lines, "", report.text()]


def _verify_pdf(path: Path, fingerprint: str | None) -> tuple[bool, str]:
    """A signed record PDF: its PAdES signature, then the DSJ-DRAW-1 record attached to it."""
    from dsj_desktop.publish.record_pdf import verify_record_pdf

    if not path.is_file():
        raise UserError(f"找不到文件“{path}”。")
    check = verify_record_pdf(path, expected_fingerprint=fingerprint)
    lines = [f"抽取记录 PDF：{path}", "", "【一】PDF 电子签章", *check.pdf_lines(), "",
             "【二】PDF 附带的抽取记录（DSJ-DRAW-1 第 9 节）"]  # fmt: skip
    if check.attachment:
        lines.append(f"附件：{check.attachment}")
    if check.record is not None and check.report is not None:
        lines.append(f"记录摘要（SHA-256）：{check.record_sha256}（应与 PDF“核验”一节印出的摘要一致）")
        lines += _record_lines(check.record, check.report)
    lines += [f"✘ {problem}" for problem in check.problems]
    lines.append("")
    if check.ok:
        lines.append("总结论：验证通过——PDF 签章有效且文件未被改动，附带的抽取记录经重算全部符合。")
        return True, "\n".join(lines)
    parts = []
    if not check.pdf.ok:
        parts.append("PDF 签章")
    if check.report is None or not check.report.ok or check.problems:
        parts.append("抽取记录")
    lines.append(f"总结论：验证不通过（{'、'.join(parts)}不符合），不能认定该文件是原始、完整的抽取记录。")
    return False, "\n".join(lines)


def register(
    parser_hooks: list[Callable[[Any], None]], handlers: dict[str, Callable[[argparse.Namespace], int]]
) -> None:
    """Add ``verify`` to the command line (called from :mod:`dsj_desktop.cli`)."""
    parser_hooks.append(add_parser)
    handlers[COMMAND] = cmd_verify
