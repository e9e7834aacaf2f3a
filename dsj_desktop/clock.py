"""Time in one place, so records carry the local time with its UTC offset."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

_pinned: list[datetime] = []  # while set, the next "now" (see pinned)


def now() -> datetime:
    if _pinned:
        moment = _pinned[-1]
        _pinned[-1] = moment + timedelta(seconds=1)
        return moment
    return datetime.now().astimezone().replace(microsecond=0)


@contextmanager
def pinned(moment: datetime) -> Iterator[None]:
    """Inside, :func:`now` starts at *moment* and moves on one second per call: the demo's draws
    then carry times on their draw dates, in order. Never used for real work."""
    _pinned.append(moment.astimezone().replace(microsecond=0))
    try:
        yield
    finally:
        _pinned.pop()


def now_iso() -> str:
    return now().isoformat()


def today() -> date:
    return now().date()


def format_signing_time(when: datetime) -> str:
    """E.g. ``2025-03-01 09:30:12（UTC+08:00）`` (the signing time shown on stamps and in reports)."""
    offset = when.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else "本地时间"
    return f"{when:%Y-%m-%d %H:%M:%S}（{zone}）"
