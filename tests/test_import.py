"""Directory import: every kind of bad input is refused whole with a message naming the place, and
the database stays byte-for-byte unchanged; good input merges by key; export → import round-trips."""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from dsj_desktop.cli import main
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.domain.plan_specs import ITEMS
from dsj_desktop.domain.specs import TARGETS
from dsj_desktop.domain.uscc import complete
from dsj_desktop.errors import UserError
from dsj_desktop.io.exporter import export_directory
from dsj_desktop.io.importer import ImportRefused, import_directory
from dsj_desktop.paths import database_path
from dsj_desktop.progress import run_job

HEADERS = TARGETS.headers


def code(n: int) -> str:
    return complete(f"91149921{n:09d}")


def target_row(n: int, **over: Any) -> list[Any]:
    rec = {
        "统一社会信用代码": code(n), "企业名称": f"测试企业{n}有限公司", "行业领域": "机械", "所属区域": "城关镇",
        "隶属关系": "民营", "生产经营规模": "小型", "风险等级": "一般", "标准化等级": "三级", "黑名单": "否",
        "重大危险源": "否", "粉尘涉爆": "是", "有限空间": "否", "液氨制冷": "否", "职业病危害": "是",
        "地址": "城关镇某路1号", "法定代表人": "张三", "联系人": "李四", "联系电话": "13800000000", "经营状态": "存续",
    }  # fmt: skip
    rec.update(over)
    return [rec[h] for h in HEADERS]


def write_xlsx(
    path: Path, rows: list[list[Any]], headers: list[str] | None = None, title: str = "名录"
) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(headers if headers is not None else HEADERS)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def fingerprint(data_dir: Path) -> str:
    h = hashlib.sha256()
    for suffix in ("", "-wal"):
        p = Path(str(database_path(data_dir)) + suffix)
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()


def run_cli(*args: str) -> int:
    return main(list(args))


# --- refused input ----------------------------------------------------------------------------


