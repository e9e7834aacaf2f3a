"""Publication exports (“一公开”): the item list and the annual plan as the bureau publishes them on
its website, as a formatted Excel sheet or a landscape A4 PDF. Qt-free; the GUI and the command
line both run :func:`publish_items` and :func:`publish_plan`.

Modules: ``tables`` (what is published), ``render`` (Excel and PDF), ``jobs`` (the jobs the GUI
and the command line run), ``commands`` (the subcommands, kept light to import).
"""
