"""Operator accounts: 管理员 / 操作员 / 查看, passwords as argon2 hashes, lockout after five wrong
attempts, and an offline recovery code for administrators (no back door).

Roles are enforced by the database guard (every changed row is checked against the account's
role), so these functions only decide who is logged in; they never bypass the roles except for
their own bookkeeping (failed attempts, locks), which is journalled as such.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dsj_desktop import actor as actor_mod
from dsj_desktop.actor import ADMIN, ROLE_TITLES, Actor
from dsj_desktop.clock import now, now_iso
from dsj_desktop.db.engine import Database, tx_state
from dsj_desktop.errors import UserError, ValidationError
from dsj_desktop.services import settings

MAX_ATTEMPTS = 5
LOCK_MINUTES = 10
MIN_PASSWORD = 8
AUTO_LOGIN = "auto_login"  # setting: the username a single-user bureau starts as, without a password
_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_hasher = PasswordHasher()  # argon2id, memory-hard


class LoginError(UserError):
    """The login was refused (wrong password, locked, disabled)."""


@dataclass(frozen=True)
class AccountInfo:
    username: str
    display_name: str
    role: str
    active: bool
    locked_until: str
    failed_count: int
    created_at: str

    @property
    def role_title(self) -> str:
        return ROLE_TITLES.get(self.role, self.role)

    def actor(self) -> Actor:
        return Actor(self.username, self.display_name, self.role)


def has_accounts(db: Database) -> bool:
    return bool(db.scalar("SELECT count(*) FROM account"))


def list_accounts(db: Database) -> list[AccountInfo]:
    with db.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT username, display_name, role, active, locked_until, failed_count, created_at "
            "FROM account ORDER BY id"
        )
        return [AccountInfo(r[0], r[1], r[2], bool(r[3]), r[4], int(r[5]), r[6]) for r in rows]


# The passwords tried first by anyone guessing (the most common ones in leaked lists, Chinese ones
# included), compared with the letters of a password: "password1" and "Admin@2026" are refused too.
_COMMON = """password passwd passw0rd admin administrator root user guest test qwerty qwertyuiop asdf asdfgh asdfghjkl
    zxcv zxcvb zxcvbn zxcvbnm qaz qazwsx wsx abc abcd abcde abcdef abcdefg abcdefgh iloveyou woaini aini
    letmein welcome dragon monkey master shadow sunshine princess football baseball superman batman
    trustno love hello china changeme default system login pass qwe qwer asd zxc aaa xxx"""
COMMON_WORDS = frozenset(_COMMON.split())
SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "01234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm",
             "1qaz2wsx3edc4rfv5tgb", "1q2w3e4r5t6y7u8i9o0p", "zaq1xsw2cde3vfr4")  # fmt: skip


def _trivial(part: str) -> bool:
    """Empty, one character repeated, or a run along the alphabet, the digits or a keyboard row."""
    if len(set(part)) <= 1:
        return True
    return any(part in seq or part in seq[::-1] for seq in SEQUENCES)


def password_problem(password: str, username: str = "") -> str | None:
    """Why *password* is too weak (in Chinese), or None. Length, variety, nothing a guesser tries first."""
    if len(password) < MIN_PASSWORD:
        return f"密码至少 {MIN_PASSWORD} 位。"
    if not password.strip() or password != password.strip():
        return "密码不能只有空格，也不能以空格开头或结尾。"
    if len(set(password)) < 4:
        return (
            "密码不能只由一两个字符重复组成（例如 aaaaaaaa、!!!!!!!!、abababab），请至少使用 4 个不同的字符。"
        )
    kinds = sum((any(c.isalpha() for c in password), any(c.isdigit() for c in password),
                 any(not c.isalnum() for c in password)))  # fmt: skip
    if kinds < 2:
        return "密码不能全是数字、全是字母或全是符号，请混合使用字母、数字和符号中的至少两类。"
    lowered = password.lower()
    letters = "".join(c for c in lowered if c.isalpha())
    digits = "".join(c for c in lowered if c.isdigit())
    if (
        letters in COMMON_WORDS
        or any(lowered.startswith(w) and len(w) >= 5 for w in COMMON_WORDS)
        or (_trivial(letters) and _trivial(digits))
    ):
        return "密码太常见或太有规律（如 password1、admin123、qwerty12、12345678a），容易被猜中，请换一个。"
    name = username.strip().lower()
    if len(name) >= 3 and name in lowered:
        return "密码不能包含账户名。"
    return None


def _check_password(password: str, username: str = "") -> None:
    problem = password_problem(password, username)
    if problem:
        raise ValidationError(problem)


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(20))
    return _format_code(raw)


def _format_code(raw: str) -> str:
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


def normalize_recovery_code(code: str) -> str:
    """A code as typed (with or without dashes or spaces, any case) in the form it was issued."""
    raw = "".join(c for c in code.upper() if c.isalnum())
    return _format_code(raw) if len(raw) == 20 else code.strip().upper()


def create_account(
    db: Database, username: str, display_name: str, role: str, password: str, *, with_recovery: bool = False
) -> str | None:
    """Create an account. The first one must be an administrator (it may be created by anyone:
    the data folder has no accounts yet); later ones need an administrator logged in (the guard
    checks). Returns the recovery code when *with_recovery* (administrators): shown once only."""
    username = username.strip()
    display_name = display_name.strip() or username
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise ValidationError("账户名只能由字母、数字和 _ - . 组成，且不能为空。")
    if role not in ROLE_TITLES:
        raise ValidationError(f"角色“{role}”无效。")
    first = not has_accounts(db)
    if first and role != ADMIN:
        raise ValidationError("第一个账户必须是管理员。")
    if with_recovery and role != ADMIN:
        raise ValidationError("只有管理员账户有恢复码。")
    _check_password(password, username)
    code = new_recovery_code() if with_recovery else None
    stamp = now_iso()
    with db.write(
        f"新建账户 {username}（{ROLE_TITLES[role]}）", {"username": username, "role": role}
    ) as conn:
        if conn.exec_driver_sql("SELECT 1 FROM account WHERE username = ?", (username,)).first():
            raise ValidationError(f"账户名“{username}”已存在。")
        conn.exec_driver_sql(
            "INSERT INTO account (username, display_name, role, password_hash, recovery_hash, failed_count, "
            "locked_until, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, '', 1, ?, ?)",
            (
                username,
                display_name,
                role,
                _hasher.hash(password),
                _hasher.hash(code) if code else "",
                stamp,
                stamp,
            ),
        )
    db.guard.accounts_exist = True
    return code


def _load(db: Database, username: str) -> tuple[AccountInfo, str, str]:
    with db.read() as conn:
        r = conn.exec_driver_sql(
            "SELECT username, display_name, role, active, locked_until, failed_count, created_at, password_hash, "
            "recovery_hash FROM account WHERE username = ?",
            (username.strip(),),
        ).first()
    if r is None:
        raise LoginError("账户名或密码错误。")
    return AccountInfo(r[0], r[1], r[2], bool(r[3]), r[4], int(r[5]), r[6]), r[7], r[8]


def _locked_until(info: AccountInfo) -> datetime | None:
    if not info.locked_until:
        return None
    until = datetime.fromisoformat(info.locked_until)
    return until if until > now() else None


def authenticate(db: Database, username: str, password: str) -> Actor:
    """Check a password; five wrong attempts in a row lock the account for a few minutes.

    The whole check is one write transaction (``BEGIN IMMEDIATE``): the state is read, the password
    verified and the count written while no other process or thread can log in to the same file, so
    attempts made in parallel are counted one after the other and no more than five are ever tried."""
    name = username.strip()
    refused: str | None = None
    with db.write(f"登录：{name}", system=True) as conn:
        r = conn.exec_driver_sql(
            "SELECT username, display_name, role, active, locked_until, failed_count, created_at, password_hash "
            "FROM account WHERE username = ?",
            (name,),
        ).first()
        if r is None:
            raise LoginError("账户名或密码错误。")
        info, pw_hash = AccountInfo(r[0], r[1], r[2], bool(r[3]), r[4], int(r[5]), r[6]), r[7]
        if not info.active:
            raise LoginError(f"账户“{info.username}”已停用，请联系管理员。")
        until = _locked_until(info)
        if until is not None:
            raise LoginError(f"账户“{info.username}”因连续输错密码已锁定，请在 {until:%H:%M} 之后再试。")
        state = tx_state(conn)
        try:
            _hasher.verify(pw_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            failed = info.failed_count + 1
            locked = (now() + timedelta(minutes=LOCK_MINUTES)).isoformat() if failed >= MAX_ATTEMPTS else ""
            state.action = f"登录失败：{info.username}"
            state.detail = {"failed": failed, "locked": bool(locked)}
            conn.exec_driver_sql(
                "UPDATE account SET failed_count = ?, locked_until = ? WHERE username = ?",
                (0 if locked else failed, locked, info.username),
            )
            if locked:
                refused = f"密码连续输错 {MAX_ATTEMPTS} 次，账户已锁定 {LOCK_MINUTES} 分钟。"
            else:
                refused = f"账户名或密码错误（还可再试 {MAX_ATTEMPTS - failed} 次）。"
        else:
            state.action, state.forced = f"登录：{info.actor().label}", True
            if info.failed_count or info.locked_until:
                conn.exec_driver_sql(
                    "UPDATE account SET failed_count = 0, locked_until = '' WHERE username = ?",
                    (info.username,),
                )
    if refused is not None:  # raised once the count is written
        raise LoginError(refused)
    return info.actor()


def login(db: Database, username: str, password: str) -> Actor:
    """Authenticate and make the account the one this process works for."""
    who = authenticate(db, username, password)
    actor_mod.set_current(who)
    return who


def logout(db: Database) -> None:
    who = actor_mod.current()
    if who is not None:
        db.record(f"退出登录：{who.label}")
    actor_mod.set_current(None)


def auto_login_account(db: Database) -> Actor | None:
    """The account a single-user bureau starts as without a password, if an administrator enabled it."""
    name = settings.read(db, AUTO_LOGIN, "")
    if not name:
        return None
    for a in list_accounts(db):
        if a.username == name and a.active:
            return a.actor()
    return None


def set_auto_login(db: Database, username: str | None) -> None:
    """Administrators only (the settings table is theirs): start as *username* without a password."""
    with db.write("单用户免密码登录：" + (f"启用（{username}）" if username else "关闭")) as conn:
        settings.put(conn, AUTO_LOGIN, username or "")


def change_password(db: Database, username: str, old: str, new: str) -> None:
    """Anyone may change their own password, knowing the old one."""
    authenticate(db, username, old)
    _check_password(new, username)
    with db.write(f"修改密码：{username}", system=True) as conn:
        conn.exec_driver_sql(
            "UPDATE account SET password_hash = ?, updated_at = ? WHERE username = ?",
            (_hasher.hash(new), now_iso(), username),
        )


def reset_password(db: Database, username: str, new: str) -> None:
    """An administrator sets another account's password (the guard enforces the role)."""
    _check_password(new, username)
    with db.write(f"重设密码：{username}") as conn:
        cur = conn.exec_driver_sql(
            "UPDATE account SET password_hash = ?, failed_count = 0, locked_until = '', updated_at = ? "
            "WHERE username = ?",
            (_hasher.hash(new), now_iso(), username),
        )
        if not cur.rowcount:
            raise ValidationError(f"没有账户“{username}”。")


