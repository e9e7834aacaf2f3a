"""Writing directories to Excel (openpyxl), and the import templates.

Exports use exactly the import headers, so export → import is a lossless round trip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from dsj_desktop.db.engine import Database
from dsj_desktop.domain import codelists
from dsj_desktop.domain.fields import YES, FieldSpec, Kind, format_value
from dsj_desktop.domain.specs import TableSpec
from dsj_desktop.errors import UserError
from dsj_desktop.io import cells
from dsj_desktop.progress import Job, Progress

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REQUIRED_FONT = Font(bold=True, color="C00000")
TEMPLATE_ROWS = 5000

EXAMPLES: dict[str, dict[str, Any]] = {
    "targets": {
        "uscc": "91350100M000100Y43", "name": "示例化工有限公司", "industry": "危险化学品", "region": "城关镇",
        "affiliation": "县属", "scale": "小型", "risk_level": "较大", "std_level": "三级", "blacklist": False,
        "major_hazard": True, "dust_explosion": False, "confined_space": True, "ammonia_refrigeration": False,
        "occupational_hazard": True, "address": "城关镇工业园区纬三路 8 号", "legal_rep": "张某某",
        "contact": "李某某", "phone": "13800000000", "status": "存续",
    },
    "inspectors": {
        "cert_no": "14052200001", "name": "王某某", "department": "执法监察大队",
        "cert_valid_until": "2028-12-31", "specialties": "危险化学品、工贸", "duty_status": "在岗",
        "phone": "13900000000",
    },
    "experts": {
        "code": "ZJ001", "name": "赵某某", "field": "危险化学品、消防", "employer": "某某化工设计院",
        "title": "高级工程师", "phone": "13700000000",
    },
    "conflicts": {"person_code": "14052200001", "uscc": "91350100M000100Y43", "reason": "近亲属在该企业任职"},
    "items": {
        "code": "YJ-001", "name": "工贸企业安全生产管理情况检查", "category": "一般",
        "basis": "《中华人民共和国安全生产法》第九十条", "subject": "县应急管理局", "industries": "机械、轻工",
        "content": "安全生产责任制、安全管理机构和人员、教育培训、隐患排查治理", "method": "现场检查",
        "ratio": "5%", "frequency": "每年一次", "inspector_req": "工贸", "remark": "", "year": 2026,
        "archived": False,
    },
    "plan": {
        "plan_code": "JH-2026-01", "plan_name": "2026年度安全生产双随机抽查计划", "plan_year": 2026,
        "code": "RW-2026-01", "name": "工贸企业安全生产专项抽查", "draw_type": "定向", "items": "YJ-001",
        "industries": "机械、轻工", "regions": "", "conditions": "", "ratio": "5%", "team_size": 2,
        "expert_count": 0, "department": "县应急管理局", "partners": "", "start_date": "2026-03-01",
        "end_date": "2026-11-30", "scope_note": "全县机械、轻工行业生产经营单位",
    },
}  # fmt: skip


def _check_writable(path: Path) -> None:
    if path.suffix.lower() != ".xlsx":
        raise UserError(f"导出文件名“{path.name}”应以 .xlsx 结尾。")
    if not path.parent.exists():
        raise UserError(f"文件夹“{path.parent}”不存在。")


def save_workbook(wb: Workbook, path: Path) -> None:
    """Save via a temporary file, so an interrupted save never leaves half a workbook. Every workbook
    the program writes is saved here: text that a spreadsheet could take for a formula is made text
    (write-only sheets do it row by row, see :func:`dsj_desktop.io.cells.safe_row`)."""
    tmp = path.with_name(path.name + ".part")
    cells.harden(wb)
    try:
        wb.save(tmp)
        tmp.replace(path)
    except PermissionError:
        tmp.unlink(missing_ok=True)
        raise UserError(f"无法写入“{path}”：文件可能正在 Excel 中打开，请关闭后重试。") from None
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"无法写入“{path}”：{exc.strerror or exc}") from None


def _header_cells(ws: Any, fields: Sequence[FieldSpec]) -> list[WriteOnlyCell]:
    cells = []
    for f in fields:
        c = WriteOnlyCell(ws, value=f.header)
        c.font = HEADER_FONT
        c.fill = HEADER_FILL
        cells.append(c)
    return cells


def export_rows(
    path: Path,
    sheet_title: str,
    fields: Sequence[FieldSpec],
    rows: Sequence[Mapping[str, Any]] | Any,
    total: int,
) -> Job[int]:
    """Write *rows* (mappings keyed by field attr) under the canonical headers."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title[:31])
    for j, f in enumerate(fields, start=1):
        ws.column_dimensions[get_column_letter(j)].width = f.width
    ws.freeze_panes = "A2"
    ws.append(cells.safe_row(ws, _header_cells(ws, fields)))
    n = 0
    for row in rows:
        ws.append(cells.safe_row(ws, [format_value(f, row[f.attr]) for f in fields]))
        n += 1
        if n % 5000 == 0:
            yield Progress("正在写入 Excel……", n, total)
    yield Progress("正在保存文件……", n, total)
    save_workbook(wb, path)
    return n


