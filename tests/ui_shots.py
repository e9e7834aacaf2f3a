"""Screenshots of a county's first day on one screen size (run in its own process: the offscreen
platform's screen size is fixed when Qt starts):

    QT_QPA_PLATFORM="offscreen:configfile=screen.json" python -m tests.ui_shots OUT_DIR DATA_DIR

Saves the wizard, the home page after the first import, the plan tab and the draw screen as PNG
(QWidget.grab) and prints one JSON line of measurements: does the window fit the screen, is the
session title elided with a tooltip."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any


def _wait(app: Any, until: Any, limit: int = 400) -> None:
    import time

    for _ in range(limit):
        app.processEvents()
        if until():
            return
        time.sleep(0.05)


def dialog_sizes(window: Any, db: Any, out: Path, tag: str) -> dict[str, list[int]]:
    """Every dialog of a first day, shown on this screen: its size (and a screenshot)."""
    from PySide6.QtWidgets import QApplication

    from dsj_desktop.domain.specs import TARGETS
    from dsj_desktop.services.plan import list_tasks
    from dsj_desktop.ui.accounts_dialog import AccountsDialog
    from dsj_desktop.ui.codelist_dialog import CodeListDialog
    from dsj_desktop.ui.guide_dialog import GuideDialog
    from dsj_desktop.ui.holiday_dialog import HolidayDialog
    from dsj_desktop.ui.import_guide import ImportGuide
    from dsj_desktop.ui.import_wizard import ImportWizard
    from dsj_desktop.ui.rules_dialog import RulesDialog
    from dsj_desktop.ui.settings_dialog import SettingsDialog
    from dsj_desktop.ui.task_dialog import TaskDialog

    with db.read() as conn:
        task = list_tasks(conn)[0]
    makers = {
        "settings": lambda: SettingsDialog(db, window),
        "rules": lambda: RulesDialog(db, window),
        "task": lambda: TaskDialog(db, task, window),
        "holidays": lambda: HolidayDialog(db, window),
        "accounts": lambda: AccountsDialog(db, window),
        "codes": lambda: CodeListDialog(db, window),
        "import": lambda: ImportWizard(db, TARGETS, window),
        "import-guide": lambda: ImportGuide(db, lambda kind: None, lambda: None, window),
        "guide": lambda: GuideDialog(window),
    }
    sizes: dict[str, list[int]] = {}
    app = QApplication.instance()
    for name, make in makers.items():
        dialog = make()
        dialog.show()
        app.processEvents()  # type: ignore[union-attr]
        frame = dialog.frameGeometry()
        sizes[name] = [frame.width(), frame.height()]
        dialog.grab().save(str(out / f"dialog-{name}-{tag}.png"))
        dialog.close()
        dialog.deleteLater()
    return sizes


def main(out: Path, data: Path) -> dict[str, Any]:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from dsj_desktop.db.engine import open_database
    from dsj_desktop.domain.plan_specs import ITEMS
    from dsj_desktop.domain.specs import INSPECTORS, TARGETS
    from dsj_desktop.io.importer import import_directory
    from dsj_desktop.progress import run_job
    from dsj_desktop.services import sessions, settings
    from dsj_desktop.services.plan import import_plan
    from dsj_desktop.ui.app import setup_application
    from dsj_desktop.ui.first_run import FirstRunWizard
    from dsj_desktop.ui.main_window import MainWindow
    from tests.test_first_day import county_files

    app = QApplication.instance() or QApplication([])
    setup_application(app)
    screen = app.primaryScreen().availableGeometry()
    tag = f"{screen.width()}x{screen.height()}"
    out.mkdir(parents=True, exist_ok=True)
    facts: dict[str, Any] = {"screen": [screen.width(), screen.height()]}

    db = open_database(data)
    wz = FirstRunWizard(db)
    wz.show()
    app.processEvents()
    wz.grab().save(str(out / f"wizard-1-{tag}.png"))
    wz.bureau_page.name.setText("白水县应急管理局")
    wz.next()
    wz.admin_page.passwords.first.setText("Baishui-2026!")
    wz.admin_page.passwords.again.setText("Baishui-2026!")
    wz.next()
    assert wz.keys_page.code_view is not None
    wz.keys_page.code_view.confirm.setChecked(True)
    wz.next()
    app.processEvents()
    wz.grab().save(str(out / f"wizard-start-{tag}.png"))
    facts["wizard_fits"] = wz.width() <= screen.width() and wz.height() <= screen.height()
    facts["wizard_choice"] = wz.start_page.selected()
    wz.accept()

    files = county_files(data.parent / "files", n_targets=600)
    run_job(import_directory(db, TARGETS, files["targets"], add_unknown_codes=True))
    window = MainWindow(db)
    window.show()
    app.processEvents()
    frame = window.frameGeometry()
    facts["window"] = [frame.width(), frame.height()]
    facts["window_fits"] = screen.contains(window.geometry())
    window.grab().save(str(out / f"home-{tag}.png"))

    run_job(import_directory(db, INSPECTORS, files["inspectors"]))
    run_job(import_directory(db, ITEMS, files["items"]))
    run_job(import_plan(db, files["plan"]))
    window.hub.announce()
    window.tabs.setCurrentWidget(window.items_tab)
    items = window.items_tab
    col = [
        items.model.headerData(i, Qt.Orientation.Horizontal) for i in range(items.model.columnCount())
    ].index("程序识别的人员要求")
    items.table.scrollTo(items.model.index(0, col))
    app.processEvents()
    window.grab().save(str(out / f"items-{tag}.png"))
    window.tabs.setCurrentWidget(window.plan_tab)
    _wait(app, lambda: window.plan_tab.model.rowCount() > 0 and window.plan_tab.model.complete)
    window.grab().save(str(out / f"plan-{tag}.png"))

    tab = window.draw_tab
    tab.start_for_task("BS-RW-01")
    app.processEvents()
    window.grab().save(str(out / f"draw-chooser-{tag}.png"))
    tab.operator.setText("王明")
    s = sessions.prepare(db, "BS-RW-01", on=date(2026, 6, 1), operator="王明")  # inside the task period
    s = sessions.commit(db, s.id, operator="王明")
    scr = tab.open_session(s.id)
    app.processEvents()
    window.grab().save(str(out / f"draw-session-{tag}.png"))
    facts["title_elided"] = scr.title.is_elided()
    facts["title_tooltip"] = scr.title.toolTip() == scr.title.full_text()
    facts["bureau"] = settings.bureau_name(db)
    facts["dialogs"] = dialog_sizes(window, db, out, tag)
    window.close()
    db.close()
    return facts


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2])), ensure_ascii=False))
