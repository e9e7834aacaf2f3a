"""``dsj-desktop verify`` and the stand-alone ``docs/verify_draw.py``, run as separate processes."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dsj_desktop.draw.algorithm import DrawInput, run_draw
from dsj_desktop.draw.record import build_record, public_key_fingerprint, public_key_of, sign_record

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docs" / "verify_draw.py"
KEY = bytes(range(1, 33))


def make_record() -> dict[str, Any]:
    targets = [(f"9114052200000000{i:02d}", "城关镇" if i % 3 else "北留镇") for i in range(30)]
    inspectors = [f"1405220000{i}" for i in range(6)]
    params = {"quotas": {"城关镇": 3, "北留镇": 2}, "team_size": 2, "mandatory": ["91140599000000000A"]}
    result = run_draw(
        DrawInput(
            "S-CLI-1",
            targets,
            inspectors,
            ["ZJ1", "ZJ2"],
            params,
            [("甲", "1234567890"), ("乙", "0987654321")],
        )
    )
    return sign_record(build_record(result, task={"name": "命令行测试"}), KEY)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("records")
    good = make_record()
    bad = copy.deepcopy(good)
    bad["selected"][1]["inspectors"][0], bad["selected"][1]["inspectors"][1] = (
        bad["selected"][1]["inspectors"][1],
        bad["selected"][1]["inspectors"][0],
    )
    paths = {"good": d / "good.json", "bad": d / "bad.json", "junk": d / "junk.json", "pdf": d / "x.pdf"}
    paths["good"].write_text(json.dumps(good, ensure_ascii=False, indent=2), encoding="utf-8")
    paths["bad"].write_text(json.dumps(bad, ensure_ascii=False, indent=2), encoding="utf-8")
    paths["junk"].write_text("这不是 JSON", encoding="utf-8")
    paths["pdf"].write_bytes(b"%PDF-1.7\n")
    return paths


def run(args: list[str], tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONIOENCODING="utf-8", DSJ_DATA_DIR=str(tmp_path / "no-data-here"))
    return subprocess.run(
        [sys.executable, *flags, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=tmp_path,
    )


FINGERPRINT = public_key_fingerprint(public_key_of(KEY))


def test_cli_good_record(files: dict[str, Path], tmp_path: Path) -> None:
    proc = run(
        ["-m", "dsj_desktop", "verify", "--fingerprint", FINGERPRINT.lower(), str(files["good"])], tmp_path
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "✔ 随机种子" in proc.stdout
    assert "验证通过" in proc.stdout
    assert "签名公钥指纹" in proc.stdout
    assert not proc.stderr
    assert not (tmp_path / "no-data-here").exists()  # no data folder needed or made


def test_cli_good_record_without_a_pinned_key_is_not_passed(files: dict[str, Path], tmp_path: Path) -> None:
    proc = run(["-m", "dsj_desktop", "verify", str(files["good"])], tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "签名人未经核实" in proc.stdout and "验证通过" not in proc.stdout
    assert "✔ 随机种子" in proc.stdout and not proc.stderr
    assert not (tmp_path / "no-data-here").exists()


def test_cli_tampered_record(files: dict[str, Path], tmp_path: Path) -> None:
    proc = run(["-m", "dsj_desktop", "verify", str(files["bad"])], tmp_path)
    assert proc.returncode == 1
    assert "✘ 执法人员分组" in proc.stdout
    assert "第 1 名应为" in proc.stdout
    assert "验证不通过" in proc.stdout


def test_cli_unreadable(files: dict[str, Path], tmp_path: Path) -> None:
    proc = run(["-m", "dsj_desktop", "verify", str(files["junk"])], tmp_path)
    assert proc.returncode == 1
    assert "不是有效的 JSON" in proc.stderr


def test_cli_broken_pdf(files: dict[str, Path], tmp_path: Path) -> None:
    proc = run(["-m", "dsj_desktop", "verify", str(files["pdf"])], tmp_path)
    assert proc.returncode == 1
    assert "无法解析" in proc.stdout and "总结论：验证不通过" in proc.stdout and not proc.stderr


def test_cli_fingerprint_option(files: dict[str, Path], tmp_path: Path) -> None:
    proc = run(["-m", "dsj_desktop", "verify", "--fingerprint", "00" * 32, str(files["good"])], tmp_path)
    assert proc.returncode == 1
    assert "✘ 公钥指纹" in proc.stdout


def test_standalone_script(files: dict[str, Path], tmp_path: Path) -> None:
    proc = run([str(SCRIPT), str(files["good"])], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "通过    签名" in proc.stdout
    assert "全部符合" in proc.stdout
    proc = run([str(SCRIPT), str(files["bad"])], tmp_path)
    assert proc.returncode == 1
    assert "不通过  抽中对象" in proc.stdout


def test_standalone_script_needs_only_the_standard_library(files: dict[str, Path], tmp_path: Path) -> None:
    # -I: isolated (not even the current folder on the path); -S: no site-packages at all.
    proc = run([str(SCRIPT), str(files["good"])], tmp_path, "-I", "-S")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "未核对签名" in proc.stdout and "全部符合" not in proc.stdout
    proc = run([str(SCRIPT), str(files["bad"])], tmp_path, "-I", "-S")
    assert proc.returncode == 1


# Runs the script with `cryptography` made unimportable, though it is installed here.
BLOCKED = """
import runpy, sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name == "cryptography" or name.startswith("cryptography."):
            raise ImportError("blocked for the test: " + name)
        return None
