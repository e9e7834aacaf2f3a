"""The item list (抽查事项清单) and the annual plan (年度抽查计划, one spreadsheet row per task)."""

from __future__ import annotations

from dsj_desktop import clock
from dsj_desktop.domain.codelists import INDUSTRY, REGION
from dsj_desktop.domain.fields import CellError, FieldSpec, Kind
from dsj_desktop.domain.pool import CONDITIONS, DRAW_TYPES
from dsj_desktop.domain.ratio import RatioError, parse_ratio
from dsj_desktop.domain.specs import TableSpec

CATEGORIES = ("一般", "重点")
ITEM_STATES = ("停用", "启用")  # archived = True / False


def _this_year() -> int:
    return clock.today().year


def _year(s: str) -> int:
    if not (s.isdigit() and len(s) == 4 and 2000 <= int(s) <= 2100):
        raise CellError(f"“{s}”不是年份，请写作 2026")
    return int(s)


def _ratio(s: str) -> str:
    try:
        return parse_ratio(s).text()
    except RatioError as exc:
        raise CellError(str(exc)) from None


def _int_at_least(minimum: int, what: str):  # type: ignore[no-untyped-def]
    def parse(s: str) -> int:
        if not s.isdigit():
            raise CellError(f"{what}应为整数，而不是“{s}”")
        n = int(s)
        if n < minimum:
            raise CellError(f"{what}至少为 {minimum}，不能是 {n}")
        if n > 50:
            raise CellError(f"{what} {n} 不合理（最多 50）")
        return n

    return parse


ITEMS = TableSpec(
    kind="items",
    title="抽查事项清单",
    noun="抽查事项",
    unit="项",
    table="item",
    key=("code",),
    search=("code", "name", "basis", "content", "subject"),
    archive_verb="停用",
    restore_verb="启用",
    fields=(
        FieldSpec("code", "事项编码", required=True, code=True, max_len=40, width=14),
        FieldSpec("name", "抽查事项", required=True, width=30),
        FieldSpec("category", "抽查类别", Kind.CHOICE, choices=CATEGORIES, default="一般", filterable=True,
                  width=10),
        FieldSpec("basis", "抽查依据", multiline=True, max_len=4000, width=40),
        FieldSpec("subject", "抽查主体", width=20),
        FieldSpec("industries", "抽查对象", Kind.LIST, codelist=INDUSTRY, filterable=True,
                  width=24,
                  hint="适用的行业领域，多个用“、”分隔；留空表示不限"),
        FieldSpec("content", "抽查内容", multiline=True, max_len=4000, width=40),
        FieldSpec("method", "抽查方式", width=16, hint="如：现场检查、书面检查"),
        FieldSpec("ratio", "抽查比例", width=12, hint="说明性文字；任务的比例在年度计划中设定"),
        FieldSpec("frequency", "抽查频次", width=12),
        FieldSpec("inspector_req", "检查人员要求", max_len=500, width=20,
                  hint="照原文填写，如：持有效执法证，2人以上；需要的执法专长写专长名称（如 危险化学品）"),
        FieldSpec("remark", "备注", multiline=True, max_len=2000, width=20),
        FieldSpec("year", "年度", Kind.INT, parser=_year, default_factory=_this_year,
                  width=8, hint="清单的年度（版本），留空为今年"),
        FieldSpec("archived", "状态", Kind.BOOL, labels=ITEM_STATES, default=False, filterable=True,
                  width=8, hint="启用 或 停用；被任务使用过的事项只能停用，不能删除"),
    ),
)  # fmt: skip


PLAN_ROWS = TableSpec(
    kind="plan",
    title="年度抽查计划",
    noun="抽查任务",
    unit="项",
    table="task",
    key=("code",),
    search=("code", "name", "items", "plan_code", "plan_name"),
    fields=(
        FieldSpec("plan_code", "抽查计划编号", required=True, code=True, max_len=40, width=16),
        FieldSpec("plan_name", "抽查计划名称", required=True, width=30),
        FieldSpec("plan_year", "年度", Kind.INT, required=True, parser=_year, width=8),
        FieldSpec("code", "抽查任务编号", required=True, code=True, max_len=40, width=18),
        FieldSpec("name", "抽查任务名称", required=True, width=30),
        FieldSpec("draw_type", "抽查类型", Kind.CHOICE, required=True, choices=DRAW_TYPES, width=10,
                  hint="定向：按行业领域、所属区域、对象条件筛选；不定向：全部名录，按所属区域均衡抽取"),
        FieldSpec("items", "抽查事项", Kind.LIST, required=True, width=20,
                  hint="事项编码，多个用“、”或“,”分隔；必须在抽查事项清单中且为启用状态"),
        FieldSpec("industries", "行业领域", Kind.LIST, codelist=INDUSTRY, width=20, hint="留空表示不限"),
        FieldSpec("regions", "所属区域", Kind.LIST, codelist=REGION, width=20, hint="留空表示不限"),
        FieldSpec("conditions", "对象条件", Kind.LIST, choices=tuple(CONDITIONS), width=16,
                  hint="如：重大危险源、粉尘涉爆（符合其一即可）；留空表示不限"),
        FieldSpec("ratio", "抽查比例", required=True, parser=_ratio, width=24,
                  hint="5%、20家，或按风险等级：重大:100%;较大:30%;一般:10%;低:5%"),
        FieldSpec("team_size", "每组检查人数", Kind.INT, required=True, parser=_int_at_least(2, "每组检查人数"),
                  width=12),
        FieldSpec("expert_count", "每组专家人数", Kind.INT, default=0, parser=_int_at_least(0, "每组专家人数"),
                  width=12),
        FieldSpec("department", "发起部门", width=20),
        FieldSpec("partners", "联合部门", Kind.LIST, width=20,
                  hint="部门联合抽查的其他部门，各自选派人员"),
        FieldSpec("start_date", "开始日期", Kind.DATE, required=True, default=None, width=12),
        FieldSpec("end_date", "结束日期", Kind.DATE, required=True, default=None, width=12),
        FieldSpec("scope_note", "抽查对象范围", multiline=True, max_len=2000, width=30),
    ),
)  # fmt: skip
