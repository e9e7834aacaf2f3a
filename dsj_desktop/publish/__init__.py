"""What a draw gives to the public and to the file: the printed, signed draw record (PDF), the
pre-draw notice, the result list in Excel and the export to a USB drive. No Qt here."""
