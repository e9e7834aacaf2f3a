"""The demo county (青山县): invented directories, item list and plan (:mod:`.county`), and two
confirmed draws with results made by the real draw engine (:mod:`.results`).

It sits above ``services/`` and below the front ends: it fills a database through the same
importers and services the bureau's own data goes through, so the demo is sealed and journalled
like any other data.
"""

from __future__ import annotations

from dsj_desktop.demo.county import demo_year, fill_demo, is_empty, make_targets

__all__ = ["demo_year", "fill_demo", "is_empty", "make_targets"]
