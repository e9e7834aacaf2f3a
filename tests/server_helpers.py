"""What the tests against a real server share (tests/test_postgres.py, test_server_keys.py,
test_write_key.py, test_bureau_keys.py): ``check`` and a target written as the program writes one."""

from __future__ import annotations

from dsj_desktop.db.engine import Database
from dsj_desktop.progress import run_job
from dsj_desktop.services import integrity


def check(db: Database) -> integrity.IntegrityReport:
    return run_job(integrity.check(db))


def add_target(db: Database, uscc: str, name: str) -> None:
    with db.write("新增检查对象") as conn:
        conn.exec_driver_sql(
            "INSERT INTO target (uscc, name, industry, region, affiliation, scale, risk_level, std_level, "
            "blacklist, major_hazard, dust_explosion, confined_space, ammonia_refrigeration, occupational_hazard, "
            "address, legal_rep, contact, phone, status, archived, created_at, updated_at) "
            "VALUES (?, ?, '', '', '', '', '', '', 0, 0, 0, 0, 0, 0, '', '', '', '', '存续', ?, 'x', 'x')",
            (uscc, name, False),
        )