def _bad_files(tmp: Path) -> dict[str, tuple[Path, list[str]]]:
    """name → (file, fragments the message must contain)."""
    cases: dict[str, tuple[Path, list[str]]] = {}

    p = tmp / "not-a-workbook.xlsx"
    p.write_text("统一社会信用代码,企业名称\n", encoding="utf-8")
    cases["not a workbook"] = (p, ["not-a-workbook.xlsx", "不是可读取的 Excel 工作簿"])

    p = tmp / "empty-file.xlsx"
    p.write_bytes(b"")
    cases["empty file"] = (p, ["empty-file.xlsx", "空文件"])

    p = tmp / "truncated.xlsx"
    full = io.BytesIO()
    wb = Workbook()
    wb.active.append(HEADERS)
    wb.save(full)
    p.write_bytes(full.getvalue()[: len(full.getvalue()) // 2])
    cases["truncated zip"] = (p, ["truncated.xlsx", "不是可读取的 Excel 工作簿"])

    p = tmp / "empty-sheet.xlsx"
    Workbook().save(p)
    cases["empty sheet"] = (p, ["empty-sheet.xlsx", "工作表“Sheet”", "空的"])

    p = write_xlsx(tmp / "headers-only.xlsx", [])
    cases["headers only"] = (p, ["headers-only.xlsx", "没有数据行"])

    p = tmp / "password.xlsx"
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO()
    wb = Workbook()
    wb.active.append(HEADERS)
    wb.active.append(target_row(1))
    wb.save(plain)
    plain.seek(0)
    with p.open("wb") as out:
        OOXMLFile(plain).encrypt("secret", out)
    cases["password protected"] = (p, ["password.xlsx", "密码"])

    hdr = [h for h in HEADERS if h != "行业领域"]
    rows = [[v for h, v in zip(HEADERS, target_row(1), strict=True) if h != "行业领域"]]
    p = write_xlsx(tmp / "missing-column.xlsx", rows, hdr)
    cases["missing required column"] = (
        p,
        ["missing-column.xlsx", "工作表“名录”", "第 1 行", "缺少必填列“行业领域”"],
    )

    bad = code(2)[:-1] + ("0" if code(2)[-1] != "0" else "1")
    p = write_xlsx(tmp / "check-char.xlsx", [target_row(1), target_row(2, 统一社会信用代码=bad)])
    cases["wrong check character"] = (
        p,
        ["check-char.xlsx", "第 3 行 A 列", "统一社会信用代码", "校验位错误"],
    )

    p = write_xlsx(tmp / "dupes.xlsx", [target_row(1), target_row(2), target_row(1, 企业名称="另一个名字")])
    cases["duplicate keys"] = (p, ["dupes.xlsx", "第 4 行 A 列", "与第 2 行重复"])

    p = write_xlsx(tmp / "unknown-code.xlsx", [target_row(1), target_row(2, 行业领域="化工冶炼")])
    cases["unknown code-list value"] = (
        p,
        ["unknown-code.xlsx", "第 3 行 C 列", "行业领域", "“化工冶炼”不是允许的值"],
    )

    p = write_xlsx(tmp / "bad-risk.xlsx", [target_row(1, 风险等级="特高")])
    cases["unknown choice"] = (p, ["bad-risk.xlsx", "第 2 行 G 列", "风险等级", "特高"])

    p = write_xlsx(tmp / "bad-flag.xlsx", [target_row(1, 黑名单="Y")])
    cases["bad yes/no"] = (p, ["bad-flag.xlsx", "第 2 行 I 列", "应填“是”或“否”"])

    p = write_xlsx(tmp / "control.xlsx", [target_row(1, 企业名称="测试\t企业")])
    cases["control character"] = (p, ["control.xlsx", "第 2 行 B 列", "企业名称", "控制字符", "U+0009"])

    p = write_xlsx(tmp / "linebreak.xlsx", [target_row(1), target_row(2, 地址="城关镇\n某路")])
    cases["line break"] = (p, ["linebreak.xlsx", "第 3 行 O 列", "地址", "换行符"])

    p = write_xlsx(tmp / "required-empty.xlsx", [target_row(1, 企业名称="")])
    cases["required empty"] = (p, ["required-empty.xlsx", "第 2 行 B 列", "必填"])

    p = write_xlsx(tmp / "long.xlsx", [target_row(1, 企业名称="长" * 500)])
    cases["too long"] = (p, ["long.xlsx", "内容过长"])
    return cases


def _bad_inspector_files(tmp: Path) -> dict[str, tuple[Path, list[str]]]:
    hdr = ["执法证号", "姓名", "所属科室", "执法证有效期至", "执法专长", "在岗状态", "联系电话"]
    cases = {}
    p = write_xlsx(tmp / "bad-date.xlsx", [["1499", "王五", "大队", "2027-13-45", "", "在岗", ""]], hdr)
    cases["invalid date"] = (p, ["bad-date.xlsx", "第 2 行 D 列", "执法证有效期至", "不是有效日期"])
    p = write_xlsx(tmp / "text-date.xlsx", [["1499", "王五", "大队", "明年年底", "", "在岗", ""]], hdr)
    cases["unparseable date"] = (p, ["text-date.xlsx", "第 2 行 D 列", "无法识别的日期“明年年底”"])
    p = write_xlsx(tmp / "num-date.xlsx", [["1499", "王五", "大队", 1234, "", "在岗", ""]], hdr)
    cases["number for a date"] = (p, ["num-date.xlsx", "第 2 行 D 列", "不是日期"])
    return cases


BAD_TARGET_CASES = [
    "not a workbook", "empty file", "truncated zip", "empty sheet", "headers only", "password protected",
    "missing required column", "wrong check character", "duplicate keys", "unknown code-list value",
    "unknown choice", "bad yes/no", "control character", "line break", "required empty", "too long",
]  # fmt: skip
BAD_INSPECTOR_CASES = ["invalid date", "unparseable date", "number for a date"]


@pytest.mark.parametrize("case", BAD_TARGET_CASES)
def test_bad_target_files_are_refused_and_change_nothing(
    case: str, demo_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, fragments = _bad_files(tmp_path)[case]
    before = fingerprint(demo_data_dir)
    assert run_cli("import", "targets", str(path)) == 1
    err = capsys.readouterr().err
    for frag in fragments:
        assert frag in err, f"{frag!r} not in message:\n{err}"
    assert fingerprint(demo_data_dir) == before


@pytest.mark.parametrize("case", BAD_INSPECTOR_CASES)
def test_bad_inspector_files_are_refused_and_change_nothing(
    case: str, demo_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, fragments = _bad_inspector_files(tmp_path)[case]
    before = fingerprint(demo_data_dir)
    assert run_cli("import", "inspectors", str(path)) == 1
    err = capsys.readouterr().err
    for frag in fragments:
        assert frag in err, f"{frag!r} not in message:\n{err}"
    assert fingerprint(demo_data_dir) == before


def test_one_bad_row_among_many_refuses_the_whole_file(demo_data_dir: Path, tmp_path: Path) -> None:
    rows = [target_row(n) for n in range(1, 500)]
    rows[321] = target_row(322, 风险等级="?")
    path = write_xlsx(tmp_path / "many.xlsx", rows)
    before = fingerprint(demo_data_dir)
    db = open_database(demo_data_dir)
    try:
        with pytest.raises(ImportRefused) as info:
            run_job(import_directory(db, TARGETS, path))
        assert [p.row for p in info.value.problems] == [323]
    finally:
        db.close()
    assert fingerprint(demo_data_dir) == before


def test_all_problems_are_listed_not_just_the_first(db: Any, tmp_path: Path) -> None:
    rows = [target_row(1, 行业领域="无此行业"), target_row(2, 风险等级="?"), target_row(3, 黑名单="有")]
    path = write_xlsx(tmp_path / "three.xlsx", rows)
    with pytest.raises(ImportRefused) as info:
        run_job(import_directory(db, TARGETS, path))
    assert info.value.total == 6  # and 城关镇 is not yet in a new database's region list: 3 more
    assert {(p.row, p.header) for p in info.value.problems} >= {
        (2, "行业领域"),
        (3, "风险等级"),
        (4, "黑名单"),
    }


def test_unknown_regions_can_be_added_to_the_code_list_on_request(db: Any, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "new-town.xlsx", [target_row(1), target_row(2, 所属区域="新设镇")])
    with pytest.raises(ImportRefused, match="所属区域"):
        run_job(import_directory(db, TARGETS, path))
    summary = run_job(import_directory(db, TARGETS, path, add_unknown_codes=True))
    assert summary.added == 2
    assert summary.codes_added == {"region": ["城关镇", "新设镇"]}
    assert db.scalar("SELECT count(*) FROM code_value WHERE list_name='region'") == 2


# --- accepted input ---------------------------------------------------------------------------


def test_reimport_updates_by_key_and_counts(demo_data_dir: Path, tmp_path: Path) -> None:
    db = open_database(demo_data_dir)
    try:
        first = write_xlsx(tmp_path / "a.xlsx", [target_row(n) for n in range(1, 6)])
        s1 = run_job(import_directory(db, TARGETS, first))
        assert (s1.added, s1.updated, s1.unchanged) == (5, 0, 0)
        rows = [target_row(n) for n in range(1, 6)]
        rows[0] = target_row(1, 风险等级="较大")
        rows.append(target_row(6))
        s2 = run_job(import_directory(db, TARGETS, write_xlsx(tmp_path / "b.xlsx", rows)))
        assert (s2.added, s2.updated, s2.unchanged) == (1, 1, 4)
        assert "新增 1，更新 1，未变 4" in s2.text()
        assert db.scalar("SELECT risk_level FROM target WHERE uscc = :u", {"u": code(1)}) == "较大"
        # Rows not in the file are left alone.
        assert db.scalar("SELECT count(*) FROM target") == 3006
    finally:
        db.close()


def test_reimport_restores_an_archived_record(demo_data_dir: Path, tmp_path: Path) -> None:
    db = open_database(demo_data_dir)
    try:
        path = write_xlsx(tmp_path / "a.xlsx", [target_row(1)])
        run_job(import_directory(db, TARGETS, path))
        with db.write() as conn:
            conn.exec_driver_sql("UPDATE target SET archived = 1 WHERE uscc = ?", (code(1),))
        s = run_job(import_directory(db, TARGETS, path))
        assert (s.updated, s.restored) == (1, 1)
        assert db.scalar("SELECT archived FROM target WHERE uscc = :u", {"u": code(1)}) == 0
    finally:
        db.close()


def test_header_variants_title_rows_and_column_order_are_recognised(
    demo_data_dir: Path, tmp_path: Path
) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["青山县检查对象名录（2026 年）"])
    ws.append([])
    ws.append(["序号", "单位名称", "信用代码", "所属乡镇", "行业", "风险级别", "是否黑名单", "备注"])
    ws.append([1, "变体表头测试有限公司", code(77).lower(), "北留镇", "建材", "较大风险", "否", "无关的列"])
    path = tmp_path / "variants.xlsx"
    wb.save(path)
    db = open_database(demo_data_dir)
    try:
        s = run_job(import_directory(db, TARGETS, path))
        assert s.added == 1
        row = (
            db.engine.connect()
            .exec_driver_sql(
                "SELECT name, region, industry, risk_level, status, blacklist FROM target WHERE uscc = ?",
                (code(77),),
            )
            .one()
        )
        assert tuple(row) == ("变体表头测试有限公司", "北留镇", "建材", "较大", "存续", 0)
    finally:
        db.close()


def test_cells_typed_as_numbers_and_dates_are_read_as_text_and_dates(db: Any, tmp_path: Path) -> None:
    hdr = ["执法证号", "姓名", "所属科室", "执法证有效期至", "执法专长", "在岗状态", "联系电话"]
    wb = Workbook()
    ws = wb.active
    ws.append(hdr)
    ws.append([14992100099, " 王五 ", "大队", date(2027, 12, 31), "危险化学品，工贸", "", 13800000000])
    ws.append(["A-2", "赵六", "", "2028年1月5日", "", "在职", ""])
    path = tmp_path / "typed.xlsx"
    wb.save(path)
    from dsj_desktop.domain.specs import INSPECTORS

    s = run_job(import_directory(db, INSPECTORS, path))
    assert s.added == 2
    rows = list(db.engine.connect().exec_driver_sql(
        "SELECT cert_no, name, cert_valid_until, specialties, duty_status, phone FROM inspector ORDER BY id"))  # fmt: skip
    assert tuple(rows[0]) == ("14992100099", "王五", "2027-12-31", "危险化学品、工贸", "在岗", "13800000000")
    assert tuple(rows[1]) == ("A-2", "赵六", "2028-01-05", "", "在岗", "")


def _sheet_values(path: Path) -> list[tuple[Any, ...]]:
    wb = load_workbook(path, read_only=True)
    ws = wb.worksheets[0]
    vals = [tuple(c for c in row) for row in ws.iter_rows(values_only=True)]
    wb.close()
    return vals


@pytest.mark.parametrize("kind", ["targets", "inspectors", "experts", "conflicts"])
def test_export_import_round_trip_is_lossless(kind: str, demo_data_dir: Path, tmp_path: Path) -> None:
    out1 = tmp_path / f"{kind}-1.xlsx"
    assert run_cli("export", kind, str(out1)) == 0
    # Into a fresh database (the conflicts need their people and targets first).
    fresh = tmp_path / "fresh"
    for k in ("targets", "inspectors", "experts", "conflicts"):
        f = tmp_path / f"src-{k}.xlsx"
        assert run_cli("export", k, str(f)) == 0
        assert run_cli("--data-dir", str(fresh), "import", k, str(f), "--add-codes") == 0
        if k == kind:
            break
    out2 = tmp_path / f"{kind}-2.xlsx"
    assert run_cli("--data-dir", str(fresh), "export", kind, str(out2)) == 0
    assert _sheet_values(out1) == _sheet_values(out2)
    # And re-importing the export into the original changes nothing.
    db = open_database(demo_data_dir)
    try:
        from dsj_desktop.domain.specs import DIRECTORIES

        s = run_job(import_directory(db, DIRECTORIES[kind], out1))
        assert s.added == s.updated == 0 and s.unchanged == s.rows
    finally:
        db.close()


def test_exported_workbook_has_the_canonical_headers(demo_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    db = open_database(demo_data_dir)
    try:
        n = run_job(export_directory(db, TARGETS, out))
    finally:
        db.close()
    vals = _sheet_values(out)
    assert list(vals[0]) == TARGETS.headers
    assert len(vals) == n + 1 == 3001
    assert zipfile.is_zipfile(out)


def test_template_has_headers_example_and_dropdowns(demo_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "tpl.xlsx"
    assert run_cli("template", "targets", str(out)) == 0
    wb = load_workbook(out)
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == TARGETS.headers
    assert ws.max_row == 1 or all(c.value is None for c in ws[2])  # nothing to import by accident
    lists = wb["代码表"]
    assert lists.sheet_state == "hidden"
    formulas = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation}
    assert "C2" in formulas and "D2" in formulas and "G2" in formulas and "I2" in formulas
    region_col = formulas["D2"].split("!")[1].split(":")[0].replace("$", "")[0]
    regions = [c.value for c in lists[region_col][1:] if c.value]
    assert "城关镇" in regions and len(regions) == 12
    guide = wb["填写说明"]
    texts = [c.value for row in guide.iter_rows() for c in row if c.value]
    assert "91350100M000100Y43" in texts  # the example row
    # The template imports cleanly once a row is filled in.
    ws.append(target_row(5))
    wb.save(out)
    assert run_cli("import", "targets", str(out)) == 0


def test_conflicts_must_name_known_people_and_targets(demo_data_dir: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    hdr = ["人员编号", "统一社会信用代码", "回避原因"]
    path = write_xlsx(tmp_path / "c.xlsx", [["无此人", code(999), "亲属"]], hdr)
    before = fingerprint(demo_data_dir)
    assert run_cli("import", "conflicts", str(path)) == 1
    err = capsys.readouterr().err
    assert "第 2 行 A 列" in err and "不在执法检查人员名录库或专家库中" in err
    assert "第 2 行 B 列" in err and "不在检查对象名录库中" in err
    assert fingerprint(demo_data_dir) == before


def test_a_workbook_whose_sheet_data_is_damaged_is_refused_clearly(db: Database, tmp_path: Path) -> None:
    """A byte changed inside the compressed sheet (a bad copy from a USB stick): a clear refusal, not
    zlib's own error from the look at the sheet's used range (found by test_fuzz_import)."""
    good = write_xlsx(tmp_path / "good.xlsx", [target_row(n) for n in range(1, 40)]).read_bytes()
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for at in range(start + 2, start + info.compress_size):  # the first change that breaks the stream
        data = bytearray(good)
        data[at] ^= 0xFF
        try:
            with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf, zf.open("xl/worksheets/sheet1.xml") as f:
                f.read(4096)
        except zlib.error:
            break
    else:
        pytest.skip("no single changed byte breaks this sheet's compressed stream")
    bad = tmp_path / "damaged.xlsx"
    bad.write_bytes(bytes(data))
    with pytest.raises(UserError) as exc:
        run_job(import_directory(db, TARGETS, bad))
    assert "damaged.xlsx" in str(exc.value) and "Error" not in str(exc.value)


def test_an_item_year_left_out_or_empty_is_this_year(db: Any, tmp_path: Path) -> None:
    """The item list's 年度 is 留空为今年: a sheet without that column, or an empty cell in it, stores
    this year as a number (never an empty text, which PostgreSQL's integer column refuses)."""
    without = write_xlsx(tmp_path / "清单1.xlsx", [["YJ-901", "危化品企业检查", "危险化学品"]],
                         headers=["事项编码", "抽查事项", "抽查对象"])  # fmt: skip
    run_job(import_directory(db, ITEMS, without))
    with_empty = write_xlsx(
        tmp_path / "清单2.xlsx",
        [["YJ-902", "烟花爆竹检查", "", "烟花爆竹"], ["YJ-903", "工贸企业检查", "2025", "机械"]],
        headers=["事项编码", "抽查事项", "年度", "抽查对象"],
    )
    run_job(import_directory(db, ITEMS, with_empty))
    years = dict(db.engine.connect().exec_driver_sql("SELECT code, year FROM item ORDER BY code").all())
    this_year = date.today().year
    assert years == {"YJ-901": this_year, "YJ-902": this_year, "YJ-903": 2025}
