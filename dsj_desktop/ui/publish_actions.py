"""“导出公示…”: choose an Excel or PDF file, then run a publication job with a progress dialog."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from dsj_desktop.progress import Job
from dsj_desktop.ui.runner import report_failure, run_with_progress

XLSX_FILTER = "Excel 工作簿 (*.xlsx)"
PDF_FILTER = "PDF 文件 (*.pdf)"


def export_publication(
    parent: QWidget, title: str, default_name: str, make_job: Callable[[Path], Job[Any]]
) -> Path | None:
    """Ask where to save (the file type decides Excel or PDF) and write the publication there."""
    default = str(Path.home() / f"{default_name}.pdf")
    path, chosen = QFileDialog.getSaveFileName(parent, title, default, f"{PDF_FILTER};;{XLSX_FILTER}")
    if not path:
        return None
    if Path(path).suffix.lower() not in (".pdf", ".xlsx"):
        path += ".xlsx" if chosen == XLSX_FILTER else ".pdf"
    out = run_with_progress(parent, title, make_job(Path(path)))
    if not out.ok:
        report_failure(parent, title, out)
        return None
    table = out.value
    QMessageBox.information(
        parent, title, f"已生成公示文件：\n{path}\n\n{table.title}，共 {len(table.rows)} {table.unit}。"
    )
    return Path(path)
