"""The bureau's keys on a shared PostgreSQL server (see docs/postgresql.md, "The bureau's keys").

* The record key and the PDF certificate's key are the bureau's, one set for all workstations. They
  live in the database (``dsj_meta.key_vault``), encrypted under the key passphrase
  (:mod:`dsj_desktop.keyvault`); the public key and the certificates in the clear
  (``record_key``, ``pdf_key``, ``pdf_cert``, ``pdf_cert_retired``). They are decrypted in the
  memory of the program that signs, after the passphrase is entered at the draw.
* The write key (``write_key``: its public key; the private one in the vault too) signs the
  journal and the anchor, and the row seals' key is derived from it, as the record key does on the
  SQLite file. Every writing workstation needs it on every write, so it is installed once into each
  workstation's data folder (``keys/server-write-<id>.key``) when the workstation joins, after an
  administrator entered the passphrase. Beside it, ``keys/server-<id>.json`` remembers the bureau's
  public keys this workstation joined with: a server whose record key changed later is refused.
* A database created before this scheme (``record_key`` without ``write_key``) keeps the old way:
  the folder's own ``keys/`` (copied by hand), refused when it is not the registered key.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from sqlalchemy import Connection

from dsj_desktop import keys, keyvault
from dsj_desktop.db import pg
from dsj_desktop.errors import DatabaseError, UserError
from dsj_desktop.fileutil import atomic_write_bytes

Database = Any  # dsj_desktop.db.engine.Database (which imports this module)

_DER = serialization.Encoding.DER
_PKCS8 = serialization.PrivateFormat.PKCS8
_NONE = serialization.NoEncryption()

CHANGE_ACTION = "更改本局密钥口令"
CERT_ACTION = "保存签章证书到服务器"


def _short(fp: str) -> str:
    return fp[:29] + "…"


def write_key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def write_key_path(data_dir: Path, public: bytes) -> Path:
    return Path(data_dir) / keys.KEYS_DIRNAME / f"server-write-{write_key_id(public)}.key"


def joined_path(data_dir: Path, public: bytes) -> Path:
    return Path(data_dir) / keys.KEYS_DIRNAME / f"server-{write_key_id(public)}.json"


def seal_key_of(private: ed25519.Ed25519PrivateKey) -> bytes:
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, _NONE)
    return hashlib.sha256(b"dsj-row-seal-v1" + raw).digest()


def _raw_public(private: ed25519.Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _spki(private: ec.EllipticCurvePrivateKey) -> bytes:
    return private.public_key().public_bytes(_DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def is_vaulted(conn: Connection) -> bool:
    """Whether this server database keeps the bureau's keys itself (this scheme)."""
    return pg.meta(conn, "write_key") is not None


def installed_write_key(data_dir: Path, public: bytes) -> ed25519.Ed25519PrivateKey | None:
    path = write_key_path(data_dir, public)
    if not path.is_file():
        return None
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError):
        key = None
    if not isinstance(key, ed25519.Ed25519PrivateKey) or _raw_public(key) != public:
        raise DatabaseError(
            f"本机的服务器写入密钥文件“{path}”已损坏。请删除它后重新连接，由管理员输入本局密钥口令。"
        )
    return key


def _install(
    data_dir: Path, private: ed25519.Ed25519PrivateKey, record_public: bytes, pdf_public: bytes
) -> None:
    public = _raw_public(private)
    folder = Path(data_dir) / keys.KEYS_DIRNAME
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = private.private_bytes(serialization.Encoding.PEM, _PKCS8, _NONE)
    atomic_write_bytes(write_key_path(data_dir, public), pem, mode=0o600)
    note = {"record_key": record_public.hex(), "pdf_key": pdf_public.hex(), "write_key": public.hex()}
    atomic_write_bytes(joined_path(data_dir, public), json.dumps(note, indent=1).encode(), mode=0o644)


