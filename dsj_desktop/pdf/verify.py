"""Checking a signed PDF, and reading its attachments.

:func:`verify_pdf` never raises for a bad file: every problem becomes a failed check line with a
Chinese explanation. "Trusted" is decided by the caller's list of certificate fingerprints (the
bureau's own certificate is self-signed, so pyHanko alone always calls it untrusted).
"""

from __future__ import annotations

import binascii
import io
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dsj_desktop.errors import UserError
from dsj_desktop.keys import normalize_fingerprint, sha256_fingerprint
from dsj_desktop.pdf.sign import format_signing_time


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, whether it passed, and a plain explanation."""

    name: str
    ok: bool
    detail: str


@dataclass
class PdfReport:
    """The result of :func:`verify_pdf`."""

    checks: list[Check] = field(default_factory=list)
    signature_count: int = 0
    certificate_fingerprint: str | None = None
    signer: str | None = None  # the certificate's subject (CN), e.g. "青山县应急管理局电子签章"
    signed_at: datetime | None = None  # the PC clock's claim at signing
    trusted: bool = False
    attachment_names: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Signed, intact, valid and unchanged since signing (trust is reported separately)."""
        return self.signature_count > 0 and all(c.ok for c in self.checks if c.name != TRUST)

    @property
    def verdict(self) -> str:
        if not self.ok:
            failed = "、".join(c.name for c in self.checks if not c.ok and c.name != TRUST)
            return f"核验未通过（{failed}）：不能认定该文件是原始签章文件。"
        if self.trusted:
            return "核验通过：文件自签章以来未被改动，签章证书是已登记的本局证书。"
        return "文件自签章以来未被改动，但签章证书未登记为可信：请核对证书指纹。"


FORMAT = "文件格式"
PRESENT = "电子签名"
INTACT = "内容完整"
VALID = "签名有效"
COVERAGE = "签名后未改动"
CONTAINER = "签名数据"
TIME = "签署时间"
CERT = "签章证书"
TRUST = "证书可信"


_PYHANKO_LOGGERS = (
    "pyhanko.pdf_utils.reader",
    "pyhanko.pdf_utils.xref",
    "pyhanko.pdf_utils.generic",
    "pyhanko.sign.validation.generic_cms",
    "pyhanko.sign.validation.pdf_embedded",
)
_verifying = threading.local()


