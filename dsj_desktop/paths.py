"""Where the data lives: ``--data-dir`` > ``DSJ_DATA_DIR`` > the platform's user data folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from dsj_desktop import APP_NAME

DB_FILENAME = "dsj.sqlite3"
ENV_DATA_DIR = "DSJ_DATA_DIR"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, roaming=False))


def remembered_data_dir_file() -> Path:
    """Where 文件 › 切换数据文件夹 remembers the folder chosen (the next start opens it)."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False, roaming=False)) / "data-dir.txt"


def remember_data_dir(folder: Path) -> None:
    path = remembered_data_dir_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(str(Path(folder).resolve()), encoding="utf-8")


def resolve_data_dir(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """The data folder chosen by the command line, the environment, the one chosen last in the
    menu (切换数据文件夹), or the platform default."""
    if cli_value:
        return Path(cli_value).expanduser().resolve()
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser().resolve()
    try:
        remembered = remembered_data_dir_file().read_text(encoding="utf-8").strip()
    except OSError:
        remembered = ""
    return Path(remembered) if remembered else default_data_dir()


def database_path(data_dir: Path) -> Path:
    return data_dir / DB_FILENAME


def backups_dir(data_dir: Path) -> Path:
    return data_dir / "backups"


def resources_dir() -> Path:
    """The shipped resources: ``resources/`` in a checkout, ``dsj_desktop/resources`` when installed,
    and the unpacked folder inside a PyInstaller bundle."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    here = Path(__file__).resolve().parent
    installed = here / "resources"
    if (installed / "fonts").is_dir():
        return installed
    return here.parent / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def cjk_font_path() -> Path:
    return resource("fonts", "wqy-microhei.ttc")