def new_vault(
    data_dir: Path, where: str
) -> tuple[dict[str, str], ed25519.Ed25519PrivateKey, dict[str, bytes]]:
    """A new server database's keys: the data folder's record key, PDF key and certificate when it
    has them (the bureau keeps its published fingerprint), else new ones made in memory only; a new
    write key. Asks a new passphrase. Returns (the dsj_meta rows, the write key, the private items)."""
    store = keys.KeyStore(data_dir)
    store.server = None  # the folder's own key files
    local = store.record_key_path.is_file()
    if local:
        record = store.record_private_key()
        pdf = store._pdf_private_key()
        cert = store.pdf_cert_path.read_bytes() if store.has_pdf_certificate() else None
    else:
        record = ed25519.Ed25519PrivateKey.generate()
        pdf = ec.generate_private_key(ec.SECP256R1())
        cert = None
    write = ed25519.Ed25519PrivateKey.generate()
    record_public = _raw_public(record)
    items = {
        "record": record.private_bytes(_DER, _PKCS8, _NONE),
        "pdf": pdf.private_bytes(_DER, _PKCS8, _NONE),
        "write": write.private_bytes(_DER, _PKCS8, _NONE),
    }
    fp = keys.sha256_fingerprint(record_public)
    origin = (
        "本机数据文件夹中现有的本局密钥（指纹 " + _short(fp) + "）将加密保存到服务器上，以后各台电脑都用它；"
        "在服务器上工作时不再使用本机 keys 文件夹中的明文密钥：本机不再单机使用时，建议管理员把 keys 文件夹"
        "移到 U 盘锁进保险柜（忘记口令时用它重设口令）。"
        if local
        else "程序将为本局生成新的签名密钥（指纹 " + _short(fp) + "），加密保存在服务器上。"
    )
    passphrase = keyvault.ask(
        keyvault.NEW,
        f"正在单位服务器“{where}”上建立本程序的数据库。{origin}"
        "请设定本局密钥口令：以后在抽取时签署记录、新电脑加入服务器时都要输入它。"
        f"至少 {keyvault.MIN_PASSPHRASE} 个字符，请抄写后锁进保险柜（忘记口令无法找回）。",
    )
    rows = {
        "record_key": record_public.hex(),
        "pdf_key": _spki(pdf).hex(),
        "write_key": _raw_public(write).hex(),
        "key_vault": keyvault.encrypt(items, passphrase, record_public.hex()),
    }
    if cert is not None:
        rows["pdf_cert"] = cert.decode("ascii")
    _install(data_dir, write, record_public, _spki(pdf))
    return rows, write, items


