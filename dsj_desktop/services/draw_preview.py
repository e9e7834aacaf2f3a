"""What the 抽取 tab shows before a session starts: a task's live pool (strata with quotas,
exclusions with reasons, mandatory units), the inspectors and experts who may be drawn, the rules
that apply, and the task's earlier sessions. Read-only; nothing here is random."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection

from dsj_desktop.domain.pool import UNDIRECTED
from dsj_desktop.draw.algorithm import default_cap
from dsj_desktop.services import plan as plan_service
from dsj_desktop.services.sessions import OPEN, DrawPlan, Session, list_sessions, plan_draw


@dataclass
class PoolPreview:
    plan: DrawPlan  # what a draw started from this preview freezes, if the data are unchanged
    sessions: list[Session] = field(default_factory=list)

    @property
    def pool(self) -> plan_service.TaskPool:
        return self.plan.pool

    @property
    def inspectors(self) -> list[tuple[str, str, str]]:  # (执法证号, 姓名, 科室)
        return self.plan.inspectors

    @property
    def experts(self) -> list[tuple[str, str, str]]:  # (编号, 姓名, 单位); empty when the task draws none
        return self.plan.experts

    @property
    def task(self) -> plan_service.TaskInfo:
        return self.pool.task

    @property
    def open_sessions(self) -> list[Session]:
        return [s for s in self.sessions if s.status in OPEN]

    @property
    def can_start(self) -> bool:
        return not self.pool.problems and not self.open_sessions

    def rules_text(self) -> list[str]:
        """The rules applied to this task, in plain Chinese (DSJ-DRAW-1 section 7 and the bureau's
        settings)."""
        t = self.task
        p = self.pool.pool
        lines = list(self.pool.rules.describe())
        lines.append(f"抽查比例：{t.ratio.text()}；抽取数 k = ⌈候选数 × 比例⌉（整数运算，向上取整）")
        if t.draw_type == UNDIRECTED:
            lines.append(
                "不定向抽查按所属区域均衡：各区域先分得 ⌊总数 × 区域候选数 ÷ 候选总数⌋ 家，"
                "余下名额依次给余数最大的区域（余数相同给候选多的区域，再相同按区域名称）"
            )
        total = p.total_selected
        if self.inspectors:
            cap = default_cap(total, t.team_size, len(self.inspectors))
            lines.append(
                f"每组执法检查人员 {t.team_size} 人；每人最多分配 ⌈{total} × {t.team_size} ÷ {len(self.inspectors)}⌉"
                f" = {cap} 家（均衡分配），有回避关系的不分配"
            )
        else:
            lines.append(f"每组执法检查人员 {t.team_size} 人；目前没有可抽取的执法检查人员，无法分配")
        if t.expert_count:
            lines.append(f"每个检查对象抽取专家 {t.expert_count} 人")
        if self.pool.inspector_req:
            lines.append(
                f"执法检查人员须具备执法专长：{'、'.join(self.pool.inspector_req)}，执法证有效且在岗"
            )
        else:
            lines.append("执法检查人员须执法证在有效期内且在岗")
        for it, req in self.pool.staffing:
            lines.append(f"抽查事项 {it.code} 的检查人员要求“{req.text}”：{req.explain()}")
        lines.append("以上规则都在随机数产生之前适用，与抽取结果无关；排除的对象逐一列明原因")
        return lines


def pool_preview(conn: Connection, task_code: str, on: date) -> PoolPreview:
    return PoolPreview(plan_draw(conn, task_code, on), list_sessions(conn, task_code))
