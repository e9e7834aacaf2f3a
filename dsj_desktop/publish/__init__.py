"""What the bureau gives to the public and to the file (“一公开”), Qt-free:

* the item list and the annual plan as published on the website (formatted Excel, landscape PDF):
  ``tables`` (what is published), ``render`` (Excel and PDF), ``jobs``, ``commands``;
* a draw: the printed, signed draw record (PDF) and the pre-draw notice (``record_pdf``), the
  result list in Excel and the export to a USB drive (``export``, ``usb``);
* the papers the inspectors carry to each drawn target, 检查通知书 and 实地检查记录表 (``papers``).
"""
