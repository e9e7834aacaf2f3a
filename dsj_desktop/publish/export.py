"""A session's files for taking away (导出到U盘/文件夹): the signed record PDF, the JSON record and
an Excel list of the result (targets, tickets, teams; never phone numbers)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from dsj_desktop.db.engine import Database
from dsj_desktop.errors import UserError
from dsj_desktop.io.exporter import save_workbook
from dsj_desktop.progress import Job, Progress, run_job
from dsj_desktop.publish.record_pdf import format_time, stratum_title, team_chains
from dsj_desktop.publish.session_files import write_session_files
from dsj_desktop.services import sessions

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
RESULT_HEADERS = (
    "序号", "检查对象名称", "统一社会信用代码", "分层", "必查", "票号", "执法检查人员", "执法证号", "专家", "专家编号",
    "递补情况",
)  # fmt: skip


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    size: int

    @property
    def size_text(self) -> str:
        if self.size >= 1024 * 1024:
            return f"{self.size / 1024 / 1024:.1f} MB"
        return f"{max(1, round(self.size / 1024))} KB"


def result_rows(s: sessions.Session) -> list[list[Any]]:
    """One row per drawn target with its current team (after substitutions), as in RESULT_HEADERS."""
    names = s.target_names
    people = {sessions.INSPECTOR: s.inspector_names, sessions.EXPERT: s.expert_names}
    teams = s.current_teams()
    rows: list[list[Any]] = []
    for i, x in enumerate(s.result, start=1):
        team = teams.get(
            x["id"], {sessions.INSPECTOR: list(x["inspectors"]), sessions.EXPERT: list(x["experts"])}
        )
        notes = []
        for kind, who in ((sessions.INSPECTOR, "执法人员"), (sessions.EXPERT, "专家")):
            for chain in team_chains(x, s.substitutions, kind):
                if len(chain) > 1:
                    notes.append(f"{who}" + " → ".join(people[kind].get(p, p) for p in chain) + "（递补）")
        rows.append([
            i, names.get(x["id"], ""), x["id"], "" if x["mandatory"] else stratum_title(x["stratum"]),
            "是" if x["mandatory"] else "", x["ticket"],
            "、".join(people[sessions.INSPECTOR].get(p, p) for p in team[sessions.INSPECTOR]),
            "、".join(team[sessions.INSPECTOR]),
            "、".join(people[sessions.EXPERT].get(p, p) for p in team[sessions.EXPERT]),
            "、".join(team[sessions.EXPERT]), "；".join(notes),
        ])  # fmt: skip
    return rows


def _sheet(
    wb: Workbook, title: str, headers: tuple[str, ...], rows: list[list[Any]], widths: list[int]
) -> None:
    ws = wb.create_sheet(title)
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
    for row in rows:
        ws.append(row)
    for j, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + j)].width = w
    ws.freeze_panes = "A2"


def write_result_xlsx(s: sessions.Session, path: Path) -> Path:
    """The result list as a workbook: 抽取结果, 递补记录 (when any) and 场次信息."""
    if not s.result:
        raise UserError(f"场次 {s.id} 没有抽取结果（未开奖）。")
    wb = Workbook()
    wb.remove(wb.active)
    _sheet(wb, "抽取结果", RESULT_HEADERS, result_rows(s), [6, 36, 22, 16, 6, 66, 20, 28, 14, 14, 40])
    people = s.inspector_names | s.expert_names
    if s.substitutions:
        subs = [
            [i, s.target_names.get(x["target"], ""), x["target"], people.get(x["removed"], ""), x["removed"],
             x["reason"], "；".join(f"{people.get(k['id'], k['id'])}（{k['reason']}）" for k in x["skipped"]),
             people.get(x["substitute"], ""), x["substitute"], format_time(x.get("at")), x.get("operator", "")]
            for i, x in enumerate(s.substitutions, start=1)
        ]  # fmt: skip
        headers = ("序号", "检查对象名称", "统一社会信用代码", "不能参加人员", "编号", "原因", "同时声明不能递补",
                   "递补人员", "递补人员编号", "时间", "操作人员")  # fmt: skip
        _sheet(wb, "递补记录", headers, subs, [6, 36, 22, 12, 16, 24, 30, 12, 16, 20, 10])
    task = s.task
    digest = sessions.record_sha256(s.record) if s.record else ""
    info: list[list[Any]] = [
        ["场次编号", s.id], ["抽查任务", f"{task.get('code', '')} {task.get('name', '')}"],
        ["状态", s.status_title], ["作废原因", s.void_reason], ["抽取日期", s.draw_date.isoformat()],
        ["抽取地点", s.place], ["操作人员", s.operator], ["承诺值 C", s.commitment], ["随机数 N", s.nonce],
        ["随机种子", s.seed], ["记录版本", s.record_version or ""], ["记录摘要（SHA-256）", digest],
    ]  # fmt: skip
    _sheet(wb, "场次信息", ("项目", "内容"), info, [20, 70])
    save_workbook(wb, Path(path))
    return Path(path)


def export_session(db: Database, session_id: str, folder: Path) -> Job[list[WrittenFile]]:
    """Write the record PDF (signed), the JSON record and the Excel result list into *folder*."""
    folder = Path(folder)
    s = sessions.get_session(db, session_id)
    if s.record is None:
        raise UserError(f"场次 {s.id} 还没有抽取记录，无法导出（请先确认或作废）。")
    if not folder.is_dir():
        raise UserError(f"文件夹“{folder}”不存在或无法访问（U 盘是否已拔出？）。")
    yield Progress("正在生成并签署抽取记录 PDF……", 0, 2)
    record, pdf = run_job(write_session_files(db, s, folder, verifier=False))
    written = [pdf, record]
    if s.result:
        yield Progress("正在写出 Excel 结果清单……", 1, 2)
        written.append(write_result_xlsx(s, folder / f"{s.id}-抽取结果.xlsx"))
    yield Progress("导出完成", 2, 2)
    return [WrittenFile(p, p.stat().st_size) for p in written]