sys.meta_path.insert(0, Blocker())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _variants() -> list[tuple[str, dict[str, Any]]]:
    """Every altered record the ``verify`` tests use, plus earlier attempts and voids changed."""
    from dsj_desktop.draw.algorithm import commitment_of

    from .test_draw_record import CASES, signed_record

    good = signed_record()
    out = []
    for what, tamper, _, _ in CASES:
        record = copy.deepcopy(good)
        tamper(record)
        out.append((what, record))
    nonce = "0" * 31 + "1"
    from .test_draw_record import KEY as RECORD_KEY

    with_previous = sign_record(
        dict(good, previous=[{"session": "S-OLD", "status": "voided", "reason": "测试",
                              "commitment": commitment_of(nonce), "nonce_revealed": nonce}]),
        RECORD_KEY,
    )  # fmt: skip
    out.append(
        ("previous reason", dict(with_previous, previous=[dict(with_previous["previous"][0], reason="改")]))
    )
    # earlier attempts changed and re-signed by anybody: the broken commitment still shows
    broken = dict(with_previous, previous=[dict(with_previous["previous"][0], nonce_revealed="1" * 32)])
    out.append(("previous nonce, re-signed", sign_record(broken, KEY)))
    out.append(("previous removed", dict(with_previous, previous=[])))
    out.append(("void reason", dict(good, status="voided", void_reason="改写的原因")))
    out.append(("substitution reason", _sub_reason(good)))
    out.append(("no signature at all", {k: v for k, v in good.items() if k != "signature"}))
    return out


def _sub_reason(good: dict[str, Any]) -> dict[str, Any]:
    record = copy.deepcopy(good)
    record["substitutions"][0]["reason"] = "改写的原因"
    return record


