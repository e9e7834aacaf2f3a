"""Accounts against someone at the office PC: lock-out that parallel guessing cannot race, a disabled
administrator that no recovery code re-enables, recovery codes typed as people type them, passwords a
guesser would try first refused, and 系统 (``system``) writes limited to the program's own bookkeeping."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dsj_desktop.actor import ADMIN, OPERATOR, VIEWER
from dsj_desktop.db.engine import Database, open_database
from dsj_desktop.errors import PermissionDenied, ValidationError
from dsj_desktop.services import accounts

PW = "secret123"

GUESSER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from dsj_desktop.db.engine import open_database
    from dsj_desktop.services import accounts

    db = open_database(Path(sys.argv[1]))
    go = Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.01)
    for i in range(int(sys.argv[3])):
        try:
            accounts.authenticate(db, "op", f"wrong-guess-{sys.argv[4]}-{i}")
            print("ACCEPTED")
        except accounts.LoginError as exc:
            print(str(exc).replace("\\n", " "))
    db.close()
    """
)


@pytest.fixture
def office(data_dir: Path) -> Database:
    db = open_database(data_dir)
    accounts.create_account(db, "admin", "王局长", ADMIN, PW, with_recovery=True)
    accounts.login(db, "admin", PW)
    accounts.create_account(db, "op", "李操作", OPERATOR, PW)
    accounts.create_account(db, "view", "赵查看", VIEWER, PW)
    yield db
    accounts.logout(db)
    db.close()


def test_parallel_wrong_passwords_from_several_processes_cannot_race_the_lock(
    office: Database, data_dir: Path, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", GUESSER, str(data_dir), str(go), "3", str(n)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
        for n in range(6)
    ]  # fmt: skip
    time.sleep(3)  # every process has opened the file and waits for the start
    go.touch()
    answers: list[str] = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        answers += out.split("\n")[:-1]
    assert len(answers) == 18 and "ACCEPTED" not in answers
    tried = [a for a in answers if "密码错误" in a or "已锁定 10 分钟" in a]
    refused = [a for a in answers if "请在" in a and "之后再试" in a]
    # Exactly five passwords were tried; every later guess met the lock without being checked.
    assert len(tried) == accounts.MAX_ATTEMPTS and len(refused) == 18 - accounts.MAX_ATTEMPTS
    assert sum("已锁定 10 分钟" in a for a in tried) == 1
    with office.read() as conn:
        locked_until = conn.exec_driver_sql(
            "SELECT locked_until FROM account WHERE username = 'op'"
        ).scalar_one()
        failures = conn.exec_driver_sql(
            "SELECT count(*) FROM journal WHERE action = '登录失败：op'"
        ).scalar_one()
    assert locked_until and failures == accounts.MAX_ATTEMPTS
    with pytest.raises(accounts.LoginError, match="已锁定"):
        accounts.authenticate(office, "op", PW)


def test_a_disabled_administrator_stays_disabled_whatever_code_is_entered(data_dir: Path) -> None:
    db = open_database(data_dir)
    try:
        code = accounts.create_account(db, "chief", "局长", ADMIN, PW, with_recovery=True)
        assert code is not None
        accounts.login(db, "chief", PW)
        accounts.create_account(db, "deputy", "副局长", ADMIN, PW, with_recovery=True)
        accounts.login(db, "deputy", PW)
        accounts.update_account(db, "chief", active=False)
        accounts.logout(db)
        for attempt in (code, code.replace("-", ""), "AAAAA-BBBBB-CCCCC-DDDDD"):
            with pytest.raises(accounts.LoginError, match="已停用"):
                accounts.recover_admin(db, "chief", attempt, "Fresh-pass-2026")
        with db.read() as conn:
            active = conn.exec_driver_sql("SELECT active FROM account WHERE username = 'chief'").scalar_one()
        assert not active
        with pytest.raises(accounts.LoginError, match="已停用"):
            accounts.authenticate(db, "chief", PW)
    finally:
        accounts.logout(db)
        db.close()


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: c,
        lambda c: c.replace("-", ""),
        lambda c: c.replace("-", " ").lower(),
        lambda c: "  " + c.lower().replace("-", "") + " ",
    ],
    ids=["as printed", "without dashes", "spaces, lower case", "surrounded by spaces"],
)
def test_recovery_codes_are_accepted_with_or_without_dashes(data_dir: Path, typed: object) -> None:
    db = open_database(data_dir)
    try:
        code = accounts.create_account(db, "admin", "", ADMIN, PW, with_recovery=True)
        assert code is not None and len(code.replace("-", "")) == 20
        fresh = accounts.recover_admin(db, "admin", typed(code), "Fresh-pass-2026")  # type: ignore[operator]
        assert fresh != code and accounts.authenticate(db, "admin", "Fresh-pass-2026").role == ADMIN
    finally:
        db.close()


