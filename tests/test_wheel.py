"""The program's wheel (`pip wheel .`, not editable) holds every package and every shipped resource, and
the installed program finds them: the font (PDFs, the GUI), the user guide, the icon, the browser verifier."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "out", "shots"
)


def _package_folders() -> set[str]:
    found = {
        ".".join(init.parent.relative_to(REPO).parts) for init in (REPO / "dsj_desktop").rglob("__init__.py")
    }
    if (REPO / "resources" / "__init__.py").is_file():
        found.add("dsj_desktop.resources")
    return found


def _shipped_resources() -> set[str]:
    res = REPO / "resources"
    return {
        "dsj_desktop/resources/" + path.relative_to(res).as_posix()
        for path in res.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_pyproject_lists_every_package_folder() -> None:
    """setuptools' finder does not follow package-dir, so the packages are listed by hand: a new
    sub-package left off the list would be missing from every installed copy."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert set(config["packages"]) == _package_folders()
    assert config["package-dir"]["dsj_desktop.resources"] == "resources"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src") / "dsj-desktop"
    shutil.copytree(REPO, src, ignore=_NOT_SOURCE)  # a clean copy: the build leaves nothing in the checkout
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "-w", str(out), "--no-deps", "-q"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    (built,) = out.glob("dsj_desktop-*.whl")
    return built


@pytest.mark.bundle
def test_the_wheel_holds_every_module_and_resource(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "dsj_desktop").rglob("*.py")}
    assert modules - names == set()
    resources = _shipped_resources()
    assert {
        "dsj_desktop/resources/fonts/wqy-microhei.ttc",
        "dsj_desktop/resources/guide/使用说明.md",
        "dsj_desktop/resources/icons/dsj-desktop.png",
        "dsj_desktop/resources/verifier/template.html",
    } <= resources
    assert resources - names == set()


@pytest.mark.bundle
def test_the_installed_wheel_finds_its_resources(wheel: Path, tmp_path: Path) -> None:
    """Unpacked as an installer would and imported ahead of the checkout: the lookup lands inside the
    installed package, and the font, the guide and the verifier page load from there."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import dsj_desktop, dsj_desktop.paths as p\n"
        "from dsj_desktop.publish.verifier_html import verifier_html\n"
        "print(dsj_desktop.__file__)\n"
        "print(p.resources_dir())\n"
        "assert p.cjk_font_path().stat().st_size > 1_000_000\n"
        "assert '双随机' in p.resource('guide', '使用说明.md').read_text(encoding='utf-8')\n"
        "assert p.resource('icons', 'dsj-desktop.png').is_file()\n"
        "assert len(verifier_html()) > 10_000\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONHOME", "DSJ_DATA_DIR"}}
    env["PYTHONPATH"] = str(site)
    r = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert r.returncode == 0, r.stderr
    package_file, resources_dir = r.stdout.splitlines()
    assert Path(package_file).is_relative_to(site)
    assert Path(resources_dir) == site / "dsj_desktop" / "resources"
