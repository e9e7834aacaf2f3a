"""Make the README's screenshots from the demo county (offscreen; run from the repository root):

QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py docs/images
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication

from dsj_desktop.db.engine import open_database
from dsj_desktop.demo import fill_demo
from dsj_desktop.progress import run_job
from dsj_desktop.ui.app import setup_application
from dsj_desktop.ui.draw.paint import StageView
from dsj_desktop.ui.draw.stage import WITNESSES
from dsj_desktop.ui.main_window import MainWindow


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication([])
    setup_application(app)
    db = open_database(Path(tempfile.mkdtemp(prefix="dsj-shots-")))
    run_job(fill_demo(db, year=2026))  # the tasks named below are the 2026 demo's
    w = MainWindow(db)
    w.resize(1280, 800)
    w.show()
    app.processEvents()
    w.grab().save(str(out / "main-window.png"))
    w.show_directory("targets")
    app.processEvents()
    w.grab().save(str(out / "directory.png"))

    tab = w.draw_tab
    tab.start_for_task("RW-2026-04")
    tab.operator.setText("王明")
    tab.place.setText("局三楼会议室")
    tab.btn_start.click()
    scr = tab.session_screen
    assert scr is not None
    c = scr.controller
    c.go(WITNESSES)
    c.add_witness("张三（企业代表）", "31415926535")
    c.add_witness("李四（纪检监督员）", "27182818284")
    c.reveal()
    app.processEvents()
    w.grab().save(str(out / "draw-operator.png"))
    projector = StageView(c, projector=True)
    projector.render_image(QSize(1920, 1080)).save(str(out / "projector-reveal.png"))
    c.start_roll()
    c.stop_roll()
    projector.render_image(QSize(1920, 1080)).save(str(out / "projector-result.png"))
    db.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images"))
