"""Measuring and line-breaking Chinese text for table cells without a ``Paragraph`` per cell.

reportlab draws a plain string cell containing ``\\n`` as several lines, which is far cheaper than
a ``Paragraph``. :func:`wrap_lines` breaks text greedily by measured width: anywhere between CJK
characters, at spaces or between "words" of Latin letters and digits otherwise, and keeps the
usual Chinese line-breaking rules for punctuation (no line starts with "，。）" and the like, no
line ends with "（“《").
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics

# Characters that must not begin a line (closing punctuation) or end one (opening punctuation).
NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉”’…—～·%‰℃,.;:?!)]}")
NO_LINE_END = frozenset("（《「『【〔〈“‘([{")


def markup(text: str) -> str:
    """Plain text as ``Paragraph`` markup: escaped, line breaks kept."""
    return escape(text).replace("\n", "<br/>")


class TextMeasure:
    """Widths of strings in one font at one size, with a per-character cache."""

    def __init__(self, font_name: str, font_size: float) -> None:
        self.font_name = font_name
        self.font_size = font_size
        self._widths: dict[str, float] = {}
        face = pdfmetrics.getFont(font_name)
        self._string_width = face.stringWidth

    def width(self, text: str) -> float:
        return float(self._string_width(text, self.font_size))

    def char_width(self, ch: str) -> float:
        w = self._widths.get(ch)
        if w is None:
            w = self._widths[ch] = float(self._string_width(ch, self.font_size))
        return w

    def fits(self, text: str, width: float) -> bool:
        """Whether *text* fits on one line of *width* points (fast path for short strings)."""
        # No glyph in the bundled font is wider than 1 em, so short strings need no measuring.
        if len(text) * self.font_size <= width:
            return True
        return self.width(text) <= width

    def wrap_lines(self, text: str, width: float) -> list[str]:
        """*text* broken into lines no wider than *width* (a single glyph wider than *width* still
        gets a line of its own). Existing line breaks are kept."""
        lines: list[str] = []
        for para in text.split("\n"):
            if self.fits(para, width):
                lines.append(para)
            else:
                lines.extend(self._wrap_paragraph(para, width))
        return lines

    def _wrap_paragraph(self, text: str, width: float) -> list[str]:
        lines: list[str] = []
        current: list[str] = []  # tokens on the line being filled
        used = 0.0

        def flush() -> None:
            nonlocal current, used
            line = "".join(current).rstrip()
            if line:
                lines.append(line)
            current, used = [], 0.0

        def add_by_character(chunk: str) -> None:
            nonlocal used
            for c in chunk:
                cw = self.char_width(c)
                if used + cw > width and current:
                    flush()
                current.append(c)
                used += cw

        for token in _tokens(text):
            tw = self.width(token) if len(token) > 1 else self.char_width(token)
            if used + tw <= width:
                current.append(token)
                used += tw
            elif token.isspace():
                flush()  # a space that does not fit ends the line and disappears
            elif tw > width:
                add_by_character(token)  # a "word" longer than a whole line
            else:
                # Kinsoku: closing punctuation may not start a line, opening may not end one.
                carry: list[str] = []
                if token[0] in NO_LINE_START and current:
                    carry.append(current.pop())
                    # "10%，": the carried "%" may not start a line either; take "10" along.
                    while current and carry[0][0] in NO_LINE_START:
                        carry.insert(0, current.pop())
                while current and current[-1][-1] in NO_LINE_END:
                    carry.insert(0, current.pop())
                if not "".join(current).strip():
                    current, carry = current + carry, []  # cannot honour the rule: break here
                flush()
                rest = "".join([*carry, token]).lstrip()
                if self.width(rest) <= width:
                    current, used = [rest], self.width(rest)
                else:
                    add_by_character(rest)
        flush()
        return lines


def _is_word_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c in "-_./@#&+'")


def _tokens(text: str) -> list[str]:
    """Break opportunities: a run of Latin letters/digits is one token, a run of spaces another,
    every other character (CJK, punctuation) its own token."""
    tokens: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        j = i + 1
        if _is_word_char(c):
            while j < n and _is_word_char(text[j]):
                j += 1
        elif c.isspace():
            while j < n and text[j].isspace():
                j += 1
        tokens.append(text[i:j])
        i = j
    return tokens
