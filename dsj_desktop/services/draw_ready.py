"""Nothing is revealed that cannot be signed: before a session is prepared, everything its
confirmation and record need is checked — the bureau's name, the keys, the PDF certificate and a
folder the record can be written to (the eligible people are checked by the task's pool)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dsj_desktop.db.engine import Database
from dsj_desktop.errors import UserError
from dsj_desktop.keys import MAX_BUREAU_NAME, CertificateNameMismatch, KeyStore
from dsj_desktop.services import settings

RECORDS_DIRNAME = "records"  # where the program keeps the record PDFs, inside the data folder
SET_NAME = "请在“设置”中填写单位名称（命令行：dsj-desktop settings --bureau-name 单位名称）"


def records_folder(db: Database) -> Path:
    return db.data_dir / RECORDS_DIRNAME


def _writable(folder: Path, create: bool) -> str | None:
    """None when a file can be written in *folder*, else why not."""
    try:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
            return None
        probe = folder
        while not probe.exists() and probe.parent != probe:
            probe = probe.parent
        if not probe.is_dir():
            return f"“{probe}”不是文件夹"
        if not os.access(probe, os.W_OK | os.X_OK):
            return "没有写入权限"
        return None
    except OSError as exc:
        return exc.strerror or str(exc)


def signing_problems(db: Database, out_dir: Path | None = None, *, create: bool = False) -> list[str]:
    """What would stop the record of a draw from being signed and written, in plain Chinese.
    *create*: make the PDF certificate (and the output folder) now if missing, as confirming will —
    a damaged key file shows here, before anything is announced."""
    problems: list[str] = []
    name = settings.bureau_name(db).strip()
    keys = KeyStore(db.data_dir)
    if not name:
        problems.append(f"单位名称尚未设置：抽取记录以单位名义签署，{SET_NAME}")
    elif len(name) > MAX_BUREAU_NAME:
        problems.append(
            f"单位名称过长（{len(name)} 个字），签章证书最多支持 {MAX_BUREAU_NAME} 个字，{SET_NAME}"
        )
    else:
        try:
            if create or not keys.on_server:  # on a server: the passphrase is asked when a draw starts
                keys.record_private_key()
            if create:
                keys.ensure_pdf_certificate(name)
            elif keys.has_pdf_certificate() and keys.pdf_certificate_bureau_name() != name:
                raise CertificateNameMismatch(keys.pdf_certificate_bureau_name() or "", name)
        except UserError as exc:
            problems.append(f"签名密钥或签章证书不可用：{exc}")
    folder = out_dir if out_dir is not None else records_folder(db)
    why = _writable(Path(folder), create)
    if why:
        problems.append(f"抽取记录无法写入文件夹“{folder}”（{why}），请换一个可写的文件夹")
    return problems
