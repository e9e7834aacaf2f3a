"""The import wizard with spreadsheets as offices keep them: a merged two-row header is read as one
header, and a column the draw depends on that would not be imported must be confirmed first.

With DSJ_SHOTS=folder the pages are saved there as PNG at 1920×1080 and 1024×768 (to look at)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QWizard

from dsj_desktop.db.engine import open_database
from dsj_desktop.domain.specs import TARGETS
from dsj_desktop.ui.app import setup_application
from dsj_desktop.ui.import_wizard import ImportWizard
from tests.office_corpus import STATUS_OF, all_cases, code

SIZES = ((1920, 1080), (1024, 768))


def _shoot(wizard: ImportWizard, name: str) -> None:
    folder = os.environ.get("DSJ_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for w, h in SIZES:
        wizard.resize(w, h)
        QApplication.processEvents()
        wizard.grab().save(str(Path(folder) / f"{name}-{w}x{h}.png"))
    wizard.resize(820, 600)


@pytest.fixture
def db(qtbot: Any, demo_data_dir: Path, qapp: QApplication) -> Any:
    setup_application(qapp)
    database = open_database(demo_data_dir)
    yield database
    database.close()


def _case(name: str, folder: Path) -> Any:
    return {c.name: c for c in all_cases(folder)}[name]


def test_wizard_reads_a_merged_two_row_header(db: Any, qtbot: Any, tmp_path: Path) -> None:
    case = _case("merged two-row header", tmp_path)
    wizard = ImportWizard(db, TARGETS, None, str(case.path))
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    wizard.next()
    wizard.next()
    mp = wizard.mapping_page
    assert mp.header_spin.value() == 2
    assert "表头占两行（第 2–3 行）" in mp.span_note.text()
    assert mp.combos["risk_level"].currentText() == "E 列：风险等级（重大/较大/一般/低）"
    assert mp.combos["region"].currentText() == "D 列：所在乡镇"
    assert mp.combos["status"].currentText() == "I 列：经营状况"
    assert mp.isComplete()
    _shoot(wizard, "wizard-merged-header-3-columns")
    wizard.next()
    page = wizard.preview_page
    assert page.isComplete(), page.problems.toPlainText()
    assert "新增 5" in page.summary.text() and "未导入的列：备注" in page.summary.text()
    regions = [page.preview_model.rows[i][TARGETS.attrs.index("region")] for i in range(5)]
    assert regions == ["东关镇", "东关镇", "东关镇", "北留镇", "北留镇"]
    _shoot(wizard, "wizard-merged-header-4-preview")
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert db.scalar("SELECT region FROM target WHERE uscc = :u", {"u": code(15)}) == "北留镇"


def test_wizard_asks_before_leaving_out_a_draw_column(db: Any, qtbot: Any, tmp_path: Path) -> None:
    case = _case("look-alike header refused", tmp_path)
    assert case.before is not None
    case.before(tmp_path)
    wizard = ImportWizard(db, TARGETS, None, str(case.path))
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    for _ in range(3):
        wizard.next()
    page = wizard.preview_page
    assert not page.isComplete()
    assert not wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    assert page.confirm_ignore.isVisible()
    assert "企业经营状况（市场监管）" in page.summary.text()
    assert "看起来是“经营状态”" in page.problems.toPlainText()
    _shoot(wizard, "wizard-ignored-column-warning")
    page.confirm_ignore.setChecked(True)
    assert page.isComplete(), page.problems.toPlainText()
    assert "未导入的列：企业经营状况（市场监管）" in page.summary.text()
    _shoot(wizard, "wizard-ignored-column-confirmed")
    wizard.button(QWizard.WizardButton.FinishButton).click()
    for n in range(1, 7):
        assert db.scalar("SELECT status FROM target WHERE uscc = :u", {"u": code(n)}) == STATUS_OF[n]


def test_wizard_asks_per_task_for_a_published_plan_table(db: Any, qtbot: Any, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QComboBox, QLineEdit

    from dsj_desktop.domain.plan_specs import PLAN_ROWS
    from dsj_desktop.services.plan import import_plan
    from tests.office_corpus import PROSE_ITEMS, PROSE_RATIO

    case = _case("published plan table: cells needing a choice", tmp_path)
    fixed = tmp_path / "fixed-period.xlsx"
    from openpyxl import load_workbook

    wb = load_workbook(case.path)
    wb.active["L4"] = "2023年4月至9月"  # the one cell the wizard cannot choose
    wb.save(fixed)

    def importer(path: Path, add_unknown_codes: bool = False, **kw: Any) -> Any:
        return import_plan(db, path, **kw)

    wizard = ImportWizard(db, PLAN_ROWS, None, str(fixed), importer=importer, new_codes=False)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    for _ in range(3):
        wizard.next()
    page = wizard.preview_page
    assert not page.isComplete()
    assert page.choices.isVisible() and page.choices.rowCount() == 2
    _shoot(wizard, "wizard-plan-choices")
    combo = page.choices.cellWidget(0, 2)
    ratio = page.choices.cellWidget(0, 3)
    items = page.choices.cellWidget(1, 4)
    assert isinstance(combo, QComboBox) and isinstance(ratio, QLineEdit) and isinstance(items, QLineEdit)
    assert PROSE_RATIO in ratio.toolTip()
    combo.setCurrentText("不定向")
    ratio.setText("重大:100%;较大:30%;一般:10%;低:5%")
    items.setText("YJ-002，YJ-009")
    page.apply_choices.click()
    assert page.isComplete(), page.problems.toPlainText()
    assert "新增 2" in page.summary.text()
    wizard.button(QWizard.WizardButton.FinishButton).click()
    note = db.scalar("SELECT scope_note FROM task WHERE code = 'QSYJ-2023-01'")
    assert f"抽查比例（原文）：{PROSE_RATIO}" in note
    assert db.scalar("SELECT draw_type FROM task WHERE code = 'QSYJ-2023-01'") == "不定向"
    assert db.scalar("SELECT items FROM task WHERE code = 'QSYJ-2023-02'") == "YJ-002、YJ-009"
    assert PROSE_ITEMS in db.scalar("SELECT scope_note FROM task WHERE code = 'QSYJ-2023-02'")
    assert db.scalar("SELECT start_date FROM task WHERE code = 'QSYJ-2023-02'") == "2023-04-01"
