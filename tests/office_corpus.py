"""A corpus of spreadsheets as county offices really keep them, each with its expected outcome.

Made the way an office makes them: merged two-row headers, notes in header cells, towns merged down,
dates typed every which way, credit codes and phone numbers typed as numbers, CSV saved by Excel on
Chinese Windows, web pages saved as .xls, Excel's lock files, an instructions sheet in front, rows
hidden by a filter, a space typed far below the data. Run it to look at the files:

    python tests/office_corpus.py /tmp/corpus
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Border, Side
from openpyxl.worksheet.worksheet import Worksheet

from dsj_desktop.domain.uscc import complete

STATUS_OF = {1: "停产", 2: "注销", 3: "存续", 4: "注销", 5: "存续", 6: "吊销"}
DUE = date(2027, 6, 3)


def code(n: int) -> str:
    return complete(f"91149922{n:09d}")


def fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


@dataclass
class Case:
    """One file and what importing it must do. *expect*: attribute values stored per key afterwards."""

    name: str
    kind: str  # targets / inspectors / plan
    path: Path
    ok: bool
    fragments: list[str] = field(default_factory=list)  # in the summary (ok) or the refusal
    args: list[str] = field(default_factory=list)
    expect: dict[str, dict[str, Any]] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)  # text that must not appear
    once: list[str] = field(default_factory=list)  # text that must appear on exactly one line
    before: Callable[[Path], None] | None = None  # another file imported first (the stored values)


TARGET_HEADERS = ["统一社会信用代码", "企业名称", "行业领域", "所属区域", "风险等级", "黑名单", "重大危险源",
                  "地址", "联系电话", "经营状态"]  # fmt: skip


def target(n: int, **over: Any) -> list[Any]:
    rec: dict[str, Any] = {
        "统一社会信用代码": code(n), "企业名称": f"语料企业{n}有限公司", "行业领域": "机械", "所属区域": "城关镇",
        "风险等级": "一般", "黑名单": "否", "重大危险源": "否", "地址": f"城关镇语料路{n}号",
        "联系电话": f"1390000{n:04d}", "经营状态": STATUS_OF.get(n, "存续"),
    }  # fmt: skip
    rec.update(over)
    return [rec[h] for h in TARGET_HEADERS]


def _book(rows: list[list[Any]], title: str = "名录") -> tuple[Workbook, Worksheet]:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    for r in rows:
        ws.append(r)
    return wb, ws


def _save(wb: Workbook, path: Path) -> Path:
    wb.save(path)
    return path


def _base_targets(folder: Path) -> Path:
    """The stored directory the re-import cases start from: six targets, three not 存续."""
    wb, _ = _book([TARGET_HEADERS, *(target(n) for n in range(1, 7))])
    return _save(wb, folder / "base-targets.xlsx")


def _import_base(kind: str, make: Callable[[Path], Path]) -> Callable[[Path], None]:
    def run(folder: Path) -> None:
        from dsj_desktop.cli import main

        assert main(["import", kind, str(make(folder)), "--add-codes"]) == 0

    return run


def target_cases(folder: Path) -> list[Case]:
    cases: list[Case] = []

    # A title row merged across, header cells merged down over a two-row header, notes in brackets,
    # the town merged down over its companies.
    wb, ws = _book([["青山县安全生产检查对象名录（2026 年）"]])
    ws.append(["统一社会信用代码（18位）", "单位名称", "行业领域", "所在乡镇", "风险信息", None, "重点监管", None,
               "经营状况", "联系电话", "备注"])  # fmt: skip
    ws.append([None, None, None, None, "风险等级（重大/较大/一般/低）", "是否黑名单", "重大危险源", "地址", None, None,
               None])  # fmt: skip
    for n in range(11, 16):
        ws.append([code(n), f"合并表头企业{n}", "危险化学品", "东关镇" if n < 14 else "北留镇", "较大", "否",
                   "是" if n == 11 else "否", f"东关镇{n}号", "存续" if n != 12 else "停产", f"1380000{n:04d}", "无"])  # fmt: skip
    ws.merge_cells("A1:J1")
    for col in "ABCDIJK":
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("E2:F2")
    ws.merge_cells("G2:H2")
    ws.merge_cells("D4:D6")  # 东关镇, written once
    ws.merge_cells("D7:D8")  # 北留镇
    expect = {code(n): {"region": "东关镇" if n < 14 else "北留镇", "risk_level": "较大", "industry": "危险化学品"}
              for n in range(11, 16)}  # fmt: skip
    expect[code(11)]["major_hazard"] = 1
    expect[code(12)]["status"] = "停产"
    cases.append(Case("merged two-row header", "targets", _save(wb, folder / "合并表头.xlsx"), True,
                      ["新增 5", "未导入的列：备注"], expect=expect))  # fmt: skip

    # A re-import without the 经营状态 column (and others): what is stored stays.
    rows = [[code(n), f"语料企业{n}有限公司", "机械", "城关镇", "较大"] for n in range(1, 7)]
    wb, _ = _book([["统一社会信用代码", "企业名称", "行业领域", "所属区域", "风险等级"], *rows])
    cases.append(Case("re-import without a column", "targets", _save(wb, folder / "缺列再导入.xlsx"), True,
                      ["更新 6", "文件中没有的项目", "经营状态", "保持原值"], before=_import_base("targets", _base_targets),
                      expect={code(n): {"status": STATUS_OF[n], "risk_level": "较大", "phone": f"1390000{n:04d}"}
                              for n in range(1, 7)}))  # fmt: skip

    # The same with 经营状态 written 经营状况: recognised.
    hdr = [h if h != "经营状态" else "经营状况" for h in TARGET_HEADERS]
    wb, _ = _book([hdr, *(target(n, 经营状态="注销") for n in range(1, 3))])
    cases.append(Case("经营状况 header", "targets", _save(wb, folder / "经营状况.xlsx"), True, ["更新 1，未变 1"],
                      before=_import_base("targets", _base_targets),
                      expect={code(1): {"status": "注销"}, code(2): {"status": "注销"}}))  # fmt: skip

    # A header nobody foresaw that looks like 经营状态: refused unless the user says to leave it out.
    hdr = [h if h != "经营状态" else "企业经营状况（市场监管）" for h in TARGET_HEADERS]
    look_alike = _save(_book([hdr, *(target(n) for n in range(1, 7))])[0], folder / "相似列名.xlsx")
    cases.append(Case("look-alike header refused", "targets", look_alike, False,
                      ["J 列", "企业经营状况（市场监管）", "看起来是“经营状态”", "--ignore-column 企业经营状况（市场监管）"],
                      before=_import_base("targets", _base_targets)))  # fmt: skip
    cases.append(Case("look-alike header ignored on request", "targets", look_alike, True,
                      ["未导入的列：企业经营状况（市场监管）"], args=["--ignore-column", "企业经营状况（市场监管）"],
                      before=_import_base("targets", _base_targets),
                      expect={code(n): {"status": STATUS_OF[n]} for n in range(1, 7)}))  # fmt: skip

    # Full-width letters and digits, zero-width spaces in codes and names.
    rows = [target(21, 统一社会信用代码=fullwidth(code(21))), target(22, 统一社会信用代码=code(22)[:6] + "\u200b" + code(22)[6:]),
            target(23, 企业名称="ＡＢＣ\u200b机械厂")]  # fmt: skip
    wb, _ = _book([TARGET_HEADERS, *rows])
    cases.append(Case("full-width and zero-width characters", "targets", _save(wb, folder / "全角字符.xlsx"), True,
                      ["新增 3"], expect={code(21): {"name": "语料企业21有限公司"}, code(22): {"region": "城关镇"},
                                         code(23): {"name": "ABC机械厂"}}))  # fmt: skip

    # CSV as Excel saves it.
    lines = [",".join(TARGET_HEADERS), *(",".join(map(str, target(n, 所属区域="南河镇"))) for n in (31, 32))]
    text = "\r\n".join(lines) + "\r\n"
    for name, data in (("CSV GB18030", text.encode("gb18030")), ("CSV UTF-8 with BOM", text.encode("utf-8-sig")),
                       ("CSV UTF-8", text.encode("utf-8"))):  # fmt: skip
        p = folder / f"名录-{name.split()[-1]}.csv"
        p.write_bytes(data)
        cases.append(Case(name, "targets", p, True, ["共 2 行"], expect={code(31): {"region": "南河镇"}}))

    # A web page saved as .xls by another system.
    p = folder / "导出的名录.xls"
    p.write_text("<html><head><meta charset='utf-8'></head><body><table><tr><td>统一社会信用代码</td></tr>"
                 "</table></body></html>", encoding="utf-8")  # fmt: skip
    cases.append(Case("web page named .xls", "targets", p, False, ["这是网页格式的表格，请在 Excel 中另存为 .xlsx"],
                      absent=["可能已损坏", "Cannot", "详情"]))  # fmt: skip

    # Excel's lock file picked by mistake.
    p = folder / "~$名录.xlsx"
    p.write_bytes(b"\x08Zhang San" + b"\x00" * 100 + b"\x08\x00Z\x00h\x00a\x00n\x00g" + b"\x00" * 40)
    cases.append(
        Case("lock file", "targets", p, False, ["临时锁定文件", "“名录.xlsx”"], absent=["Zip", "zip"])
    )

    # A single space typed far below the data, and empty rows formatted with borders.
    wb, ws = _book([TARGET_HEADERS, *(target(n) for n in (41, 42))])
    ws.cell(row=1_048_576, column=1, value=" ")
    thin = Side(style="thin")
    for r in range(4, 2000):
        for c in range(1, len(TARGET_HEADERS) + 1):
            ws.cell(row=r, column=c).border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.append([])
    cases.append(Case("space far below, formatted rows", "targets", _save(wb, folder / "远处空格.xlsx"), True,
                      ["共 2 行", "新增 2"], absent=["必填"]))  # fmt: skip

    # 18-digit codes typed as numbers: Excel kept 15 digits.
    rows = [target(n, 统一社会信用代码=float(f"91140100{n:010d}")) for n in (51, 52, 53)]
    wb, _ = _book([TARGET_HEADERS, *rows])
    cases.append(Case("credit codes as numbers", "targets", _save(wb, folder / "代码为数字.xlsx"), False,
                      ["第 2–4 行（共 3 行）", "数字格式", "15 位", "文本"], absent=["校验位"],
                      once=["数字格式"]))  # fmt: skip

    # Landlines typed as numbers lost their leading 0.
    rows = [
        target(61, 联系电话=3512345678),
        target(62, 联系电话=13900000062),
        target(63, 联系电话=3517654321),
    ]
    wb, _ = _book([TARGET_HEADERS, *rows])
    cases.append(Case("landlines as numbers", "targets", _save(wb, folder / "电话为数字.xlsx"), True,
                      ["新增 3", "第 2、4 行", "开头的 0", "文本"],
                      expect={code(61): {"phone": "3512345678"}, code(62): {"phone": "13900000062"}}))  # fmt: skip

    # An instructions sheet in front of the data.
    wb, ws = _book([["填写说明"], ["1. 每行一家企业"], ["2. 统一社会信用代码必须为 18 位"]], title="填写说明")
    data = wb.create_sheet("名录")
    for r in [TARGET_HEADERS, target(71), target(72)]:
        data.append(r)
    p = _save(wb, folder / "说明在前.xlsx")
    cases.append(Case("instructions sheet first", "targets", p, False,
                      ["找不到表头", "“名录”", "--sheet 名录", "导入向导第 2 步"]))  # fmt: skip
    cases.append(
        Case("instructions sheet first, --sheet", "targets", p, True, ["新增 2"], args=["--sheet", "名录"])
    )

    # Rows hidden by an autofilter are imported, and counted.
    wb, ws = _book(
        [TARGET_HEADERS, *(target(n, 所属区域="西岭镇" if n % 2 else "城关镇") for n in range(81, 87))]
    )
    ws.auto_filter.ref = f"A1:J{ws.max_row}"
    ws.auto_filter.add_filter_column(3, ["城关镇"])
    for r in range(2, ws.max_row + 1):
        if ws.cell(row=r, column=4).value != "城关镇":
            ws.row_dimensions[r].hidden = True
    cases.append(Case("rows hidden by a filter", "targets", _save(wb, folder / "筛选隐藏.xlsx"), True,
                      ["新增 6", "3 行被筛选隐藏", "第 2、4、6 行"]))  # fmt: skip

    # The same problem on 2,380 rows is one line; unknown towns listed once with their counts.
    rows = [target(1000 + n, 所属区域="新设镇", 风险等级="特高") for n in range(2380)]
    rows += [target(4000 + n, 所属区域="新村") for n in range(3)]
    wb, _ = _book([TARGET_HEADERS, *rows])
    cases.append(Case("many rows, one cause", "targets", _save(wb, folder / "同一问题多行.xlsx"), False,
                      ["第 2–2381 行（共 2,380 行）", "“新设镇”", "“新村”", "第 2382–2384 行（共 3 行）", "--add-codes",
                       "勾选“把代码表中还没有的行业领域、所属区域加入代码表”"],
                      once=["“新设镇”", "“特高”", "--add-codes"], absent=["['", "']"]))  # fmt: skip

    # A blank row (spaces only) inside the data.
    wb, _ = _book(
        [
            TARGET_HEADERS,
            target(91),
            ["  ", "\u3000", None, "", None, None, None, None, None, " "],
            target(92),
        ]
    )
    cases.append(
        Case("whitespace-only row inside", "targets", _save(wb, folder / "空白行.xlsx"), True, ["共 2 行"])
    )
    return cases


INSPECTOR_HEADERS = ["执法证件号", "姓名", "所属科室", "执法证件有效期至", "执法专长", "在岗状态", "联系电话"]


def inspector(n: int, due: Any = "2027-06-03", **over: Any) -> list[Any]:
    rec = {"执法证件号": f"1499220{n:04d}", "姓名": f"语料{n}", "所属科室": "执法大队", "执法证件有效期至": due,
           "执法专长": "工贸", "在岗状态": "在岗", "联系电话": f"1370000{n:04d}"}  # fmt: skip
    rec.update(over)
    return [rec[h] for h in INSPECTOR_HEADERS]


def _base_inspectors(folder: Path) -> Path:
    rows = [inspector(n, 在岗状态="休假" if n % 2 else "在岗") for n in range(1, 5)]
    return _save(_book([INSPECTOR_HEADERS, *rows])[0], folder / "base-inspectors.xlsx")


def inspector_cases(folder: Path) -> list[Case]:
    cases: list[Case] = []
    dues: list[Any] = [46541, "46541", 20270603, "20270603", "2027/6/3 0:00:00", "2027. 6. 3", "2027-06-03T00:00:00",
                       datetime(2027, 6, 3), "2027年6月3日", " 2027-06-03 "]  # fmt: skip
    rows = [inspector(100 + i, due) for i, due in enumerate(dues)]
    cases.append(Case("dates as offices type them", "inspectors",
                      _save(_book([INSPECTOR_HEADERS, *rows])[0], folder / "日期写法.xlsx"), True,
                      [f"新增 {len(dues)}"],
                      expect={f"1499220{100 + i:04d}": {"cert_valid_until": "2027-06-03"} for i in range(len(dues))}))  # fmt: skip

    wb, ws = _book([["执法检查人员名录"]])
    ws.append(["执法证件号", "姓名（全名）", "证件信息", None, "执法专长"])
    ws.append([None, None, "执法证件有效期至", "在岗状态", None])
    ws.append(["14992200201", "合并甲", date(2027, 6, 3), "在岗", "危险化学品"])
    ws.append(["14992200202", "合并乙", "2027-06-03", "病休", "工贸"])
    ws.merge_cells("A1:E1")
    for col in "ABE":
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("C2:D2")
    cases.append(Case("inspectors: merged two-row header", "inspectors", _save(wb, folder / "人员合并表头.xlsx"), True,
                      ["新增 2"], expect={"14992200202": {"duty_status": "病休", "cert_valid_until": "2027-06-03"}}))  # fmt: skip

    lines = [",".join(INSPECTOR_HEADERS), *(",".join(map(str, inspector(n))) for n in (301, 302))]
    p = folder / "人员.csv"
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    cases.append(Case("inspectors: CSV GB18030", "inspectors", p, True, ["新增 2"],
                      expect={"14992200301": {"name": "语料301", "cert_valid_until": "2027-06-03"}}))  # fmt: skip

    # A re-import without 在岗状态 leaves every duty status as stored.
    hdr = ["执法证件号", "姓名", "执法证件有效期至"]
    rows = [[f"1499220{n:04d}", f"语料{n}", "2028-12-31"] for n in range(1, 5)]
    cases.append(Case("inspectors: re-import without a column", "inspectors",
                      _save(_book([hdr, *rows])[0], folder / "人员缺列.xlsx"), True, ["更新 4", "在岗状态"],
                      before=_import_base("inspectors", _base_inspectors),
                      expect={f"1499220{n:04d}": {"duty_status": "休假" if n % 2 else "在岗",
                                                  "cert_valid_until": "2028-12-31", "specialties": "工贸"}
                              for n in range(1, 5)}))  # fmt: skip

    hdr = [h if h != "在岗状态" else "人员在岗状况" for h in INSPECTOR_HEADERS]
    cases.append(Case("inspectors: look-alike header refused", "inspectors",
                      _save(_book([hdr, inspector(1)])[0], folder / "人员相似列名.xlsx"), False,
                      ["看起来是“在岗状态”", "--ignore-column 人员在岗状况"]))  # fmt: skip

    rows = [inspector(401, 执法证件号=140123199001011234.0), inspector(402)]
    cases.append(Case("inspectors: long number as a code", "inspectors",
                      _save(_book([INSPECTOR_HEADERS, *rows])[0], folder / "人员证号为数字.xlsx"), False,
                      ["第 2 行 A 列", "数字格式"]))  # fmt: skip
    return cases


PUBLISHED_HEADERS = ["序号", "抽查计划编号", "抽查计划名称", "抽查任务编号", "抽查任务名称", "抽查类型", "抽查比例", "抽查事项",
                     "抽查对象范围", "发起部门", "联合部门", "抽查时间"]  # fmt: skip
PROSE_RATIO = "结合企业信用风险分级分类开展,不同风险等级确定不同抽查比例"
PROSE_ITEMS = "对生产经营单位执行安全生产法律法规和国家标准、行业标准情况的检查"


def _published(rows: list[list[Any]], path: Path) -> Path:
    wb, ws = _book([["青山县应急管理局2023年度“双随机、一公开”抽查计划"], PUBLISHED_HEADERS, *rows])
    ws.merge_cells(f"A1:{chr(64 + len(PUBLISHED_HEADERS))}1")
    return _save(wb, path)


def plan_cases(folder: Path) -> list[Case]:
    """Last year's plan table as the bureau published it."""
    plan = ["QSYJ-2023", "青山县应急管理局2023年度双随机抽查计划"]
    rows = [
        [1, *plan, "QSYJ-2023-01", "危险化学品企业专项抽查", "定向", "10%", "YJ-001", "全县危险化学品经营单位",
         "青山县应急管理局", "", "2023年2月至11月"],
        [2, *plan, "QSYJ-2023-02", "工贸企业抽查", "不定向", "5%", "YJ-002、YJ-009", "", "青山县应急管理局",
         "县市场监管局", "2023年3月1日至2023年10月31日"],
    ]  # fmt: skip
    cases = [Case("published plan table", "plan", _published(rows, folder / "公布的抽查计划.xlsx"), True,
                  ["新增 2", "上一年度公布的计划表格式"],
                  expect={"QSYJ-2023-01": {"year": 2023, "start_date": "2023-02-01", "end_date": "2023-11-30",
                                           "team_size": 2, "ratio": "10%"},
                          "QSYJ-2023-02": {"start_date": "2023-03-01", "end_date": "2023-10-31",
                                           "partners": "县市场监管局"}})]  # fmt: skip
    rows = [
        [1, *plan, "QSYJ-2023-01", "危险化学品企业专项抽查", "", PROSE_RATIO, "YJ-001", "", "青山县应急管理局", "",
         "2023年2月至11月"],
        [2, *plan, "QSYJ-2023-02", "工贸企业抽查", "定向", "5%", PROSE_ITEMS, "", "青山县应急管理局", "",
         "按季度开展"],
    ]  # fmt: skip
    cases.append(Case("published plan table: cells needing a choice", "plan",
                      _published(rows, folder / "公布的抽查计划-文字.xlsx"), False,
                      ["第 3 行 F 列（抽查类型）", "“定向”", "第 3 行 G 列（抽查比例）", "是文字说明",
                       "第 4 行 H 列（抽查事项）", "不是事项编码", "第 4 行 L 列（抽查时间）", "“按季度开展”", "2023年2月至11月"],
                      absent=["缺少必填列"]))  # fmt: skip
    return cases


def all_cases(folder: Path) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    return [*target_cases(folder), *inspector_cases(folder), *plan_cases(folder)]


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "office-corpus")
    for c in all_cases(out):
        print(f"{'导入' if c.ok else '拒绝'}  {c.kind:10s} {c.path.name:24s} {c.name}")
