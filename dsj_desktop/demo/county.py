"""A realistic fictional county (青山县) so a newcomer sees a living program at once.

Everything here is invented: the county, the towns, the companies, the people. The codes carry
valid GB 32100-2015 check characters. The data is generated from a fixed seed, so every demo
database is the same (this is sample data, not a draw: the draw never uses ``random``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dsj_desktop import clock
from dsj_desktop.db.engine import Database
from dsj_desktop.domain import codelists
from dsj_desktop.domain.plan_specs import ITEMS, PLAN_ROWS
from dsj_desktop.domain.specs import CONFLICTS, EXPERTS, INSPECTORS, TARGETS, TableSpec
from dsj_desktop.domain.uscc import complete
from dsj_desktop.errors import UserError
from dsj_desktop.io.importer import ParsedSheet, diff, write_rows
from dsj_desktop.progress import Job, Progress
from dsj_desktop.services import settings
from dsj_desktop.services.plan import apply_plan

COUNTY = "青山县"
BUREAU = "青山县应急管理局"
AREA_CODE = "149921"  # fictional administrative division code
TOWNS = (
    "城关镇", "东关镇", "北留镇", "南河镇", "西岭镇", "石门镇",
    "白水乡", "桃源乡", "龙泉镇", "凤鸣乡", "清溪镇", "马岭乡",
)  # fmt: skip

# (industry, share of targets, name suffixes)
INDUSTRY_MIX: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("煤矿", 12, ("煤业有限公司", "煤矿")),
    ("非煤矿山", 60, ("石料厂", "矿业有限公司", "采石场")),
    ("危险化学品", 190, ("化工有限公司", "加油站", "气体有限公司", "危险化学品经营部")),
    ("烟花爆竹", 35, ("烟花爆竹批发有限公司", "烟花爆竹零售点")),
    ("冶金", 40, ("铸造有限公司", "钢铁有限公司", "铸业有限公司")),
    ("有色", 25, ("铝业有限公司", "有色金属有限公司")),
    ("建材", 300, ("水泥制品厂", "建材有限公司", "砖厂", "商品混凝土有限公司")),
    ("机械", 560, ("机械制造有限公司", "机械加工厂", "汽车配件有限公司", "五金制品厂")),
    ("轻工", 520, ("食品有限公司", "木业有限公司", "家具厂", "纸制品有限公司", "冷冻食品有限公司")),
    ("纺织", 180, ("纺织有限公司", "服装厂", "织造有限公司")),
    ("烟草", 8, ("烟草专卖局仓储中心", "卷烟物流配送站")),
    ("商贸", 850, ("商贸有限公司", "超市", "物流有限公司", "冷链仓储有限公司", "酒店")),
    ("其他", 220, ("实业有限公司", "科技有限公司", "农业开发有限公司")),
)
WORDS = (
    "宏达", "鑫源", "华兴", "泰丰", "永盛", "恒通", "金鼎", "瑞祥", "利民", "晨光", "东方", "长青",
    "新宇", "中和", "德润", "佳美", "广源", "兴旺", "福星", "盛世", "天成", "万隆", "昌盛", "嘉禾",
    "顺达", "光明", "青松", "翠屏", "云峰", "龙腾", "凤翔", "锦绣", "安康", "宝丰", "汇通", "同心",
)  # fmt: skip
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌海波鹏辉玲晨浩宇欣怡子涵博宁婷雪峰"
DEPARTMENTS = (
    ("执法监察大队", 26), ("危险化学品安全监督管理股", 6), ("非煤矿山安全监督管理股", 5),
    ("工贸行业安全监督管理股", 6), ("综合协调股", 3), ("政策法规股", 2),
)  # fmt: skip
SPECIALTIES = ("危险化学品", "非煤矿山", "煤矿", "工贸", "烟花爆竹", "职业卫生", "消防", "特种设备")
EXPERT_FIELDS = (
    "危险化学品",
    "化工工艺",
    "电气",
    "机械",
    "矿山",
    "消防",
    "粉尘防爆",
    "职业卫生",
    "冶金",
    "建材",
)
EMPLOYERS = ("青山县化工设计院", "省安全生产科学研究院", "市职业病防治所", "青山职业技术学院",
             "市特种设备检验所", "晋元安全评价有限公司", "市消防救援支队", "华北矿业技术咨询公司")  # fmt: skip
TITLES = ("高级工程师", "正高级工程师", "工程师", "副教授", "教授", "注册安全工程师")
CONFLICT_REASONS = (
    "近亲属在该企业任职", "曾在该企业任职（离职未满三年）", "与企业负责人有利害关系",
    "本人或配偶持有该企业股份", "曾为该企业提供有偿技术服务",
)  # fmt: skip


@dataclass
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)

    def text(self) -> str:
        parts = "，".join(f"{k} {v}" for k, v in self.counts.items())
        return f"已生成演示数据（{COUNTY}，虚构）：{parts}。"


def _org_code(rng: random.Random) -> str:
    """An 8-digit body and its GB 11714 check digit."""
    body = [rng.randrange(10) for _ in range(8)]
    s = sum(d * w for d, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    c = 11 - s % 11
    check = "X" if c == 10 else "0" if c == 11 else str(c)
    return "".join(map(str, body)) + check


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _phone(rng: random.Random) -> str:
    return (
        rng.choice(("138", "139", "150", "152", "186", "187", "135", "158")) + f"{rng.randrange(10**8):08d}"
    )


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def make_targets(rng: random.Random, scale: int = 1) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    used_codes: set[str] = set()
    used_names: set[str] = set()
    town_weights = [(t, 30 if t == "城关镇" else 14 if t.endswith("镇") else 8) for t in TOWNS]
    for industry, share, suffixes in INDUSTRY_MIX:
        for _ in range(share * scale):
            town = _pick(rng, tuple(town_weights))
            while True:
                code = complete("91" + AREA_CODE + _org_code(rng))
                if code not in used_codes:
                    used_codes.add(code)
                    break
            while True:
                stem = town[:2] if rng.random() < 0.4 else COUNTY[:2]
                name = stem + rng.choice(WORDS) + rng.choice(WORDS) + rng.choice(suffixes)
                if name not in used_names:
                    used_names.add(name)
                    break
            hazardous = industry in ("煤矿", "危险化学品", "非煤矿山", "烟花爆竹", "冶金")
            risk = _pick(rng, (("重大", 8 if hazardous else 1), ("较大", 25 if hazardous else 8),
                               ("一般", 45), ("低", 22 if hazardous else 50)))  # fmt: skip
            food = "食品" in name or "冷" in name
            targets.append({
                "uscc": code, "name": name, "industry": industry, "region": town,
                "affiliation": _pick(rng, (("民营", 80), ("县属", 10), ("市属", 5), ("省属", 3), ("中央", 1),
                                           ("外资", 1))),
                "scale": _pick(rng, (("微型", 38), ("小型", 48), ("中型", 11), ("大型", 3))),
                "risk_level": risk,
                "std_level": _pick(rng, (("三级", 45), ("二级", 12), ("一级", 1), ("未达标", 20), ("", 22))),
                "blacklist": rng.random() < 0.005,
                "major_hazard": industry in ("危险化学品", "煤矿") and rng.random() < 0.3,
                "dust_explosion": industry in ("机械", "轻工", "冶金", "有色", "纺织") and rng.random() < 0.15,
                "confined_space": rng.random() < 0.18,
                "ammonia_refrigeration": food and rng.random() < 0.5,
                "occupational_hazard": industry not in ("商贸", "烟草") and rng.random() < 0.35,
                "address": f"{COUNTY}{town}{rng.choice(WORDS)}路{rng.randrange(1, 300)}号",
                "legal_rep": _name(rng),
                "contact": _name(rng),
                "phone": _phone(rng),
                "status": _pick(rng, (("存续", 94), ("停产", 3), ("注销", 2), ("吊销", 1))),
            })  # fmt: skip
    rng.shuffle(targets)
    return targets


def make_inspectors(rng: random.Random, year: int = 2026) -> list[dict[str, Any]]:
    """The bureau's inspectors in the demo's *year*: certificates valid one to three years on, but for
    a few who cannot be drawn."""
    out: list[dict[str, Any]] = []
    n = 0
    for dept, count in DEPARTMENTS:
        for _ in range(count):
            n += 1
            valid = date(year + rng.choice((1, 2, 3)), rng.choice((3, 6, 9, 12)), 30)
            out.append({
                "cert_no": f"{AREA_CODE}{n:05d}",
                "name": _name(rng),
                "department": dept,
                "cert_valid_until": valid,
                "specialties": "、".join(sorted(set(rng.sample(SPECIALTIES, rng.choice((1, 2, 2, 3)))),
                                               key=SPECIALTIES.index)),
                "duty_status": "在岗",
                "phone": _phone(rng),
            })  # fmt: skip
    # A few who cannot be drawn, as in any real bureau.
    out[3]["cert_valid_until"] = date(year, 6, 30)
    out[17]["cert_valid_until"] = date(year - 1, 12, 31)
    out[8]["duty_status"] = "休假"
    out[21]["duty_status"] = "借调"
    out[30]["duty_status"] = "病休"
    return out


def make_experts(rng: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "code": f"ZJ{i:03d}",
            "name": _name(rng),
            "field": "、".join(rng.sample(EXPERT_FIELDS, rng.choice((1, 2)))),
            "employer": rng.choice(EMPLOYERS),
            "title": rng.choice(TITLES),
            "phone": _phone(rng),
        }
        for i in range(1, 31)
    ]


def make_conflicts(
    rng: random.Random, targets: list[dict[str, Any]], people: list[str], n: int = 40
) -> list[dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    while len(out) < n:
        p = rng.choice(people)
        t = rng.choice(targets)["uscc"]
        out[(p, t)] = {"person_code": p, "uscc": t, "reason": rng.choice(CONFLICT_REASONS)}
    return list(out.values())


def _checked(spec: TableSpec, records: list[dict[str, Any]], codes: dict[str, list[str]]) -> ParsedSheet:
    """Run the demo records through the import rules, so the demo can never hold what an import refuses."""
    return ParsedSheet.from_records(spec, records, codes, "演示数据")


GONGMAO = "冶金、有色、建材、机械、轻工、纺织、烟草、商贸"
LAWS = "《中华人民共和国安全生产法》"


def demo_items(year: int) -> list[dict[str, Any]]:
    """The item list of the demo's *year* (and one item of the year before, archived)."""
    return [
        {"code": "YJ-001", "year": year, "name": "危险化学品生产经营单位安全生产检查", "category": "重点",
         "basis": LAWS + "第九十条；《危险化学品安全管理条例》第六条", "subject": "县应急管理局",
         "industries": "危险化学品", "content": "安全生产许可、重大危险源管控、特殊作业管理、隐患排查治理",
         "method": "现场检查", "ratio": "按风险等级", "frequency": "每年不少于1次", "inspector_req": "危险化学品"},
        {"code": "YJ-002", "year": year, "name": "工贸企业安全生产管理情况检查", "category": "一般",
         "basis": LAWS + "第九十条；《工贸企业重大事故隐患判定标准》", "subject": "县应急管理局",
         "industries": GONGMAO, "content": "安全生产责任制、安全管理机构和人员、教育培训、隐患排查治理",
         "method": "现场检查", "ratio": "5%", "frequency": "每年一次", "inspector_req": "工贸"},
        {"code": "YJ-003", "year": year, "name": "非煤矿山企业安全生产检查", "category": "重点",
         "basis": LAWS + "；《非煤矿矿山企业安全生产许可证实施办法》", "subject": "县应急管理局",
         "industries": "非煤矿山", "content": "安全生产许可、边坡管理、爆破作业、排土场管理",
         "method": "现场检查", "ratio": "20%", "frequency": "每年一次", "inspector_req": "非煤矿山"},
        {"code": "YJ-004", "year": year, "name": "烟花爆竹经营单位安全检查", "category": "一般",
         "basis": "《烟花爆竹安全管理条例》第三十三条", "subject": "县应急管理局", "industries": "烟花爆竹",
         "content": "经营许可、储存场所、限量存放、防火措施", "method": "现场检查", "ratio": "30%",
         "frequency": "春节前一次", "inspector_req": "烟花爆竹"},
        {"code": "YJ-005", "year": year, "name": "粉尘涉爆企业专项检查", "category": "重点",
         "basis": "《工贸企业粉尘防爆安全规定》第二十七条", "subject": "县应急管理局",
         "industries": "冶金、有色、建材、机械、轻工、纺织", "content": "除尘系统、粉尘清扫、防火防爆措施、作业规程",
         "method": "现场检查", "ratio": "20家", "frequency": "每年一次", "inspector_req": "工贸"},
        {"code": "YJ-006", "year": year, "name": "有限空间作业安全检查", "category": "一般",
         "basis": "《工贸企业有限空间作业安全规定》第二十三条", "subject": "县应急管理局", "industries": GONGMAO,
         "content": "有限空间辨识与台账、作业审批、检测通风、应急救援", "method": "现场检查", "ratio": "10家",
         "frequency": "每年一次", "inspector_req": "工贸"},
        {"code": "YJ-007", "year": year, "name": "涉氨制冷企业安全检查", "category": "重点",
         "basis": LAWS + "第九十条", "subject": "县应急管理局", "industries": "轻工、商贸",
         "content": "液氨储存与使用、泄漏报警、应急处置", "method": "现场检查", "ratio": "100%",
         "frequency": "每年一次", "inspector_req": "工贸"},
        {"code": "YJ-008", "year": year, "name": "用人单位职业病危害防治情况检查", "category": "一般",
         "basis": "《中华人民共和国职业病防治法》第六十二条", "subject": "县应急管理局", "industries": "",
         "content": "职业病危害项目申报、检测评价、个体防护、职业健康监护", "method": "现场检查、书面检查",
         "ratio": "3%", "frequency": "每年一次", "inspector_req": "职业卫生"},
        {"code": "YJ-009", "year": year, "name": "生产经营单位安全生产教育培训情况检查", "category": "一般",
         "basis": LAWS + "第二十八条", "subject": "县应急管理局", "industries": "",
         "content": "培训计划、培训档案、特种作业人员持证", "method": "书面检查", "ratio": "2%",
         "frequency": "每年一次", "inspector_req": ""},
        {"code": "YJ-010", "name": f"小型露天采石场安全检查（{year - 1}年版）", "category": "一般",
         "basis": "《小型露天采石场安全管理与监督检查规定》", "subject": "县应急管理局", "industries": "非煤矿山",
         "content": "开采方式、台阶参数、爆破管理", "method": "现场检查", "ratio": "20%", "frequency": "每年一次",
         "inspector_req": "非煤矿山", "year": year - 1, "archived": True, "remark": "已并入 YJ-003"},
    ]  # fmt: skip


