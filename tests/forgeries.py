"""Forged record PDFs, built the way a forger would from a genuine signed file.

Each function takes the genuine file's bytes and returns a forgery; the tests assert that
``verify`` refuses every one of them and names why. The techniques follow the independent check
of issue 13 (incremental updates over a signed file, second signatures, re-signing) and a few
more (annotations, form fields, catalogue changes, a forged revision that hides itself).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore


def self_signed_signer(common_name: str, organization: str = "") -> signers.SimpleSigner:
    """A pyHanko signer with a fresh P-256 key and a self-signed certificate named as given."""
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    name = x509.Name(attrs)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore(),  # type: ignore[no-untyped-call]
    )


def _writer(data: bytes) -> IncrementalPdfFileWriter:
    return IncrementalPdfFileWriter(io.BytesIO(data), strict=False)


def _out(w: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    w.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def _helvetica(w: IncrementalPdfFileWriter) -> generic.DictionaryObject:
    font = w.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Font"),
                generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
                generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
            }
        )
    )
    return generic.DictionaryObject(
        {generic.NameObject("/Font"): generic.DictionaryObject({generic.NameObject("/FX"): font})}
    )


def paint_over(
    data: bytes, page: int = 0, text: str = "FORGED NAME", *, box: tuple[int, ...] = (60, 600, 300, 40)
) -> bytes:
    """An incremental update that paints a white box and new text on *page* (over a name)."""
    w = _writer(data)
    x, y, width, height = box
    content = (
        f"q 1 1 1 rg {x} {y} {width} {height} re f Q q 0 0 0 rg BT /FX 12 Tf {x + 4} {y + 12} Td ({text}) Tj ET Q"
    ).encode("ascii")
    stream = w.add_object(generic.StreamObject(stream_data=content))
    w.add_stream_to_page(page, stream, resources=_helvetica(w))  # type: ignore[no-untyped-call]
    return _out(w)


def add_page(data: bytes, text: str = "ADDED PAGE") -> bytes:
    """An incremental update that appends a page."""
    w = _writer(data)
    content = f"BT /FX 18 Tf 72 760 Td ({text}) Tj ET".encode("ascii")
    stream = w.add_object(generic.StreamObject(stream_data=content))
    page = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Page"),
            generic.NameObject("/MediaBox"): generic.ArrayObject(
                [
                    generic.NumberObject(0),
                    generic.NumberObject(0),
                    generic.NumberObject(595),
                    generic.NumberObject(842),
                ]
            ),
            generic.NameObject("/Contents"): stream,
            generic.NameObject("/Resources"): _helvetica(w),
        }
    )
    w.insert_page(page)  # type: ignore[no-untyped-call]
    return _out(w)


def add_annotation(data: bytes, page: int = 0, text: str = "forged note") -> bytes:
    """An incremental update that adds a FreeText annotation (what a reader's comment tool does)."""
    w = _writer(data)
    page_ref = w.find_page_for_modification(page)[0]  # type: ignore[no-untyped-call]
    annot = w.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(v) for v in (60, 600, 360, 640)]
                ),
                generic.NameObject("/Contents"): generic.TextStringObject(text),
                generic.NameObject("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
            }
        )
    )
    w.register_annotation(page_ref, annot)  # type: ignore[no-untyped-call]
    return _out(w)


def change_catalog(data: bytes) -> bytes:
    """An innocent-looking incremental update (the document language)."""
    w = _writer(data)
    w.root["/Lang"] = generic.TextStringObject("en")
    w.update_root()  # type: ignore[no-untyped-call]
    return _out(w)


class _CarelessSigner(signers.PdfSigner):
    """pyHanko refuses to sign over a "no changes" certification; a forger's tool does not."""

    def _enforce_certification_constraints(self, reader: object) -> None:
        return None


def add_signature(
    data: bytes,
    signer: signers.SimpleSigner | None = None,
    *,
    field_name: str = "Forger",
    visible: bool = False,
) -> bytes:
    """A second (approval) signature over the file as it is, by a self-signed certificate."""
    signer = signer or self_signed_signer("某某", "某某公司")
    w = _writer(data)
    spec = (
        fields.SigFieldSpec(field_name, on_page=0, box=(400, 40, 560, 100))
        if visible
        else fields.SigFieldSpec(field_name)
    )
    meta = signers.PdfSignatureMetadata(field_name=field_name, md_algorithm="sha256")
    out = io.BytesIO()
    _CarelessSigner(meta, signer=signer, new_field_spec=spec).sign_pdf(w, output=out)
    return out.getvalue()


def add_empty_signature_field(data: bytes) -> bytes:
    """An incremental update that adds an unsigned signature field (a form field)."""
    w = _writer(data)
    fields.append_signature_field(w, fields.SigFieldSpec("Later", on_page=0, box=(10, 10, 100, 40)))
    return _out(w)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
