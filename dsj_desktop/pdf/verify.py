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

from dsj_desktop.clock import format_signing_time
from dsj_desktop.errors import UserError
from dsj_desktop.keys import normalize_fingerprint, sha256_fingerprint


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
    public_key_fingerprint: str | None = None  # SHA-256 of the certificate's SubjectPublicKeyInfo
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
        return "文件自签章以来未被改动，但签章证书未登记为可信：签名人未经核实，请核对证书指纹。"


FORMAT = "文件格式"
PRESENT = "电子签名"
INTACT = "内容完整"
VALID = "签名有效"
COVERAGE = "签名后未改动"
CERTIFY = "认证签名"
HISTORY = "签章前的修改"
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


MAX_PDF_BYTES = 50 * 1024 * 1024  # a 2,400-candidate record PDF is a few MB
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024  # decoded; a compressed stream may claim anything


def _too_large(name: str, size: int) -> UserError:
    return UserError(
        f"文件“{name}”有 {size / 1048576:.0f} MB，超过 {MAX_PDF_BYTES // 1048576} MB 的上限，"
        "不是本程序签出的文件，未读取。"
    )


def _read(source: Path | bytes) -> bytes:
    if isinstance(source, bytes):
        if len(source) > MAX_PDF_BYTES:
            raise _too_large("（内存中的文件）", len(source))
        return source
    try:
        size = Path(source).stat().st_size
        if size > MAX_PDF_BYTES:
            raise _too_large(Path(source).name, size)
        return Path(source).read_bytes()
    except OSError as exc:
        raise UserError(f"无法读取“{source}”：{exc.strerror or exc}") from None


def _stream_bytes(stream: Any) -> bytes:
    """The decoded bytes of an embedded file, refusing more than :data:`MAX_ATTACHMENT_BYTES`
    (a few KB of deflated zeros can expand to gigabytes)."""
    import zlib

    filters = stream.get("/Filter")
    names = [] if filters is None else [str(f) for f in (filters if isinstance(filters, list) else [filters])]
    raw = bytes(stream.encoded_data)
    if not names:
        data = raw
    elif names == ["/FlateDecode"] and stream.get("/DecodeParms") is None:
        inflater = zlib.decompressobj()
        data = inflater.decompress(raw, MAX_ATTACHMENT_BYTES + 1)
    else:
        raise UserError("附件使用了本程序不写的压缩方式，无法读取。")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise UserError(f"附件解压后超过 {MAX_ATTACHMENT_BYTES // 1048576} MB，不是抽取记录，未读取。")
    return data


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
    """Check *source* (a path or the file's bytes) against the one policy of docs/pdf-signature.md:
    exactly one signature, the bureau's certification signature permitting no changes, covering
    the whole file; see :class:`PdfReport`. Every signature found is checked and described.

    *trusted_fingerprints* are SHA-256 certificate fingerprints in any usual notation (e.g.
    :meth:`KeyStore.known_pdf_certificate_fingerprints`). Raises :class:`UserError` only if the
    file cannot be read at all.
    """
    data = _read(source)
    with _quiet_pyhanko():
        return _verify(data, trusted_fingerprints)


def _unparsable(data: bytes) -> str:
    if data.lstrip()[:5] == b"%PDF-":
        return "文件以 PDF 文件头开始，但结构已损坏或被改动，无法解析：不能认定是原始签章文件。"
    return "不是 PDF 文件，或文件已损坏无法解析。"


def _describe(obj: Any, existed: bool) -> str:
    """What one object written in a later revision is, in words a user understands."""
    from pyhanko.pdf_utils import generic

    if not isinstance(obj, generic.DictionaryObject):
        return "其他对象"
    kind, subtype, ft = (str(obj.get(k, "")) for k in ("/Type", "/Subtype", "/FT"))
    if kind in ("/Sig", "/DocTimeStamp"):
        return "电子签名"
    if ft == "/Sig":
        return "签名域"
    if ft or subtype == "/Widget":
        return "表单域"
    if kind == "/Annot" or (subtype and "/Rect" in obj and kind != "/XObject"):
        return f"批注（{subtype.lstrip('/') or '未知类型'}）"
    if kind == "/Page":
        return "改动的页面" if existed else "新增的页面"
    if kind == "/Pages":
        return "页面目录"
    if kind == "/Catalog":
        return "文档目录"
    if kind == "/Metadata":
        return "文档元数据"
    if kind == "/Font" or kind == "/FontDescriptor":
        return "字体"
    if kind == "/XObject" or subtype in ("/Form", "/Image"):
        return "图形或图片"
    if kind in ("/EmbeddedFile", "/Filespec"):
        return "附件"
    if isinstance(obj, generic.StreamObject):
        return "页面内容（文字或图形）"
    if "/Producer" in obj or "/ModDate" in obj or "/Creator" in obj:
        return "文档信息"
    if "/Fields" in obj:
        return "表单"
    return "其他对象"


