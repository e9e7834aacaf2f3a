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

import base64
import hashlib
import json
import os
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
    data_dir: Path,
    conn: Connection,
    where: str,
    record_public: bytes,
    pdf_public: bytes,
    rotated: str | None = None,
) -> ed25519.Ed25519PrivateKey:
    if rotated is None:
        purpose = keyvault.JOIN
        text = (
            f"这台电脑第一次连接单位服务器“{where}”。本局密钥加密保存在服务器上：请管理员输入本局密钥口令，"
            "程序在本机数据文件夹中安装服务器写入密钥（只安装一次，以后不再询问）。本局的签名私钥不会保存到本机。"
        )
    else:
        purpose = keyvault.REJOIN
        text = (
            f"{rotated}这台电脑要重新加入单位服务器“{where}”：请管理员输入本局密钥口令，程序安装新的写入密钥"
            "（只需一次），并删除本机的旧写入密钥。"
        )
    items, _ = keyvault.open_with_prompt(
        lambda: str(pg.meta(conn, "key_vault") or ""),
        record_public.hex(),
        purpose,
        f"{text}\n本局抽取记录签名公钥指纹：{keys.sha256_fingerprint(record_public)}",
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
    pinned_note = joined_path(data_dir, write_public)
    if not pinned_note.is_file():  # joining again after a new write key: the note of the old one
        earlier = _earlier_key(data_dir, conn)
        pinned_note = joined_path(data_dir, earlier) if earlier is not None else pinned_note
    seen = _read_note(pinned_note)
    renewed = False
    if seen.get("record_key") not in (None, record_public.hex()):
        pinned = bytes.fromhex(str(seen["record_key"]))
        if pinned not in [old for _, old, _ in bureau_key_changes(conn, record_public)]:
            raise DatabaseError(
                f"单位服务器“{db.location}”登记的本局抽取记录密钥（指纹 "
                f"{_short(keys.sha256_fingerprint(record_public))}）与这台电脑加入时的（指纹 "
                f"{_short(keys.sha256_fingerprint(pinned))}）不同："
                "服务器上的本局密钥被换过。为防止用别人的密钥签署记录，程序不使用这个数据库；请与管理员核实。"
            )
        _confirm_new_bureau_keys(conn, db.location, pinned, record_public)
        renewed = True
    if revoked_here(data_dir, write_public):
        raise DatabaseError(
            f"单位服务器“{db.location}”使用的写入密钥（指纹 {_short(fingerprint(write_public))}）已被管理员撤销过："
            "服务器上的密钥被换回了旧的。为防止用被撤销的密钥写入，程序不使用这个数据库；请与管理员核实。"
        )
    key = installed_write_key(data_dir, write_public)
    if key is None:
        earlier = _earlier_key(data_dir, conn)
        if earlier is None:
            key = _join(data_dir, conn, db.location, record_public, pdf_public)
        else:
            key = _join(data_dir, conn, db.location, record_public, pdf_public, _rotated_text(conn, earlier))
            _rejoined(data_dir, earlier, key)
    configure(db, key)
    if renewed:
        _note_bureau_keys(data_dir, write_public, record_public, pdf_public)
    register(db, record_public, pdf_public, conn)


def _earlier_key(data_dir: Path, conn: Connection) -> bytes | None:
    """The write key this workstation joined with before the administrator replaced it (None: this
    workstation never joined this database)."""
    for r in reversed(retired_keys(conn)):
        public = bytes.fromhex(r["public"])
        if joined_path(data_dir, public).is_file() or write_key_path(data_dir, public).is_file():
            return public
    return None


def _rotated_text(conn: Connection, earlier: bytes) -> str:
    last = last_rotation(conn)
    when, who = (last[0][:16].replace("T", " "), last[1]) if last else ("", "管理员")
    return (
        f"单位服务器的写入密钥已由{who}于 {when} 更换（旧的写入密钥，指纹 {_short(fingerprint(earlier))}，已撤销，"
        "例如因为有电脑丢失或停用）。"
    )


def _rejoined(data_dir: Path, earlier: bytes, key: ed25519.Ed25519PrivateKey) -> None:
    """After joining again with the new write key: this folder's anchor, signed with the revoked
    key, is signed again with the new one if it verifies; the revoked key file is deleted."""
    from dsj_desktop.clock import now_iso
    from dsj_desktop.db import anchor

    try:
        found = anchor.read(data_dir, earlier)
    except anchor.AnchorError:
        found = None  # left as it is: `check` reports it
    if found is not None:
        anchor.write_now(data_dir, found.head, now_iso(), key.sign)
    _retire_local(data_dir, earlier, _raw_public(key))


def configure(db: Database, write: ed25519.Ed25519PrivateKey) -> None:
    db.guard.seal_key = seal_key_of(write)
    db.guard.set_signer(write.sign, _raw_public(write))


def _past_record_keys(conn: Connection, record_public: bytes) -> list[bytes]:
    if not conn.exec_driver_sql("SELECT to_regclass('journal') IS NOT NULL").scalar():
        return []  # a database being made
    return [old for _, old, _ in bureau_key_changes(conn, record_public)]


def _read_note(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def register(
    db: Database, record_public: bytes, pdf_public: bytes, conn: Connection | None = None
) -> keyvault.ServerKeys:
    """``KeyStore(data_dir)`` answered by the server's keys from now on (*conn*: the connection open
    now, if any: no second one is opened while it is, which could ask the server's password again)."""

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
    if conn is not None:
        source.past_record_publics = _past_record_keys(conn, record_public)
    else:
        with db.read() as c:
            source.past_record_publics = _past_record_keys(c, record_public)
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


# --- revoking a workstation: a new write key ------------------------------------------------------

ROTATE_ACTION = "更换服务器写入密钥"  # journal entries naming the old and the new write key
RETIRED_META = "write_key_retired"  # JSON list of the write keys revoked: {"public", "at", "by"}
RETIRED_SEALS_META = "write_key_retired_seals"  # their seal keys, encrypted under the current write key


def fingerprint(public: bytes) -> str:
    return keys.sha256_fingerprint(public)


def _wrap_key(seal_key: bytes) -> bytes:
    return hashlib.sha256(b"dsj-retired-seal-keys-v1" + seal_key).digest()


def retired_keys(conn: Connection) -> list[dict[str, str]]:
    """The write keys revoked on this server database, oldest first."""
    try:
        found = json.loads(pg.meta(conn, RETIRED_META) or "[]")
    except ValueError:
        return []
    return [r for r in found if isinstance(r, dict) and isinstance(r.get("public"), str)]


def retired_seal_keys(conn: Connection, seal_key: bytes, public: bytes) -> dict[str, bytes]:
    """public key (hex) → seal key of every revoked write key, for ``check`` to name a row sealed
    with one of them after it was revoked. Readable only with the current write key (*seal_key*,
    *public*: this workstation's); {} when there are none or they cannot be read."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    text = pg.meta(conn, RETIRED_SEALS_META)
    if not text or not seal_key:
        return {}
    try:
        doc = json.loads(text)
        plain = AESGCM(_wrap_key(seal_key)).decrypt(
            base64.b64decode(doc["nonce"]), base64.b64decode(doc["data"]), public.hex().encode()
        )
        return {str(k): bytes.fromhex(v) for k, v in json.loads(plain).items()}
    except (InvalidTag, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _seal_retired(found: dict[str, bytes], seal_key: bytes, public: bytes) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    plain = json.dumps({k: v.hex() for k, v in found.items()}, sort_keys=True).encode()
    data = AESGCM(_wrap_key(seal_key)).encrypt(nonce, plain, public.hex().encode())
    return json.dumps({"nonce": base64.b64encode(nonce).decode(), "data": base64.b64encode(data).decode()})


def last_rotation(conn: Connection) -> tuple[str, str, dict[str, Any]] | None:
    """(when, who, detail) of the last write-key change in the journal."""
    row = conn.exec_driver_sql(
        "SELECT at, actor, detail FROM journal WHERE action = ? ORDER BY id DESC LIMIT 1", (ROTATE_ACTION,)
    ).first()
    if row is None:
        return None
    try:
        detail = json.loads(row[2])
    except ValueError:
        detail = {}
    return str(row[0]), str(row[1]), detail if isinstance(detail, dict) else {}


STALE_WRITE_KEY = (
    "单位服务器的写入密钥已由管理员更换（旧的写入密钥已撤销），这台电脑仍在用旧的，不能再写入：本次操作没有保存。"
    "请关闭程序后重新打开（或重新连接服务器），由管理员输入一次本局密钥口令。"
)


def rotate_write_key(db: Database, passphrase: str | None = None, reason: str = "") -> str:
    """Revoke the write key every workstation holds (a PC stolen or retired): a new write key, every
    row that verifies sealed again and the journal continued under it, in one journalled transaction
    naming both keys (administrators). The old key opens nothing any more: a row it seals or a journal
    entry it signs after this is a finding of ``check``. Other workstations are asked the passphrase
    once at their next connection. Returns the new write key's fingerprint."""
    from dsj_desktop import actor
    from dsj_desktop.clock import now_iso
    from dsj_desktop.db import anchor
    from dsj_desktop.db import guard as guard_mod

    who = actor.current()
    if db.guard.accounts_exist and (who is None or who.role != "admin"):
        raise UserError("只有管理员可以更换服务器写入密钥（命令行请用 --user 指定管理员账户）。")
    with db.read() as conn:
        if not db.on_server or not is_vaulted(conn):
            raise UserError("写入密钥只在数据放在单位服务器上时使用（单机使用时没有写入密钥）。")
        bound = str(pg.meta(conn, "record_key"))
        current = str(pg.meta(conn, "write_key"))
    old_public = db.guard.public_key
    if current != old_public.hex():
        raise UserError(STALE_WRITE_KEY)
    if passphrase is None:
        _, passphrase = keyvault.open_with_prompt(
            lambda: _vault_now(db),
            bound,
            keyvault.UNLOCK,
            "更换服务器写入密钥：新的写入密钥要加密保存在服务器上，请输入本局密钥口令。",
        )
    new = ed25519.Ed25519PrivateKey.generate()
    new_public = _raw_public(new)
    detail = {
        "old_write_key": old_public.hex(),
        "new_write_key": new_public.hex(),
        "old_fingerprint": fingerprint(old_public),
        "new_fingerprint": fingerprint(new_public),
    }
    if reason:
        detail["reason"] = reason
    guard = db.guard
    saved = (guard.seal_key, guard._sign, guard.public_key)
    try:
        with db.write(ROTATE_ACTION, detail, system=True, journal=True) as conn:
            conn.exec_driver_sql("SELECT value FROM dsj_meta WHERE key = 'key_vault' FOR UPDATE")
            if pg.meta(conn, "write_key") != old_public.hex():  # another administrator, meanwhile
                raise UserError(STALE_WRITE_KEY)
            items = keyvault.decrypt(str(pg.meta(conn, "key_vault")), passphrase, bound)
            good = guard_mod.verified_rows(conn, guard)  # with the old key: only these are sealed again
            retired = retired_keys(conn)
            retired.append(
                {"public": old_public.hex(), "at": now_iso(), "by": actor.label() if who else "系统"}
            )
            seals = retired_seal_keys(conn, guard.seal_key, old_public)
            seals[old_public.hex()] = guard.seal_key
            items["write"] = new.private_bytes(_DER, _PKCS8, _NONE)
            configure(db, new)  # from here on this transaction seals and signs with the new key
            pg.set_meta(conn, "write_key", new_public.hex())
            pg.set_meta(conn, "key_vault", keyvault.encrypt(items, passphrase, bound))
            pg.set_meta(conn, RETIRED_META, json.dumps(retired, ensure_ascii=False))
            pg.set_meta(conn, RETIRED_SEALS_META, _seal_retired(seals, guard.seal_key, new_public))
            guard_mod.reseal_verified(conn, guard, good)
    except BaseException:
        guard.seal_key = saved[0]
        guard.set_signer(saved[1], saved[2])
        raise
    record_public = bytes.fromhex(bound)
    with db.read() as conn:
        pdf_public = bytes.fromhex(str(pg.meta(conn, "pdf_key")))
    _install(db.data_dir, new, record_public, pdf_public)
    _retire_local(db.data_dir, old_public, new_public)
    head = db.journal_head()
    anchor.write_now(db.data_dir, anchor.Head(head["seq"], head["hash"]), now_iso(), guard.sign)
    return fingerprint(new_public)


def _retire_local(data_dir: Path, old: bytes, new: bytes) -> None:
    """This workstation's copy of a revoked write key is deleted; its note says it was revoked (a
    server offering that key again later is refused)."""
    write_key_path(data_dir, old).unlink(missing_ok=True)
    note = joined_path(data_dir, old)
    try:
        seen = json.loads(note.read_text("utf-8")) if note.is_file() else {"write_key": old.hex()}
    except (OSError, ValueError):
        seen = {"write_key": old.hex()}
    seen["revoked_by"] = new.hex()
    atomic_write_bytes(note, json.dumps(seen, indent=1).encode(), mode=0o644)


def revoked_here(data_dir: Path, public: bytes) -> bool:
    """Whether this workstation saw *public* revoked (its note says so)."""
    note = joined_path(data_dir, public)
    try:
        return bool(json.loads(note.read_text("utf-8")).get("revoked_by")) if note.is_file() else False
    except (OSError, ValueError, AttributeError):
        return False


# --- a lost passphrase and no key files: new bureau keys --------------------------------------------

NEW_KEYS_ACTION = "生成新的本局签名密钥"  # journal entries naming the old and the new bureau keys


def bureau_key_changes(conn: Connection, current: bytes | None = None) -> list[tuple[int, bytes, bytes]]:
    """(journal entry, old record key, new record key) of every "生成新的本局签名密钥", oldest first:
    entries whose hash holds (their signatures are verified by ``check`` with the journal). With
    *current*, only the changes of the chain that ends with that key."""
    from dsj_desktop.db import guard as guard_mod

    found = []
    for jid, at, who, action, detail, prev, h in conn.exec_driver_sql(
        "SELECT id, at, actor, action, detail, prev_hash, hash FROM journal WHERE action = ? ORDER BY id",
        (NEW_KEYS_ACTION,),
    ):
        if guard_mod.entry_hash(prev, at, who, action, detail) != h:
            continue
        try:
            d = json.loads(detail)
            old, new = bytes.fromhex(d["old_record_key"]), bytes.fromhex(d["new_record_key"])
        except (ValueError, KeyError, TypeError):
            continue
        found.append((int(jid), old, new))
    if current is None:
        return found
    chain: list[tuple[int, bytes, bytes]] = []
    want = current
    for change in reversed(found):
        if change[2] == want:
            chain.insert(0, change)
            want = change[1]
    return chain


def _confirm_new_bureau_keys(conn: Connection, where: str, pinned: bytes, current: bytes) -> None:
    """A workstation that joined with the bureau keys *pinned* sees the server's new ones (journalled
    "生成新的本局签名密钥"): an administrator confirms them on this PC with the new passphrase (the one
    the administrator who made them set), never silently."""
    row = conn.exec_driver_sql(
        "SELECT at, actor, detail FROM journal WHERE action = ? ORDER BY id DESC LIMIT 1", (NEW_KEYS_ACTION,)
    ).first()
    when, who = (str(row[0])[:16].replace("T", " "), str(row[1])) if row else ("", "管理员")
    keyvault.open_with_prompt(
        lambda: str(pg.meta(conn, "key_vault") or ""),
        current.hex(),
        keyvault.RENEWED,
        f"单位服务器“{where}”上的本局签名密钥已由{who}于 {when} 更换为新的密钥（原来的口令和密钥文件都已丢失时的做法）。"
        f"\n原来的指纹：{keys.sha256_fingerprint(pinned)}\n新的指纹：{keys.sha256_fingerprint(current)}\n"
        "以前签署的记录仍按原来的指纹核验，以后的记录用新的指纹签署。请管理员输入新的本局密钥口令确认"
        "（只需一次）；如果本局没有更换过密钥，请取消并与管理员核实。",
        ("write",),
    )


def _note_bureau_keys(data_dir: Path, write_public: bytes, record_public: bytes, pdf_public: bytes) -> None:
    """This workstation's note: the bureau keys it now works with, and the earlier ones (still the
    bureau's for records signed before the change, for ``verify --data-dir``)."""
    path = joined_path(data_dir, write_public)
    note = _read_note(path)
    past = [str(k) for k in note.get("past_record_keys", []) if isinstance(k, str)]
    if note.get("record_key") not in (None, record_public.hex()) and note["record_key"] not in past:
        past.append(str(note["record_key"]))
    note.update(record_key=record_public.hex(), pdf_key=pdf_public.hex(), write_key=write_public.hex(),
                past_record_keys=past)  # fmt: skip
    atomic_write_bytes(path, json.dumps(note, indent=1).encode(), mode=0o644)


def new_bureau_keys(db: Database, new: str | None = None, reason: str = "") -> str:
    """The passphrase is forgotten and the bureau's key files are gone too: new record and PDF keys
    under a new passphrase, in one journalled transaction naming the old and the new keys
    (administrators, on a workstation that holds the write key). Records signed before keep
    verifying under their old fingerprint (``check`` accepts it for records signed before this
    entry); new records are signed with the new key. Returns the new record fingerprint."""
    from dsj_desktop import actor

    who = actor.current()
    if db.guard.accounts_exist and (who is None or who.role != "admin"):
        raise UserError("只有管理员可以生成新的本局签名密钥（命令行请用 --user 指定管理员账户）。")
    with db.read() as conn:
        if not db.on_server or not is_vaulted(conn):
            raise UserError("本局密钥不在服务器上（单机使用时密钥在数据文件夹的 keys 中，没有口令）。")
        old_record = bytes.fromhex(str(pg.meta(conn, "record_key")))
        old_pdf = str(pg.meta(conn, "pdf_key"))
        write_public = bytes.fromhex(str(pg.meta(conn, "write_key")))
    write = installed_write_key(db.data_dir, write_public)
    if write is None or write_public != db.guard.public_key:
        raise UserError("这台电脑没有服务器现在的写入密钥，请在已加入的电脑上操作。")
    if new is None:
        new = keyvault.ask(
            keyvault.NEW,
            "生成新的本局签名密钥：请设定新的本局密钥口令（至少 "
            f"{keyvault.MIN_PASSPHRASE} 个字符，请抄写后锁进保险柜）。",
            from_env=False,
        )
    keyvault.check_new_passphrase(new)
    record = ed25519.Ed25519PrivateKey.generate()
    pdf = ec.generate_private_key(ec.SECP256R1())
    record_public, pdf_public = _raw_public(record), _spki(pdf)
    items = {
        "record": record.private_bytes(_DER, _PKCS8, _NONE),
        "pdf": pdf.private_bytes(_DER, _PKCS8, _NONE),
        "write": write.private_bytes(_DER, _PKCS8, _NONE),
    }
    detail = {
        "old_record_key": old_record.hex(),
        "new_record_key": record_public.hex(),
        "old_fingerprint": keys.sha256_fingerprint(old_record),
        "new_fingerprint": keys.sha256_fingerprint(record_public),
        "old_pdf_key": old_pdf,
        "new_pdf_key": pdf_public.hex(),
    }
    if reason:
        detail["reason"] = reason
    with db.write(NEW_KEYS_ACTION, detail, system=True, journal=True) as conn:
        conn.exec_driver_sql("SELECT value FROM dsj_meta WHERE key = 'key_vault' FOR UPDATE")
        if pg.meta(conn, "record_key") != old_record.hex():
            raise UserError("服务器上的本局密钥刚被另一台电脑更换过，请重新打开程序后再看。")
        cert = pg.meta(conn, "pdf_cert")
        retired = json.loads(pg.meta(conn, "pdf_cert_retired") or "[]")
        if cert:  # the old certificate stays known (PDFs signed before), no longer the current one
            retired.insert(0, cert)
        pg.set_meta(conn, "pdf_cert_retired", json.dumps(retired))
        conn.exec_driver_sql("DELETE FROM dsj_meta WHERE key = 'pdf_cert'")
        pg.set_meta(conn, "record_key", record_public.hex())
        pg.set_meta(conn, "pdf_key", pdf_public.hex())
        pg.set_meta(conn, "key_vault", keyvault.encrypt(items, new, record_public.hex()))
    _note_bureau_keys(db.data_dir, write_public, record_public, pdf_public)
    if db.key_source is not None:
        db.key_source.lock()
    register(db, record_public, pdf_public).prime(items)
    return keys.sha256_fingerprint(record_public)
