"""PDF documents, signatures and verification.

* :mod:`dsj_desktop.pdf.document` — :class:`PdfDocument`, the A4 builder (portrait/landscape).
* :mod:`dsj_desktop.pdf.sign` — attach files and sign (PAdES, visible Chinese stamp).
* :mod:`dsj_desktop.pdf.verify` — :func:`verify_pdf` and :func:`extract_attachments`.
* :mod:`dsj_desktop.pdf.fonts` — the bundled CJK font (the only font used).

The modules are imported one by one: ``sign`` and ``verify`` pull in pyHanko, which the
document builder does not need.
"""
