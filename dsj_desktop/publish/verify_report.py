"""The verify report: what ``dsj-desktop verify FILE`` and the GUI's 核验抽取记录 check in a draw
record (DSJ-DRAW-1 section 9), as a verdict and the Chinese text that lists every check.

``FILE`` is the JSON record, or the signed record PDF: then the PDF signature is checked against
the policy of docs/pdf-signature.md too, and the record attached to the PDF is the one verified.

The verdict has three outcomes:

* 验证通过 (exit 0): every check holds and the signer is verified: the signing key is the one
  given with ``--fingerprint`` (the fingerprint the bureau published), or one registered in the
  data folder named with ``--data-dir``;
* 签名人未经核实 (exit 3): every check holds, but nothing pinned the signing key;
* 验证不通过 (exit 1): a check failed, or the file cannot be read.

The command itself is :mod:`dsj_desktop.cli.verify`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsj_desktop.draw.record import STATUS_CONFIRMED, STATUS_VOIDED, VerifyReport, load_record, verify_record
from dsj_desktop.errors import UserError

_STATUS_TITLES = {STATUS_CONFIRMED: "已确认", STATUS_VOIDED: "已作废"}
PASSED, UNVERIFIED, FAILED = "passed", "unverified", "failed"
EXIT_CODES = {PASSED: 0, FAILED: 1, UNVERIFIED: 3}
UNVERIFIED_TITLE = "签名人未经核实"


@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`check_file`: ``status`` is PASSED, UNVERIFIED or FAILED."""

    status: str
    text: str

    @property
    def ok(self) -> bool:
        return self.status == PASSED


def registered_keys(data_dir: Path | None) -> list[str]:
    """The fingerprints registered in *data_dir* (nothing when None; never creates anything)."""
    if data_dir is None:
        return []
    from dsj_desktop.keys import KeyStore

    return KeyStore(Path(data_dir)).registered_fingerprints()


def check_file(path: Path, fingerprint: str | None = None, *, trusted: Iterable[str] = ()) -> Verdict:
    """Check a record (.json) or a signed record PDF. *fingerprint* is the one the bureau published;
    *trusted* are registered fingerprints (a data folder's keys). The command line prints the text;
    the GUI shows it. Raises :class:`UserError` for a file that cannot be read."""
    trusted = list(trusted)
    if path.suffix.lower() == ".pdf":
        return _verify_pdf(path, fingerprint, trusted)
    record = load_record(path)
    report = verify_record(record, expected_fingerprint=fingerprint)
    lines = [f"抽取记录：{path}", *_record_lines(record, report)]
    if not report.ok:
        lines.append(
            f"结论：验证不通过（{len(report.failed)} 项不符：{'、'.join(c.name for c in report.failed)}）。"
        )
        return Verdict(FAILED, "\n".join(lines))
    pins = {"".join(ch for ch in fp.upper() if ch in "0123456789ABCDEF") for fp in trusted}
    own = (report.fingerprint or "").replace(" ", "")
    if fingerprint is not None or (own and own in pins):
        lines.append(f"结论：验证通过（{len(report.checks)} 项全部符合，签名公钥是本局公布或登记的公钥）。")
        return Verdict(PASSED, "\n".join(lines))
    lines.append(
        f"结论：{UNVERIFIED_TITLE}——{len(report.checks)} 项重算全部符合，但没有核对签名公钥是否属于本局：任何人都能用"
        "自己的密钥签出这样一份记录。请用 --fingerprint 给出本局公布的指纹再核验。"
    )
    return Verdict(UNVERIFIED, "\n".join(lines))


def _record_lines(record: dict[str, Any], report: VerifyReport) -> list[str]:
    status = _STATUS_TITLES.get(str(report.status), str(report.status))
    lines = [f"场次：{report.session}    状态：{status}"]
    if record.get("status") == STATUS_VOIDED and record.get("void_reason"):
        lines.append(f"作废原因：{record['void_reason']}")
    if report.fingerprint:
        lines.append(f"签名公钥指纹：{report.fingerprint}")
    lines.append("")
    lines += [f"{'✔' if c.ok else '✘'} {c.name}：{c.detail}" for c in report.checks]
    return lines


def _verify_pdf(path: Path, fingerprint: str | None, trusted: list[str]) -> Verdict:
    """A signed record PDF: its PAdES signature, then the DSJ-DRAW-1 record attached to it."""
    from dsj_desktop.publish.record_check import verify_record_pdf

    if not path.is_file():
        raise UserError(f"找不到文件“{path}”。")
    check = verify_record_pdf(path, expected_fingerprint=fingerprint, trusted_fingerprints=trusted)
    lines = [f"抽取记录 PDF：{path}", "", "【一】PDF 电子签章", *check.pdf_lines(), "",
             "【二】PDF 附带的抽取记录（DSJ-DRAW-1 第 9 节）"]  # fmt: skip
    if check.attachment:
        lines.append(f"附件：{check.attachment}")
    if check.record is not None and check.report is not None:
        lines.append(f"记录摘要（SHA-256）：{check.record_sha256}（应与 PDF“核验”一节印出的摘要一致）")
        lines += _record_lines(check.record, check.report)
    lines += [f"✘ {problem}" for problem in check.problems]
    lines += ["", "【三】签名人核实", *check.signer_lines, *(f"✘ {p}" for p in check.signer_problems)]
    lines.append("")
    if check.ok and check.signer_verified:
        lines.append(
            "总结论：验证通过——PDF 签章有效且文件未被改动，签章人已核实，附带的抽取记录经重算全部符合。"
        )
        return Verdict(PASSED, "\n".join(lines))
    if check.ok:
        lines.append(
            f"总结论：{UNVERIFIED_TITLE}——文件自签章以来未被改动，附带的抽取记录经重算全部符合，但没有核实签章人："
            "任何人都能用自己的证书签出这样一份文件。请用 --fingerprint 给出本局公布的指纹再核验。"
        )
        return Verdict(UNVERIFIED, "\n".join(lines))
    parts = []
    if not check.pdf.ok:
        failed = "、".join(c.name for c in check.pdf.checks if not c.ok and c.name != "证书可信")
        parts.append(f"PDF 签章（{failed}）")
    if check.report is None or not check.report.ok or check.problems:
        parts.append("抽取记录")
    if check.signer_problems:
        parts.append("签章人与记录的对应")
    lines.append(f"总结论：验证不通过（{'、'.join(parts)}不符合），不能认定该文件是原始、完整的抽取记录。")
    return Verdict(FAILED, "\n".join(lines))