def _join(
    data_dir: Path, conn: Connection, where: str, record_public: bytes, pdf_public: bytes
) -> ed25519.Ed25519PrivateKey:
    items, _ = keyvault.open_with_prompt(
        lambda: str(pg.meta(conn, "key_vault") or ""),
        record_public.hex(),
        keyvault.JOIN,
        f"这台电脑第一次连接单位服务器“{where}”。本局密钥加密保存在服务器上：请管理员输入本局密钥口令，"
        "程序在本机数据文件夹中安装服务器写入密钥（只安装一次，以后不再询问）。本局的签名私钥不会保存到本机。"
        f"\n本局抽取记录签名公钥指纹：{keys.sha256_fingerprint(record_public)}",
        ("write",),
    )
    key = serialization.load_der_private_key(items["write"], password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    _install(data_dir, key, record_public, pdf_public)
    return key


def attach(db: Database, conn: Connection) -> None:
    """An existing server database that keeps its keys: this workstation's write key (joining
    first when it has none), its guard, and ``KeyStore(data_dir)`` answered by the server."""
    data_dir = db.data_dir
    record_public = bytes.fromhex(pg.meta(conn, "record_key") or "")
    pdf_public = bytes.fromhex(pg.meta(conn, "pdf_key") or "")
    write_public = bytes.fromhex(pg.meta(conn, "write_key") or "")
    note = joined_path(data_dir, write_public)
    if note.is_file():
        try:
            seen = json.loads(note.read_text("utf-8"))
        except (OSError, ValueError):
            seen = {}
        if seen.get("record_key") not in (None, record_public.hex()):
            raise DatabaseError(
                f"单位服务器“{db.location}”登记的本局抽取记录密钥（指纹 "
                f"{_short(keys.sha256_fingerprint(record_public))}）与这台电脑加入时的（指纹 "
                f"{_short(keys.sha256_fingerprint(bytes.fromhex(seen['record_key'])))}）不同："
                "服务器上的本局密钥被换过。为防止用别人的密钥签署记录，程序不使用这个数据库；请与管理员核实。"
            )
    key = installed_write_key(data_dir, write_public)
    if key is None:
        key = _join(data_dir, conn, db.location, record_public, pdf_public)
    configure(db, key)
    register(db, record_public, pdf_public)


def configure(db: Database, write: ed25519.Ed25519PrivateKey) -> None:
    db.guard.seal_key = seal_key_of(write)
    db.guard.set_signer(write.sign, _raw_public(write))


def register(db: Database, record_public: bytes, pdf_public: bytes) -> keyvault.ServerKeys:
    def load_vault() -> str:
        with db.read() as c:
            return str(pg.meta(c, "key_vault") or "")

    def load_certs() -> tuple[bytes | None, list[bytes]]:
        with db.read() as c:
            current = pg.meta(c, "pdf_cert")
            retired = json.loads(pg.meta(c, "pdf_cert_retired") or "[]")
        return (current.encode("ascii") if current else None, [r.encode("ascii") for r in retired])

    def save_certs(current: bytes, retired: list[bytes]) -> None:
        from cryptography import x509

        fp = keys.sha256_fingerprint(x509.load_pem_x509_certificate(current).public_bytes(_DER))
        with db.write(CERT_ACTION, {"pdf_certificate": fp}, system=True, journal=True) as c:
            pg.set_meta(c, "pdf_cert", current.decode("ascii"))
            pg.set_meta(c, "pdf_cert_retired", json.dumps([r.decode("ascii") for r in retired]))

    source = keyvault.ServerKeys(
        where=db.location,
        record_public=record_public,
        pdf_public=pdf_public,
        load_vault=load_vault,
        load_certs=load_certs,
        save_certs=save_certs,
    )
    keys.use_server_keys(db.data_dir, source)
    db.key_source = source
    return source


def change_passphrase(db: Database, old: str | None = None, new: str | None = None) -> None:
    """Re-encrypt the vault under a new passphrase, in one journalled transaction (administrators)."""
    from dsj_desktop import actor

    who = actor.current()
    if db.guard.accounts_exist and (who is None or who.role != "admin"):
        raise UserError("只有管理员可以更改本局密钥口令（命令行请用 --user 指定管理员账户）。")
    with db.read() as conn:
        if not db.on_server or not is_vaulted(conn):
            raise UserError("本局密钥不在服务器上（单机使用时密钥在数据文件夹的 keys 中，没有口令）。")
        bound = str(pg.meta(conn, "record_key"))
    if old is None:
        items, old = keyvault.open_with_prompt(
            lambda: _vault_now(db), bound, keyvault.UNLOCK, "更改本局密钥口令：请先输入现在的口令。"
        )
    if new is None:
        new = keyvault.ask(
            keyvault.NEW,
            f"请输入新的本局密钥口令（至少 {keyvault.MIN_PASSPHRASE} 个字符，请抄写后锁进保险柜）。",
            from_env=False,
        )
    keyvault.check_new_passphrase(new)
    fp = keys.sha256_fingerprint(bytes.fromhex(bound))
    with db.write(CHANGE_ACTION, {"record_key": fp}, system=True, journal=True) as conn:
        conn.exec_driver_sql("SELECT value FROM dsj_meta WHERE key = 'key_vault' FOR UPDATE")
        items = keyvault.decrypt(str(pg.meta(conn, "key_vault")), old, bound)
        pg.set_meta(conn, "key_vault", keyvault.encrypt(items, new, bound))
    if db.key_source is not None:
        db.key_source.lock()


def _vault_now(db: Database) -> str:
    with db.read() as conn:
        return str(pg.meta(conn, "key_vault") or "")


def describe(db: Database) -> dict[str, Any]:
    """Where this database's keys are, for the settings page and ``info``."""
    with db.read() as conn:
        vaulted = db.on_server and is_vaulted(conn)
    return {"on_server": db.on_server, "vaulted": vaulted}


def write_publics(folder: Path) -> list[bytes]:
    """The public keys of the server write keys installed in *folder* (a data folder, or the keys
    carried beside a backup): what verifies the journal and the manifests of a server's backups."""
    found = []
    for path in sorted((Path(folder) / keys.KEYS_DIRNAME).glob("server-write-*.key")):
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError, OSError):
            continue
        if isinstance(key, ed25519.Ed25519PrivateKey):
            found.append(_raw_public(key))
    return found


