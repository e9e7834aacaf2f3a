"""The two tables the bureau publishes on its website: the item list (抽查事项清单) and the annual plan
(年度抽查计划). Only items in use (启用) and tasks that are not archived; no personal data at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from sqlalchemy import Connection

from dsj_desktop.clock import today
from dsj_desktop.db.engine import Database
from dsj_desktop.domain.fields import split_list
from dsj_desktop.errors import UserError
from dsj_desktop.services import settings
from dsj_desktop.services.plan_overview import TaskRow, ratio_label, task_rows

DASH = "—"


@dataclass(frozen=True)
class PublicColumn:
    header: str
    xlsx_width: float  # Excel column width (characters of "0"; a Chinese character is about 2)
    pdf_width: float  # relative width in the PDF table
    align: Literal["left", "center", "right"] = "left"
    fit: bool = False  # PDF: exactly as wide as the widest of the header and the cells (short columns)


@dataclass
class PublicTable:
    """A publication: its heading and one table of plain strings."""

    title: str  # the heading, with the bureau's name and the year
    short_title: str  # the running header of the PDF and the sheet name
    bureau: str
    year: int
    unit: str  # 项
    columns: Sequence[PublicColumn]
    rows: list[list[str]] = field(default_factory=list)
    subtitle: str = ""
    published_on: date = field(default_factory=today)

    @property
    def meta_line(self) -> str:
        return f"共 {len(self.rows)} {self.unit}　　公示日期：{self.published_on:%Y年%m月%d日}"


def _bureau(db: Database) -> str:
    name = settings.bureau_name(db)
    if not name:
        raise UserError(
            "还没有设置单位名称：请先在首页点“修改单位名称…”填写本局全称，公示文件的标题要用到它。"
        )
    return name


# --- the item list ----------------------------------------------------------------------------

ITEM_COLUMNS = (
    PublicColumn("序号", 6, 0, "center", fit=True),
    PublicColumn("事项编码", 11, 0, "center", fit=True),
    PublicColumn("抽查事项", 22, 1.6),
    PublicColumn("抽查类别", 9, 0, "center", fit=True),
    PublicColumn("抽查依据", 34, 2.4),
    PublicColumn("抽查主体", 14, 1.0),
    PublicColumn("抽查对象", 18, 1.3),
    PublicColumn("抽查内容", 34, 2.4),
    PublicColumn("抽查方式", 10, 0.85, "center"),
    PublicColumn("抽查比例", 10, 0.75, "center"),
    PublicColumn("抽查频次", 10, 0.75, "center"),
)


def _latest_item_year(conn: Connection) -> int | None:
    y = conn.exec_driver_sql("SELECT max(year) FROM item WHERE archived = 0").scalar()
    return None if y is None else int(y)


def item_list_table(db: Database, *, year: int | None = None) -> PublicTable:
    """The items in use (启用) for *year*: every active item whose list year (年度) is *year* or
    earlier. Without *year*: the latest year among the active items."""
    bureau = _bureau(db)
    with db.read() as conn:
        if year is None:
            year = _latest_item_year(conn) or today().year
        rows = conn.exec_driver_sql(
            "SELECT code, name, category, basis, subject, industries, content, method, ratio, frequency "
            "FROM item WHERE archived = 0 AND year <= ? ORDER BY code",
            (year,),
        ).all()
    if not rows:
        raise UserError(f"没有可公示的抽查事项：{year} 年度及以前的清单中没有启用的事项。")
    table = PublicTable(
        title=f"{bureau}{year}年度随机抽查事项清单",
        short_title=f"随机抽查事项清单（{year}年度）",
        bureau=bureau,
        year=year,
        unit="项",
        columns=ITEM_COLUMNS,
    )
    for i, r in enumerate(rows, start=1):
        code, name, category, basis, subject, industries, content, method, ratio, frequency = r
        target = "、".join(split_list(industries)) if industries else "各行业领域生产经营单位"
        table.rows.append(
            [
                str(i),
                code,
                name,
                category,
                basis,
                subject or bureau,
                target,
                content,
                method,
                ratio,
                frequency,
            ]
        )
    return table


# --- the annual plan --------------------------------------------------------------------------

PLAN_COLUMNS = (
    PublicColumn("序号", 6, 0, "center", fit=True),
    PublicColumn("抽查计划编号", 14, 0, "center", fit=True),
    PublicColumn("抽查任务名称", 22, 1.6),
    PublicColumn("抽查类型", 11, 0, "center", fit=True),
    PublicColumn("抽查事项", 24, 1.7),
    PublicColumn("抽查对象", 34, 2.5),
    PublicColumn("抽查比例", 14, 1.1, "center"),
    PublicColumn("发起部门", 16, 1.15),
    PublicColumn("联合部门", 16, 1.15),
    PublicColumn("抽查时间", 13, 1.0, "center"),
)


CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def _numbered(names: Sequence[str]) -> str:
    """Several items one a line, numbered ①②… so that a wrapped name is not taken for two."""
    if len(names) <= 1:
        return "".join(names)
    marks = CIRCLED if len(names) <= len(CIRCLED) else [f"{i}." for i in range(1, len(names) + 1)]
    return "\n".join(f"{m}{n}" for m, n in zip(marks, names, strict=False))


def _period(start: date, end: date) -> str:
    return f"{start:%Y-%m-%d}\n至\n{end:%Y-%m-%d}"


def plan_table(db: Database, *, year: int | None = None, plan: str | None = None) -> PublicTable:
    """The tasks (not archived) of *plan* or of the plans of *year*; without either, of the latest
    year that has any."""
    bureau = _bureau(db)
    with db.read() as conn:
        rows: list[TaskRow] = task_rows(conn)
    if plan is not None:
        if not any(r.task.plan_code == plan for r in rows):
            raise UserError(f"没有编号为“{plan}”的抽查计划，或该计划没有未归档的抽查任务。")
        rows = [r for r in rows if r.task.plan_code == plan]
    if year is None:
        if not rows:
            raise UserError("没有可公示的抽查任务：年度计划中还没有任务（已归档的任务不公示）。")
        year = max(r.task.plan_year for r in rows)
    rows = [r for r in rows if r.task.plan_year == year]
    if not rows:
        raise UserError(f"没有可公示的抽查任务：{year} 年度计划中没有未归档的任务。")
    title = f"{bureau}{year}年度“双随机、一公开”抽查计划"
    plans = list(dict.fromkeys(r.task.plan_name for r in rows))
    table = PublicTable(
        title=title,
        short_title=f"“双随机、一公开”抽查计划（{year}年度）",
        bureau=bureau,
        year=year,
        unit="项抽查任务",
        columns=PLAN_COLUMNS,
        subtitle="、".join(p for p in plans if p != title),
    )
    for i, r in enumerate(rows, start=1):
        t = r.task
        kind = t.draw_type + ("抽查" if not t.partners else "抽查\n部门联合")
        target = f"{t.scope_note}\n（{r.scope}）" if t.scope_note else r.scope
        table.rows.append(
            [
                str(i),
                t.plan_code,
                t.name,
                kind,
                _numbered(r.item_names),
                target,
                ratio_label(t.ratio, multiline=True),
                t.department or bureau,
                "、".join(t.partners) or DASH,
                _period(t.start_date, t.end_date),
            ]
        )
    return table
