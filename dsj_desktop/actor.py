"""Who is working: the account logged in to this process (the GUI's login, or ``--user`` on the
command line). One user per process: the GUI's worker threads act for the same person."""

from __future__ import annotations

from dataclasses import dataclass

ADMIN = "admin"
OPERATOR = "operator"
VIEWER = "viewer"
ROLE_TITLES = {ADMIN: "管理员", OPERATOR: "操作员", VIEWER: "查看"}
ROLE_DUTIES = {
    ADMIN: "设置、账户、签名密钥，以及操作员的全部工作",
    OPERATOR: "名录库、抽查事项、年度计划、抽取、结果录入",
    VIEWER: "只能查看，不能修改任何数据",
}

# Tables only an administrator may change (settings, accounts); everything else: operators too.
ADMIN_TABLES = frozenset({"setting", "account", "holiday_year", "holiday_day"})


@dataclass(frozen=True)
class Actor:
    username: str
    display_name: str
    role: str

    @property
    def label(self) -> str:
        """How the journal and the records name this account."""
        return (
            f"{self.display_name}（{self.username}）" if self.display_name != self.username else self.username
        )

    @property
    def role_title(self) -> str:
        return ROLE_TITLES.get(self.role, self.role)


_current: Actor | None = None


def current() -> Actor | None:
    return _current


def set_current(actor: Actor | None) -> None:
    global _current
    _current = actor


def label() -> str:
    """The name written into journals and records for the work done now."""
    return _current.label if _current is not None else "（未设账户）"


def may_write(role: str | None, table: str) -> bool:
    if role == ADMIN:
        return True
    if role == OPERATOR:
        return table not in ADMIN_TABLES
    return False
