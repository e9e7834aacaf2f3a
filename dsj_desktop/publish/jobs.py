"""The publication jobs: build the table, then write Excel or PDF by the file name."""

from __future__ import annotations

from pathlib import Path

from dsj_desktop.db.engine import Database
from dsj_desktop.progress import Job, Progress
from dsj_desktop.publish.render import check_target, write_publication
from dsj_desktop.publish.tables import PublicTable, item_list_table, plan_table


def _write(table: PublicTable, path: Path) -> Job[PublicTable]:
    yield Progress("正在生成公示文件……")
    write_publication(table, path)
    return table


def publish_items(db: Database, path: Path, *, year: int | None = None) -> Job[PublicTable]:
    """The item list (启用 items only). Returns the table written (its rows, title and year)."""
    path = Path(path)
    check_target(path)
    yield Progress("正在整理抽查事项清单……")
    return (yield from _write(item_list_table(db, year=year), path))


def publish_plan(
    db: Database, path: Path, *, year: int | None = None, plan: str | None = None
) -> Job[PublicTable]:
    """The annual plan (tasks not archived). Returns the table written."""
    path = Path(path)
    check_target(path)
    yield Progress("正在整理年度抽查计划……")
    return (yield from _write(plan_table(db, year=year, plan=plan), path))
