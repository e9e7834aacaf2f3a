"""The browser verifier (核验工具.html): one offline HTML page that checks a draw record.

The page is a second, independent implementation of DSJ-DRAW-1 in JavaScript
(``resources/verifier/dsj-verify.js``), with the vendored @noble/ed25519 for browsers whose
WebCrypto lacks Ed25519. Everything is inlined in one file: it needs no network and forbids any
connection (Content-Security-Policy), so it can be carried on a USB stick, put beside every
record and on the bureau's website.

``dsj-desktop verifier-html OUT.html`` writes it (:mod:`dsj_desktop.cli.publish`); the session's files
carry it beside the records (:mod:`.session_files`).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from dsj_desktop import __version__
from dsj_desktop.errors import UserError
from dsj_desktop.fileutil import atomic_write_bytes
from dsj_desktop.paths import resource

FILE_NAME = "核验工具.html"
MAX_BYTES = 1024 * 1024
_PLACEHOLDER = re.compile(r"@(DSJ_VERIFY_JS|DSJ_UI_JS|NOBLE_ED25519|NOBLE_VERSION|GENERATOR)@")


def _read(name: str) -> str:
    return resource("verifier", *name.split("/")).read_text(encoding="utf-8")


def noble_info() -> dict[str, str]:
    """What was vendored from npm: package, version, file, recorded SHA-256 (see vendor/*.json)."""
    info: dict[str, str] = json.loads(_read("vendor/noble-ed25519.json"))
    return info


def _inline_script(text: str, what: str) -> str:
    """*text* as the content of a <script> element: it must not end the element early."""
    low = text.lower()
    if "</script" in low or "<!--" in low:
        raise UserError(f"{what} 含有不能放入 <script> 的文字，无法生成核验工具。")
    return text


@cache
def verifier_html() -> bytes:
    """The page, UTF-8."""
    noble = noble_info()
    values = {
        "DSJ_VERIFY_JS": _inline_script(_read("dsj-verify.js"), "dsj-verify.js"),
        "DSJ_UI_JS": _inline_script(_read("ui.js"), "ui.js"),
        "NOBLE_ED25519": _inline_script(_read(f"vendor/{noble['vendored_as']}"), noble["vendored_as"]),
        "NOBLE_VERSION": noble["version"],
        "GENERATOR": f"dsj-desktop {__version__}",
    }
    page = _PLACEHOLDER.sub(lambda m: values[m.group(1)], _read("template.html"))
    data = page.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise UserError(f"核验工具页面有 {len(data)} 字节，超过 1 MB 的上限。")
    return data


def write_verifier_html(path: Path | str) -> Path:
    """Write the page to *path* (atomically); returns the path."""
    path = Path(path)
    atomic_write_bytes(path, verifier_html())
    return path


def write_beside(folder: Path) -> Path:
    """核验工具.html in *folder*, unless an identical copy is already there."""
    path = Path(folder) / FILE_NAME
    if not (path.is_file() and path.read_bytes() == verifier_html()):
        write_verifier_html(path)
    return path
