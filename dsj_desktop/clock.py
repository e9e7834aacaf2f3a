"""Time in one place, so records carry the local time with its UTC offset."""

from __future__ import annotations

from datetime import date, datetime


def now() -> datetime:
    return datetime.now().astimezone().replace(microsecond=0)


def now_iso() -> str:
    return now().isoformat()


def today() -> date:
    return now().date()
