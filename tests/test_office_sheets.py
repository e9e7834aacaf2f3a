"""Spreadsheets as offices keep them (tests/office_corpus.py): each file imports, or is refused with a
message a clerk can act on, as its case says; a refused file changes nothing, and a re-import of a
file that lacks a column changes no stored value of that column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dsj_desktop.cli import main
from dsj_desktop.db.engine import open_database
from dsj_desktop.domain.specs import DIRECTORIES
from tests.office_corpus import Case, all_cases
from tests.test_import import fingerprint

CASES = {c.name: c for c in all_cases(Path("/tmp/dsj-corpus-names"))}  # names only; files made per test


def _case(name: str, folder: Path) -> Case:
    return {c.name: c for c in all_cases(folder)}[name]


TASK_ATTRS = ["code", "year", "draw_type", "ratio", "items", "team_size", "start_date", "end_date", "partners",
              "scope_note"]  # fmt: skip
TASK_SQL = (
    f"SELECT {', '.join('p.year' if a == 'year' else 't.' + a for a in TASK_ATTRS)}, t.archived "
    "FROM task t JOIN plan p ON p.id = t.plan_id"
)


def _attrs(kind: str) -> list[str]:
    return TASK_ATTRS if kind == "plan" else DIRECTORIES[kind].attrs


def _stored(data_dir: Path, kind: str) -> dict[Any, tuple[Any, ...]]:
    db = open_database(data_dir)
    try:
        with db.read() as conn:
            if kind == "plan":
                return {r[0]: tuple(r) for r in conn.exec_driver_sql(TASK_SQL).fetchall()}
            spec = DIRECTORIES[kind]
            sql = f"SELECT {', '.join(spec.attrs)}, archived FROM {spec.table}"
            rows = conn.exec_driver_sql(sql).fetchall()
    finally:
        db.close()
    key = spec.attrs.index(spec.key[0])
    return {r[key]: tuple(r) for r in rows}


@pytest.mark.parametrize("name", list(CASES))
def test_office_spreadsheet(
    name: str, demo_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = _case(name, tmp_path / "corpus")
    if case.before is not None:
        case.before(tmp_path / "corpus")
    capsys.readouterr()
    stored = _stored(demo_data_dir, case.kind)
    before = fingerprint(demo_data_dir)
    rc = main(["import", case.kind, str(case.path), *case.args])
    out = capsys.readouterr()
    text = out.out if case.ok else out.err
    assert rc == (0 if case.ok else 1), f"{name}:\n{out.out}\n{out.err}"
    for frag in case.fragments:
        assert frag in text, f"{frag!r} not in:\n{text}"
    for frag in case.absent:
        assert frag not in text, f"{frag!r} in:\n{text}"
    for frag in case.once:
        assert sum(frag in line for line in text.splitlines()) == 1, (
            f"{frag!r} not on exactly one line:\n{text}"
        )
    if not case.ok:
        assert fingerprint(demo_data_dir) == before
        return
    after = _stored(demo_data_dir, case.kind)
    for key, values in case.expect.items():
        row = dict(zip([*_attrs(case.kind), "archived"], after[key], strict=True))
        for attr, want in values.items():
            assert row[attr] == want, f"{key} {attr}: {row[attr]!r} != {want!r}"
    # Rows not in the file are untouched.
    for key, row in stored.items():
        if key not in case.expect:
            assert after[key] == row or any(str(key) in str(v) for v in case.expect), key


def test_reimport_without_a_column_changes_no_stored_value_of_it(demo_data_dir: Path, tmp_path: Path) -> None:
    case = _case("re-import without a column", tmp_path / "corpus")
    assert case.before is not None
    case.before(tmp_path / "corpus")
    spec = DIRECTORIES["targets"]
    stored = _stored(demo_data_dir, "targets")
    assert main(["import", "targets", str(case.path)]) == 0
    after = _stored(demo_data_dir, "targets")
    in_file = {"uscc", "name", "industry", "region", "risk_level"}
    changed = set()
    for key, row in stored.items():
        for attr, old, new in zip(spec.attrs, row, after[key], strict=False):
            if old != new:
                changed.add(attr)
                assert attr in in_file, f"{key}: {attr} changed from {old!r} to {new!r}"
    assert changed == {"risk_level"}
