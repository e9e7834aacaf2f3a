"""Forged record PDFs, built as a forger would, are refused by ``verify`` with the cause named;
the genuine file passes only with a pinned signer (docs/pdf-signature.md, issue 13)."""

from __future__ import annotations

import copy
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from dsj_desktop.draw.algorithm import DrawInput, run_draw
from dsj_desktop.draw.record import build_record, sign_record
from dsj_desktop.keys import KeyStore
from dsj_desktop.pdf.sign import Attachment, sign_pdf
from dsj_desktop.publish.record_pdf import (
    attachment_name,
    build_record_document,
    record_json_bytes,
    record_pdf,
)
from dsj_desktop.publish.verify_report import FAILED, PASSED, UNVERIFIED, Verdict, check_file

from . import forgeries as F
from .pdf_helpers import BUREAU

SESSION = "S-2026-9001"


def _record(keys: KeyStore, session: str = SESSION) -> dict[str, Any]:
    targets = [(f"91140522MA0000{i:04d}", "城关镇" if i % 3 else "北留镇") for i in range(40)]
    inspectors = [f"14052200{i:02d}" for i in range(8)]
    result = run_draw(
        DrawInput(
            session,
            targets,
            inspectors,
            [],
            {"quotas": {"城关镇": 4, "北留镇": 2}, "team_size": 2},
            [("甲", "31415926535"), ("乙", "27182818284")],
        )
    )
    record = build_record(
        result,
        task={"name": "伪造测试", "code": "RW-F", "bureau": BUREAU},
        inspector_names={p: f"执法员{i}" for i, p in enumerate(inspectors)},
    )
    record["version"] = 1
    record["pdf_key_fingerprint"] = keys.pdf_public_key_fingerprint()
    raw = keys.record_private_key().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return sign_record(record, raw)


