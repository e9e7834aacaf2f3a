"""A draw session's files, written one way wherever they are written: the JSON record, the signed
record PDF (the same JSON attached) and 核验工具.html, the browser page that checks them.

The draw screen writes them into the data folder's records folder when a session is confirmed,
the command line (``draw``, ``substitute``, ``void --out``) into the folder it is given, the
year's archive into its 抽取记录 folder, and the export to a USB drive (:mod:`.export`, without the
page) beside its Excel list. The files are named after the session: ``<session>.json`` (as the
attachment in the PDF) and ``<session>.pdf``.
"""

from __future__ import annotations

from pathlib import Path

from dsj_desktop.db.engine import Database
from dsj_desktop.fileutil import atomic_write_bytes
from dsj_desktop.progress import Job, Progress
from dsj_desktop.publish.record_pdf import record_json_bytes, records_dir, session_record_pdf
from dsj_desktop.publish.verifier_html import write_beside
from dsj_desktop.services import sessions


def json_path(folder: Path, s: sessions.Session, name: str | None = None) -> Path:
    return Path(folder) / f"{name or s.id}.json"


def pdf_path(folder: Path, s: sessions.Session, name: str | None = None) -> Path:
    return Path(folder) / f"{name or s.id}.pdf"


def write_session_files(
    db: Database, s: sessions.Session, folder: Path, *, name: str | None = None, verifier: bool = True
) -> Job[list[Path]]:
    """Write the JSON record, the signed record PDF and (unless not *verifier*) 核验工具.html into
    *folder* (made when missing) and return their paths in that order; nothing for a session without
    a record (voided before its announcement). *name* replaces the session id in the two record
    files' names.

    The PDF is written before the JSON: a JSON record of the current version means the PDF beside
    it is current too (:func:`files_current`)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if s.record is None:
        return []
    yield Progress("正在生成并签署抽取记录 PDF……")
    pdf = pdf_path(folder, s, name)
    session_record_pdf(db, s).save(pdf)
    record = json_path(folder, s, name)
    atomic_write_bytes(record, record_json_bytes(s.record))
    if not verifier:
        return [record, pdf]
    return [record, pdf, write_beside(folder)]  # 核验工具.html: anyone can check the record in a browser


def files_current(s: sessions.Session, folder: Path) -> bool:
    """Whether *folder* holds the files of the session's current record version."""
    path = json_path(folder, s)
    try:
        return (
            s.record is not None
            and pdf_path(folder, s).is_file()
            and path.read_bytes() == record_json_bytes(s.record)
        )
    except OSError:
        return False


def record_pdf_path(db: Database, s: sessions.Session) -> Path:
    """The record PDF the draw screen writes into the data folder's records folder."""
    return pdf_path(records_dir(db), s)