RESET_ACTION = "用本局密钥文件重设密钥口令"


def reset_from_folder(db: Database, folder: Path, new: str | None = None) -> None:
    """A forgotten passphrase: the bureau's key files in the clear (the keys/ folder of the PC whose
    keys were uploaded when the database was made, or the ``….keys`` folder beside a USB backup of
    that PC's data file) are encrypted again under a new passphrase, if they are the keys the server
    registered. Administrators; one journalled transaction. The write key is this workstation's."""
    from dsj_desktop import actor

    who = actor.current()
    if db.guard.accounts_exist and (who is None or who.role != "admin"):
        raise UserError("只有管理员可以重设本局密钥口令（命令行请用 --user 指定管理员账户）。")
    folder = Path(folder)
    base = folder / keys.KEYS_DIRNAME if (folder / keys.KEYS_DIRNAME).is_dir() else folder
    try:
        record = serialization.load_pem_private_key((base / keys.RECORD_KEY_FILE).read_bytes(), password=None)
        pdf = serialization.load_pem_private_key((base / keys.PDF_KEY_FILE).read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        raise UserError(
            f"在“{folder}”中找不到可读的本局密钥文件（{keys.RECORD_KEY_FILE}、{keys.PDF_KEY_FILE}）。"
        ) from None
    if not isinstance(record, ed25519.Ed25519PrivateKey) or not isinstance(pdf, ec.EllipticCurvePrivateKey):
        raise UserError(f"“{folder}”中的密钥文件不是本程序的本局密钥。")
    with db.read() as conn:
        if not db.on_server or not is_vaulted(conn):
            raise UserError("本局密钥不在服务器上（单机使用时密钥在数据文件夹的 keys 中，没有口令）。")
        bound = str(pg.meta(conn, "record_key"))
        pdf_public = str(pg.meta(conn, "pdf_key"))
        write_public = bytes.fromhex(str(pg.meta(conn, "write_key")))
    if _raw_public(record).hex() != bound or _spki(pdf).hex() != pdf_public:
        raise UserError(
            f"“{folder}”中的密钥（指纹 {_short(keys.sha256_fingerprint(_raw_public(record)))}）不是服务器登记的本局密钥"
            f"（指纹 {_short(keys.sha256_fingerprint(bytes.fromhex(bound)))}），不能用来重设口令。"
        )
    write = installed_write_key(db.data_dir, write_public)
    if write is None:
        raise UserError("这台电脑还没有加入这个服务器数据库（没有写入密钥），请在已加入的电脑上操作。")
    if new is None:
        new = keyvault.ask(
            keyvault.NEW,
            f"请输入新的本局密钥口令（至少 {keyvault.MIN_PASSPHRASE} 个字符，请抄写后锁进保险柜）。",
            from_env=False,
        )
    items = {
        "record": record.private_bytes(_DER, _PKCS8, _NONE),
        "pdf": pdf.private_bytes(_DER, _PKCS8, _NONE),
        "write": write.private_bytes(_DER, _PKCS8, _NONE),
    }
    text = keyvault.encrypt(items, new, bound)
    with db.write(RESET_ACTION, {"record_key": keys.sha256_fingerprint(bytes.fromhex(bound)), "from": str(folder)},
                  system=True, journal=True) as conn:  # fmt: skip
        pg.set_meta(conn, "key_vault", text)
    if db.key_source is not None:
        db.key_source.lock()