WEAK = {
    "        ": "空格",
    "!!!!!!!!": "4 个不同的字符",
    "abababab": "4 个不同的字符",
    "12345678": "至少两类",
    "abcdefgh": "至少两类",
    "password1": "太常见",
    "Password123": "太常见",
    "admin2026": "太常见",
    "qwerty12": "太常见",
    "1qaz2wsx": "太常见",
    "12345678a": "太常见",
    "woaini1314": "太常见",
    "short1": "至少 8 位",
    " padded12 ": "空格",
    "xiaowang1990": "账户名",
}


@pytest.mark.parametrize("password", list(WEAK))
def test_weak_passwords_are_refused_in_chinese(data_dir: Path, password: str) -> None:
    db = open_database(data_dir)
    try:
        with pytest.raises(ValidationError, match=WEAK[password]):
            accounts.create_account(db, "xiaowang", "", ADMIN, password)
        assert not accounts.has_accounts(db)
    finally:
        db.close()


def test_the_policy_holds_for_every_way_a_password_is_set(office: Database) -> None:
    with pytest.raises(ValidationError, match="太常见"):
        accounts.reset_password(office, "op", "password1")
    with pytest.raises(ValidationError, match="4 个不同的字符"):
        accounts.change_password(office, "op", PW, "!!!!!!!!")
    for good in ("Zk7#mq2!", "春眠不觉晓1处处", "secret123"):
        assert accounts.password_problem(good, "op") is None


def test_system_writes_only_the_programs_own_bookkeeping(office: Database) -> None:
    assert not office.guard.migrating  # set only while the file is being opened
    for who in ("admin", None):
        if who is None:
            accounts.logout(office)
        with pytest.raises(PermissionDenied, match="系统"), office.write("伪造", system=True) as conn:
            conn.exec_driver_sql("UPDATE code_value SET value = value || 'x' WHERE id = 1")
        with (
            pytest.raises(PermissionDenied, match="系统"),
            office.write("伪造", system=True, bulk=True) as conn,
        ):
            conn.exec_driver_sql("UPDATE code_value SET sort_order = sort_order + 1")
        with pytest.raises(PermissionDenied, match="系统"), office.write("伪造", system=True) as conn:
            conn.exec_driver_sql("UPDATE account SET role = 'admin' WHERE username = 'view'")
        with pytest.raises(PermissionDenied, match="系统"), office.write("伪造", system=True) as conn:
            conn.exec_driver_sql("DELETE FROM account WHERE username = 'view'")
        with pytest.raises(PermissionDenied, match="系统"), office.write("伪造", system=True) as conn:
            conn.exec_driver_sql(
                "INSERT INTO account (username, display_name, role, password_hash, recovery_hash, failed_count, "
                "locked_until, active, created_at, updated_at) VALUES ('x', 'x', 'admin', '', '', 0, '', 1, '', '')"
            )
    with office.read() as conn:
        assert conn.exec_driver_sql("SELECT role FROM account WHERE username = 'view'").scalar_one() == VIEWER
        assert conn.exec_driver_sql("SELECT count(*) FROM account").scalar_one() == 3
    # What the program itself does as 系统 still works: a failed login is counted, a good one clears it.
    with pytest.raises(accounts.LoginError, match="还可再试 4 次"):
        accounts.authenticate(office, "view", "not-the-pw1")
    assert accounts.authenticate(office, "view", PW).role == VIEWER
