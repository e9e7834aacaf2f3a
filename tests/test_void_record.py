"""A voided record PDF: "作废" above the content of every page, "已作废" in every page header, every
font embedded (issue 13)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from dsj_desktop.draw.algorithm import DrawInput, run_draw
from dsj_desktop.draw.record import build_record, sign_record
from dsj_desktop.keys import KeyStore
from dsj_desktop.publish.record_pdf import record_pdf

from .pdf_helpers import BUREAU, need, pdf_fonts


def test_every_page_of_a_voided_record_says_so_above_its_content(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys")
    targets = [(f"91140522MA0000{i:04d}", "城关镇" if i % 3 else "北留镇") for i in range(150)]
    inspectors = [f"14052200{i:02d}" for i in range(10)]
    result = run_draw(
        DrawInput("S-2026-0042", targets, inspectors, [], {"quotas": {"城关镇": 12, "北留镇": 6}, "team_size": 2},
                  [("甲", "31415926535"), ("乙", "27182818284")])
    )  # fmt: skip
    record = build_record(
        result, status="voided", void_reason="见证人未到场", task={"name": "作废测试", "bureau": BUREAU},
        target_names={t: f"青山县测试企业{i:03d}有限公司" for i, (t, _) in enumerate(targets)},
    )  # fmt: skip
    raw = keys.record_private_key().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    path = tmp_path / "void.pdf"
    record_pdf(sign_record(record, raw), keys, BUREAU).save(path)
    out = subprocess.run(
        [need("pdftotext"), "-raw", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    pages = [re.sub(r"\s+", "", p) for p in out.split("\f") if p.strip()]
    assert len(pages) >= 4
    for i, page in enumerate(pages, start=1):
        assert "编号：S-2026-0042【已作废】" in page[:120], page[:200]  # raw order: drawn after the number
        # drawn in content-stream order: the watermark after everything on the page but the footer
        # (only the signature stamp, an annotation laid over the page, comes later)
        before, _, after = page.partition(f"作废第{i}页共{len(pages)}页")
        assert before and (after == "" or after.startswith(f"{BUREAU}电子签章")), page[-120:]
    assert all(emb == "yes" for _, emb in pdf_fonts(path))
