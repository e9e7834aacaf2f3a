"""This PC's small preferences (the last account name; the draw screen's place, operator, speed and
projector screen; the last 录入人), kept beside the data but not part of it: whoever works here may
change them, whatever the role."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from dsj_desktop.errors import UserError
from dsj_desktop.fileutil import atomic_write_bytes

PREFS_FILE = "ui-prefs.json"  # in the data folder: this PC's preferences, not part of the data


def prefs_path(data_dir: Path) -> Path:
    return Path(data_dir) / PREFS_FILE


def read_prefs(data_dir: Path) -> dict[str, object]:
    try:
        data = json.loads(prefs_path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_pref(data_dir: Path, key: str, value: object) -> None:
    """Best effort: a preference that cannot be saved is simply not remembered."""
    prefs = read_prefs(data_dir)
    prefs[key] = value
    with contextlib.suppress(UserError):
        atomic_write_bytes(
            prefs_path(data_dir), json.dumps(prefs, ensure_ascii=False, indent=1).encode("utf-8")
        )


def last_user(data_dir: Path) -> str:
    return str(read_prefs(data_dir).get("last_user", "") or "")


def remember_user(data_dir: Path, username: str) -> None:
    if last_user(data_dir) != username:
        write_pref(data_dir, "last_user", username)
