"""Attach files to a PDF and sign it (PAdES, offline) with the bureau's P-256 certificate.

The attachments (e.g. the JSON draw record) are added in the same incremental update as the
signature, so the signature covers them. There is no timestamp server: the signing time is the
PC clock's claim, shown in the visible stamp and stored in the signature dictionary (``/M``).

The visible stamp shows the bureau's name, "电子签章", the signing time and the certificate's
fingerprint in the bundled Chinese font (embedded as a subset).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsj_desktop import clock
from dsj_desktop.clock import format_signing_time as format_signing_time  # re-exported
from dsj_desktop.errors import UserError
from dsj_desktop.fileutil import atomic_write_bytes
from dsj_desktop.keys import KeyStore
from dsj_desktop.pdf.document import StampPlacement, default_stamp_box
from dsj_desktop.pdf.fonts import stamp_font_bytes

if TYPE_CHECKING:
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
    from pyhanko.pdf_utils.writer import BasePdfFileWriter

SIGNATURE_FIELD = "DSJSignature"
DEFAULT_STAMP = StampPlacement()  # last page, lower right corner
STAMP_TITLE = "电子签章"
STAMP_TEXT = "%(bureau)s　%(title)s\n签署时间：%(signed_at)s\n证书指纹（SHA-256）：\n%(fp1)s\n%(fp2)s"
STAMP_FONT_SIZE = 10  # the stamp is scaled down to fit its box
# Dark red, like ink, for the stamp's border and text; readable when printed in grey.
STAMP_COLOR = (0.62, 0.08, 0.08)


@dataclass(frozen=True)
class Attachment:
    """A file to embed in the PDF before signing. ``name`` may be Chinese; keep it unique."""

    name: str
    data: bytes
    mime_type: str = "application/json"
    description: str | None = None


@dataclass(frozen=True)
class SignedPdf:
    """The signed file and what the signature claims."""

    data: bytes
    signed_at: datetime  # local time with UTC offset, from the PC clock
    certificate_fingerprint: str

    def save(self, path: Path) -> None:
        """Write the signed PDF atomically (temporary file + replace)."""
        atomic_write_bytes(Path(path), self.data)


def _font_factory(text: str) -> Any:
    """A pyHanko font engine factory for the bundled font, reduced to the glyphs of *text*
    (see :func:`~dsj_desktop.pdf.fonts.stamp_font_bytes`)."""
    from pyhanko.pdf_utils.font.api import FontEngineFactory
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator

    font_data = stamp_font_bytes(text)

    class BundledFontFactory(FontEngineFactory):
        def create_font_engine(self, writer: BasePdfFileWriter, obj_stream: Any = None) -> GlyphAccumulator:
            if obj_stream is None and writer.stream_xrefs:
                obj_stream = writer.prepare_object_stream()  # type: ignore[no-untyped-call]
            return GlyphAccumulator(
                writer=writer,
                font_handle=io.BytesIO(font_data),
                font_size=STAMP_FONT_SIZE,
                obj_stream=obj_stream,
            )

    return BundledFontFactory()


def _stamp_style(text_params: dict[str, str]) -> Any:
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    # The font engine and the text box must use the same size, or lines drift sideways.
    box_style = TextBoxStyle(
        font=_font_factory(STAMP_TEXT % text_params),
        font_size=STAMP_FONT_SIZE,
        leading=round(STAMP_FONT_SIZE * 1.45),
        text_color=STAMP_COLOR,
    )
    return TextStampStyle(
        stamp_text=STAMP_TEXT,
        text_box_style=box_style,
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(6, 6, 6, 6),
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        ),
        border_width=2,
        border_color=STAMP_COLOR,
        background=None,
    )


def _ascii_name(name: str, index: int) -> str:
    """A PDFDocEncoding-safe /F name; the Unicode name goes into /UF."""
    if name.isascii() and name.isprintable():
        return name
    suffix = Path(name).suffix if Path(name).suffix.isascii() else ""
    return f"attachment-{index + 1}{suffix}"


def _embed(writer: BasePdfFileWriter, attachments: Sequence[Attachment], when: datetime) -> None:
    from pyhanko.pdf_utils import embed

    names = [a.name for a in attachments]
    if len(set(names)) != len(names):
        raise ValueError(f"attachment names must be unique: {names}")
    keyed = sorted(((_ascii_name(att.name, i), att) for i, att in enumerate(attachments)), key=lambda t: t[0])
    if len({k for k, _ in keyed}) != len(keyed):
        raise ValueError(f"attachment names clash after ASCII fallback: {names}")
    # pyHanko appends to the name tree; PDF readers (qpdf, for one) look keys up by binary
    # search, so they must go in sorted.
    for key, att in keyed:
        data = embed.EmbeddedFileObject.from_file_data(
            writer,
            data=att.data,
            mime_type=att.mime_type,
            params=embed.EmbeddedFileParams(creation_date=when, modification_date=when),
        )
        spec = embed.FileSpec(
            file_spec_string=key,
            file_name=att.name,
            embedded_data=data,
            description=att.description,
        )
        embed.embed_file(writer, spec)


def sign_pdf(
    pdf: bytes,
    keys: KeyStore,
    bureau_name: str,
    *,
    attachments: Sequence[Attachment] = (),
    stamp: StampPlacement | None = DEFAULT_STAMP,
    reason: str | None = None,
    location: str | None = None,
    certify: bool = True,
) -> SignedPdf:
    """Attach *attachments* and sign *pdf* in one incremental update.

    ``stamp`` places the visible stamp (``None``: an invisible signature). With ``certify`` the
    signature is a certification signature that permits no later changes (readers then flag any
    edit); pass ``False`` if further signatures must be added later.

    Raises :class:`UserError` if *pdf* cannot be read, and
    :class:`~dsj_desktop.keys.CertificateNameMismatch` if the certificate names another bureau.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError

    signer = keys.pdf_signer(bureau_name)
    fingerprint = keys.pdf_certificate_fingerprint()
    signed_at = clock.now()

    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except (PdfError, ValueError, OSError) as exc:
        raise UserError(f"无法读取要签章的 PDF 文件：{exc}") from None
    if writer.prev.encrypted:
        raise UserError("该 PDF 文件已加密，不能签章。")
    _embed(writer, attachments, signed_at)

    field_spec = None
    text_params: dict[str, str] = {}
    if stamp is not None:
        n_pages = int(writer.root["/Pages"]["/Count"])
        page = stamp.page if stamp.page >= 0 else n_pages + stamp.page
        if not 0 <= page < n_pages:
            raise ValueError(f"stamp page {stamp.page} outside a document of {n_pages} pages")
        box = stamp.box
        if box is None:
            page_obj = writer.find_page_for_modification(page)[0].get_object()  # type: ignore[no-untyped-call]
            width = float(page_obj.get("/MediaBox", [0, 0, 595.28, 841.89])[2])
            box = default_stamp_box(width)
        half = len(fingerprint) // 2
        text_params = {
            "bureau": bureau_name.strip(),
            "title": STAMP_TITLE,
            "signed_at": format_signing_time(signed_at),
            "fp1": fingerprint[:half].strip(),
            "fp2": fingerprint[half:].strip(),
        }
        field_spec = fields.SigFieldSpec(
            SIGNATURE_FIELD,
            on_page=page,
            box=tuple(round(v) for v in box),  # type: ignore[arg-type]
        )
    else:
        field_spec = fields.SigFieldSpec(SIGNATURE_FIELD)

    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=bureau_name.strip(),
        certify=certify,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )

    class ClockedPdfSigner(signers.PdfSigner):
        """Uses our clock (local time, whole seconds) for ``/M`` and the stamp alike."""

        def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
            session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
            session.system_time = signed_at
            return session

    pdf_signer = ClockedPdfSigner(
        meta,
        signer=signer,
        stamp_style=_stamp_style(text_params) if stamp is not None else None,
        new_field_spec=field_spec,
    )
    out = io.BytesIO()
    try:
        pdf_signer.sign_pdf(writer, output=out, appearance_text_params=text_params or None)
    except (SigningError, PdfError) as exc:
        raise UserError(f"签章失败：{exc}") from None
    return SignedPdf(out.getvalue(), signed_at, fingerprint)


def sign_pdf_file(
    src: Path,
    dst: Path,
    keys: KeyStore,
    bureau_name: str,
    **kwargs: Any,
) -> SignedPdf:
    """:func:`sign_pdf` from file *src* to file *dst* (written atomically; may be *src*)."""
    try:
        data = Path(src).read_bytes()
    except OSError as exc:
        raise UserError(f"无法读取“{src}”：{exc.strerror or exc}") from None
    signed = sign_pdf(data, keys, bureau_name, **kwargs)
    signed.save(Path(dst))
    return signed
