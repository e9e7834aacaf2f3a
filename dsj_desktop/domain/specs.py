"""The directories of the 一单两库 and the conflict list: their columns, keys and search fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dsj_desktop.domain.codelists import INDUSTRY, REGION
from dsj_desktop.domain.fields import CellError, FieldSpec, Kind

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


USCC_ALIASES = (
    "信用代码", "社会信用代码", "统一代码", "统一信用代码", "企业信用代码",
    "统一社会信用代码(注册号)", "统一社会信用代码/注册号", "USCC",
)  # fmt: skip


def _flag(attr: str, header: str, *aliases: str) -> FieldSpec:
    return FieldSpec(
        attr, header, Kind.BOOL, default=False, filterable=True, width=10,
        aliases=(f"是否{header}", f"是否涉及{header}", f"有无{header}", f"涉及{header}", *aliases),
    )  # fmt: skip


TARGETS = TableSpec(
    kind="targets",
    title="检查对象名录库",
    noun="检查对象",
    unit="家",
    table="target",
    key=("uscc",),
    search=("name", "uscc", "address", "legal_rep", "contact"),
    fields=(
        FieldSpec(
            "uscc",
            "统一社会信用代码",
            Kind.USCC,
            required=True,
            aliases=USCC_ALIASES,
            width=22,
            max_len=30,
            hint="18 位，按 GB 32100-2015 校验",
        ),
        FieldSpec(
            "name",
            "企业名称",
            required=True,
            width=34,
            aliases=(
                "单位名称",
                "企业(单位)名称",
                "名称",
                "企业名",
                "生产经营单位名称",
                "市场主体名称",
                "检查对象名称",
                "检查对象",
                "公司名称",
            ),
        ),
        FieldSpec(
            "industry",
            "行业领域",
            Kind.CODELIST,
            required=True,
            codelist=INDUSTRY,
            filterable=True,
            aliases=("行业", "所属行业", "行业类别", "行业分类", "监管行业", "行业领域类别"),
        ),
        FieldSpec(
            "region",
            "所属区域",
            Kind.CODELIST,
            required=True,
            codelist=REGION,
            filterable=True,
            aliases=(
                "区域",
                "所属乡镇",
                "乡镇",
                "所在乡镇",
                "属地",
                "所属地区",
                "乡镇(街道)",
                "所属乡镇(街道)",
            ),
        ),
        FieldSpec(
            "affiliation",
            "隶属关系",
            filterable=True,
            aliases=("隶属",),
            hint="如：中央、省属、市属、县属、民营",
        ),
        FieldSpec(
            "scale",
            "生产经营规模",
            filterable=True,
            aliases=("规模", "企业规模", "经营规模"),
            hint="如：大型、中型、小型、微型",
        ),
        FieldSpec(
            "risk_level",
            "风险等级",
            Kind.CHOICE,
            required=True,
            choices=RISK_LEVELS,
            filterable=True,
            aliases=("风险", "安全风险等级", "风险级别", "风险分级"),
            parser=_aliased(RISK_LEVELS, _RISK_ALIASES, "风险等级"),
        ),
        FieldSpec(
            "std_level",
            "标准化等级",
            filterable=True,
            aliases=("安全生产标准化等级", "标准化", "标准化级别"),
            hint="如：一级、二级、三级、未达标",
        ),
        _flag("blacklist", "黑名单", "列入黑名单", "失信黑名单"),
        _flag("major_hazard", "重大危险源"),
        _flag("dust_explosion", "粉尘涉爆", "涉爆粉尘"),
        _flag("confined_space", "有限空间", "有限空间作业"),
        _flag("ammonia_refrigeration", "液氨制冷", "涉氨制冷"),
        _flag("occupational_hazard", "职业病危害", "职业危害"),
        FieldSpec(
            "address", "地址", width=36, aliases=("注册地址", "生产经营地址", "经营地址", "住所", "详细地址")
        ),
        FieldSpec(
            "legal_rep",
            "法定代表人",
            private=True,
            aliases=("法人", "法人代表", "法定代表人(负责人)", "负责人", "法定代表人/负责人"),
        ),
        FieldSpec("contact", "联系人", private=True, aliases=("安全联系人",)),
        FieldSpec(
            "phone", "联系电话", private=True, aliases=("电话", "手机", "联系方式", "手机号码", "联系人电话")
        ),
        FieldSpec(
            "status",
            "经营状态",
            Kind.CHOICE,
            choices=STATUSES,
            default="存续",
            filterable=True,
            aliases=("状态", "登记状态", "企业状态"),
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
    fields=(
        FieldSpec(
            "cert_no",
            "执法证号",
            required=True,
            max_len=40,
            width=18,
            aliases=("执法证编号", "证号", "执法证件号", "执法证件编号", "执法证件号码"),
        ),
        FieldSpec("name", "姓名", required=True, aliases=("人员姓名", "执法人员")),
        FieldSpec(
            "department",
            "所属科室",
            filterable=True,
            aliases=("科室", "所在科室", "部门", "所属部门", "科室(单位)"),
        ),
        FieldSpec(
            "cert_valid_until",
            "执法证有效期至",
            Kind.DATE,
            required=True,
            default=None,
            aliases=("有效期至", "执法证有效期", "证件有效期", "有效期", "有效期限"),
            width=16,
        ),
        FieldSpec(
            "specialties",
            "执法专长",
            Kind.LIST,
            aliases=("专长", "执法领域", "擅长领域", "业务专长"),
            width=24,
            hint="多个用“、”分隔，如：危险化学品、工贸",
        ),
        FieldSpec(
            "duty_status",
            "在岗状态",
            Kind.CHOICE,
            choices=DUTY_STATUSES,
            default=ON_DUTY,
            filterable=True,
            aliases=("状态", "在岗情况", "人员状态"),
            parser=_aliased(DUTY_STATUSES, _DUTY_ALIASES, "在岗状态"),
        ),
        FieldSpec("phone", "联系电话", private=True, aliases=("电话", "手机", "联系方式", "手机号码")),
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
        FieldSpec("code", "专家编号", required=True, max_len=40, aliases=("编号", "专家证号")),
        FieldSpec("name", "姓名", required=True, aliases=("专家姓名",)),
        FieldSpec(
            "field",
            "专业领域",
            Kind.LIST,
            filterable=True,
            width=24,
            aliases=("专业", "专长", "擅长领域", "专业方向"),
        ),
        FieldSpec("employer", "工作单位", width=28, aliases=("单位", "所在单位")),
        FieldSpec("title", "职称", filterable=True, aliases=("技术职称", "专业技术职称")),
        FieldSpec("phone", "联系电话", private=True, aliases=("电话", "手机", "联系方式", "手机号码")),
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
        FieldSpec(
            "person_code",
            "人员编号",
            required=True,
            max_len=40,
            width=18,
            aliases=("执法证号", "专家编号", "人员证号", "执法证号/专家编号"),
        ),
        FieldSpec(
            "uscc", "统一社会信用代码", Kind.USCC, required=True, aliases=USCC_ALIASES, width=22, max_len=30
        ),
        FieldSpec(
            "reason",
            "回避原因",
            required=True,
            width=30,
            aliases=("原因", "回避事由", "关系说明", "回避理由"),
        ),
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
