"""The directories of the 一单两库 and the conflict list: their columns, keys and search fields."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from dsj_desktop.domain.codelists import INDUSTRY, REGION
from dsj_desktop.domain.fields import CellError, FieldSpec, Kind
from dsj_desktop.domain.header_aliases import HEADER_ALIASES

RISK_LEVELS = ("重大", "较大", "一般", "低")
STATUSES = ("存续", "停产", "注销", "吊销")
DUTY_STATUSES = ("在岗", "休假", "病休", "借调", "离岗", "退休")
ON_DUTY = "在岗"

_RISK_ALIASES = {
    "重大风险": "重大", "较大风险": "较大", "一般风险": "一般", "低风险": "低",
    "红": "重大", "红色": "重大", "橙": "较大", "橙色": "较大",
    "黄": "一般", "黄色": "一般", "蓝": "低", "蓝色": "低", "较低": "低",
}  # fmt: skip
_STATUS_ALIASES = {
    "在营": "存续",
    "在业": "存续",
    "开业": "存续",
    "在册": "存续",
    "存续（在营、开业、在册）": "存续",
}
_DUTY_ALIASES = {"在职": "在岗", "正常": "在岗"}


def _aliased(choices: tuple[str, ...], aliases: dict[str, str], what: str):  # type: ignore[no-untyped-def]
    def parse(s: str) -> str:
        v = aliases.get(s, s)
        if v not in choices:
            raise CellError(f"“{s}”不是允许的{what}（可选值：{'、'.join(choices)}）")
        return v

    return parse


@dataclass(frozen=True)
class TableSpec:
    kind: str  # command-line name: targets, inspectors, experts, conflicts
    title: str  # 检查对象名录库
    noun: str  # 检查对象
    unit: str  # 家 / 人 / 条
    table: str  # SQL table
    fields: tuple[FieldSpec, ...]
    key: tuple[str, ...]
    search: tuple[str, ...]
    # The words for taking a record out of use and back (items: 停用 / 启用); nothing is ever deleted.
    archive_verb: str = "归档"
    restore_verb: str = "恢复"
    # Columns the draw depends on: present in a file but not imported, they must be confirmed.
    draw_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Header variants come from the one table in header_aliases.
        table = HEADER_ALIASES.get(self.kind, {})
        fields = tuple(replace(f, aliases=table.get(f.header, f.aliases)) for f in self.fields)
        object.__setattr__(self, "fields", fields)

    @property
    def archived_word(self) -> str:
        """已归档 / 已停用."""
        return f"已{self.archive_verb}"

    def field(self, attr: str) -> FieldSpec:
        for f in self.fields:
            if f.attr == attr:
                return f
        raise KeyError(attr)

    @property
    def archived_is_field(self) -> bool:
        """Whether the archived flag is itself a column of the sheet (e.g. an item's 状态 启用/停用)."""
        return any(f.attr == "archived" for f in self.fields)

    @property
    def headers(self) -> list[str]:
        return [f.header for f in self.fields]

    @property
    def attrs(self) -> list[str]:
        return [f.attr for f in self.fields]

    def key_text(self, record: dict[str, object]) -> str:
        return " / ".join(str(record[k]) for k in self.key)


USCC_ALIASES = HEADER_ALIASES["targets"]["统一社会信用代码"]


def _flag(attr: str, header: str) -> FieldSpec:
    return FieldSpec(attr, header, Kind.BOOL, default=False, filterable=True, width=10)


TARGETS = TableSpec(
    kind="targets",
    title="检查对象名录库",
    noun="检查对象",
    unit="家",
    table="target",
    key=("uscc",),
    search=("name", "uscc", "address", "legal_rep", "contact"),
    draw_fields=(
        "industry",
        "region",
        "risk_level",
        "blacklist",
        "major_hazard",
        "dust_explosion",
        "confined_space",
        "ammonia_refrigeration",
        "occupational_hazard",
        "status",
    ),
    fields=(
        FieldSpec(
            "uscc",
            "统一社会信用代码",
            Kind.USCC,
            required=True,
            width=22,
            max_len=30,
            hint="18 位，按 GB 32100-2015 校验",
        ),
        FieldSpec("name", "企业名称", required=True, width=34),
        FieldSpec("industry", "行业领域", Kind.CODELIST, required=True, codelist=INDUSTRY, filterable=True),
        FieldSpec("region", "所属区域", Kind.CODELIST, required=True, codelist=REGION, filterable=True),
        FieldSpec("affiliation", "隶属关系", filterable=True, hint="如：中央、省属、市属、县属、民营"),
        FieldSpec("scale", "生产经营规模", filterable=True, hint="如：大型、中型、小型、微型"),
        FieldSpec(
            "risk_level",
            "风险等级",
            Kind.CHOICE,
            required=True,
            choices=RISK_LEVELS,
            filterable=True,
            parser=_aliased(RISK_LEVELS, _RISK_ALIASES, "风险等级"),
        ),
        FieldSpec("std_level", "标准化等级", filterable=True, hint="如：一级、二级、三级、未达标"),
        _flag("blacklist", "黑名单"),
        _flag("major_hazard", "重大危险源"),
        _flag("dust_explosion", "粉尘涉爆"),
        _flag("confined_space", "有限空间"),
        _flag("ammonia_refrigeration", "液氨制冷"),
        _flag("occupational_hazard", "职业病危害"),
        FieldSpec("address", "地址", width=36),
        FieldSpec("legal_rep", "法定代表人", private=True),
        FieldSpec("contact", "联系人", private=True),
        FieldSpec("phone", "联系电话", private=True, code=True),
        FieldSpec(
            "status",
            "经营状态",
            Kind.CHOICE,
            choices=STATUSES,
            default="存续",
            filterable=True,
            parser=_aliased(STATUSES, _STATUS_ALIASES, "经营状态"),
        ),
    ),
)

INSPECTORS = TableSpec(
    kind="inspectors",
    title="执法检查人员名录库",
    noun="执法检查人员",
    unit="人",
    table="inspector",
    key=("cert_no",),
    search=("name", "cert_no", "department", "specialties"),
    draw_fields=("cert_valid_until", "specialties", "duty_status"),
    fields=(
        FieldSpec("cert_no", "执法证号", required=True, code=True, max_len=40, width=18),
        FieldSpec("name", "姓名", required=True),
        FieldSpec("department", "所属科室", filterable=True),
        FieldSpec("cert_valid_until", "执法证有效期至", Kind.DATE, required=True, default=None, width=16),
        FieldSpec(
            "specialties", "执法专长", Kind.LIST, width=24, hint="多个用“、”分隔，如：危险化学品、工贸"
        ),
        FieldSpec(
            "duty_status",
            "在岗状态",
            Kind.CHOICE,
            choices=DUTY_STATUSES,
            default=ON_DUTY,
            filterable=True,
            parser=_aliased(DUTY_STATUSES, _DUTY_ALIASES, "在岗状态"),
        ),
        FieldSpec("phone", "联系电话", private=True, code=True),
    ),
)

EXPERTS = TableSpec(
    kind="experts",
    title="专家库",
    noun="专家",
    unit="人",
    table="expert",
    key=("code",),
    search=("name", "code", "field", "employer"),
    fields=(
        FieldSpec("code", "专家编号", required=True, code=True, max_len=40),
        FieldSpec("name", "姓名", required=True),
        FieldSpec("field", "专业领域", Kind.LIST, filterable=True, width=24),
        FieldSpec("employer", "工作单位", width=28),
        FieldSpec("title", "职称", filterable=True),
        FieldSpec("phone", "联系电话", private=True, code=True),
    ),
)

CONFLICTS = TableSpec(
    kind="conflicts",
    title="回避关系",
    noun="回避关系",
    unit="条",
    table="conflict",
    key=("person_code", "uscc"),
    search=("person_code", "uscc", "reason"),
    fields=(
        FieldSpec("person_code", "人员编号", required=True, code=True, max_len=40, width=18),
        FieldSpec("uscc", "统一社会信用代码", Kind.USCC, required=True, width=22, max_len=30),
        FieldSpec("reason", "回避原因", required=True, width=30),
    ),
)

DIRECTORIES: dict[str, TableSpec] = {s.kind: s for s in (TARGETS, INSPECTORS, EXPERTS, CONFLICTS)}


def inspector_eligibility(cert_valid_until: date | str | None, duty_status: str, on: date) -> str | None:
    """``None`` when the inspector may be drawn on *on*, else the reason in Chinese."""
    if isinstance(cert_valid_until, str):
        cert_valid_until = date.fromisoformat(cert_valid_until) if cert_valid_until else None
    if cert_valid_until is None:
        return "无执法证有效期"
    if cert_valid_until < on:
        return f"执法证已过期（{cert_valid_until.isoformat()}）"
    if duty_status != ON_DUTY:
        return f"不在岗（{duty_status}）"
    return None
