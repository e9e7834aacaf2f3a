"""The bureau's two signing keys, made on first use and kept under ``<data_dir>/keys/``.

* An Ed25519 key signs the JSON draw records (small, fast, deterministic signatures).
* An ECDSA P-256 key with a self-signed X.509 certificate makes PAdES signatures in PDF files
  (PDF viewers do not yet handle EdDSA reliably).

Layout of ``<data_dir>/keys/``::

    record-ed25519.key        Ed25519 private key, PKCS#8 PEM, mode 0600
    pdf-p256.key              ECDSA P-256 private key, PKCS#8 PEM, mode 0600
    pdf-cert.pem              the self-signed certificate for that key (public)
    retired/pdf-cert-<UTC time>-<fingerprint prefix>.pem
                              certificates replaced by :meth:`KeyStore.renew_pdf_certificate`

Private key files are created atomically and never overwritten or deleted by this module. The
certificate is replaced only by an explicit :meth:`KeyStore.renew_pdf_certificate` call (after
the bureau's name changed); renewal keeps the same key pair and files the old certificate under
``retired/`` so that earlier PDFs can still be matched.

Fingerprints for humans (see :func:`format_fingerprint`): SHA-256, uppercase hexadecimal in
groups of four separated by single spaces, 16 groups in all, e.g.
``"3F2A 9C01 …"``. The record fingerprint is taken over the raw 32-byte Ed25519 public key; the
certificate fingerprint over the certificate's DER encoding (what certificate viewers call the
SHA-256 fingerprint or thumbprint).

On a shared server (see :mod:`dsj_desktop.keyvault`) the keys are the database's, not the folder's:
opening such a database registers its :class:`~dsj_desktop.keyvault.ServerKeys` for the data folder
(:func:`use_server_keys`) and every ``KeyStore(data_dir)`` then reads the public parts from the
server and decrypts the private ones only to sign; the folder's ``keys/`` files are not used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from dsj_desktop.errors import UserError
from dsj_desktop.fileutil import atomic_write_bytes, write_new_file

if TYPE_CHECKING:
    from pyhanko.sign.signers import SimpleSigner

    from dsj_desktop.keyvault import ServerKeys

_SERVER_KEYS: dict[Path, ServerKeys] = {}


def use_server_keys(data_dir: Path, keys: ServerKeys | None, *, only: ServerKeys | None = None) -> None:
    """From now on ``KeyStore(data_dir)`` means the server's *keys* (None: the folder's own again;
    with *only*, only if those are still the ones registered)."""
    where = Path(data_dir).resolve()
    if keys is not None:
        _SERVER_KEYS[where] = keys
    elif only is None or _SERVER_KEYS.get(where) is only:
        _SERVER_KEYS.pop(where, None)


def server_keys(data_dir: Path) -> ServerKeys | None:
    return _SERVER_KEYS.get(Path(data_dir).resolve())


KEYS_DIRNAME = "keys"
RECORD_KEY_FILE = "record-ed25519.key"
PDF_KEY_FILE = "pdf-p256.key"
PDF_CERT_FILE = "pdf-cert.pem"
RETIRED_DIRNAME = "retired"

CERT_VALIDITY_YEARS = 30
CERT_SUFFIX = "电子签章"
MAX_BUREAU_NAME = 60  # X.509 limits CN and O to 64 characters; the CN adds "电子签章"

_PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
_HEX_ONLY = re.compile(r"[0-9A-F]{64}")


def group_hex(text: str, size: int = 4) -> str:
    """A hash written in groups (for reading aloud); the ungrouped form is the canonical one. Used for
    fingerprints here and for the draw's hashes on the record and the stage."""
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


def format_fingerprint(digest: bytes) -> str:
    """``digest`` as uppercase hex in groups of four separated by spaces."""
    return group_hex(digest.hex().upper())


def sha256_fingerprint(data: bytes) -> str:
    """The human fingerprint (see module docs) of *data*."""
    return format_fingerprint(hashlib.sha256(data).digest())


def normalize_fingerprint(text: str) -> str:
    """Accept a SHA-256 fingerprint typed or pasted in any usual form (spaces, colons, dashes,
    lower case) and return the canonical grouped form. Raises :class:`UserError` if it is not one."""
    h = re.sub(r"[\s:\-]", "", text).upper()
    if not _HEX_ONLY.fullmatch(h):
        raise UserError(f"“{text}”不是有效的 SHA-256 指纹（应为 64 位十六进制数字）。")
    return format_fingerprint(bytes.fromhex(h))