@pytest.fixture(scope="module")
def bureau(tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    return KeyStore(tmp_path_factory.mktemp("bureau"))


@pytest.fixture(scope="module")
def record(bureau: KeyStore) -> dict[str, Any]:
    return _record(bureau)


@pytest.fixture(scope="module")
def genuine(bureau: KeyStore, record: dict[str, Any]) -> bytes:
    return record_pdf(record, bureau, BUREAU).data


@pytest.fixture(scope="module")
def forger(tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    """A forger's own keys, with a certificate named exactly like the bureau's."""
    return KeyStore(tmp_path_factory.mktemp("forger"))


def _check(
    tmp_path: Path, data: bytes, fingerprint: str | None = None, trusted: list[str] | None = None
) -> Verdict:
    path = tmp_path / "file.pdf"
    path.write_bytes(data)
    return check_file(path, fingerprint, trusted=trusted or [])


def _refused(tmp_path: Path, data: bytes, bureau: KeyStore, *causes: str) -> str:
    """Refused with every fingerprint the bureau publishes and with its data folder's keys."""
    texts = []
    for fp, trusted in (
        (bureau.record_fingerprint(), None),
        (bureau.pdf_certificate_fingerprint(), None),
        (None, bureau.registered_fingerprints()),
        (None, None),
    ):
        verdict = _check(tmp_path, data, fp, trusted)
        assert verdict.status == FAILED, verdict.text
        assert "验证通过" not in verdict.text
        for cause in causes:
            assert cause in verdict.text, (cause, verdict.text)
        texts.append(verdict.text)
    return texts[0]


def test_the_genuine_file_passes_only_with_a_pinned_signer(
    tmp_path: Path, bureau: KeyStore, genuine: bytes
) -> None:
    for fp, trusted in (
        (bureau.record_fingerprint(), None),
        (bureau.record_fingerprint().replace(" ", "").lower(), None),
        (bureau.pdf_certificate_fingerprint(), None),
        (None, bureau.registered_fingerprints()),
    ):
        verdict = _check(tmp_path, genuine, fp, trusted)
        assert verdict.status == PASSED, verdict.text
        assert "总结论：验证通过" in verdict.text
    verdict = _check(tmp_path, genuine)
    assert (
        verdict.status == UNVERIFIED and "签名人未经核实" in verdict.text and "验证通过" not in verdict.text
    )
    wrong = _check(tmp_path, genuine, "AB" * 32)
    assert wrong.status == FAILED and "既不是" in wrong.text


def test_incremental_text_over_a_name_then_a_second_signature(
    tmp_path: Path, bureau: KeyStore, genuine: bytes
) -> None:
    painted = F.paint_over(genuine, page=0, text="WANG WU")
    text = _refused(tmp_path, painted, bureau, "签章之后文件被追加了内容", "页面内容（文字或图形）")
    assert "✘ 签名后未改动" in text
    signed = F.add_signature(painted, F.self_signed_signer("某某"))
    text = _refused(tmp_path, signed, bureau, "2 个电子签名", "某某", "页面内容（文字或图形）", "电子签名1处")
    assert "✘ 电子签名" in text


def test_an_added_page_then_a_second_signature(tmp_path: Path, bureau: KeyStore, genuine: bytes) -> None:
    added = F.add_page(genuine)
    _refused(tmp_path, added, bureau, "新增的页面")
    _refused(tmp_path, F.add_signature(added), bureau, "新增的页面", "2 个电子签名")


def test_a_bare_second_signature(tmp_path: Path, bureau: KeyStore, genuine: bytes, forger: KeyStore) -> None:
    _refused(tmp_path, F.add_signature(genuine), bureau, "2 个电子签名", "电子签名1处")
    # even by the bureau's own key, and visible: the record has exactly one signature
    own = bureau.pdf_signer(BUREAU)
    _refused(tmp_path, F.add_signature(genuine, own, visible=True), bureau, "2 个电子签名", "签名域")


def test_an_annotation_a_form_field_and_a_catalogue_change(
    tmp_path: Path, bureau: KeyStore, genuine: bytes
) -> None:
    _refused(tmp_path, F.add_annotation(genuine), bureau, "批注（FreeText）")
    _refused(tmp_path, F.add_empty_signature_field(genuine), bureau, "签名域")
    _refused(tmp_path, F.change_catalog(genuine), bureau, "文档目录")


def test_a_re_signed_copy_with_the_genuine_json(
    tmp_path: Path, bureau: KeyStore, record: dict[str, Any], forger: KeyStore
) -> None:
    shown = copy.deepcopy(record)
    shown["inspectors"][0]["name"] = "李四（伪）"  # a line of text changed on the pages
    pages = build_record_document(shown).build()
    forged = sign_pdf(
        pages,
        forger,
        BUREAU,  # the certificate is named exactly like the bureau's
        attachments=[Attachment(attachment_name(SESSION), record_json_bytes(record))],
    ).data
    text = _refused(tmp_path, forged, bureau, "不是抽取记录中登记的本局签章公钥")
    assert f"{BUREAU}电子签章" in text  # the name alone proves nothing


def test_a_wholly_forged_record_and_pdf(tmp_path: Path, bureau: KeyStore, forger: KeyStore) -> None:
    """A forger's own record key and certificate, consistent with each other: never 验证通过."""
    forged = record_pdf(_record(forger), forger, BUREAU).data
    assert _check(tmp_path, forged).status == UNVERIFIED
    for fp, trusted in ((bureau.record_fingerprint(), None), (None, bureau.registered_fingerprints())):
        verdict = _check(tmp_path, forged, fp, trusted)
        assert verdict.status != PASSED, verdict.text
    assert _check(tmp_path, forged, bureau.record_fingerprint()).status == FAILED


def test_hiding_the_bureau_signature_and_certifying_anew(
    tmp_path: Path, bureau: KeyStore, genuine: bytes
) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    w = IncrementalPdfFileWriter(io.BytesIO(genuine), strict=False)
    w.root["/AcroForm"]["/Fields"] = generic.ArrayObject()
    w.update_container(w.root["/AcroForm"])  # type: ignore[no-untyped-call]
    del w.root["/Perms"]
    w.update_root()  # type: ignore[no-untyped-call]
    hidden = io.BytesIO()
    w.write(hidden)  # type: ignore[no-untyped-call]
    signer = F.self_signed_signer(f"{BUREAU}电子签章", BUREAU)
    meta = signers.PdfSignatureMetadata(
        field_name="Sig2", certify=True, docmdp_permissions=fields.MDPPerm.NO_CHANGES, md_algorithm="sha256"
    )
    out = io.BytesIO()
    F._CarelessSigner(meta, signer=signer).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(hidden.getvalue()), strict=False), output=out
    )
    _refused(tmp_path, out.getvalue(), bureau, "签章之前已被修改过")


