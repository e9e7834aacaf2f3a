"""This PC's small preferences (the last account name; the draw screen's place, operator, speed and
projector screen; the last 录入人), kept beside the data but not part of it: whoever works here may
change them, whatever the role."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path

from dsj_desktop.errors import UserError
from dsj_desktop.fileutil import atomic_write_bytes

PREFS_FILE = "ui-prefs.json"  # in the data folder: this PC's preferences, not part of the data

# Preferences the program kept earlier among the bureau's settings (rows of the setting table, under
# the same keys): an upgraded install offers them again instead of asking once more.
FROM_SETTINGS = (
    "draw_last_place",
    "draw_last_operator",
    "draw_animation_speed",
    "draw_projector_screen",
    "results_operator",
    "papers_last_folder",
)
SETTINGS_COPIED = "settings_copied"  # set once the old rows were taken (or found missing)


def prefs_path(data_dir: Path) -> Path:
    return Path(data_dir) / PREFS_FILE


def read_prefs(data_dir: Path) -> dict[str, object]:
    try:
        data = json.loads(prefs_path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(data_dir: Path, prefs: dict[str, object]) -> None:
    """Write *prefs* as this PC's preferences, best effort (see :func:`write_pref`)."""
    with contextlib.suppress(UserError):
        atomic_write_bytes(
            prefs_path(data_dir), json.dumps(prefs, ensure_ascii=False, indent=1).encode("utf-8")
        )


def write_pref(data_dir: Path, key: str, value: object) -> None:
    """Best effort: a preference that cannot be saved is simply not remembered."""
    prefs = read_prefs(data_dir)
    prefs[key] = value
    _save(data_dir, prefs)


def read_pref(
    data_dir: Path,
    key: str,
    default: object = None,
    *,
    old_settings: Callable[[], Mapping[str, object] | None] | None = None,
) -> object:
    """The preference *key* of this PC, else *default*. The first time one of :data:`FROM_SETTINGS`
    is missing, *old_settings* (the bureau's settings, read by the caller) gives the values an
    earlier program kept there: each one missing here is copied into this PC's preferences, once
    (later changes here win; the old rows themselves are left as they are). When *old_settings*
    returns None (it could not read them) nothing is copied and the next read tries again."""
    prefs = read_prefs(data_dir)
    if key in prefs or key not in FROM_SETTINGS or old_settings is None or prefs.get(SETTINGS_COPIED):
        return prefs.get(key, default)
    old = old_settings()
    if old is None:
        return default
    prefs = read_prefs(data_dir)  # as it is now (reading the settings took a moment)
    for k in FROM_SETTINGS:
        if k not in prefs and old.get(k) is not None:
            prefs[k] = old[k]
    prefs[SETTINGS_COPIED] = True
    _save(data_dir, prefs)
    return prefs.get(key, default)


def last_user(data_dir: Path) -> str:
    return str(read_prefs(data_dir).get("last_user", "") or "")


def remember_user(data_dir: Path, username: str) -> None:
    if last_user(data_dir) != username:
        write_pref(data_dir, "last_user", username)
