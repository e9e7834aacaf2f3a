"""The bureau's private keys kept in a shared server database, encrypted under the key passphrase
(本局密钥口令), and decrypted in memory only when something must be signed.

The vault is one JSON text (``dsj_meta.key_vault`` on the server)::

    {"v": 1, "kdf": "scrypt", "n": 65536, "r": 8, "p": 1, "salt": <base64>,
     "items": {"record": {"nonce": <base64>, "data": <base64>}, "pdf": {…}, "write": {…}}}

The passphrase gives one 256-bit key through scrypt (``cryptography``'s ``Scrypt``); each item is a
private key in PKCS#8 DER sealed with AES-256-GCM (``AESGCM``) under its own random nonce, with the
item's name and the bureau's record public key as associated data (an item cannot be moved to
another name or another bureau's vault unnoticed). A wrong passphrase fails GCM's tag check:
:class:`WrongPassphrase`. Nothing here is home-made cryptography: scrypt and AES-GCM as the library
provides them.

Items: ``record`` (the Ed25519 key signing draw records), ``pdf`` (the P-256 key of the PDF
certificate) and ``write`` (the workstations' write key: it signs the journal and its derived key
seals the rows; installed once into each workstation's data folder when it joins; replaced by an
administrator when a workstation is revoked, see ``db/server_keys.rotate_write_key``).

The passphrase comes from ``DSJ_KEY_PASSPHRASE`` (scripts, tests), else the front end's
:data:`passphrase_prompt` (the GUI's dialog), else the terminal.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable, Mapping

from dsj_desktop.errors import UserError

SCRYPT_N = 2**16  # 64 MiB of memory and about a quarter second per try on an office PC
SCRYPT_R = 8
SCRYPT_P = 1
MIN_PASSPHRASE = 8
UNLOCK_SECONDS = 30 * 60  # how long decrypted keys stay in this program's memory after their last use
ENV = "DSJ_KEY_PASSPHRASE"
TRIES = 3

# What the passphrase is asked for (the prompt's first argument).
NEW = "new"  # a new passphrase (twice): the vault is being made or re-encrypted
UNLOCK = "unlock"  # to sign now (a draw's record, a signed PDF)
JOIN = "join"  # a workstation joining the server: its write key is installed once
REJOIN = "rejoin"  # joining again after an administrator replaced the write key (a PC revoked)
RENEWED = "renewed"  # confirming new bureau keys an administrator made (lost passphrase and key files)

WRONG = "本局密钥口令不正确。请注意大小写和输入法（全角/半角）；忘记口令时请见使用说明“六”。"


class WrongPassphrase(UserError):
    """The passphrase does not open the vault."""

    def __init__(self, text: str = WRONG) -> None:
        super().__init__(text)


# Set by a front end without a terminal (ui/key_dialogs.install): called with (NEW | UNLOCK | JOIN | REJOIN | RENEWED,
# an explanation in Chinese) from whatever thread needs the keys; returns the passphrase, or None
# when the user gave up.
passphrase_prompt: Callable[[str, str], str | None] | None = None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def check_new_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise UserError(f"本局密钥口令至少 {MIN_PASSPHRASE} 个字符（可以是一句话，请抄写后锁进保险柜）。")


def encrypt(items: Mapping[str, bytes], passphrase: str, bound_to: str) -> str:
    """The vault text holding *items* (name → secret bytes) under *passphrase*. *bound_to* (the
    record public key, hex) is authenticated with every item."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    check_new_passphrase(passphrase)
    salt = os.urandom(16)
    aes = AESGCM(_derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P))
    sealed = {}
    for name, secret in items.items():
        nonce = os.urandom(12)
        data = aes.encrypt(nonce, secret, f"dsj-key-vault-v1/{name}/{bound_to}".encode())
        sealed[name] = {"nonce": _b64(nonce), "data": _b64(data)}
    doc = {
        "v": 1,
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": _b64(salt),
        "items": sealed,
    }
    return json.dumps(doc, sort_keys=True)


