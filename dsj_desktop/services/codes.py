"""Editing the code lists (行业领域, 所属区域) as one journalled write each: add, rename everywhere
the value is used, remove an unused value."""

from __future__ import annotations

from dsj_desktop.db.engine import Database
from dsj_desktop.domain import codelists


def code_usage(db: Database, list_name: str) -> list[tuple[str, int]]:
    """Each value of the list, in order, with how many records use it."""
    with db.read() as conn:
        return [(v, codelists.usage_count(conn, list_name, v)) for v in codelists.values(conn, list_name)]


def all_code_lists(db: Database) -> dict[str, list[str]]:
    with db.read() as conn:
        return codelists.all_lists(conn)


def add_code(db: Database, list_name: str, value: str) -> bool:
    """Add *value* (stripped); False when it is already in the list (nothing written)."""
    value = value.strip()
    title = codelists.LIST_TITLES[list_name]
    with db.write(f"代码表：添加{title}“{value}”") as conn:
        return bool(codelists.add_values(conn, list_name, [value]))


def rename_code(db: Database, list_name: str, old: str, new: str) -> int:
    """Rename *old* to *new* in the list and in every record using it; how many records changed."""
    title = codelists.LIST_TITLES[list_name]
    with db.write(f"代码表：{title}“{old}”改名") as conn:
        return codelists.rename_value(conn, list_name, old, new)


def remove_code(db: Database, list_name: str, value: str) -> None:
    """Remove an unused value (refused with a ValidationError while records use it)."""
    title = codelists.LIST_TITLES[list_name]
    with db.write(f"代码表：删除{title}“{value}”") as conn:
        codelists.remove_value(conn, list_name, value)
