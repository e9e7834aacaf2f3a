"""What the command modules share: opening the data folder's database, printing a job's progress,
reading a date, asking for a password. Imports nothing heavy at module level: the command line
builds its parser (for ``--help`` and ``--version``) without the database, Qt or PDF libraries."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

from dsj_desktop.errors import UserError
from dsj_desktop.progress import Job, Progress, run_job

if TYPE_CHECKING:
    from dsj_desktop.db.engine import Database


def utf8_streams() -> None:
    """A character the console cannot show becomes ``?`` instead of a crash (Windows code pages)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


def guarded(work: Callable[[], int]) -> int:
    """Run a command: a refusal (:class:`UserError`) is its Chinese message on stderr and exit
    status 1; Ctrl+C is 已中断 and 130."""
    try:
        return work()
    except UserError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130


@contextmanager
def open_db(args: argparse.Namespace) -> Iterator[Database]:
    """The database of the data folder the command line names (``--data-dir``, DSJ_DATA_DIR or the
    default), closed when the block ends."""
    from dsj_desktop.db.engine import open_database
    from dsj_desktop.paths import resolve_data_dir

    db = open_database(resolve_data_dir(args.data_dir))
    try:
        yield db
    finally:
        db.close()


class _Printer:
    """Progress on stderr, only when it is a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = ""

    def __call__(self, p: Progress) -> None:
        if not self.tty:
            return
        pct = f" {p.done * 100 // p.total}%" if p.total else ""
        line = f"\r{p.message}{pct}"
        if line != self.last:
            sys.stderr.write(line.ljust(40))
            sys.stderr.flush()
            self.last = line

    def done(self) -> None:
        if self.tty and self.last:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


def run(job: Job[Any]) -> Any:
    """Drive *job* to its end, its progress on the terminal."""
    printer = _Printer()
    try:
        return run_job(job, printer)
    finally:
        printer.done()


def iso_date(text: str) -> date:
    """An argparse ``type``: a date written 2026-06-01."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}”不是日期，请写作 2026-06-01") from None


def password(prompt: str, env: str = "DSJ_PASSWORD") -> str:
    """A secret from the environment variable *env*, else typed at the terminal (never echoed)."""
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise UserError(f"需要密码：请在终端中运行，或用环境变量 {env} 提供。")
    return getpass.getpass(prompt)
