"""The core functions the screens call instead of running SQL or writing files themselves (issue 14):
each does what the screen did, on data the test did not make (the demo county)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsj_desktop import prefs
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.domain import codelists
from dsj_desktop.errors import ValidationError
from dsj_desktop.progress import run_job
from dsj_desktop.publish.integrity_report import write_integrity_report
from dsj_desktop.publish.recovery_sheet import write_recovery_sheet
from dsj_desktop.services import backup, codes, holidays, integrity, journal, results
from dsj_desktop.services.plan_overview import task_form_choices


@pytest.fixture
def demo(demo_results_data_dir: Path) -> Iterator[Database]:
    database = open_database(demo_results_data_dir)
    yield database
    database.close()


def last_action(db: Database) -> str:
    return journal.entries(db, limit=1)[0].action


def test_code_list_edits_are_journalled_writes(demo: Database) -> None:
    usage = dict(codes.code_usage(demo, codelists.REGION))
    town, used = next((v, n) for v, n in usage.items() if n)
    assert used == demo.scalar("SELECT count(*) FROM target WHERE region = :t", {"t": town})

    assert codes.add_code(demo, codelists.REGION, "  新城街道 ")
    assert last_action(demo) == "代码表：添加所属区域“新城街道”"
    assert not codes.add_code(demo, codelists.REGION, "新城街道")  # already there: nothing added
    assert codes.code_usage(demo, codelists.REGION)[-1] == ("新城街道", 0)

    assert codes.rename_code(demo, codelists.REGION, town, town + "（新）") == used
    assert demo.scalar("SELECT count(*) FROM target WHERE region = :t", {"t": town + "（新）"}) == used
    assert last_action(demo) == f"代码表：所属区域“{town}”改名"

    with pytest.raises(ValidationError, match="仍被"):
        codes.remove_code(demo, codelists.REGION, town + "（新）")
    codes.remove_code(demo, codelists.REGION, "新城街道")
    assert "新城街道" not in codes.all_code_lists(demo)[codelists.REGION]
    assert run_job(integrity.check(demo)).ok  # an honest database never fails its own check


def test_confirmed_session_choices_name_each_task(demo: Database) -> None:
    choices = results.confirmed_session_choices(demo)
    assert choices, "the demo has confirmed draws"
    expected = demo.scalar("SELECT count(*) FROM draw_session WHERE status = 'confirmed'")
    assert len(choices) == expected
    assert choices == sorted(choices, key=lambda c: (c.task_code, c.draw_date))
    for c in choices:
        assert c.task_name == demo.scalar("SELECT name FROM task WHERE code = :c", {"c": c.task_code})


def test_task_form_choices(demo: Database) -> None:
    choices = task_form_choices(demo)
    active = demo.scalar("SELECT count(*) FROM item WHERE archived = 0")
    assert len(choices.items) == active and [c for c, _ in choices.items] == sorted(
        c for c, _ in choices.items
    )
    with demo.read() as conn:
        plan_codes = {r[0] for r in conn.exec_driver_sql("SELECT code FROM plan")}
    assert {p.code for p in choices.plans} == plan_codes
    assert choices.codes.get(codelists.REGION)


def test_current_counts_match_a_backups_preview(demo: Database, tmp_path: Path) -> None:
    now = backup.current_counts(demo)
    assert now["检查对象"] == demo.scalar("SELECT count(*) FROM target") > 0
    info = backup.backup_to_folder(demo, tmp_path)
    assert info.counts == now


def test_deadline_days_and_year_table(demo: Database) -> None:
    assert holidays.read_deadline_days(demo) == 7
    holidays.set_deadline_days(demo, 5)
    assert holidays.read_deadline_days(demo) == 5
    years = holidays.read_year_table(demo, 2026)
    assert {2025, 2026, 2027} <= {y.year for y in years}


def test_integrity_check_is_recorded_and_reported(demo: Database, tmp_path: Path) -> None:
    report = run_job(integrity.check_and_record(demo, "（启动时）"))
    assert report.ok and last_action(demo) == "完整性检查（启动时）"
    written = write_integrity_report(report, tmp_path / "报告")
    assert written == tmp_path / "报告.txt"
    text = written.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf") and b"\r\n" in text
    assert report.text().splitlines()[0] in text.decode("utf-8-sig")


def test_recovery_sheet_as_text_and_pdf(tmp_path: Path) -> None:
    txt = write_recovery_sheet(
        tmp_path / "code.txt", "ABCD-EFGH", "admin", "青山县应急管理局", [("记录签名", "aa bb")]
    )
    body = txt.read_text(encoding="utf-8-sig")
    assert "恢复码：ABCD-EFGH" in body and "recover-admin admin" in body and "记录签名：aa bb" in body
    pdf = write_recovery_sheet(tmp_path / "code", "ABCD-EFGH", "admin", "青山县应急管理局")
    assert pdf.suffix == ".pdf" and pdf.read_bytes().startswith(b"%PDF")


def test_preferences_file(tmp_path: Path) -> None:
    assert prefs.last_user(tmp_path) == ""
    prefs.remember_user(tmp_path, "op")
    assert prefs.last_user(tmp_path) == "op"
    assert json.loads((tmp_path / prefs.PREFS_FILE).read_text(encoding="utf-8")) == {"last_user": "op"}
    (tmp_path / prefs.PREFS_FILE).write_text("not json", encoding="utf-8")
    assert prefs.read_prefs(tmp_path) == {}  # a spoiled file is no preference, not a crash


def test_reads_for_the_screens(demo: Database) -> None:
    from dsj_desktop.publish import result_publication
    from dsj_desktop.services import plan, plan_overview, stats

    with demo.read() as conn:
        assert plan.read_tasks(demo) == plan.list_tasks(conn)
        assert plan_overview.read_plans(demo, include_archived=True) == plan_overview.list_plans(
            conn, include_archived=True
        )
        assert stats.read_plan_years(demo) == stats.plan_years(conn)
        assert result_publication.read_publications(demo) == result_publication.publications(conn)
    assert journal.entry_count(demo) == len(journal.entries(demo))
    rows = results.read_rows(demo)
    first = rows[0]
    one = results.entry_choices(demo, [first])
    assert one.items and all(code in one.people for code, _ in first.inspectors)
    other = next((r for r in rows if r.session_id != first.session_id), None)
    if other is not None:  # targets of two sessions: no common item list
        assert results.entry_choices(demo, [first, other]).items == []
    year = stats.read_plan_years(demo)[0]
    assert stats.read_year_statistics(demo, year).year == year
