from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from dsj_desktop.errors import UserError
from dsj_desktop.keys import (
    CertificateNameMismatch,
    KeyStore,
    format_fingerprint,
    group_hex,
    normalize_fingerprint,
)

BUREAU = "青山县应急管理局"
FINGERPRINT = re.compile(r"[0-9A-F]{4}( [0-9A-F]{4}){15}")


def test_fingerprint_format() -> None:
    fp = format_fingerprint(bytes(range(32)))
    assert fp == "0001 0203 0405 0607 0809 0A0B 0C0D 0E0F 1011 1213 1415 1617 1819 1A1B 1C1D 1E1F"
    assert normalize_fingerprint(fp.lower().replace(" ", ":")) == fp
    assert normalize_fingerprint(fp.replace(" ", "")) == fp
    with pytest.raises(UserError):
        normalize_fingerprint("1234")


def test_fingerprints_and_the_draw_s_hashes_are_grouped_by_one_function() -> None:
    """keys.group_hex, the lowest layer that groups hex, serves the fingerprints, the record PDF
    and the draw screen alike: no second copy of it anywhere in the package."""
    import dsj_desktop

    assert group_hex("0a1b2c3d4e5f") == "0a1b 2c3d 4e5f" and group_hex("abcde", 2) == "ab cd e"
    digest = bytes(range(32))
    assert format_fingerprint(digest) == group_hex(digest.hex().upper())
    package = Path(dsj_desktop.__file__).parent
    defined = sorted(
        p.relative_to(package).as_posix()
        for p in package.rglob("*.py")
        if "def group_hex(" in p.read_text(encoding="utf-8")
    )
    assert defined == ["keys.py"]


def test_record_key_created_once_and_reused(tmp_path: Path) -> None:
    ks = KeyStore(tmp_path)
    assert not ks.record_key_path.exists()
    key = ks.record_private_key()
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    assert ks.record_key_path.parent == tmp_path / "keys"
    pem = ks.record_key_path.read_bytes()
    fp = ks.record_fingerprint()
    assert FINGERPRINT.fullmatch(fp)
    assert len(ks.record_public_key_bytes()) == 32

    again = KeyStore(tmp_path)  # a new process, as it were
    assert again.record_fingerprint() == fp
    assert again.record_public_key_bytes() == ks.record_public_key_bytes()
    assert ks.record_key_path.read_bytes() == pem
    signature = again.record_private_key().sign(b"record")
    key.public_key().verify(signature, b"record")


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX-only")
def test_private_keys_are_owner_only(tmp_path: Path) -> None:
    ks = KeyStore(tmp_path)
    ks.record_private_key()
    ks.pdf_signer(BUREAU)
    for path in (ks.record_key_path, ks.pdf_key_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(ks.keys_dir.stat().st_mode) & 0o077 == 0
    assert not [p for p in ks.keys_dir.iterdir() if p.name.endswith(".part")]


def test_pdf_certificate(tmp_path: Path) -> None:
    ks = KeyStore(tmp_path)
    assert not ks.has_pdf_certificate()
    with pytest.raises(UserError):
        ks.pdf_certificate_der()
    signer = ks.pdf_signer(BUREAU)
    assert signer.signing_cert is not None
    cert = x509.load_der_x509_certificate(ks.pdf_certificate_der())
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == BUREAU
    assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "CN"
    assert BUREAU in str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    years = (cert.not_valid_after_utc - cert.not_valid_before_utc).days / 365
    assert years > 20

    fp = ks.pdf_certificate_fingerprint()
    assert FINGERPRINT.fullmatch(fp)
    again = KeyStore(tmp_path)
    again.pdf_signer(BUREAU)
    assert again.pdf_certificate_fingerprint() == fp
    assert again.known_pdf_certificate_fingerprints() == [fp]


def test_certificate_never_replaced_silently(tmp_path: Path) -> None:
    ks = KeyStore(tmp_path)
    ks.pdf_signer(BUREAU)
    old_fp = ks.pdf_certificate_fingerprint()
    key_pem = ks.pdf_key_path.read_bytes()
    with pytest.raises(CertificateNameMismatch):
        KeyStore(tmp_path).pdf_signer("白水县应急管理局")
    assert KeyStore(tmp_path).pdf_certificate_fingerprint() == old_fp

    new_fp = KeyStore(tmp_path).renew_pdf_certificate("白水县应急管理局")
    assert new_fp != old_fp
    ks2 = KeyStore(tmp_path)
    assert ks2.pdf_certificate_bureau_name() == "白水县应急管理局"
    assert ks2.pdf_key_path.read_bytes() == key_pem  # same key pair
    assert ks2.known_pdf_certificate_fingerprints() == [new_fp, old_fp]
    ks2.pdf_signer("白水县应急管理局")


def test_export_certificate(tmp_path: Path) -> None:
    ks = KeyStore(tmp_path / "data")
    ks.ensure_pdf_certificate(BUREAU)
    cer = ks.export_pdf_certificate(tmp_path / "本局签章证书.cer")
    pem = ks.export_pdf_certificate(tmp_path / "本局签章证书.pem")
    other = ks.export_pdf_certificate(tmp_path / "cert.txt")
    assert other.suffix == ".cer"
    assert cer.read_bytes() == ks.pdf_certificate_der()
    # `certutil -hashfile x.cer SHA256` / `sha256sum x.cer` give the fingerprint (docs/pdf-signature.md)
    assert (
        normalize_fingerprint(hashlib.sha256(cer.read_bytes()).hexdigest())
        == ks.pdf_certificate_fingerprint()
    )
    assert x509.load_pem_x509_certificate(pem.read_bytes()) == x509.load_der_x509_certificate(
        cer.read_bytes()
    )


def test_damaged_key_is_not_overwritten(tmp_path: Path) -> None:
    ks = KeyStore(tmp_path)
    ks.record_private_key()
    ks.record_key_path.write_bytes(b"garbage")
    with pytest.raises(UserError, match="已损坏"):
        KeyStore(tmp_path).record_private_key()
    assert ks.record_key_path.read_bytes() == b"garbage"


def test_bureau_name_required(tmp_path: Path) -> None:
    with pytest.raises(UserError):
        KeyStore(tmp_path).pdf_signer("  ")