def decrypt(
    vault: str, passphrase: str, bound_to: str, names: tuple[str, ...] | None = None
) -> dict[str, bytes]:
    """The items of *vault* (all, or *names*). Raises :class:`WrongPassphrase`, or :class:`UserError`
    for a damaged vault."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        doc = json.loads(vault)
        if doc.get("v") != 1 or doc.get("kdf") != "scrypt":
            raise ValueError("version")
        key = _derive(passphrase, _unb64(doc["salt"]), int(doc["n"]), int(doc["r"]), int(doc["p"]))
        aes = AESGCM(key)
        out = {}
        for name, item in doc["items"].items():
            if names is not None and name not in names:
                continue
            aad = f"dsj-key-vault-v1/{name}/{bound_to}".encode()
            out[name] = aes.decrypt(_unb64(item["nonce"]), _unb64(item["data"]), aad)
    except InvalidTag:
        raise WrongPassphrase() from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise UserError("服务器上保存的本局密钥已损坏或不是本程序保存的，无法解密。请从备份恢复。") from None
    if names is not None and set(names) - set(out):
        raise UserError("服务器上保存的本局密钥不完整，无法解密。请从备份恢复。")
    return out


def ask(purpose: str, message: str, *, from_env: bool = True) -> str:
    """The passphrase for *purpose*: ``DSJ_KEY_PASSPHRASE`` (unless *from_env* is false), the front
    end's prompt, or the terminal. Raises :class:`UserError` when there is nobody to ask or the user
    gave up."""
    given = os.environ.get(ENV) if from_env else None
    if given:
        return given
    if passphrase_prompt is not None:
        answer = passphrase_prompt(purpose, message)
    else:
        import sys

        if not sys.stdin or not sys.stdin.isatty():
            raise UserError(f"{message}\n需要本局密钥口令：请在终端中运行，或用环境变量 {ENV} 提供。")
        import getpass

        print(message)
        answer = getpass.getpass("本局密钥口令：")
        if purpose == NEW and answer and getpass.getpass("再输入一次：") != answer:
            raise UserError("两次输入的口令不一致。")
    if not answer:
        raise UserError("没有输入本局密钥口令，操作已取消（数据没有改动）。")
    return answer


def open_with_prompt(
    load: Callable[[], str], bound_to: str, purpose: str, message: str, names: tuple[str, ...] | None = None
) -> tuple[dict[str, bytes], str]:
    """Ask and decrypt, up to :data:`TRIES` times when a person types (once from the environment).
    Returns (the items, the passphrase that opened them)."""
    for attempt in range(TRIES):
        note = message if attempt == 0 else f"{WRONG}\n\n{message}"
        passphrase = ask(purpose, note)
        try:
            return decrypt(load(), passphrase, bound_to, names), passphrase
        except WrongPassphrase:
            if os.environ.get(ENV) or attempt == TRIES - 1:
                raise
    raise WrongPassphrase()  # pragma: no cover  (the loop returns or raises)


class ServerKeys:
    """The bureau's keys as a server database keeps them: the public parts in the clear, the private
    parts in the vault, opened when needed and kept in memory :data:`UNLOCK_SECONDS` after last use."""

    def __init__(
        self,
        *,
        where: str,
        record_public: bytes,
        pdf_public: bytes,
        load_vault: Callable[[], str],
        load_certs: Callable[[], tuple[bytes | None, list[bytes]]],
        save_certs: Callable[[bytes, list[bytes]], None],
    ) -> None:
        self.where = where
        self.record_public = record_public  # raw Ed25519
        self.pdf_public = pdf_public  # SubjectPublicKeyInfo, DER
        self._load_vault = load_vault
        self._load_certs = load_certs
        self._save_certs = save_certs
        self._open: dict[str, bytes] | None = None
        self._until = 0.0
        # The bureau's earlier record keys (journalled "生成新的本局签名密钥"): records signed before.
        self.past_record_publics: list[bytes] = []
        self._lock = threading.Lock()

    def private(self, name: str) -> bytes:
        """The PKCS#8 DER of item *name* (``record`` or ``pdf``), asking the passphrase if the keys
        are not open in this program now."""
        with self._lock:
            now = time.monotonic()
            if self._open is not None and now <= self._until:
                self._until = now + UNLOCK_SECONDS
                return self._open[name]
            self._open = None
        # Asked without holding the lock: the GUI thread shows the dialog and may need the keys too.
        items, _ = open_with_prompt(
            self._load_vault,
            self.record_public.hex(),
            UNLOCK,
            f"签署抽取记录和签章 PDF 需要本局的签名密钥：它们加密保存在单位服务器“{self.where}”上。"
            "请输入本局密钥口令。",
            ("record", "pdf"),
        )
        with self._lock:
            self._open = items
            self._until = time.monotonic() + UNLOCK_SECONDS
            return items[name]

    def prime(self, items: Mapping[str, bytes]) -> None:
        """Keys just decrypted or made in this program (creating the vault): no need to ask again."""
        with self._lock:
            self._open = {k: v for k, v in items.items() if k in ("record", "pdf")}
            self._until = time.monotonic() + UNLOCK_SECONDS

    def lock(self) -> None:
        """Forget the decrypted keys now."""
        with self._lock:
            self._open = None

    @property
    def is_open(self) -> bool:
        return self._open is not None and time.monotonic() <= self._until

    def certificates(self) -> tuple[bytes | None, list[bytes]]:
        """(the current PDF certificate's PEM or None, the retired ones newest first)."""
        return self._load_certs()

    def save_certificates(self, current: bytes, retired: list[bytes]) -> None:
        self._save_certs(current, retired)
