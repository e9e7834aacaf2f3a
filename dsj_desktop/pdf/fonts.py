"""The bundled CJK font (WenQuanYi Micro Hei, TrueType outlines) for reportlab and pyHanko.

Only the bundled font is used: an office PC may have no Chinese font at all, and a signed record
must look the same everywhere, so the font is always embedded (as a subset).
"""

from __future__ import annotations

import io
import threading
from functools import lru_cache
from pathlib import Path

from dsj_desktop.errors import UserError
from dsj_desktop.paths import cjk_font_path

FONT_NAME = "DSJ-CJK"
"""The name the bundled font is registered under with reportlab."""

_SUBFONT_INDEX = 0  # wqy-microhei.ttc: 0 = WenQuanYi Micro Hei, 1 = its monospaced variant
_lock = threading.Lock()


def font_path() -> Path:
    """The bundled font file; :class:`UserError` if it is missing (a damaged installation)."""
    path = cjk_font_path()
    if not path.is_file():
        raise UserError(f"找不到程序自带的中文字体文件“{path}”，无法生成 PDF。请重新安装本程序。")
    return path


def register_cjk_font() -> str:
    """Register the bundled font with reportlab (once per process) and return its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    with _lock:
        if FONT_NAME in pdfmetrics.getRegisteredFontNames():
            return FONT_NAME
        path = font_path()
        try:
            font = TTFont(FONT_NAME, str(path), subfontIndex=_SUBFONT_INDEX)
        except Exception as exc:  # reportlab raises TTFError, OSError, struct errors...
            raise UserError(f"程序自带的中文字体文件“{path}”无法读取（{exc}），请重新安装本程序。") from None
        pdfmetrics.registerFont(font)
        return FONT_NAME


def stamp_font_bytes(text: str) -> bytes:
    """A small TrueType font with the glyphs of *text* (plus all of printable ASCII), scaled to
    1000 units per em, for pyHanko's signature stamp.

    Two reasons: pyHanko's glyph accumulator reads plain TTF/OTF files only, not collections;
    and it writes glyph widths in font units where PDF expects 1/1000 em, which is right only
    for fonts with 1000 units per em (the bundled font has 2048: text would be spread out to
    twice its width and clipped). Results are cached per character set.
    """
    return _subset_font(frozenset(text) | _ASCII)


_ASCII = frozenset(chr(c) for c in range(32, 127))


@lru_cache(maxsize=8)
def _subset_font(chars: frozenset[str]) -> bytes:
    from fontTools import subset, ttLib
    from fontTools.ttLib.scaleUpem import scale_upem

    path = font_path()
    try:
        font = ttLib.TTFont(str(path), fontNumber=_SUBFONT_INDEX)
        options = subset.Options()
        options.layout_features = []  # Chinese and ASCII need no shaping
        options.drop_tables += ["FFTM"]  # FontForge timestamps: the subsetter would warn
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(ord(c) for c in chars))
        subsetter.subset(font)
        scale_upem(font, 1000)
        out = io.BytesIO()
        font.save(out)
    except Exception as exc:  # fontTools raises TTLibError, struct errors...
        raise UserError(f"程序自带的中文字体文件“{path}”无法读取（{exc}），请重新安装本程序。") from None
    return out.getvalue()