class CertificateNameMismatch(UserError):
    """The stored PDF certificate names a different bureau than the one asked for."""

    def __init__(self, current: str, requested: str) -> None:
        super().__init__(
            f"签章证书上的单位名称是“{current}”，与当前单位名称“{requested}”不一致。"
            "请在“设置”中确认后重新生成签章证书（原证书会保留，已签署的文件仍可核验）。"
        )
        self.current = current
        self.requested = requested


def _check_bureau_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise UserError("请先在“设置”中填写单位名称，再生成签章证书。")
    if len(name) > MAX_BUREAU_NAME:
        raise UserError(f"单位名称过长（{len(name)} 个字），签章证书最多支持 {MAX_BUREAU_NAME} 个字。")
    return name


class KeyStore:
    """The bureau's keys under ``data_dir/keys``; see the module documentation."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.keys_dir = self.data_dir / KEYS_DIRNAME
        self._record_key: ed25519.Ed25519PrivateKey | None = None
        self._pdf_key: ec.EllipticCurvePrivateKey | None = None
        self._cert: x509.Certificate | None = None
        self.server = server_keys(self.data_dir)  # the keys of a shared server database, or None

    @property
    def on_server(self) -> bool:
        return self.server is not None

    # -- paths ------------------------------------------------------------------------------

    @property
    def record_key_path(self) -> Path:
        return self.keys_dir / RECORD_KEY_FILE

    @property
    def pdf_key_path(self) -> Path:
        return self.keys_dir / PDF_KEY_FILE

    @property
    def pdf_cert_path(self) -> Path:
        return self.keys_dir / PDF_CERT_FILE

    @property
    def retired_dir(self) -> Path:
        return self.keys_dir / RETIRED_DIRNAME

    def _ensure_dir(self) -> None:
        try:
            self.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise UserError(f"无法创建密钥文件夹“{self.keys_dir}”：{exc.strerror or exc}") from None

    # -- private keys -------------------------------------------------------------------------

    def _load_or_create_key(self, path: Path, generate: Callable[[], _PrivateKey]) -> bytes:
        """The PEM bytes of the key at *path*, creating it first if it does not exist."""
        if not path.exists():
            self._ensure_dir()
            pem = generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            write_new_file(path, pem, mode=0o600)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise UserError(f"无法读取密钥文件“{path}”：{exc.strerror or exc}") from None

    @staticmethod
    def _damaged(path: Path) -> UserError:
        return UserError(
            f"密钥文件“{path}”已损坏或不是本程序生成的密钥。程序不会自动覆盖它，请从备份中恢复该文件后重试。"
        )

    def record_private_key(self) -> ed25519.Ed25519PrivateKey:
        """The Ed25519 key that signs JSON draw records (created on first use)."""
        if self._record_key is None:
            path = self.record_key_path
            try:
                if self.server is not None:
                    key = serialization.load_der_private_key(self.server.private("record"), password=None)
                else:
                    pem = self._load_or_create_key(path, ed25519.Ed25519PrivateKey.generate)
                    key = serialization.load_pem_private_key(pem, password=None)
            except (ValueError, TypeError):
                raise self._damaged(path) from None
            if not isinstance(key, ed25519.Ed25519PrivateKey):
                raise self._damaged(path)
            self._record_key = key
        return self._record_key

    def record_public_key_bytes(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        if self.server is not None:
            return self.server.record_public
        return (
            self.record_private_key()
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )

    def record_fingerprint(self) -> str:
        """SHA-256 of the raw record public key, in the human format."""
        return sha256_fingerprint(self.record_public_key_bytes())

    def _pdf_private_key(self) -> ec.EllipticCurvePrivateKey:
        if self._pdf_key is None:
            path = self.pdf_key_path
            try:
                if self.server is not None:
                    key = serialization.load_der_private_key(self.server.private("pdf"), password=None)
                else:
                    pem = self._load_or_create_key(path, lambda: ec.generate_private_key(ec.SECP256R1()))
                    key = serialization.load_pem_private_key(pem, password=None)
            except (ValueError, TypeError):
                raise self._damaged(path) from None
            if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
                raise self._damaged(path)
            self._pdf_key = key
        return self._pdf_key

    # -- the PDF certificate ------------------------------------------------------------------

    def _make_certificate(self, bureau_name: str) -> x509.Certificate:
        key = self._pdf_private_key()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, bureau_name),
                x509.NameAttribute(NameOID.COMMON_NAME, bureau_name + CERT_SUFFIX),
            ]
        )
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        public = key.public_key()
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            # A day of slack for a PC clock that runs a little behind.
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=round(365.25 * CERT_VALIDITY_YEARS)))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,  # a.k.a. nonRepudiation
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
            .sign(key, hashes.SHA256())
        )

    def _pdf_public_key(self) -> ec.EllipticCurvePublicKey:
        if self.server is not None:
            key = serialization.load_der_public_key(self.server.pdf_public)
            assert isinstance(key, ec.EllipticCurvePublicKey)
            return key
        return self._pdf_private_key().public_key()

    def _load_certificate(self) -> x509.Certificate | None:
        if self._cert is None and self.server is not None:
            pem, _ = self.server.certificates()
            if pem is None:
                return None
            cert = x509.load_pem_x509_certificate(pem)
            if cert.public_key() != self._pdf_public_key():
                raise UserError(f"单位服务器“{self.server.where}”上的签章证书与本局签章密钥不匹配。")
            self._cert = cert
        if self._cert is None:
            path = self.pdf_cert_path
            if not path.exists():
                return None
            try:
                cert = x509.load_pem_x509_certificate(path.read_bytes())
            except OSError as exc:
                raise UserError(f"无法读取签章证书“{path}”：{exc.strerror or exc}") from None
            except ValueError:
                raise UserError(
                    f"签章证书“{path}”已损坏。程序不会自动覆盖它，请从备份中恢复该文件后重试。"
                ) from None
            if cert.public_key() != self._pdf_private_key().public_key():
                raise UserError(f"签章证书“{path}”与签章密钥不匹配。请从同一次备份中恢复 keys 文件夹。")
            self._cert = cert
        return self._cert

    def has_pdf_certificate(self) -> bool:
        if self.server is not None:
            return self.server.certificates()[0] is not None
        return self.pdf_cert_path.exists()

    def pdf_certificate_bureau_name(self) -> str | None:
        """The bureau name (O=) in the stored certificate, or ``None`` if there is none yet."""
        cert = self._load_certificate()
        if cert is None:
            return None
        values = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        return str(values[0].value) if values else ""

    def ensure_pdf_certificate(self, bureau_name: str) -> x509.Certificate:
        """The PDF certificate, made for *bureau_name* if there is none yet.

        Raises :class:`CertificateNameMismatch` if the stored certificate names another bureau;
        replacing it is :meth:`renew_pdf_certificate`'s job, never a side effect.
        """
        bureau_name = _check_bureau_name(bureau_name)
        cert = self._load_certificate()
        if cert is None and self.server is not None:
            new = self._make_certificate(bureau_name)
            # (certificates of earlier bureau keys stay known: PDFs signed before still match)
            self.server.save_certificates(
                new.public_bytes(serialization.Encoding.PEM), self.server.certificates()[1]
            )
            cert = self._load_certificate()
        if cert is None:
            self._ensure_dir()
            new = self._make_certificate(bureau_name)
            write_new_file(self.pdf_cert_path, new.public_bytes(serialization.Encoding.PEM), mode=0o644)
            cert = self._load_certificate()  # whichever certificate won a race
            assert cert is not None
        current = self.pdf_certificate_bureau_name()
        if current != bureau_name:
            raise CertificateNameMismatch(current or "", bureau_name)
        return cert

    def renew_pdf_certificate(self, bureau_name: str) -> str:
        """Make a new certificate for *bureau_name* (same key pair) and return its fingerprint.

        The old certificate is kept under ``retired/``. Call this only on the user's explicit
        request: every PC that trusted the old certificate must trust the new one.
        """
        bureau_name = _check_bureau_name(bureau_name)
        old = self._load_certificate()
        if self.server is not None:
            new = self._make_certificate(bureau_name)
            _, retired = self.server.certificates()
            if old is not None:
                retired = [old.public_bytes(serialization.Encoding.PEM), *retired]
            self.server.save_certificates(new.public_bytes(serialization.Encoding.PEM), retired)
            self._cert = None
            return self.pdf_certificate_fingerprint()
        self._ensure_dir()
        if old is not None:
            old_der = old.public_bytes(serialization.Encoding.DER)
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            prefix = hashlib.sha256(old_der).hexdigest()[:8].upper()
            self.retired_dir.mkdir(exist_ok=True)
            write_new_file(
                self.retired_dir / f"pdf-cert-{stamp}-{prefix}.pem",
                old.public_bytes(serialization.Encoding.PEM),
                mode=0o644,
            )
        new = self._make_certificate(bureau_name)
        atomic_write_bytes(self.pdf_cert_path, new.public_bytes(serialization.Encoding.PEM), mode=0o644)
        self._cert = None
        return self.pdf_certificate_fingerprint()

    def _current_certificate(self) -> x509.Certificate:
        cert = self._load_certificate()
        if cert is None:
            raise UserError("尚未生成签章证书：请先在“设置”中填写单位名称。")
        return cert

    def pdf_certificate_der(self) -> bytes:
        """The current certificate, DER-encoded. Raises :class:`UserError` if none exists yet."""
        return self._current_certificate().public_bytes(serialization.Encoding.DER)

    def pdf_certificate_fingerprint(self) -> str:
        """SHA-256 of the certificate's DER encoding, in the human format."""
        return sha256_fingerprint(self.pdf_certificate_der())

    def pdf_public_key_fingerprint(self) -> str:
        """SHA-256 of the PDF signing key's SubjectPublicKeyInfo (DER), in the human format. Every
        signed draw record names it (``pdf_key_fingerprint``), binding the record key to the PDF
        certificate; it survives :meth:`renew_pdf_certificate`, which keeps the key pair."""
        spki = self._pdf_public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return sha256_fingerprint(spki)

    def registered_fingerprints(self) -> list[str]:
        """The fingerprints of the keys this folder holds (record key, current and retired PDF
        certificates), for ``verify --data-dir``. Read only: creates nothing, and a folder without
        keys gives an empty list. A workstation of a shared server also registers the bureau's
        record key it joined with (``server-*.json``, see :mod:`dsj_desktop.db.server_keys`)."""
        result: list[str] = []
        if self.server is not None:
            past = [sha256_fingerprint(k) for k in self.server.past_record_publics]
            return [self.record_fingerprint(), *past, *self.known_pdf_certificate_fingerprints()]
        for note in sorted(self.keys_dir.glob("server-*.json")):
            try:
                seen = json.loads(note.read_text("utf-8"))
                for key in [seen["record_key"], *seen.get("past_record_keys", [])]:
                    fp = sha256_fingerprint(bytes.fromhex(key))
                    if fp not in result:
                        result.append(fp)
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue
        try:
            if self.record_key_path.is_file():
                result.append(self.record_fingerprint())
            if self.pdf_cert_path.is_file() and self.pdf_key_path.is_file():
                result += self.known_pdf_certificate_fingerprints()
        except UserError:
            return result
        return result

    def known_pdf_certificate_fingerprints(self) -> list[str]:
        """The current certificate's fingerprint first, then those of retired certificates."""
        result = [self.pdf_certificate_fingerprint()] if self.has_pdf_certificate() else []
        if self.server is not None:
            for pem in self.server.certificates()[1]:
                fp = sha256_fingerprint(
                    x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
                )
                if fp not in result:
                    result.append(fp)
            return result
        if self.retired_dir.is_dir():
            for path in sorted(self.retired_dir.glob("pdf-cert-*.pem"), reverse=True):
                try:
                    cert = x509.load_pem_x509_certificate(path.read_bytes())
                except (OSError, ValueError):
                    continue
                fp = sha256_fingerprint(cert.public_bytes(serialization.Encoding.DER))
                if fp not in result:
                    result.append(fp)
        return result

    def export_pdf_certificate(self, dest: Path) -> Path:
        """Write the certificate for installing on another PC and return the path written.

        ``.cer``/``.der``/``.crt`` gets DER (what Windows, Acrobat and WPS import by double-click
        or "导入"); ``.pem`` gets PEM. Any other suffix is replaced by ``.cer``.
        """
        dest = Path(dest)
        suffix = dest.suffix.lower()
        if suffix not in (".cer", ".der", ".crt", ".pem"):
            dest = dest.with_suffix(".cer")
            suffix = ".cer"
        cert = self._current_certificate()
        encoding = serialization.Encoding.PEM if suffix == ".pem" else serialization.Encoding.DER
        atomic_write_bytes(dest, cert.public_bytes(encoding), mode=0o644)
        return dest

    def pdf_signer(self, bureau_name: str) -> SimpleSigner:
        """A pyHanko signer with the P-256 key and its certificate (made on first use).

        Raises :class:`CertificateNameMismatch` if the certificate names another bureau.
        """
        from asn1crypto import keys as asn1_keys
        from asn1crypto import x509 as asn1_x509
        from pyhanko.sign.signers import SimpleSigner
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        cert = self.ensure_pdf_certificate(bureau_name)
        key_der = self._pdf_private_key().private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        asn1_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        return SimpleSigner(
            signing_cert=asn1_cert,
            signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
            # Nothing else to embed: the CMS then holds exactly one certificate, the signer's.
            cert_registry=SimpleCertificateStore(),  # type: ignore[no-untyped-call]
        )
