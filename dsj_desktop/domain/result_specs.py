"""Inspection results (检查结果): the fixed lists and the spreadsheet columns of a batch of results."""

from __future__ import annotations

from dsj_desktop.domain.fields import CellError, FieldSpec, Kind
from dsj_desktop.domain.specs import USCC_ALIASES, TableSpec

# 检查方式
METHODS = ("实地检查", "书面检查", "网络监测", "其他")
ON_SITE = "实地检查"

# 检查结果 (the categories the national platform publishes)
CATEGORIES = (
    "未发现问题",
    "发现问题已责令改正",
    "发现问题待后续处理",
    "已立案查处",
    "移送其他部门",
    "未发现开展本次抽查涉及的经营活动",
    "通过登记的住所（经营场所）无法联系",
    "已关闭停业或正在组织清算",
    "不配合检查情节严重",
)
# Categories under which no problem was found, so no 隐患 can be counted.
NO_HAZARD_CATEGORIES = frozenset(
    {
        "未发现问题",
        "未发现开展本次抽查涉及的经营活动",
        "通过登记的住所（经营场所）无法联系",
        "已关闭停业或正在组织清算",
    }
)

# 处置措施
DISPOSALS = ("无需后续处置", "责令改正", "立案处罚", "移送", "抄告相关部门", "其他")

# Status of a drawn target's inspection.
TODO = "待检查"
INSPECTED = "已检查待录入"
ENTERED = "已录入"
PUBLISHED = "已公示"
STATUSES = (TODO, INSPECTED, ENTERED, PUBLISHED)

MIN_ON_SITE_INSPECTORS = 2  # 执法人员不得少于两人


def _hazards(s: str) -> int:
    if not s.isdigit():
        raise CellError(f"隐患数量应为不小于 0 的整数，而不是“{s}”")
    n = int(s)
    if n > 9999:
        raise CellError(f"隐患数量 {n} 不合理")
    return n


RESULT_ROWS = TableSpec(
    kind="results",
    title="检查结果",
    noun="检查结果",
    unit="条",
    table="inspection_result",
    key=("session_id", "uscc"),
    search=("session_id", "uscc"),
    fields=(
        FieldSpec("session_id", "抽取场次", required=True, max_len=40, aliases=("场次编号", "抽取场次编号", "场次"),
                  width=24, hint="抽取场次编号，如 S-2026-0001-K3F9（见抽取记录）"),
        FieldSpec("uscc", "统一社会信用代码", Kind.USCC, required=True, aliases=USCC_ALIASES, width=22, max_len=30,
                  hint="必须是该场次抽中的检查对象"),
        FieldSpec("inspected_on", "检查日期", Kind.DATE, required=True, default=None, width=12,
                  hint="不早于抽取日期，不晚于今天"),
        FieldSpec("category", "检查结果", Kind.CHOICE, required=True, choices=CATEGORIES, width=30),
        FieldSpec("hazards", "隐患数量", Kind.INT, default=0, parser=_hazards, aliases=("隐患数", "发现隐患数量"),
                  width=10, hint="留空为 0；“未发现问题”等结果只能为 0"),
        FieldSpec("disposal", "处置措施", Kind.CHOICE, required=True, choices=DISPOSALS, aliases=("处置情况",),
                  width=16),
        FieldSpec("remarks", "备注", multiline=True, max_len=2000, width=30, hint="不公示"),
        FieldSpec("method", "检查方式", Kind.CHOICE, choices=METHODS, default=ON_SITE, width=12,
                  hint="留空为“实地检查”"),
        FieldSpec("rectify_by", "整改期限", Kind.DATE, default=None, width=12, hint="责令改正时填写"),
        FieldSpec("inspectors", "检查人员", Kind.LIST, width=30, aliases=("执法人员", "实际检查人员"),
                  hint="执法证号或姓名，多个用“、”分隔；留空为抽取（含递补）确定的检查组"),
    ),
)  # fmt: skip
"""A batch of results: the first seven columns are what the bureau's sheets carry; the rest are optional."""
