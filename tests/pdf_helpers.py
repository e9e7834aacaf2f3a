"""Sample content and poppler helpers shared by the PDF tests."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsj_desktop.pdf.document import Column, PdfDocument

BUREAU = "青山县应急管理局"
TITLE = "抽查对象随机抽取记录"

COLUMNS = [
    Column("序号", 0.6, "center"),
    Column("企业名称", 3.2),
    Column("统一社会信用代码", fit="91350100M000100Y43"),
    Column("所属区域", 1.3),
    Column("抽签号", fit="dddddddddddd"),
    Column("检查人员", 0.9, "center"),
    Column("检查人员", 0.9, "center"),
    Column("行业", 1.1),
]

_NAMES = ("顺达", "光明", "龙腾", "凤翔化工", "锦绣纺织品进出口")
_KINDS = ("有限公司", "有限责任公司", "股份有限公司（分公司）")
_REGIONS = ("城关镇", "青山镇", "东坝乡", "河西街道", "工业园区管委会")
_PEOPLE = ("王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "赵强", "黄丽")
_INDUSTRY = ("危险化学品", "工贸", "非煤矿山", "烟花爆竹")


def sample_rows(n: int, seed: int = 1) -> Iterator[list[str]]:
    rng = random.Random(seed)
    for i in range(n):
        yield [
            str(i + 1),
            f"青山县{rng.choice(_NAMES)}{rng.choice(_KINDS)}",
            f"91350100M{i:06d}Y4{i % 10}",
            rng.choice(_REGIONS),
            f"{rng.getrandbits(48):012x}",
            rng.choice(_PEOPLE),
            rng.choice(_PEOPLE),
            rng.choice(_INDUSTRY),
        ]


def sample_record(rows: int = 150, doc_id: str = "CJ-2025-0001") -> PdfDocument:
    """A portrait record: heading, key–value block, long table, QR code, signature lines."""
    doc = PdfDocument(TITLE, bureau=BUREAU, doc_id=doc_id)
    doc.heading(subtitle="2025 年第一批次“双随机、一公开”抽查", lines=["抽取时间：2025-03-01 09:30:12"])
    doc.section("一、基本信息")
    doc.key_values(
        [
            ("抽查事项", "危险化学品企业安全生产检查"),
            ("抽取数量", f"{rows} 家"),
            ("随机种子", "3F2A 9C01 77BE 0D1C 5A2B 8E44 1F00 C0DE 3F2A 9C01 77BE 0D1C 5A2B 8E44 1F00 C0DE"),
            ("操作人员", "王伟"),
        ]
    )
    doc.section("二、抽取结果")
    doc.table(COLUMNS, sample_rows(rows))
    doc.section("三、核验")
    doc.qr_code(
        "https://example.invalid/verify?id=" + doc_id, caption="扫描二维码或在本程序中打开本文件核验签名。"
    )
    doc.paragraph("本记录由程序自动生成，附件 record.json 为机器可读的抽取记录。")
    doc.signature_lines()
    doc.stamp_area()
    return doc


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed")
    return path


def pdf_pages_text(path: Path) -> list[str]:
    """Text of each page with all whitespace removed (pdftotext drops spaces between CJK)."""
    out = subprocess.run(
        [need("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    pages = out.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return [re.sub(r"\s+", "", p) for p in pages]


def pdf_fonts(path: Path) -> list[tuple[str, str]]:
    """(font name, emb column) for each font pdffonts lists."""
    out = subprocess.run([need("pdffonts"), str(path)], capture_output=True, check=True, text=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        # name type... encoding emb sub uni object-id gen; emb is the 5th field from the end
        rows.append((parts[0], parts[-5]))
    return rows
