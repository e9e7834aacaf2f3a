"""The administrator's recovery code on one printable page (a PDF, or plain text)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from dsj_desktop.fileutil import atomic_write_bytes

RECOVERY_USE = (
    "忘记管理员密码时，在登录窗口点“忘记密码？”，用这个恢复码重设密码；"
    "也可以在命令行运行：dsj-desktop recover-admin {username}。"
    "恢复码只能用一次，用过后程序会给出新的恢复码。"
)
RECOVERY_KEEP = "请打印或抄写后锁入保险柜，不要和电脑放在一起。没有恢复码就无法找回管理员密码：程序没有后门。"


def write_recovery_sheet(
    path: Path,
    code: str,
    username: str,
    bureau: str,
    fingerprints: Sequence[tuple[str, str]] = (),
) -> Path:
    """The recovery code on one printable page: a PDF, or plain text for a .txt name."""
    path = Path(path)
    made = datetime.now().strftime("%Y-%m-%d %H:%M")
    if path.suffix.lower() == ".txt":
        lines = [
            f"{bureau} — 管理员恢复码",
            "",
            f"账户：{username}",
            f"恢复码：{code}",
            f"生成时间：{made}",
            "",
            RECOVERY_USE.format(username=username),
            RECOVERY_KEEP,
        ]
        if fingerprints:
            lines += ["", "本局签名密钥的指纹（核验抽取记录和 PDF 签章时使用）："]
            lines += [f"{title}：{fp}" for title, fp in fingerprints]
        atomic_write_bytes(path, ("\r\n".join(lines) + "\r\n").encode("utf-8-sig"), mode=0o600)
        return path
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    from dsj_desktop.pdf.document import PdfDocument

    if path.suffix.lower() != ".pdf":
        path = path.with_suffix(".pdf")
    doc = PdfDocument("管理员恢复码", bureau=bureau or "dsj-desktop", subject="管理员恢复码")
    doc.heading(subtitle="请妥善保管，不要和电脑放在一起", lines=[f"生成时间：{made}"])
    doc.key_values([("账户", username), ("单位", bureau)], columns=1)
    style = ParagraphStyle("code", fontName=doc.font, fontSize=24, leading=34, alignment=TA_CENTER)
    doc.spacer(4)
    doc.add(Paragraph(code, style))
    doc.spacer(4)
    doc.section("怎样使用")
    doc.paragraph(RECOVERY_USE.format(username=username))
    doc.section("怎样保管")
    doc.paragraph(RECOVERY_KEEP + "打印后请删除电子文件。")
    if fingerprints:
        doc.section("本局签名密钥的指纹")
        doc.note("核验抽取记录和 PDF 电子签章时，用这些指纹确认它们出自本局（指纹是公开的，不需要保密）。")
        doc.key_values(list(fingerprints), columns=1)
    doc.save(path)
    return path
