"""The archive of one year (年度档案): everything about the year's draws and results in one folder,
with a manifest of SHA-256 hashes, for the records that are kept at least five years.

Layout::

    抽取记录/          every session's files (JSON record, signed PDF, 核验工具.html: see
                       :mod:`.session_files`), every earlier record version and each session's
                       event trace
    检查结果/          all results of the year (Excel) and every saved version of each (JSON)
    公示/              the publication sheet of each task (Excel) and the publications made
    统计/              the annual summary PDF
    manifest.json      file list with SHA-256 and sizes (machine-readable)
    清单.txt           the same, for people

Nothing is deleted or changed in the database by making an archive.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from dsj_desktop import __version__
from dsj_desktop.clock import now_iso, today
from dsj_desktop.db.engine import Database
from dsj_desktop.errors import UserError
from dsj_desktop.fileutil import atomic_write_bytes
from dsj_desktop.io.exporter import export_rows
from dsj_desktop.keys import KeyStore
from dsj_desktop.progress import Job, Progress, run_job
from dsj_desktop.publish import result_publication, stats_report
from dsj_desktop.publish.session_files import write_session_files
from dsj_desktop.services import sessions, settings, stats
from dsj_desktop.services.results import export_results

RETENTION_YEARS = 5
MANIFEST = "manifest.json"
MANIFEST_TXT = "清单.txt"


@dataclass
class ArchiveSummary:
    year: int
    folder: Path
    sessions: int
    files: int
    results: int

    def text(self) -> str:
        return (
            f"已导出 {self.year} 年度档案到“{self.folder}”：抽取场次 {self.sessions} 个，检查结果 {self.results} 条，"
            f"文件 {self.files} 个（清单见 {MANIFEST_TXT}，含每个文件的 SHA-256）。"
        )


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def _prepare_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"文件夹“{out}”已存在且不是空的；请选择一个新的（或空的）文件夹存放档案。")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"无法创建文件夹“{out}”：{exc.strerror or exc}") from None


def export_archive(db: Database, year: int, out: Path, *, on: date | None = None) -> Job[ArchiveSummary]:
    """Write the archive of the sessions drawn in *year* (and of their results) into the new folder *out*."""
    out = Path(out)
    day = on or today()
    _prepare_folder(out)
    with db.read() as conn:
        year_sessions = [s for s in sessions.list_sessions(conn) if s.draw_date.year == year]
        versions = {s.id: sessions.record_versions(conn, s.id) for s in year_sessions}
        traces = {s.id: sessions.events(conn, s.id) for s in year_sessions}
        history = [
            {"session_id": r[0], "uscc": r[1], "version": r[2], "changed_by": r[3], "changed_at": r[4],
             "reason": r[5], "data": json.loads(r[6])}
            for r in conn.exec_driver_sql(
                "SELECT r.session_id, r.uscc, v.version, v.changed_by, v.changed_at, v.reason, v.data "
                "FROM result_version v JOIN inspection_result r ON r.id = v.result_id "
                "JOIN draw_session s ON s.id = r.session_id WHERE s.draw_date BETWEEN ? AND ? "
                "ORDER BY r.session_id, r.uscc, v.version",
                (f"{year}-01-01", f"{year}-12-31"),
            )
        ]  # fmt: skip
        task_codes = sorted({s.task_code for s in year_sessions if s.status == sessions.CONFIRMED})
        pubs = [p.__dict__ for p in result_publication.publications(conn, year=year)]
        year_stats = stats.year_statistics(conn, year, day)
        bureau = str(settings.get(conn, settings.BUREAU_NAME, "") or "")
    if not year_sessions:
        raise UserError(f"{year} 年没有抽取场次，无需导出档案。")

    records = out / "抽取记录"
    older = records / "历史版本"
    records.mkdir(parents=True)
    for i, s in enumerate(year_sessions):
        yield Progress("正在写出抽取记录……", i, len(year_sessions))
        run_job(write_session_files(db, s, records))
        atomic_write_bytes(records / f"{s.id}-过程记录.json", _json_bytes(traces[s.id]))
        for version, _sha, record in versions[s.id][:-1]:
            older.mkdir(exist_ok=True)
            atomic_write_bytes(older / f"{s.id}-v{version}.json", _json_bytes(record))

    results_dir = out / "检查结果"
    results_dir.mkdir()
    yield Progress("正在导出检查结果……")
    n_results = yield from export_results(db, results_dir / f"检查结果-{year}.xlsx", year=year, on=day)
    atomic_write_bytes(results_dir / f"检查结果修改记录-{year}.json", _json_bytes(history))

    pub_dir = out / "公示"
    pub_dir.mkdir()
    for code in task_codes:
        yield Progress(f"正在导出 {code} 的公示表……")
        with db.read() as conn:
            try:
                sel = result_publication.select(conn, task_code=code)
            except UserError:
                continue  # no entered result yet
        yield from export_rows(pub_dir / f"检查结果公示-{code}.xlsx", "检查结果公示", result_publication.PUBLIC_FIELDS,
                               [p.record() for p in sel.public], len(sel.public))  # fmt: skip
    atomic_write_bytes(pub_dir / f"公示记录-{year}.json", _json_bytes(pubs))

    stats_dir = out / "统计"
    stats_dir.mkdir()
    yield Progress("正在生成年度统计……")
    stats_report.write_stats_pdf(
        year_stats, stats_dir / stats_report.default_pdf_name(year), bureau=bureau, keys=KeyStore(db.data_dir)
    )

    yield Progress("正在计算文件摘要……")
    files = []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        data = path.read_bytes()
        files.append({"path": path.relative_to(out).as_posix(), "sha256": hashlib.sha256(data).hexdigest(),
                      "bytes": len(data)})  # fmt: skip
    head = db.journal_head()
    manifest = {
        "title": f"{bureau}{year} 年度“双随机、一公开”抽查档案",
        "year": year, "bureau": bureau, "created_at": now_iso(), "program": f"dsj-desktop {__version__}",
        "keep_until": f"{year + RETENTION_YEARS}-12-31", "sessions": [s.id for s in year_sessions],
        "results": n_results, "files": files,
        "journal_head": head,  # the journal's last entry now: a later cut of it shows
    }  # fmt: skip
    atomic_write_bytes(out / MANIFEST, _json_bytes(manifest))
    lines: list[str] = [
        str(manifest["title"]),
        f"生成时间：{manifest['created_at']}　程序：{manifest['program']}",
        f"保存期限：至少至 {manifest['keep_until']}（抽查记录至少保存 {RETENTION_YEARS} 年）",
        f"抽取场次 {len(year_sessions)} 个：{'、'.join(str(s.id) for s in year_sessions)}",
        f"操作日志截至第 {head['seq']} 条（哈希 {head['hash']}）",
        "",
        "文件及其 SHA-256 摘要（可用 sha256sum 或 certutil -hashfile 文件 SHA256 核对）：",
        "",
        *(f"{f['sha256']}  {f['path']}  （{f['bytes']} 字节）" for f in files),
        "",
    ]
    atomic_write_bytes(out / MANIFEST_TXT, "\r\n".join(lines).encode("utf-8-sig"))
    return ArchiveSummary(year, out, len(year_sessions), len(files) + 2, n_results)