def export_directory(
    db: Database, spec: TableSpec, path: Path, *, include_archived: bool = False
) -> Job[int]:
    """Export a directory; archived records only when asked. Returns the number of rows written."""
    path = Path(path)
    _check_writable(path)
    where = "" if include_archived or spec.archived_is_field else "WHERE archived = 0"
    key = ", ".join(spec.key)
    with db.read() as conn:
        total = conn.exec_driver_sql(f"SELECT count(*) FROM {spec.table} {where}").scalar_one()
        result = conn.exec_driver_sql(
            f"SELECT {', '.join(spec.attrs)} FROM {spec.table} {where} ORDER BY {key}"
        )
        rows = (dict(zip(spec.attrs, r, strict=True)) for r in result)
        n = yield from export_rows(path, spec.title, spec.fields, rows, total)
    return n


def _choices(f: FieldSpec, codes: Mapping[str, Sequence[str]]) -> list[str] | None:
    if f.kind is Kind.BOOL:
        return [YES, "否"]
    if f.kind is Kind.CHOICE:
        return list(f.choices)
    if f.kind is Kind.CODELIST and f.codelist:
        return list(codes.get(f.codelist, ()))
    return None


def write_template(
    path: Path,
    spec: TableSpec,
    codes: Mapping[str, Sequence[str]],
    fields: Sequence[FieldSpec] | None = None,
    example: Mapping[str, Any] | None = None,
) -> None:
    """An import template: the headers with drop-down lists on the first sheet, instructions and an
    example row on the second, the lists themselves on a hidden third sheet."""
    path = Path(path)
    _check_writable(path)
    fields = list(fields or spec.fields)
    example = example if example is not None else EXAMPLES.get(spec.kind, {})
    wb = Workbook()
    ws = wb.active
    ws.title = spec.title[:31]
    lists = wb.create_sheet("代码表")
    lists.sheet_state = "hidden"
    guide = wb.create_sheet("填写说明")

    list_col = 0
    for j, f in enumerate(fields, start=1):
        letter = get_column_letter(j)
        cell = ws.cell(row=1, column=j, value=f.header)
        cell.font = REQUIRED_FONT if f.required else HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
        note = ("必填。" if f.required else "") + (f.hint or "")
        if note:
            cell.comment = Comment(note, "dsj-desktop")
        ws.column_dimensions[letter].width = f.width
        if f.kind is Kind.DATE:
            for r in range(2, 200):
                ws.cell(row=r, column=j).number_format = "yyyy-mm-dd"
        values = _choices(f, codes)
        if values:
            list_col += 1
            lcol = get_column_letter(list_col)
            lists.cell(row=1, column=list_col, value=f.header)
            for i, v in enumerate(values, start=2):
                lists.cell(row=i, column=list_col, value=v)
            last = max(2, len(values) + 1)
            dv = DataValidation(
                type="list", formula1=f"'代码表'!${lcol}$2:${lcol}${last}", allow_blank=not f.required,
                showErrorMessage=True, errorTitle="不允许的值", error=f"请从下拉列表中选择{f.header}。",
            )  # fmt: skip
            dv.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"

    guide.column_dimensions["A"].width = 20
    guide.column_dimensions["B"].width = 10
    guide.column_dimensions["C"].width = 70
    guide.append([f"{spec.title}导入模板填写说明"])
    guide["A1"].font = Font(bold=True, size=14)
    guide.append(["请在第一个工作表中从第 2 行起逐行填写；表头不要改动。红色表头为必填列。"])
    guide.append([])
    guide.append(["列名", "是否必填", "说明 / 可选值"])
    for c in guide[4]:
        c.font = HEADER_FONT
        c.fill = HEADER_FILL
    for f in fields:
        values = _choices(f, codes)
        explain = f.hint
        if values:
            explain = (explain + "；" if explain else "") + "可选：" + "、".join(values)
        if f.kind is Kind.DATE:
            explain = (explain + "；" if explain else "") + "日期，如 2027-12-31"
        if f.kind is Kind.BOOL:
            explain = (explain + "；" if explain else "") + "留空视为“否”"
        guide.append([f.header, "必填" if f.required else "", explain])
    guide.append([])
    guide.append(["示例（仅供参考，请勿复制到数据表中）："])
    guide.append([f.header for f in fields])
    for c in guide[guide.max_row]:
        c.font = HEADER_FONT
    guide.append([format_value(f, example.get(f.attr, f.default)) for f in fields])
    if spec.kind in ("targets", "conflicts"):
        guide.append([])
        guide.append([f"可用代码表：{codelists.LIST_TITLES[codelists.INDUSTRY]}、{codelists.LIST_TITLES[codelists.REGION]}"
                      "的取值可在程序“名录库 → 代码表”中维护。"])  # fmt: skip
    save_workbook(wb, path)