def _later_revisions(reader: Any, signed_revision: int) -> list[str]:
    """One line per revision written after *signed_revision*, naming what it added or changed."""
    from collections import Counter

    xrefs = reader.xrefs
    lines = []
    for rev in range(signed_revision + 1, xrefs.total_revisions):
        found: Counter[str] = Counter()
        try:
            for ref in xrefs.explicit_refs_in_revision(rev):
                try:
                    obj = reader.get_object(ref, revision=rev)
                    existed = xrefs.get_introducing_revision(ref) < rev
                except Exception:  # a damaged object of an untrusted file
                    found["无法解析的对象"] += 1
                    continue
                found[_describe(obj, existed)] += 1
            freed = len(list(xrefs.refs_freed_in_revision(rev)))
            if freed:
                found["删除的对象"] += freed
        except Exception:
            found["无法解析的内容"] += 1
        lines.append(f"第 {rev + 1} 次修订（签章之后）：{_summary(found)}")
    return lines


# Most telling first: what a forger adds, then what every update touches.
_ORDER = ("电子签名", "签名域", "表单域", "批注", "新增的页面", "页面内容", "改动的页面", "页面目录", "图形或图片",
          "字体", "附件", "删除的对象", "表单", "其他对象", "文档目录", "文档信息", "文档元数据")  # fmt: skip


def _summary(found: Any) -> str:
    def rank(label: str) -> int:
        return next((i for i, prefix in enumerate(_ORDER) if label.startswith(prefix)), len(_ORDER))

    return (
        "、".join(f"{label}{n}处" for label, n in sorted(found.items(), key=lambda t: rank(t[0])))
        or "空的修订"
    )


