"""The GUI's fonts: the bundled Chinese font (a fresh machine has none) and its monospaced face.

Kept apart from :mod:`dsj_desktop.ui.app` so that any widget can ask for a font without importing the
module that starts the program (which imports the main window, which imports the widgets)."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase

from dsj_desktop.errors import UserError
from dsj_desktop.paths import cjk_font_path

_families: dict[str, str] = {}


def load_cjk_font() -> str:
    """Register the bundled CJK font and return its family name (a fresh machine has none)."""
    if "text" in _families:
        return _families["text"]
    font_id = QFontDatabase.addApplicationFont(str(cjk_font_path()))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        raise UserError(f"无法加载程序自带的中文字体“{cjk_font_path()}”，安装可能不完整。")
    _families["text"] = families[0]
    return families[0]


def stage_fonts() -> tuple[str, str]:
    """(text family, monospaced family): the bundled font and its monospaced face (for hashes)."""
    if "mono" not in _families:
        family = load_cjk_font()
        installed = set(QFontDatabase.families())
        _families["mono"] = next(
            (f for f in (f"{family} Mono", "WenQuanYi Micro Hei Mono") if f in installed), family
        )
    return _families["text"], _families["mono"]