def update_account(db: Database, username: str, *, role: str | None = None, active: bool | None = None,
                   display_name: str | None = None) -> None:  # fmt: skip
    """Change an account's role, name or state (administrators; at least one active admin stays)."""
    with db.write(f"修改账户：{username}", {"role": role, "active": active}) as conn:
        row = conn.exec_driver_sql("SELECT role, active FROM account WHERE username = ?", (username,)).first()
        if row is None:
            raise ValidationError(f"没有账户“{username}”。")
        new_role = role or row[0]
        new_active = row[1] if active is None else int(active)
        if row[0] == ADMIN and (new_role != ADMIN or not new_active):
            admins = conn.exec_driver_sql(
                "SELECT count(*) FROM account WHERE role = ? AND active = 1 AND username != ?",
                (ADMIN, username),
            ).scalar_one()
            if not admins:
                raise ValidationError("至少要保留一个启用的管理员账户。")
        conn.exec_driver_sql(
            "UPDATE account SET role = ?, active = ?, display_name = coalesce(?, display_name), updated_at = ? "
            "WHERE username = ?",
            (new_role, new_active, display_name, now_iso(), username),
        )


def recover_admin(db: Database, username: str, code: str, new_password: str) -> str:
    """The documented offline procedure for a forgotten administrator password: the recovery code
    printed when the account was made. Returns a new recovery code (the old one is used up).
    A disabled account stays disabled whatever code is entered: only another administrator enables it."""
    info, _, recovery_hash = _load(db, username)
    if info.role != ADMIN or not recovery_hash:
        raise LoginError(f"账户“{username}”不是设有恢复码的管理员账户。")
    if not info.active:
        raise LoginError(
            f"账户“{info.username}”已停用。恢复码只能重设密码，不能重新启用账户；请由另一位管理员启用它。"
        )
    try:
        _hasher.verify(recovery_hash, normalize_recovery_code(code))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        with db.write(f"管理员密码恢复失败：{username}", system=True, journal=True):
            pass
        raise LoginError("恢复码不正确。") from None
    _check_password(new_password, info.username)
    fresh = new_recovery_code()
    with db.write(f"管理员密码已用恢复码重设：{username}", system=True) as conn:
        conn.exec_driver_sql(
            "UPDATE account SET password_hash = ?, recovery_hash = ?, failed_count = 0, locked_until = '', "
            "updated_at = ? WHERE username = ? AND active = 1",
            (_hasher.hash(new_password), _hasher.hash(fresh), now_iso(), info.username),
        )
    return fresh