def _earlier_revisions(reader: Any, signed_revision: int) -> list[str]:
    """The revisions before the signed one beyond the first (the document as generated): this
    program signs a freshly generated file, so there are none."""
    lines = []
    for rev in range(1, signed_revision):
        found: Any = {}
        try:
            for ref in reader.xrefs.explicit_refs_in_revision(rev):
                try:
                    label = _describe(
                        reader.get_object(ref, revision=rev), reader.xrefs.get_introducing_revision(ref) < rev
                    )
                except Exception:
                    label = "无法解析的对象"
                found[label] = found.get(label, 0) + 1
        except Exception:
            found = {"无法解析的内容": 1}
        lines.append(f"第 {rev + 1} 次修订（签章之前）：{_summary(found)}")
    return lines


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
        signatures = list(reader.embedded_signatures)  # approval signatures and timestamps alike
    except Exception:  # any parse failure of an untrusted file means "not a usable PDF"
        add(Check(FORMAT, False, _unparsable(data)))
        return report
    add(Check(FORMAT, True, "PDF 文件可以正常解析。"))
    report.attachment_names = _safe_attachment_names(reader)

    if not signatures:
        add(Check(PRESENT, False, "文件中没有电子签名，无法证明其来源和完整性。"))
        return report
    report.signature_count = len(signatures)

    from pyhanko.sign.fields import MDPPerm
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    intact = valid = container = True
    problems: dict[str, list[str]] = {INTACT: [], VALID: [], CONTAINER: []}
    described = []
    fingerprints = []
    for i, sig in enumerate(signatures, start=1):
        label = f"第 {i} 个签名" if len(signatures) > 1 else "签名"
        try:
            cert = sig.signer_cert
            fp = sha256_fingerprint(cert.dump())
            fingerprints.append(fp)
            described.append(f"第 {i} 个签名：{_subject_cn(cert)}，证书指纹 {fp}")
        except Exception:
            fingerprints.append("")
            described.append(f"第 {i} 个签名：证书无法读取")
        try:
            status = _validate(sig)
        except Exception as exc:  # a damaged signature must fail, never crash the caller
            intact = valid = container = False
            problems[INTACT].append(f"{label}无法核验（{type(exc).__name__}）")
            continue
        if not status.intact:
            intact = False
            problems[INTACT].append(f"{label}范围内的内容已被改动")
        if not status.valid:
            valid = False
            problems[VALID].append(f"{label}的签名值无法用证书公钥验证")
        try:
            ok, note = _container_ok(data, sig)
        except Exception:
            ok, note = False, "签名数据无法解析。"
        if not ok:
            container = False
            problems[CONTAINER].append(f"{label}：{note}")
        if i == 1:
            report.certificate_fingerprint = fingerprints[0] or None
            report.signer = _subject_cn(sig.signer_cert)
            report.signed_at = sig.self_reported_timestamp
            try:
                spki = sig.signer_cert["tbs_certificate"]["subject_public_key_info"].dump()
                report.public_key_fingerprint = sha256_fingerprint(spki)
            except Exception:
                report.public_key_fingerprint = None

    if len(signatures) == 1:
        add(Check(PRESENT, True, "文件含 1 个电子签名，符合本局记录只有一个签名的规定。"))
    else:
        add(Check(PRESENT, False, f"文件含 {len(signatures)} 个电子签名，而本局的记录只有一个签名（本局的认证签名），"
                  "其余签名必定是签章之后追加的：" + "；".join(described) + "。"))  # fmt: skip

    first = signatures[0]
    try:
        level = first.docmdp_level
    except Exception:
        level = None
    if level == MDPPerm.NO_CHANGES:
        add(Check(CERTIFY, True, "第一个签名是认证签名，声明签署后不允许任何修改（DocMDP 1）。"))
    elif level is None:
        add(Check(CERTIFY, False, "第一个签名不是认证签名（本局的记录以“不允许任何修改”的认证签名签署）。"))
    else:
        add(
            Check(
                CERTIFY, False, f"第一个签名是允许修改（DocMDP {int(level)}）的认证签名，不是本局的签署方式。"
            )
        )

    try:
        last_signed = max(int(sig.signed_revision) for sig in signatures)
        later = _later_revisions(reader, int(first.signed_revision))
        coverage = first.evaluate_signature_coverage()
    except Exception:
        later, coverage, last_signed = ["修订历史无法解析"], None, -1
    try:
        earlier = _earlier_revisions(reader, int(first.signed_revision))
    except Exception:
        earlier = ["修订历史无法解析"]
    if later:
        add(
            Check(
                COVERAGE, False, "签章之后文件被追加了内容，签名没有覆盖整个文件。" + "；".join(later) + "。"
            )
        )
    elif coverage != SignatureCoverageLevel.ENTIRE_FILE or last_signed != int(first.signed_revision):
        add(Check(COVERAGE, False, "签章之后文件末尾被追加了数据（签名没有覆盖整个文件）。"))
    else:
        add(Check(COVERAGE, True, "签名覆盖整个文件，签署后没有追加任何内容。"))
    if earlier:
        add(Check(HISTORY, False, "本程序只对新生成的文件签章，签章之前不应有修改；这份文件在签章之前已被修改过"
                  "（可能是他人改动原件后重新签章）：" + "；".join(earlier) + "。"))  # fmt: skip

    add(Check(INTACT, intact, "签名范围内的内容与签署时完全一致（哈希值相符）。" if intact
              else "签名范围内的内容已被改动（哈希值不符）：" + "；".join(problems[INTACT]) + "。"))  # fmt: skip
    add(Check(VALID, valid, "签名值经证书公钥验证有效。" if valid else "；".join(problems[VALID]) + "。"))
    add(Check(CONTAINER, container, "签名数据格式规范，无多余内容。" if container
              else "；".join(problems[CONTAINER])))  # fmt: skip
    if report.signed_at is not None:
        local = report.signed_at.astimezone()
        add(
            Check(TIME, True, f"{format_signing_time(local)}；该时间取自签章电脑的时钟，未经可信时间源证实。")
        )
    else:
        add(Check(TIME, True, "签名中没有记录签署时间。"))
    if report.certificate_fingerprint:
        add(Check(CERT, True, f"{report.signer}；证书指纹（SHA-256）：{report.certificate_fingerprint}"))
        report.trusted = all(fp and fp in trusted for fp in fingerprints)
        add(
            Check(
                TRUST,
                report.trusted,
                "证书指纹与登记的本局签章证书一致。"
                if report.trusted
                else "证书不在本程序登记的可信证书之列：签名人未经核实（本局证书为自签名证书，需人工核对指纹）。",
            )
        )
    return report


def _validate(sig: Any) -> Any:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    # No diff analysis: the policy refuses every later revision itself (and names what it holds).
    return validate_pdf_signature(sig, ValidationContext(trust_roots=[]), skip_diff=True)


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
                    result[name] = _stream_bytes(stream.get_object())
    except UserError:
        raise
    except Exception:  # any parse failure of an untrusted file
        what = "PDF 文件已损坏或被改动" if data.lstrip()[:5] == b"%PDF-" else "文件不是 PDF"
        raise UserError(f"无法读取附件：{what}。") from None
    return result
