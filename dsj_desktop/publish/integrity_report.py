"""The integrity check's report as a text file someone can keep or send (GB-friendly UTF-8 with BOM,
Windows line ends, so Notepad on an office PC shows it right)."""

from __future__ import annotations

from pathlib import Path

from dsj_desktop.fileutil import atomic_write_bytes
from dsj_desktop.services.integrity import IntegrityReport


def write_integrity_report(report: IntegrityReport, path: Path) -> Path:
    """Every finding (at least the first 200) in *path*; a name without .txt gets it appended."""
    p = Path(path)
    if p.suffix.lower() != ".txt":
        p = p.with_name(p.name + ".txt")
    text = report.text(limit=max(200, len(report.findings)))
    atomic_write_bytes(p, (text.replace("\n", "\r\n") + "\r\n").encode("utf-8-sig"))
    return p
