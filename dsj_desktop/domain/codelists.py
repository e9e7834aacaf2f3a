"""Editable code lists: 行业领域 and 所属区域."""

from __future__ import annotations

from sqlalchemy import Connection, text

INDUSTRY = "industry"
REGION = "region"

LIST_TITLES = {INDUSTRY: "行业领域", REGION: "所属区域"}

# The industries named in the bureau documents.
SEED_INDUSTRIES = (
    "煤矿", "非煤矿山", "危险化学品", "烟花爆竹", "冶金", "有色",
    "建材", "机械", "轻工", "纺织", "烟草", "商贸", "其他",
)  # fmt: skip


def seed_code_lists(conn: Connection) -> None:
    conn.execute(
        text("INSERT INTO code_value (list_name, value, sort_order) VALUES (:l, :v, :o)"),
        [{"l": INDUSTRY, "v": v, "o": i} for i, v in enumerate(SEED_INDUSTRIES)],
    )


def values(conn: Connection, list_name: str) -> list[str]:
    rows = conn.execute(
        text("SELECT value FROM code_value WHERE list_name = :l ORDER BY sort_order, id"),
        {"l": list_name},
    )
    return [r[0] for r in rows]


def all_lists(conn: Connection) -> dict[str, list[str]]:
    return {name: values(conn, name) for name in LIST_TITLES}


def add_values(conn: Connection, list_name: str, new: list[str]) -> int:
    """Append values not yet in the list; returns how many were added."""
    have = set(values(conn, list_name))
    start = conn.execute(
        text("SELECT coalesce(max(sort_order), -1) + 1 FROM code_value WHERE list_name = :l"),
        {"l": list_name},
    ).scalar_one()
    fresh = [v for v in dict.fromkeys(new) if v not in have]
    if fresh:
        conn.execute(
            text("INSERT INTO code_value (list_name, value, sort_order) VALUES (:l, :v, :o)"),
            [{"l": list_name, "v": v, "o": start + i} for i, v in enumerate(fresh)],
        )
    return len(fresh)


# Where each list's values are used: (table, column). Renames cascade there; used values stay.
USAGES: dict[str, list[tuple[str, str]]] = {
    INDUSTRY: [("target", "industry")],
    REGION: [("target", "region")],
}


def usage_count(conn: Connection, list_name: str, value: str) -> int:
    n = 0
    for table, col in USAGES.get(list_name, []):
        n += conn.execute(text(f"SELECT count(*) FROM {table} WHERE {col} = :v"), {"v": value}).scalar_one()
    return int(n)


def rename_value(conn: Connection, list_name: str, old: str, new: str) -> int:
    """Rename a value everywhere it is used; returns the number of rows changed."""
    from dsj_desktop.errors import ValidationError

    new = new.strip()
    title = LIST_TITLES.get(list_name, list_name)
    if not new:
        raise ValidationError(f"{title}名称不能为空。")
    have = values(conn, list_name)
    if old not in have:
        raise ValidationError(f"{title}代码表中没有“{old}”。")
    if new != old and new in have:
        raise ValidationError(f"{title}代码表中已有“{new}”。")
    conn.execute(text("UPDATE code_value SET value = :n WHERE list_name = :l AND value = :o"),
                 {"n": new, "l": list_name, "o": old})  # fmt: skip
    changed = 0
    for table, col in USAGES.get(list_name, []):
        cur = conn.execute(text(f"UPDATE {table} SET {col} = :n WHERE {col} = :o"), {"n": new, "o": old})
        changed += cur.rowcount
    return changed


def remove_value(conn: Connection, list_name: str, value: str) -> None:
    """Remove an unused value; a value still in use is refused."""
    from dsj_desktop.errors import ValidationError

    title = LIST_TITLES.get(list_name, list_name)
    n = usage_count(conn, list_name, value)
    if n:
        raise ValidationError(f"{title}“{value}”仍被 {n} 条记录使用，不能删除（可以改名）。")
    conn.execute(
        text("DELETE FROM code_value WHERE list_name = :l AND value = :v"), {"l": list_name, "v": value}
    )
