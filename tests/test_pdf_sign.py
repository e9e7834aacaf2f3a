from __future__ import annotations

import io
import json
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from dsj_desktop.errors import UserError
from dsj_desktop.keys import CertificateNameMismatch, KeyStore
from dsj_desktop.pdf.document import PdfDocument
from dsj_desktop.pdf.sign import Attachment, SignedPdf, sign_pdf, sign_pdf_file
from dsj_desktop.pdf.verify import (
    COVERAGE,
    FORMAT,
    INTACT,
    PRESENT,
    TRUST,
    PdfReport,
    extract_attachments,
    verify_pdf,
)

from .pdf_helpers import BUREAU, need, pdf_fonts, pdf_pages_text, sample_record

RECORD = json.dumps(
    {"session": "CJ-2025-0001", "drawn": ["91350100M000001Y41", "91350100M000002Y42"], "备注": "测试"},
    ensure_ascii=False,
    indent=2,
).encode("utf-8")
NOTE = "附件说明：抽取记录的机器可读版本。\n".encode()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    return KeyStore(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def unsigned() -> tuple[bytes, PdfDocument]:
    doc = sample_record(rows=90)
    return doc.build(), doc


@pytest.fixture(scope="module")
def signed(
    keys: KeyStore, unsigned: tuple[bytes, PdfDocument], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    data, doc = unsigned
    result = sign_pdf(
        data,
        keys,
        BUREAU,
        attachments=[
            Attachment("record.json", RECORD, description="抽取记录"),
            Attachment("说明.txt", NOTE, mime_type="text/plain"),
        ],
        stamp=doc.stamp_placement,
        reason="确认抽取结果",
        location="青山县",
    )
    path = tmp_path_factory.mktemp("signed") / "record-signed.pdf"
    result.save(path)
    return path


def _report(data: bytes | Path, keys: KeyStore) -> PdfReport:
    return verify_pdf(data, trusted_fingerprints=keys.known_pdf_certificate_fingerprints())


def test_signed_record_verifies(signed: Path, keys: KeyStore) -> None:
    report = _report(signed, keys)
    assert report.ok, report.checks
    assert report.trusted
    assert report.signature_count == 1
    assert report.certificate_fingerprint == keys.pdf_certificate_fingerprint()
    assert report.signer is not None and BUREAU in report.signer
    assert report.signed_at is not None
    assert sorted(report.attachment_names) == ["record.json", "说明.txt"]
    assert all(c.ok for c in report.checks)
    assert "核验通过" in report.verdict
    # every check line is Chinese text a user can read
    assert all(re.search(r"[\u4e00-\u9fff]", c.name + c.detail) for c in report.checks)


def test_untrusted_certificate_is_reported_not_failed(signed: Path) -> None:
    report = verify_pdf(signed)
    assert report.ok
    assert not report.trusted
    trust = next(c for c in report.checks if c.name == TRUST)
    assert not trust.ok and "指纹" in trust.detail
    spaced = verify_pdf(
        signed, trusted_fingerprints=[str(report.certificate_fingerprint).replace(" ", ":").lower()]
    )
    assert spaced.trusted


def test_extract_attachments_returns_exact_bytes(signed: Path) -> None:
    files = extract_attachments(signed)
    assert files == {"record.json": RECORD, "说明.txt": NOTE}


def test_signing_time_and_stamp(keys: KeyStore, unsigned: tuple[bytes, PdfDocument], tmp_path: Path) -> None:
    data, doc = unsigned
    result = sign_pdf(
        data, keys, BUREAU, attachments=[Attachment("record.json", RECORD)], stamp=doc.stamp_placement
    )
    assert isinstance(result, SignedPdf)
    report = _report(result.data, keys)
    assert report.signed_at is not None
    assert abs(report.signed_at - result.signed_at) < timedelta(seconds=1)
    assert result.certificate_fingerprint == report.certificate_fingerprint
    path = tmp_path / "s.pdf"
    result.save(path)
    last = pdf_pages_text(path)[-1]
    assert f"{BUREAU}电子签章" in last
    assert "签署时间：" + result.signed_at.strftime("%Y-%m-%d%H:%M:%S") in last
    assert result.certificate_fingerprint.replace(" ", "")[:32] in last
    assert all(emb == "yes" for _, emb in pdf_fonts(path))


def test_qpdf_accepts_the_signed_file(signed: Path) -> None:
    qpdf = need("qpdf")
    check = subprocess.run([qpdf, "--check", str(signed)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    shown = subprocess.run([qpdf, "--show-attachment=record.json", str(signed)], capture_output=True)
    assert shown.returncode == 0 and shown.stdout == RECORD


def _flip(data: bytes, pos: int) -> bytes:
    bad = bytearray(data)
    bad[pos] ^= 0x01
    return bytes(bad)


def _positions(data: bytes) -> dict[str, int]:
    """Byte positions of interest in a signed file."""
    m = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", data)
    assert m is not None
    _, gap_start, gap_end, _ = map(int, m.groups())
    gap = data[gap_start:gap_end]
    der_hex_len = len(gap[1:-1].rstrip(b"0"))
    ef = data.index(b"/EmbeddedFile")
    ef_stream = data.index(b"stream", ef) + len(b"stream") + 4  # inside the compressed attachment data
    page_stream = data.index(b"stream", data.index(b"/Length")) + 20  # first content stream
    return {
        "header": 2,
        "first content stream": page_stream,
        "middle of the original file": gap_start // 2,
        "attachment stream": ef_stream,
        "ByteRange numbers": m.start(2),
        "CMS header": gap_start + 5,
        "CMS certificate": gap_start + 1 + 2 * 120,
        "CMS signature value": gap_start + der_hex_len - 4,
        "signature padding": gap_start + der_hex_len + 40,
        "last padding digit": gap_end - 2,
        "closing bracket": gap_end - 1,
        "after the signature": gap_end + 10,
        "startxref": data.rindex(b"startxref") + 3,
        "last byte": len(data) - 1,
    }


def test_any_flipped_byte_fails(signed: Path, keys: KeyStore) -> None:
    data = signed.read_bytes()
    for where, pos in _positions(data).items():
        report = _report(_flip(data, pos), keys)
        assert not report.ok, f"flipping a byte at {pos} ({where}) went unnoticed"


def test_case_change_in_signature_hex_fails(signed: Path, keys: KeyStore) -> None:
    data = signed.read_bytes()
    start = re.search(rb"/Contents\s*<", data)
    assert start is not None
    hex_pos = next(i for i in range(start.end(), start.end() + 400) if chr(data[i]) in "abcdefABCDEF")
    bad = bytearray(data)
    bad[hex_pos] = ord(chr(bad[hex_pos]).swapcase())  # same value, different bytes
    assert not _report(bytes(bad), keys).ok


def test_later_incremental_update_fails(signed: Path, keys: KeyStore) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(io.BytesIO(signed.read_bytes()))
    w.root["/Lang"] = generic.TextStringObject("en")  # an innocent-looking change
    w.update_root()  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    w.write(out)  # type: ignore[no-untyped-call]
    report = _report(out.getvalue(), keys)
    assert not report.ok
    assert not next(c for c in report.checks if c.name == COVERAGE).ok
    appended = _report(signed.read_bytes() + b"\n% appended\n", keys)
    assert not appended.ok


def test_not_a_pdf_and_unsigned_pdf(tmp_path: Path, unsigned: tuple[bytes, PdfDocument]) -> None:
    for junk in (b"", b"hello, world", b"%PDF-1.7\n garbage", RECORD):
        report = verify_pdf(junk)
        assert not report.ok
        assert report.checks[0].name == FORMAT and not report.checks[0].ok
        assert "PDF" in report.checks[0].detail
        assert "核验未通过" in report.verdict
    report = verify_pdf(unsigned[0])
    assert not report.ok
    assert [c.name for c in report.checks] == [FORMAT, PRESENT]
    assert "没有电子签名" in report.checks[1].detail
    with pytest.raises(UserError):
        verify_pdf(tmp_path / "nowhere.pdf")
    with pytest.raises(UserError):
        extract_attachments(b"not a pdf")
    assert extract_attachments(unsigned[0]) == {}


def test_damaged_content_names_the_failed_check(signed: Path, keys: KeyStore) -> None:
    data = signed.read_bytes()
    report = _report(_flip(data, _positions(data)["first content stream"]), keys)
    assert not next(c for c in report.checks if c.name == INTACT).ok


def test_sign_file_in_place_and_wrong_bureau(
    keys: KeyStore, unsigned: tuple[bytes, PdfDocument], tmp_path: Path
) -> None:
    path = tmp_path / "record.pdf"
    path.write_bytes(unsigned[0])
    result = sign_pdf_file(
        path, path, keys, BUREAU, stamp=None, attachments=[Attachment("record.json", RECORD)]
    )
    assert path.read_bytes() == result.data
    assert _report(path, keys).ok
    assert not list(tmp_path.glob("*.part"))
    with pytest.raises(CertificateNameMismatch):
        sign_pdf(unsigned[0], keys, "白水县应急管理局")
    with pytest.raises(UserError):
        sign_pdf(b"not a pdf", keys, BUREAU)