class _DemoteWhileVerifying(logging.Filter):
    """While this thread verifies a file, pyHanko's warnings and errors (with tracebacks, e.g.
    for every self-signed certificate or damaged structure) become DEBUG records: the report
    already says what is wrong, and a user must not see a traceback on stderr."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(_verifying, "active", False) and record.levelno > logging.DEBUG:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


_demote = _DemoteWhileVerifying()
for _name in _PYHANKO_LOGGERS:
    logging.getLogger(_name).addFilter(_demote)


@contextmanager
def _quiet_pyhanko() -> Iterator[None]:
    previous = getattr(_verifying, "active", False)
    _verifying.active = True
    try:
        yield
    finally:
        _verifying.active = previous


def _read(source: Path | bytes) -> bytes:
    if isinstance(source, bytes):
        return source
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise UserError(f"无法读取“{source}”：{exc.strerror or exc}") from None


def _open_reader(data: bytes) -> Any:
    from pyhanko.pdf_utils.reader import PdfFileReader

    if not data.lstrip()[:5] == b"%PDF-":
        raise ValueError("not a PDF")
    return PdfFileReader(io.BytesIO(data), strict=False)


def _container_ok(data: bytes, sig: Any) -> tuple[bool, str]:
    """Parts of the signature that the cryptographic checks do not cover must hold exactly what
    this program writes, so that no byte of the file can change unnoticed:

    * the gap left by /ByteRange holds ``<hex>`` (one letter case): the CMS object in canonical
      DER, then zeros (pyHanko ignores bytes after the CMS object, and lengths that run into
      the padding);
    * the CMS lists only the signer's certificate and digest algorithm, without CRLs or unsigned
      attributes (pyHanko picks the signer's certificate and digest from elsewhere, so a changed
      duplicate would otherwise pass).
    """
    from asn1crypto import cms

    br = [int(x) for x in sig.byte_range]
    if len(br) != 4 or br[0] != 0:
        return False, "签名的字节范围不规范。"
    gap = data[br[1] : br[2]]
    raw: bytes = sig.pkcs7_content
    hexed = binascii.hexlify(raw)
    if gap not in (b"<" + hexed + b">", b"<" + hexed.upper() + b">"):
        return False, "签名值所在的区域有多余或被改动的字节。"
    info = cms.ContentInfo.load(raw)
    used = len(info.dump())
    if raw[used:].strip(b"\x00"):
        return False, "签名值之后的填充区域被改动。"
    if cms.ContentInfo.load(raw).dump(force=True) != raw[:used]:
        return False, "签名数据不是规范的 DER 编码（可能被改动）。"
    sd = info["content"]
    si = sig.signer_info
    signer_der = sig.signer_cert.dump()
    certs = [c.chosen.dump() for c in sd["certificates"]]
    unexpected = (
        sd["version"].native != "v1"
        or [d.dump() for d in sd["digest_algorithms"]] != [si["digest_algorithm"].dump()]
        or sd["encap_content_info"].dump() != cms.EncapsulatedContentInfo({"content_type": "data"}).dump()
        or certs != [signer_der]
        or bool(sd["crls"])
        or len(sd["signer_infos"]) != 1
        or si["version"].native != "v1"
        or bool(si["unsigned_attrs"])
    )
    if unexpected:
        return False, "签名数据的结构与本程序签署的文件不符（可能被改动，或不是本程序签署的文件）。"
    return True, "签名数据格式规范，无多余内容。"


def _subject_cn(cert: Any) -> str:
    try:
        return str(cert.subject.native.get("common_name") or cert.subject.human_friendly)
    except (ValueError, KeyError, AttributeError):
        return "（无法读取）"


def verify_pdf(source: Path | bytes, *, trusted_fingerprints: Iterable[str] = ()) -> PdfReport:
    """Check every signature in *source* (a path or the file's bytes); see :class:`PdfReport`.

    *trusted_fingerprints* are SHA-256 certificate fingerprints in any usual notation (e.g.
    :meth:`KeyStore.known_pdf_certificate_fingerprints`). Raises :class:`UserError` only if the
    file cannot be read at all.
    """
    data = _read(source)
    with _quiet_pyhanko():
        return _verify(data, trusted_fingerprints)


def _verify(data: bytes, trusted_fingerprints: Iterable[str]) -> PdfReport:
    trusted = set()
    for fp in trusted_fingerprints:
        try:
            trusted.add(normalize_fingerprint(fp))
        except UserError:
            continue
    report = PdfReport()
    add = report.checks.append

    try:
        reader = _open_reader(data)
        signatures = list(reader.embedded_regular_signatures)
    except Exception:  # any parse failure of an untrusted file means "not a usable PDF"
        add(Check(FORMAT, False, "不是 PDF 文件，或文件已损坏无法解析。"))
        return report
    add(Check(FORMAT, True, "PDF 文件可以正常解析。"))
    report.attachment_names = _safe_attachment_names(reader)

    if not signatures:
        add(Check(PRESENT, False, "文件中没有电子签名，无法证明其来源和完整性。"))
        return report
    report.signature_count = len(signatures)
    add(Check(PRESENT, True, f"文件含 {len(signatures)} 个电子签名。"))

    from pyhanko.sign.validation.status import SignatureCoverageLevel

    intact = valid = covered = True
    container, container_note = False, "签名数据无法解析。"
    broken = ""
    for i, sig in enumerate(signatures):
        last = i == len(signatures) - 1
        try:
            status = _validate(sig)
        except Exception as exc:  # a damaged signature must fail, never crash the caller
            intact = valid = covered = False
            broken += f"第 {i + 1} 个签名无法核验（{type(exc).__name__}）。"
            continue
        intact &= bool(status.intact)
        valid &= bool(status.valid)
        if last:
            covered = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
            try:
                container, container_note = _container_ok(data, sig)
            except Exception:
                container, container_note = False, "签名数据无法解析。"
            cert = sig.signer_cert
            report.certificate_fingerprint = sha256_fingerprint(cert.dump())
            report.signer = _subject_cn(cert)
            report.signed_at = sig.self_reported_timestamp

    add(
        Check(
            INTACT,
            intact,
            "签名范围内的内容与签署时完全一致（哈希值相符）。"
            if intact
            else "签名范围内的内容已被改动（哈希值不符）。" + broken,
        )
    )
    add(Check(VALID, valid, "签名值经证书公钥验证有效。" if valid else "签名值无法用证书公钥验证。" + broken))
    add(
        Check(
            COVERAGE,
            covered,
            "签名覆盖整个文件，签署后没有追加任何内容。"
            if covered
            else "签署之后文件被追加或改动过（签名没有覆盖整个文件）。",
        )
    )
    add(Check(CONTAINER, container, container_note))
    if report.signed_at is not None:
        local = report.signed_at.astimezone()
        add(
            Check(TIME, True, f"{format_signing_time(local)}；该时间取自签章电脑的时钟，未经可信时间源证实。")
        )
    else:
        add(Check(TIME, True, "签名中没有记录签署时间。"))
    if report.certificate_fingerprint:
        add(Check(CERT, True, f"{report.signer}；证书指纹（SHA-256）：{report.certificate_fingerprint}"))
        report.trusted = report.certificate_fingerprint in trusted
        add(
            Check(
                TRUST,
                report.trusted,
                "证书指纹与登记的本局签章证书一致。"
                if report.trusted
                else "证书不在本程序登记的可信证书之列（本局证书为自签名证书，需人工核对指纹）。",
            )
        )
    return report


def _validate(sig: Any) -> Any:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    return validate_pdf_signature(sig, ValidationContext(trust_roots=[]))


def _iter_name_tree(node: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    if depth > 32:
        return
    names = node.get("/Names")
    if names is not None:
        names = names.get_object()
        for k in range(0, len(names) - 1, 2):
            yield str(names[k]), names[k + 1].get_object()
    kids = node.get("/Kids")
    if kids is not None:
        for kid in kids.get_object():
            yield from _iter_name_tree(kid.get_object(), depth + 1)


def _embedded_files(reader: Any) -> Iterator[tuple[str, Any]]:
    root = reader.root
    names = root.get("/Names")
    if names is None:
        return
    tree = names.get_object().get("/EmbeddedFiles")
    if tree is None:
        return
    for key, spec in _iter_name_tree(tree.get_object()):
        name = str(spec.get("/UF", spec.get("/F", key)))
        yield name, spec


def _safe_attachment_names(reader: Any) -> list[str]:
    try:
        return [name for name, _ in _embedded_files(reader)]
    except Exception:
        return []


def extract_attachments(source: Path | bytes) -> dict[str, bytes]:
    """The embedded files of a PDF, by (Unicode) file name.

    This does not verify anything: call :func:`verify_pdf` first to know whether the PDF, and so
    its attachments, is unchanged since signing. Raises :class:`UserError` for a file that is not
    a readable PDF.
    """
    data = _read(source)
    result: dict[str, bytes] = {}
    try:
        with _quiet_pyhanko():
            reader = _open_reader(data)
            for name, spec in _embedded_files(reader):
                ef = spec.get("/EF")
                stream = None if ef is None else ef.get_object().get("/UF", ef.get_object().get("/F"))
                if stream is not None:
                    result[name] = bytes(stream.get_object().data)
    except Exception:  # any parse failure of an untrusted file
        raise UserError("无法读取附件：文件不是 PDF，或已损坏。") from None
    return result
