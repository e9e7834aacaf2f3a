"""Checking a record PDF: the PDF signature (:func:`~dsj_desktop.pdf.verify.verify_pdf`, the policy of
docs/pdf-signature.md), the DSJ-DRAW-1 record attached to it (:func:`~dsj_desktop.draw.record.verify_record`)
and who signed both. Kept apart from :mod:`dsj_desktop.publish.record_pdf` so that ``verify`` loads
neither the database layer nor reportlab."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsj_desktop.draw.algorithm import canonical_json
from dsj_desktop.draw.record import RecordError, VerifyReport, parse_record, verify_record
from dsj_desktop.errors import UserError
from dsj_desktop.keys import normalize_fingerprint
from dsj_desktop.pdf.verify import TRUST, PdfReport, extract_attachments, verify_pdf


def attachment_name(session_id: str) -> str:
    """The record's file name inside its PDF (and beside it)."""
    return f"{session_id}.json"


@dataclass
class RecordPdfCheck:
    """Both layers of a record PDF: its signature, and the DSJ-DRAW-1 record attached to it.

    ``ok``: the PDF keeps the policy of docs/pdf-signature.md and the record re-derives in full.
    ``signer_verified``: besides, the PDF was signed by a pinned certificate: one given as
    ``pins`` (the bureau's published fingerprint, or a data folder's registered keys), directly or
    through the record it carries (a pinned record key whose record names the PDF key).
    """

    pdf: PdfReport
    record: dict[str, Any] | None = None
    report: VerifyReport | None = None
    attachment: str | None = None
    problems: list[str] = field(default_factory=list)
    signer_lines: list[str] = field(default_factory=list)
    signer_problems: list[str] = field(default_factory=list)
    signer_verified: bool = False

    @property
    def ok(self) -> bool:
        return (
            self.pdf.ok
            and self.report is not None
            and self.report.ok
            and not self.problems
            and not self.signer_problems
        )

    @property
    def record_sha256(self) -> str | None:
        return (
            hashlib.sha256(canonical_json(self.record).encode("utf-8")).hexdigest()
            if self.record is not None
            else None
        )

    def pdf_lines(self) -> list[str]:
        out = []
        through_record = self.signer_verified and not self.pdf.trusted
        for c in self.pdf.checks:
            if c.name == TRUST and through_record:
                out.append(
                    f"✔ {c.name}：证书的公钥是抽取记录中登记的本局签章公钥，记录的签名公钥已核实（见下文“签名人核实”）。"
                )
                continue
            mark = "·" if c.name == TRUST else ("✔" if c.ok else "✘")
            extra = "（见下文“签名人核实”）" if c.name == TRUST and not c.ok else ""
            out.append(f"{mark} {c.name}：{c.detail}{extra}")
        verdict = self.pdf.verdict
        if through_record and self.pdf.ok:
            verdict = "核验通过：文件自签章以来未被改动，签章证书经抽取记录核实为本局证书。"
        out.append(f"{'✔' if self.pdf.ok else '✘'} PDF 签章结论：{verdict}")
        return out


def _pinned_set(pins: Iterable[str]) -> set[str]:
    out = set()
    for fp in pins:
        try:
            out.add(normalize_fingerprint(fp))
        except UserError:
            continue
    return out


def verify_record_pdf(
    source: Path | bytes,
    *,
    expected_fingerprint: str | None = None,
    trusted_fingerprints: Iterable[str] = (),
) -> RecordPdfCheck:
    """Check the PDF signature and the attached record; never raises for a bad file except when it
    cannot be read at all (:class:`UserError`).

    *expected_fingerprint* is the fingerprint the bureau published (its record key, or its PDF
    certificate); one that matches neither fails the check. *trusted_fingerprints* (a data
    folder's registered keys) also count as pinned.
    """
    pins = _pinned_set(trusted_fingerprints)
    expected = None
    if expected_fingerprint is not None:
        expected = normalize_fingerprint(expected_fingerprint)
        pins.add(expected)
    pdf = verify_pdf(source, trusted_fingerprints=pins)
    check = RecordPdfCheck(pdf)
    try:
        files = extract_attachments(source)
    except UserError as exc:
        check.problems.append(str(exc))
        return check
    candidates = sorted(name for name in files if name.lower().endswith(".json"))
    if not candidates:
        check.problems.append("PDF 中没有附带 JSON 抽取记录（应有附件“<场次编号>.json”）。")
        return check
    records: list[tuple[str, dict[str, Any]]] = []
    errors: list[str] = []
    for name in candidates:
        try:
            records.append((name, parse_record(files[name], name)))
        except RecordError as exc:
            errors.append(str(exc))
    if not records:
        check.problems.extend(errors)
        return check
    if len(records) > 1:
        check.problems.append(f"PDF 中附带了 {len(records)} 份抽取记录，无法确定以哪一份为准。")
    name, record = records[0]
    check.attachment, check.record = name, record
    check.report = report = verify_record(record)
    if name != attachment_name(str(record.get("session"))):
        check.problems.append(f"附件名称“{name}”与记录中的场次编号“{record.get('session')}”不符。")
    _check_signer(check, record, report, pins, expected)
    return check


def _check_signer(
    check: RecordPdfCheck,
    record: Mapping[str, Any],
    report: VerifyReport,
    pins: set[str],
    expected: str | None,
) -> None:
    """Bind the PDF certificate to the record key, and decide whether the signer is verified."""
    pdf, lines = check.pdf, check.signer_lines
    named = record.get("pdf_key_fingerprint")
    bound = False
    if isinstance(named, str) and pdf.public_key_fingerprint:
        try:
            bound = normalize_fingerprint(named) == pdf.public_key_fingerprint
        except UserError:
            bound = False
        if bound:
            lines.append(
                f"✔ 签章公钥：PDF 签章证书的公钥与抽取记录中登记的本局签章公钥一致（{pdf.public_key_fingerprint}）。"
            )
        else:
            check.signer_problems.append(
                f"PDF 签章证书的公钥（指纹 {pdf.public_key_fingerprint}）不是抽取记录中登记的本局签章公钥（指纹 {named}）："
                "这份 PDF 是用别的证书签章的，不是本局签发的原件。"
            )
    elif named is None:
        lines.append(
            "· 签章公钥：抽取记录没有登记 PDF 签章公钥（旧版本程序生成的记录），只能按证书指纹核实签章人。"
        )
    record_fp = report.fingerprint
    record_pinned = bool(report.ok and record_fp and normalize_fingerprint(record_fp) in pins)
    cert_pinned = pdf.certificate_fingerprint is not None and pdf.trusted
    if expected is not None and expected not in {record_fp, pdf.certificate_fingerprint}:
        check.signer_problems.append(
            f"给定的指纹 {expected} 既不是抽取记录签名公钥的指纹（{record_fp or '无'}），"
            f"也不是 PDF 签章证书的指纹（{pdf.certificate_fingerprint or '无'}）。"
        )
    if cert_pinned:
        lines.append(f"✔ 签章证书：证书指纹 {pdf.certificate_fingerprint} 是给定或登记的本局证书指纹。")
    if record_pinned:
        lines.append(f"✔ 记录签名公钥：指纹 {record_fp} 是给定或登记的本局公钥指纹。")
    check.signer_verified = cert_pinned or (record_pinned and bound)
    if not check.signer_verified:
        lines.append(
            "· 签名人未经核实：没有给出本局公布的指纹，或给出的指纹与签章证书、记录签名公钥都不一致。"
            "请用 --fingerprint 给出本局公布的指纹（或用 --data-dir 指定本局的数据文件夹）再核验。"
        )
