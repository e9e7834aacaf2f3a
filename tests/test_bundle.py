"""Smoke test of the PyInstaller bundle.

Builds the one-folder bundle with this environment's PyInstaller (the quick host build of
installer/build_bundle.py, not the release build in the bullseye root of installer/build-linux.sh)
into a temporary folder, then runs the bundled program offscreen against a temporary data folder.
Takes about a minute.  Skipped when PyInstaller is not installed (it is in the ``test`` extra).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import dsj_desktop
from dsj_desktop import clock
from dsj_desktop.demo import demo_year

pytestmark = pytest.mark.bundle
pytest.importorskip("PyInstaller", reason="PyInstaller is not installed")

REPO = Path(__file__).resolve().parents[1]
IS_WIN = sys.platform == "win32"
IS_LINUX = sys.platform.startswith("linux")


def _build_bundle_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_bundle", REPO / "installer" / "build_bundle.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (IS_LINUX or IS_WIN):
        pytest.skip("the bundle is built for Linux and Windows only")
    out = tmp_path_factory.mktemp("bundle")
    return Path(_build_bundle_module().build(out / "dist", out / "work", quiet=True))


def run(
    bundle: Path, *args: str, data_dir: Path | None = None, **env_extra: str
) -> subprocess.CompletedProcess[str]:
    exe = bundle / ("dsj-desktop-cli.exe" if IS_WIN else "dsj-desktop")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "DSJ_DATA_DIR"}}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONIOENCODING="utf-8", **env_extra)
    cmd = [str(exe), *(["--data-dir", str(data_dir)] if data_dir else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", env=env, timeout=300)


def test_version(bundle: Path) -> None:
    r = run(bundle, "--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"dsj-desktop {dsj_desktop.__version__}"


def test_demo_then_info(bundle: Path, tmp_path: Path) -> None:
    data = tmp_path / "数据"
    r = run(bundle, "demo", data_dir=data)
    assert r.returncode == 0, r.stderr
    assert "演示数据" in r.stdout
    assert (data / "dsj.sqlite3").is_file()

    r = run(bundle, "info", data_dir=data)
    assert r.returncode == 0, r.stderr
    assert f"数据文件夹：{data.resolve()}" in r.stdout
    assert re.search(r"检查对象名录库：[1-9]\d* 家", r.stdout), r.stdout
    assert re.search(r"执法检查人员名录库：[1-9]\d* 人", r.stdout), r.stdout


def test_data_dir_from_environment(bundle: Path, tmp_path: Path) -> None:
    data = tmp_path / "env-data"
    r = run(bundle, "info", DSJ_DATA_DIR=str(data))
    assert r.returncode == 0, r.stderr
    assert str(data.resolve()) in r.stdout
    assert (data / "dsj.sqlite3").is_file()


def test_refusal_and_usage_exit_codes(bundle: Path, tmp_path: Path) -> None:
    r = run(bundle, "no-such-command", data_dir=tmp_path)
    assert r.returncode == 2
    r = run(bundle, "import", "targets", str(tmp_path / "missing.xlsx"), data_dir=tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip()


def test_bundle_contents(bundle: Path) -> None:
    internal = bundle / "_internal"
    names = {p.relative_to(internal).as_posix() for p in internal.rglob("*")}
    # resources/, found by dsj_desktop.paths through sys._MEIPASS
    for res in (
        "fonts/wqy-microhei.ttc",
        "icons/dsj-desktop.png",
        "icons/dsj-desktop.svg",
        "icons/dsj-desktop.ico",
    ):
        assert f"resources/{res}" in names, res
    # Qt: the GUI's modules, the Chinese translation and the needed plugins, nothing of Quick/QML/WebEngine
    qt = "PySide6/Qt"
    assert f"{qt}/translations/qtbase_zh_CN.qm" in names
    assert not [n for n in names if n.startswith(f"{qt}/translations/") and not n.endswith("qtbase_zh_CN.qm")]
    plugins = ["qoffscreen", "qxcb"] if IS_LINUX else ["qwindows", "qoffscreen"]
    for plugin in plugins:
        assert any(re.search(rf"plugins/platforms/(lib)?{plugin}\.(so|dll)$", n) for n in names), plugin
    assert any(re.search(r"plugins/imageformats/(lib)?qsvg\.(so|dll)$", n) for n in names)
    unwanted = re.compile(r"Qt6(Qml|Quick|WebEngine|3D|Multimedia|Pdf|Network)|tkinter|tcl|_tkinter", re.I)
    assert not [n for n in names if unwanted.search(n)]
    for module in ("QtCore", "QtGui", "QtWidgets"):
        assert any(n.startswith(f"PySide6/{module}.") for n in names), module
    if IS_LINUX:
        # the system's fontconfig/freetype are used (field notes), and the glibc scan ran
        assert not [n for n in names if re.match(r"lib(fontconfig|freetype)\.so", n.rsplit("/", 1)[-1])]
        info = (bundle / "BUILDINFO.txt").read_text(encoding="utf-8")
        assert re.search(r"^glibc-required: \d+\.\d+$", info, re.M), info


def test_draw_then_verify(bundle: Path, tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    year = demo_year(clock.today())  # the demo the bundle makes follows the calendar
    assert run(bundle, "demo", data_dir=data).returncode == 0
    r = run(bundle, "draw", f"RW-{year}-04", "--witness", "甲=31415926535", "--witness", "乙=27182818284",
            "--out", str(out), "--date", f"{year}-06-01", data_dir=data)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "承诺值" in r.stdout and "随机种子" in r.stdout
    records = list(out.glob(f"S-{year}-*.json"))
    assert len(records) == 1
    r = run(bundle, "verify", str(records[0]))
    assert r.returncode == 3 and "签名人未经核实" in r.stdout, r.stdout + r.stderr  # no key pinned
    r = run(bundle, "verify", str(records[0]), data_dir=data)  # the folder's keys are the bureau's
    assert r.returncode == 0, r.stdout + r.stderr
    assert "验证通过" in r.stdout
    # The signed PDF record beside it (QR code, CJK font, signature) verifies too.
    r = run(bundle, "verify", str(records[0].with_suffix(".pdf")), data_dir=data)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "总结论：验证通过" in r.stdout
    # One changed character anywhere in the record makes verification fail.
    text = records[0].read_text(encoding="utf-8")
    seed = next(line for line in text.splitlines() if '"seed"' in line)
    tampered = tmp_path / "tampered.json"
    flipped = seed.replace(seed[-3], "0" if seed[-3] != "0" else "1", 1)
    tampered.write_text(text.replace(seed, flipped), encoding="utf-8")
    r = run(bundle, "verify", str(tampered))
    assert r.returncode == 1
    assert "不通过" in r.stdout or "✘" in r.stdout


def test_gui_starts(bundle: Path, tmp_path: Path) -> None:
    r = run(bundle, "--self-test", data_dir=tmp_path / "gui-data")
    assert r.returncode == 0, r.stderr
    assert "主窗口已打开" in r.stdout
    assert "Could not load the Qt platform plugin" not in r.stderr


def test_results_pdfs_from_the_bundle(bundle: Path, tmp_path: Path) -> None:
    """The publication and the annual summary (reportlab tables and charts) work in the bundle."""
    data, out = tmp_path / "data", tmp_path / "out"
    year = demo_year(clock.today())  # the demo the bundle makes follows the calendar
    assert run(bundle, "demo", data_dir=data).returncode == 0
    r = run(bundle, "publish", "--task", f"RW-{year}-01", "--draft", "--out", str(out), data_dir=data)
    assert r.returncode == 0, r.stderr
    r = run(bundle, "stats", str(year), "--out", str(out), data_dir=data)
    assert r.returncode == 0, r.stderr
    assert sorted(p.suffix for p in out.iterdir()) == [".pdf", ".pdf", ".xlsx", ".xlsx"]