def test_standalone_script_never_passes_an_altered_record(tmp_path: Path) -> None:
    from .test_draw_record import KEY as RECORD_KEY
    from .test_draw_record import signed_record

    good = signed_record()
    path = tmp_path / "good.json"
    path.write_text(json.dumps(good, ensure_ascii=False), encoding="utf-8")
    fp = public_key_fingerprint(public_key_of(RECORD_KEY))
    assert run([str(SCRIPT), str(path), fp], tmp_path).returncode == 0
    assert run([str(SCRIPT), str(path), "00" * 32], tmp_path).returncode == 1
    blocked = run(["-c", BLOCKED, str(SCRIPT), str(path)], tmp_path)
    assert blocked.returncode == 2 and "未核对签名" in blocked.stdout, blocked.stdout + blocked.stderr
    for what, record in _variants():
        path = tmp_path / "variant.json"
        path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        full = run([str(SCRIPT), str(path)], tmp_path)
        assert full.returncode == 1, (what, full.stdout, full.stderr)
        assert "全部符合" not in full.stdout and not full.stderr, what
        bare = run(["-c", BLOCKED, str(SCRIPT), str(path)], tmp_path)
        assert bare.returncode in (1, 2), (what, bare.stdout, bare.stderr)
        assert "全部符合" not in bare.stdout and not bare.stderr, what
        assert ("未核对签名" in bare.stdout) == (bare.returncode == 2), what
        if what.startswith("previous nonce"):
            assert full.returncode == bare.returncode == 1 and "此前的抽取" in bare.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"spec": "DSJ-DRAW-1", "spec": "X"}', "两次键"),
        (b"[" * 100_000 + b"]" * 100_000, "嵌套层数过多"),
        (b'{"spec": "DSJ-DRAW-1", "n": ' + b"9" * 100_000 + b"}", "位的整数"),
        (b'{"spec": "DSJ-DRAW-1", "n": 0.5}', "小数"),
        (b"\xff\xfe", "UTF-8"),
        (b'{"spec": "DSJ-DRAW-1"}', "记录结构"),
        (b"[1, 2]", "JSON 对象"),
    ],
)
def test_standalone_script_on_hostile_input(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "hostile.json"
    path.write_bytes(content)
    proc = run([str(SCRIPT), str(path)], tmp_path)
    assert proc.returncode == 1 and message in proc.stdout and not proc.stderr, proc.stdout + proc.stderr


def _bomb_pdf(tmp_path: Path) -> Path:
    """A PDF whose attachment inflates to 200 MB (from about 200 KB)."""
    import io
    import zlib

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    from .pdf_helpers import sample_record

    def name(n: str) -> generic.NameObject:
        return generic.NameObject(n)

    w = IncrementalPdfFileWriter(io.BytesIO(sample_record(rows=3).build()))
    bomb = zlib.compress(b"\0" * (200 * 1024 * 1024), 9)
    stream = generic.StreamObject(
        {name("/Type"): name("/EmbeddedFile"), name("/Filter"): name("/FlateDecode")}, encoded_data=bomb
    )
    ef = w.add_object(stream)
    spec = w.add_object(generic.DictionaryObject({
        name("/Type"): name("/Filespec"), name("/F"): generic.TextStringObject("S-1.json"),
        name("/UF"): generic.TextStringObject("S-1.json"),
        name("/EF"): generic.DictionaryObject({name("/F"): ef, name("/UF"): ef}),
    }))  # fmt: skip
    names = generic.ArrayObject([generic.TextStringObject("S-1.json"), spec])
    w.root["/Names"] = generic.DictionaryObject(
        {name("/EmbeddedFiles"): generic.DictionaryObject({name("/Names"): names})}
    )
    w.update_root()  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    w.write(out)  # type: ignore[no-untyped-call]
    path = tmp_path / "bomb.pdf"
    path.write_bytes(out.getvalue())
    return path


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("deep.json", b'{"spec": "DSJ-DRAW-1", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "嵌套"),
        ("deep2.json", b'{"spec": "DSJ-DRAW-1", "x": ' + b"[" * 500 + b"]" * 500 + b"}", "嵌套超过"),
        ("bigint.json", b'{"spec": "DSJ-DRAW-1", "n": ' + b"7" * 100_000 + b"}", "位的整数"),
        ("dup.json", b'{"spec": "DSJ-DRAW-1", "seed": "a", "seed": "b"}', "两次键"),
        ("junk.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40, "无法解析"),
    ],
)
def test_cli_verify_hostile_input_gets_a_message_not_a_traceback(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    proc = run(["-m", "dsj_desktop", "verify", str(path)], tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert message in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) <= 1, proc.stderr


def test_cli_verify_refuses_50_mb_early(tmp_path: Path) -> None:
    for name in ("huge.json", "huge.pdf"):
        path = tmp_path / name
        with path.open("wb") as f:
            f.truncate(60 * 1024 * 1024)  # sparse: refused by its size, never read
        proc = run(["-m", "dsj_desktop", "verify", str(path)], tmp_path)
        assert proc.returncode == 1 and "超过 50 MB" in proc.stderr, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr


def test_cli_verify_a_pdf_with_a_decompression_bomb(tmp_path: Path) -> None:
    from dsj_desktop.pdf.verify import MAX_ATTACHMENT_BYTES, UserError, extract_attachments

    path = _bomb_pdf(tmp_path)
    with pytest.raises(UserError, match="解压后超过"):
        extract_attachments(path)
    assert MAX_ATTACHMENT_BYTES == 50 * 1024 * 1024
    proc = run(["-m", "dsj_desktop", "verify", str(path)], tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
