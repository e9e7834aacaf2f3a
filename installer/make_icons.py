"""Make the program's icon: resources/icons/dsj-desktop.{svg,png,ico}.

    python installer/make_icons.py          # needs PySide6 (a project dependency); runs offscreen

The design is a red official-seal circle: a double ring, a five-pointed star, the characters 双随机 and
two dice (the two random draws).  The characters are outlines taken from the bundled font
(resources/fonts/wqy-microhei.ttc), so the SVG needs no font to display.  At 16-32 px a simpler
design is drawn: a red disc with a white 双, still readable in a taskbar or a file list.

Outputs: dsj-desktop.svg (the large design), dsj-desktop.png (256 px), dsj-desktop.ico (16, 20, 24,
32, 40, 48, 64, 128 and 256 px: BMP entries up to 48 px, PNG entries above, as Windows expects).
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication, QImage, QPainter, QPainterPath
from PySide6.QtSvg import QSvgRenderer

REPO = Path(__file__).resolve().parent.parent
FONT = REPO / "resources" / "fonts" / "wqy-microhei.ttc"
OUT = REPO / "resources" / "icons"
RED = "#d2161e"
PAPER = "#fffaf3"
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)
SMALL_UP_TO = 32  # sizes up to this use the simple design


def path_to_svg(path: QPainterPath) -> str:
    """SVG path data of a Qt path (glyph outlines: moves, lines and cubic curves)."""
    out: list[str] = []
    i = 0
    n = path.elementCount()
    while i < n:
        e = path.elementAt(i)
        if e.isMoveTo():
            out.append(f"M{e.x:.2f} {e.y:.2f}")
            i += 1
        elif e.isLineTo():
            out.append(f"L{e.x:.2f} {e.y:.2f}")
            i += 1
        else:  # CurveTo, followed by two CurveToData elements
            c2, end = path.elementAt(i + 1), path.elementAt(i + 2)
            out.append(f"C{e.x:.2f} {e.y:.2f} {c2.x:.2f} {c2.y:.2f} {end.x:.2f} {end.y:.2f}")
            i += 3
    return "".join(out) + "Z"


def text_path(text: str, family: str, pixel_size: float, center: QPointF) -> str:
    """Outline of the text, centred on the point, as SVG path data."""
    font = QFont(family)
    font.setPixelSize(round(pixel_size))
    path = QPainterPath()
    path.addText(0, 0, font, text)
    box = path.boundingRect()
    path.translate(center.x() - box.center().x(), center.y() - box.center().y())
    return path_to_svg(path.simplified())


def star_points(cx: float, cy: float, r: float) -> str:
    import math

    pts = []
    for k in range(10):
        rad = r if k % 2 == 0 else r * 0.382
        a = -math.pi / 2 + k * math.pi / 5
        pts.append(f"{cx + rad * math.cos(a):.2f},{cy + rad * math.sin(a):.2f}")
    return " ".join(pts)


def die(x: float, y: float, s: float, pips: list[tuple[int, int]]) -> str:
    """A die: rounded square outline with pips on a 3x3 grid."""
    parts = [
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{s:.1f}" height="{s:.1f}" rx="{s * 0.2:.1f}" fill="{RED}"/>'
    ]
    for col, row in pips:
        cx = x + s * (0.25 + 0.25 * col)
        cy = y + s * (0.25 + 0.25 * row)
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{s * 0.085:.1f}" fill="{PAPER}"/>')
    return "".join(parts)


def large_svg(family: str) -> str:
    chars = text_path("双随机", family, 58, QPointF(128, 138))
    dice = die(95, 172, 30, [(0, 0), (1, 1), (2, 2)]) + die(131, 172, 30, [(0, 0), (2, 0), (0, 2), (2, 2)])
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <title>双随机一公开抽查工作台</title>
  <circle cx="128" cy="128" r="118" fill="{PAPER}" stroke="{RED}" stroke-width="12"/>
  <circle cx="128" cy="128" r="101" fill="none" stroke="{RED}" stroke-width="2.5"/>
  <polygon points="{star_points(128, 72, 24)}" fill="{RED}"/>
  <path d="{chars}" fill="{RED}" stroke="{RED}" stroke-width="1.6" stroke-linejoin="round"/>
  {dice}
</svg>
"""


def small_svg(family: str) -> str:
    char = text_path("双", family, 150, QPointF(128, 134))
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <circle cx="128" cy="128" r="124" fill="{RED}"/>
  <circle cx="128" cy="128" r="104" fill="none" stroke="{PAPER}" stroke-width="9"/>
  <path d="{char}" fill="{PAPER}" stroke="{PAPER}" stroke-width="6" stroke-linejoin="round"/>
</svg>
"""


def render(svg: str, size: int) -> QImage:
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise SystemExit("make_icons.py: Qt could not read the SVG")
    img = QImage(size, size, QImage.Format.Format_ARGB32)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(p, QRectF(0, 0, size, size))
    p.end()
    return img


def png_bytes(img: QImage) -> bytes:
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    return bytes(buf.data().data())


def bmp_entry(img: QImage) -> bytes:
    """An ICO image entry in the classic form: BITMAPINFOHEADER, 32-bit BGRA rows bottom-up, AND mask."""
    img = img.convertToFormat(QImage.Format.Format_ARGB32)  # memory order B, G, R, A on little-endian
    w, h = img.width(), img.height()
    header = struct.pack("<IiiHHIIiiII", 40, w, h * 2, 1, 32, 0, w * h * 4, 0, 0, 0, 0)
    raw = bytes(img.constBits())[: img.bytesPerLine() * h]
    rows = [raw[y * img.bytesPerLine() : y * img.bytesPerLine() + w * 4] for y in range(h)]
    pixels = b"".join(reversed(rows))
    mask_stride = ((w + 31) // 32) * 4
    mask = bytearray()
    for y in reversed(range(h)):
        bits = bytearray(mask_stride)
        for x in range(w):
            if rows[y][x * 4 + 3] == 0:  # fully transparent pixel
                bits[x // 8] |= 0x80 >> (x % 8)
        mask += bits
    return header + pixels + bytes(mask)


def write_ico(path: Path, images: dict[int, QImage]) -> None:
    entries = []
    for size, img in sorted(images.items()):
        data = bmp_entry(img) if size <= 48 else png_bytes(img)
        entries.append((size, data))
    offset = 6 + 16 * len(entries)
    head = struct.pack("<HHH", 0, 1, len(entries))
    directory = b""
    blobs = b""
    for size, data in entries:
        dim = 0 if size >= 256 else size
        directory += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset + len(blobs))
        blobs += data
    path.write_bytes(head + directory + blobs)


def main() -> int:
    app = QGuiApplication(sys.argv[:1])
    font_id = QFontDatabase.addApplicationFont(str(FONT))
    if font_id < 0:
        raise SystemExit(f"make_icons.py: cannot load {FONT}")
    family = QFontDatabase.applicationFontFamilies(font_id)[0]
    large, small = large_svg(family), small_svg(family)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "dsj-desktop.svg").write_text(large, encoding="utf-8")
    render(large, 256).save(str(OUT / "dsj-desktop.png"))
    write_ico(
        OUT / "dsj-desktop.ico", {s: render(small if s <= SMALL_UP_TO else large, s) for s in ICO_SIZES}
    )
    del app
    for name in ("dsj-desktop.svg", "dsj-desktop.png", "dsj-desktop.ico"):
        print(f"{OUT / name}: {(OUT / name).stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