def demo_plan_code(year: int) -> str:
    return f"JH-{year}-01"


def demo_tasks(year: int) -> list[dict[str, Any]]:
    """The annual plan of the demo's *year*: six tasks, one spreadsheet row each."""
    plan = {"plan_code": demo_plan_code(year), "plan_name": f"{BUREAU}{year}年度“双随机、一公开”抽查计划",
            "plan_year": year, "department": BUREAU}  # fmt: skip
    return [
        {**plan, "code": f"RW-{year}-01", "name": "危险化学品企业分级抽查", "draw_type": "定向", "items": "YJ-001",
         "industries": "危险化学品", "ratio": "重大:100%;较大:30%;一般:10%;低:5%", "team_size": 2, "expert_count": 1,
         "start_date": f"{year}-03-01", "end_date": f"{year}-11-30", "scope_note": "全县危险化学品生产、经营、使用单位"},
        {**plan, "code": f"RW-{year}-02", "name": "工贸企业安全生产双随机抽查", "draw_type": "不定向", "items": "YJ-002",
         "ratio": "5%", "team_size": 2, "start_date": f"{year}-03-01", "end_date": f"{year}-12-15",
         "scope_note": "全县工贸行业生产经营单位，按乡镇均衡抽取"},
        {**plan, "code": f"RW-{year}-03", "name": "粉尘涉爆企业专项抽查", "draw_type": "定向", "items": "YJ-005",
         "conditions": "粉尘涉爆", "ratio": "20家", "team_size": 2, "expert_count": 1, "start_date": f"{year}-04-01",
         "end_date": f"{year}-10-31", "scope_note": "存在粉尘爆炸危险的工贸企业"},
        {**plan, "code": f"RW-{year}-04", "name": "烟花爆竹经营单位抽查", "draw_type": "定向", "items": "YJ-004",
         "industries": "烟花爆竹", "ratio": "30%", "team_size": 2, "start_date": f"{year}-05-01",
         "end_date": f"{year + 1}-01-31", "scope_note": "全县烟花爆竹批发、零售经营单位"},
        {**plan, "code": f"RW-{year}-05", "name": "有限空间作业部门联合抽查", "draw_type": "定向", "items": "YJ-006",
         "conditions": "有限空间", "ratio": "10家", "team_size": 3, "partners": "县市场监督管理局、县消防救援大队",
         "start_date": f"{year}-05-01", "end_date": f"{year}-09-30", "scope_note": "涉及有限空间作业的工贸企业"},
        {**plan, "code": f"RW-{year}-06", "name": "职业病危害防治抽查", "draw_type": "定向", "items": "YJ-008",
         "conditions": "职业病危害", "ratio": "3%", "team_size": 2, "start_date": f"{year}-06-01",
         "end_date": f"{year}-11-30", "scope_note": "存在职业病危害因素的用人单位"},
    ]  # fmt: skip


