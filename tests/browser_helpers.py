"""Headless Chromium for tests (Debian's chromium and chromium-driver, driven by selenium).

Tests that need it take the ``browser`` fixture; without chromium they skip, except in CI (the
``CI`` environment variable set), where a missing browser is a failure: ``.ci/run`` installs it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = next((p for p in ("chromium", "chromium-browser", "google-chrome") if shutil.which(p)), None)
CHROMEDRIVER = shutil.which("chromedriver")


def require_chromium() -> None:
    if CHROMIUM and CHROMEDRIVER:
        return
    if os.environ.get("CI"):
        pytest.fail("chromium and chromedriver are needed in CI (apt-get install chromium chromium-driver)")
    pytest.skip("headless Chromium not installed (apt-get install chromium chromium-driver)")


def start_chromium(width: int = 1280, height: int = 900) -> Any:
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--lang=zh-CN"):  # fmt: skip
        opts.add_argument(arg)
    assert CHROMIUM is not None and CHROMEDRIVER is not None
    opts.binary_location = shutil.which(CHROMIUM) or CHROMIUM
    driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    driver.set_script_timeout(300)
    return driver


_VERIFY_MANY = """
const [items, fingerprint, forceNoble] = arguments;
const done = arguments[arguments.length - 1];
window.DSJ_FORCE_NOBLE = forceNoble;
(async () => {
  const out = [];
  for (const [b64, name] of items) {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const r = await window.dsjVerify(bytes, name, {fingerprint});
    out.push({ok: r.ok, checks: r.checks.map(c => [c.name, c.ok, c.detail]), error: r.error, engine: r.engine,
              pdf: r.pdf, ms: r.ms, fingerprint: r.fingerprint});
  }
  return JSON.stringify(out);
})().then(done, e => done(JSON.stringify({exception: String(e && e.stack || e)})));
"""


def verify_many(
    driver: Any,
    files: Sequence[tuple[bytes, str]],
    *,
    fingerprint: str | None = None,
    force_noble: bool = False,
    batch: int = 60,
) -> list[dict[str, Any]]:
    """``window.dsjVerify`` on every (bytes, file name), in the page already loaded in *driver*."""
    results: list[dict[str, Any]] = []
    for start in range(0, len(files), batch):
        chunk = [
            [base64.b64encode(data).decode("ascii"), name] for data, name in files[start : start + batch]
        ]
        out = json.loads(driver.execute_async_script(_VERIFY_MANY, chunk, fingerprint, force_noble))
        assert isinstance(out, list), out
        results += out
    return results


def load_page(driver: Any, path: Path) -> None:
    driver.get(path.resolve().as_uri())
    driver.execute_script("return document.readyState")