def test_bytes_appended_truncated_or_flipped(tmp_path: Path, bureau: KeyStore, genuine: bytes) -> None:
    _refused(tmp_path, genuine + b"\n%% appended\n", bureau, "✘ 签名后未改动")
    _refused(tmp_path, genuine[: len(genuine) // 2], bureau)
    trailer = genuine.rindex(b"startxref")
    for pos in (trailer + 12, len(genuine) - 3, genuine.rindex(b"/ByteRange") + 14):
        bad = bytearray(genuine)
        bad[pos] ^= 0x01
        text = _refused(tmp_path, bytes(bad), bureau)
        assert "不是 PDF 文件" not in text


def test_cli_refuses_a_forgery_quietly(tmp_path: Path, bureau: KeyStore, genuine: bytes) -> None:
    forged = F.add_signature(F.paint_over(genuine), F.self_signed_signer("某某"))
    path = tmp_path / "forged.pdf"
    path.write_bytes(forged)
    env = dict(os.environ, PYTHONIOENCODING="utf-8", DSJ_DATA_DIR=str(tmp_path / "none"))
    args = [sys.executable, "-m", "dsj_desktop", "verify", "--fingerprint", bureau.record_fingerprint()]
    proc = subprocess.run([*args, str(path)], capture_output=True, text=True, encoding="utf-8", env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr == ""
    assert "总结论：验证不通过" in proc.stdout and "2 个电子签名" in proc.stdout
    good = tmp_path / "good.pdf"
    good.write_bytes(genuine)
    proc = subprocess.run([*args, str(good)], capture_output=True, text=True, encoding="utf-8", env=env)
    assert proc.returncode == 0 and proc.stderr == "", proc.stdout + proc.stderr
    data_dir = ["--data-dir", str(bureau.data_dir)]
    proc = subprocess.run(
        [sys.executable, "-m", "dsj_desktop", *data_dir, "verify", str(good)],
        capture_output=True, text=True, encoding="utf-8", env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "dsj_desktop", "verify", str(good)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
    )
    assert proc.returncode == 3 and "签名人未经核实" in proc.stdout


def test_mutated_files_are_refused_with_a_quiet_stderr(
    tmp_path: Path, bureau: KeyStore, genuine: bytes, capfd: pytest.CaptureFixture[str]
) -> None:
    """Random flips, cuts and insertions anywhere: a verdict (never 验证通过), never a traceback or
    a library's log line on stderr."""
    import random

    from dsj_desktop.cli import main

    rng = random.Random(13)
    path = tmp_path / "m.pdf"
    for n in range(40):
        bad = bytearray(genuine)
        pos = rng.randrange(len(bad))
        if n % 3 == 0:
            bad[pos] ^= 1 << rng.randrange(8)
        elif n % 3 == 1:
            del bad[pos : pos + rng.randrange(1, 64)]
        else:
            bad[pos:pos] = rng.randbytes(rng.randrange(1, 16))
        path.write_bytes(bytes(bad))
        code = main(["verify", "--fingerprint", bureau.record_fingerprint(), str(path)])
        out, err = capfd.readouterr()
        assert code == 1, (n, pos, out)
        assert "验证通过" not in out
        assert err == "" or (len(err.splitlines()) == 1 and "Traceback" not in err), (n, pos, err)