def is_empty(db: Database) -> bool:
    with db.read() as conn:
        n = conn.exec_driver_sql(
            "SELECT (SELECT count(*) FROM target) + (SELECT count(*) FROM inspector) + (SELECT count(*) FROM expert)"
        ).scalar_one()
    return int(n) == 0


def demo_year(today: date) -> int:
    """The year a demo made on *today* is about: the latest whose demo story (its plan's draws in March
    and April and their results, up to :func:`~dsj_desktop.demo.results.story_ends`) is over by then.
    So from May or June on it is the current year, and before that the year before, whose plan runs
    into January (烟花爆竹 before 春节); the demo's draws never lie in the future."""
    from dsj_desktop.demo.results import story_ends

    return today.year if story_ends(today.year) < today else today.year - 1


def fill_demo(
    db: Database, *, seed: int = 2026, scale: int = 1, draws: bool = True, year: int | None = None
) -> Job[DemoSummary]:
    """Fill an empty database with the fictional county; refuses a database that holds data.
    *draws*: also make two confirmed draws with some results (:mod:`dsj_desktop.demo.results`).
    *year*: the year of the demo's plan, tasks and draws (default: :func:`demo_year` of today). The
    county itself (the *seed*'s companies and people) is the same whatever the year."""
    if not is_empty(db):
        raise UserError(
            "数据库中已有名录数据；演示数据只能装入空的数据库（可用 --data-dir 指定一个新文件夹）。"
        )
    if year is None:
        year = demo_year(clock.today())
    rng = random.Random(seed)
    summary = DemoSummary()
    yield Progress("正在生成演示数据……")
    targets = make_targets(rng, scale)
    inspectors = make_inspectors(rng, year)
    experts = make_experts(rng)
    people = [i["cert_no"] for i in inspectors] + [e["code"] for e in experts]
    conflicts = make_conflicts(rng, targets, people)
    with db.write("装入演示数据（青山县，虚构）") as conn:
        codelists.add_values(conn, codelists.REGION, list(TOWNS))
        if not settings.get(conn, settings.BUREAU_NAME):
            settings.put(conn, settings.BUREAU_NAME, BUREAU)
        codes = codelists.all_lists(conn)
        for spec, records in ((TARGETS, targets), (INSPECTORS, inspectors), (EXPERTS, experts),
                              (CONFLICTS, conflicts)):  # fmt: skip
            yield Progress(f"正在写入{spec.title}……")
            add, _, _, _ = diff(spec, _checked(spec, records, codes).db_rows(spec), {})
            yield from write_rows(conn, spec, add, [])
            summary.counts[spec.title] = len(add)
        yield Progress("正在写入抽查事项清单和年度计划……")
        add, _, _, _ = diff(ITEMS, _checked(ITEMS, demo_items(year), codes).db_rows(ITEMS), {})
        yield from write_rows(conn, ITEMS, add, [])
        summary.counts[ITEMS.title] = len(add)
        plan = apply_plan(conn, _checked(PLAN_ROWS, demo_tasks(year), codes))
        summary.counts["抽查任务"] = plan.added
        if draws:
            from dsj_desktop.demo.results import make_demo_draws

            yield Progress("正在进行演示抽取并录入检查结果……")
            with db.sharing(conn):
                sessions, results = make_demo_draws(db, year)
            summary.counts["已确认的抽取场次"] = sessions
            summary.counts["检查结果"] = results
    return summary
