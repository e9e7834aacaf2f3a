"""The browser verifier (核验工具.html) in real headless Chromium: the spec's vectors, random draws
made by the Python core and altered copies of each (the page must agree with ``verify`` on every
one), the record PDF, bad input, the fingerprint box, the command and the files written beside
records."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import random
import shutil
import subprocess
import tarfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dsj_desktop.draw.algorithm import (
    DrawInput,
    DrawInputError,
    SubstitutionRequest,
    apply_substitutions,
    balance_regions,
    run_draw,
)
from dsj_desktop.draw.record import (
    PreviousAttempt,
    build_record,
    parse_record,
    public_key_fingerprint,
    public_key_of,
    sign_record,
    verify_record,
)
from dsj_desktop.paths import resource
from dsj_desktop.publish import verifier_html as vh

from .browser_helpers import load_page, start_chromium, verify_many
from .demo_dates import DEMO_YEAR

VECTORS_PATH = Path(os.environ.get("DSJ_DRAW_VECTORS", "/work/shared/spec/draw-v1-vectors.json"))
VECTORS = json.loads(VECTORS_PATH.read_text(encoding="utf-8")) if VECTORS_PATH.exists() else []
KEY = bytes(range(32))
ATTACKER = bytes(range(1, 33))
N_DRAWS = 200
USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
REGIONS = ["城关镇", "北留镇", "润城镇", "町店镇", "芹池镇"]
RISKS = ["高风险", "较高风险", "一般风险"]


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return vh.write_verifier_html(tmp_path_factory.mktemp("verifier") / vh.FILE_NAME)


@pytest.fixture(scope="module")
def browser(page_file: Path) -> Iterator[Any]:
    driver = start_chromium()
    load_page(driver, page_file)
    try:
        yield driver
    finally:
        driver.quit()


def as_bytes(record: dict[str, Any]) -> bytes:
    """The record file as the program writes it beside the PDF (indented, sorted keys)."""
    return (json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def python_verdict(
    data: bytes, name: str, fingerprint: str | None = None
) -> tuple[bool, list[tuple[str, bool]]]:
    report = verify_record(parse_record(data, name), expected_fingerprint=fingerprint)
    return report.ok, [(c.name, c.ok) for c in report.checks]


def page_verdict(result: dict[str, Any]) -> tuple[bool, list[tuple[str, bool]]]:
    assert result.get("error") is None, result
    return result["ok"], [(name, ok) for name, ok, _ in result["checks"]]


def canon(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sign_plain(record: dict[str, Any], key: bytes = KEY) -> dict[str, Any]:
    """Ed25519 over the canonical JSON, written here from the spec (no program code)."""
    private = Ed25519PrivateKey.from_private_bytes(key)
    body = {k: v for k, v in record.items() if k != "signature"}
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    body["signature"] = {
        "alg": "Ed25519",
        "public_key": public.hex(),
        "value": private.sign(canon(body).encode()).hex(),
    }
    return body


# -- the page itself --------------------------------------------------------------------------


def test_the_page_is_one_self_contained_offline_file(page_file: Path) -> None:
    data = page_file.read_bytes()
    assert len(data) < 1024 * 1024
    text = data.decode("utf-8")
    assert "default-src 'none'" in text and "connect-src 'none'" in text
    # nothing is loaded from anywhere: no src/href attributes at all, no stylesheet links
    assert " src=" not in text and "href=" not in text and "<link" not in text
    # an ES5 guard for old browsers, the vendored Ed25519 (as text), the verifier, the page
    assert text.count("<script") == 4
    assert vh.verifier_html() == data


def test_vendored_noble_matches_its_recorded_hash() -> None:
    info = vh.noble_info()
    vendored = resource("verifier", "vendor", info["vendored_as"]).read_bytes()
    assert hashlib.sha256(vendored).hexdigest() == info["sha256"]
    licence = resource("verifier", "vendor", info["license_file"]).read_bytes()
    assert hashlib.sha256(licence).hexdigest() == info["license_sha256"]
    assert b"MIT License" in licence and info["version"] in info["tarball"]
    assert vendored.decode("utf-8") in vh.verifier_html().decode("utf-8")  # inlined unchanged


def test_vendored_noble_is_the_published_package_file(tmp_path: Path) -> None:
    info = vh.noble_info()
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip(
            "npm is not installed: cannot fetch the published package (the recorded SHA-256 is still checked)"
        )
    spec = f"{info['package']}@{info['version']}"
    try:
        out = subprocess.run([npm, "pack", spec, "--json", "--pack-destination", str(tmp_path)],
                             capture_output=True, text=True, timeout=90, cwd=tmp_path)  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.skip("the npm registry did not answer in 90 s (offline?)")
    if out.returncode != 0:
        pytest.skip(f"npm pack {spec} failed (offline?): {out.stderr.strip()[-200:]}")
    meta = json.loads(out.stdout)[0]
    assert meta["integrity"] == info["tarball_integrity"]
    with tarfile.open(tmp_path / meta["filename"]) as tar:
        published = tar.extractfile(info["file_in_package"])
        licence = tar.extractfile("package/LICENSE")
        assert published is not None and licence is not None
        vendor = resource("verifier", "vendor")
        assert published.read() == (vendor / info["vendored_as"]).read_bytes()
        assert licence.read() == (vendor / info["license_file"]).read_bytes()


# -- the spec's test vectors ------------------------------------------------------------------


def vector_record(v: dict[str, Any]) -> dict[str, Any]:
    """A signed record holding a vector's inputs and its expected outputs, assembled by hand."""
    i, e = v["inputs"], v["expected"]
    return sign_plain({
        "spec": "DSJ-DRAW-1", "session": i["session"], "status": "confirmed", "task": {}, "targets": i["targets"],
        "inspectors": i["inspectors"], "experts": i["experts"], "params": i["params"], "hashes": e["hashes"],
        "commitment": e["commitment"], "nonce": i["nonce"], "witnesses": i["witnesses"], "seed": e["seed"],
        "selected": e["selected"], "substitutions": e["substitutions"], "exclusions": [], "previous": [],
    })  # fmt: skip


@pytest.mark.parametrize("force_noble", [False, True], ids=["webcrypto-ed25519", "noble-ed25519"])
def test_every_spec_vector_verifies_in_the_page(browser: Any, force_noble: bool) -> None:
    if not VECTORS:
        pytest.skip(f"test vectors not found at {VECTORS_PATH}")
    files = [(as_bytes(vector_record(v)), f"vector-{n}.json") for n, v in enumerate(VECTORS)]
    results = verify_many(browser, files, force_noble=force_noble)
    for v, r in zip(VECTORS, results, strict=True):
        assert r["ok"], (v["name"], [c for c in r["checks"] if not c[1]])
        assert r["engine"] == ("noble" if force_noble else "webcrypto")
        assert len(r["checks"]) == 16
    # Each expected output the page re-derived, changed in turn, is caught by its own check.
    altered = []
    for n, v in enumerate(VECTORS):
        for path, check in ((("hashes", "targets"), "检查对象名单摘要"), (("hashes", "params"), "抽取参数摘要"),
                            (("commitment",), "承诺值"), (("seed",), "随机种子"),
                            (("selected", 0, "ticket"), "抽中对象"), (("selected", 0, "inspectors", 0), "执法人员分组")):  # fmt: skip
            rec = copy.deepcopy(vector_record(v))
            node = rec
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = bump(node[path[-1]])
            altered.append((as_bytes(sign_plain(rec)), f"vector-{n}.json", check))
        if v["expected"]["substitutions"]:
            rec = copy.deepcopy(vector_record(v))
            rec["substitutions"][0]["substitute"] = rec["selected"][-1]["inspectors"][0]
            altered.append((as_bytes(sign_plain(rec)), f"vector-{n}.json", "递补"))
    results = verify_many(browser, [(d, name) for d, name, _ in altered], force_noble=force_noble)
    for (_, name, check), r in zip(altered, results, strict=True):
        failed = [c[0] for c in r["checks"] if not c[1]]
        assert check in failed and "签名" not in failed, (name, check, failed)


def bump(value: str) -> str:
    """The same text with its last character changed (a digit, hex or letter)."""
    last = value[-1]
    return value[:-1] + ("1" if last == "0" else "0")


# -- random draws made by the Python core, and altered copies --------------------------------


def _uscc(rng: random.Random, taken: set[str]) -> str:
    while True:
        code = "91140522" + "".join(rng.choices(USCC, k=10))
        if code not in taken:
            taken.add(code)
            return code


def random_record(rng: random.Random, n: int) -> dict[str, Any] | None:
    """One draw of a random kind (定向 / 不定向 by region / strata by risk, experts, substitutions,
    voided before or after the reveal, earlier attempts), as the program records it."""
    taken: set[str] = set()
    mode = n % 3
    size = rng.randint(8, 60)
    if mode == 0:
        strata = [""]
    elif mode == 1:
        strata = rng.sample(REGIONS, rng.randint(2, len(REGIONS)))
    else:
        strata = [f"{r}·{g}" for r in RISKS[: rng.randint(1, 3)] for g in rng.sample(REGIONS, 2)]
    targets = [(_uscc(rng, taken), rng.choice(strata)) for _ in range(size)]
    sizes = Counter(s for _, s in targets)
    total = rng.randint(1, max(1, size // 3))
    if mode == 1:
        quotas = balance_regions(total, dict(sizes))
    else:
        quotas = {s: rng.randint(0, min(k, 4)) for s, k in sizes.items()}
        if not any(quotas.values()):
            quotas[targets[0][1]] = 1
    mandatory = sorted(_uscc(rng, taken) for _ in range(rng.choice([0, 0, 1, 2])))
    inspectors = [f"1405220{k:04d}" for k in rng.sample(range(100), rng.randint(4, 12))]
    experts = [f"ZJ{k:03d}" for k in rng.sample(range(50), rng.choice([0, 0, 3, 5]))]
    team = rng.choice([2, 2, 3])
    params: dict[str, Any] = {"quotas": quotas, "team_size": team, "mandatory": mandatory}
    if experts:
        params["expert_count"] = rng.choice([1, 2])
    if rng.random() < 0.5:
        pool = [t for t, _ in targets] + mandatory
        params["inspector_conflicts"] = sorted(
            {(rng.choice(inspectors), rng.choice(pool)) for _ in range(rng.randint(1, 6))}
        )
        params["inspector_conflicts"] = [list(p) for p in params["inspector_conflicts"]]
    if experts and rng.random() < 0.5:
        params["expert_conflicts"] = [[rng.choice(experts), rng.choice([t for t, _ in targets])]]
    witnesses = [
        (f"见证人{k + 1}", "".join(rng.choices("0123456789", k=rng.randint(5, 12))))
        for k in range(rng.randint(2, 4))
    ]
    while sum(len(d) for _, d in witnesses) < 20:
        witnesses.append(("补充见证人", "".join(rng.choices("0123456789", k=10))))
    session = f"S-2026-{n:04d}-RND"
    try:
        result = run_draw(DrawInput(session, targets, inspectors, experts, params, witnesses))
    except DrawInputError:
        return None
    setup = result.setup
    previous = []
    for k in range(rng.choice([0, 0, 0, 1, 2])):
        earlier = run_draw(DrawInput(f"{session}-{k}", targets, inspectors, experts, params, witnesses))
        if rng.random() < 0.5:
            voided = build_record(earlier, status="voided", void_reason="设备故障，重新抽取")
        else:
            voided = build_record(earlier.setup, status="voided", void_reason="开奖前中断")
        previous.append(PreviousAttempt.from_record(voided))
    fate = rng.random()
    names = {
        "task": {
            "code": f"RW-2026-{n:02d}",
            "name": "随机抽查任务",
            "draw_type": "定向" if mode == 0 else "不定向",
        },
        "target_names": {t: f"测试企业{k:03d}有限公司" for k, (t, _) in enumerate(targets)},
        "inspector_names": {p: f"执法人员{p[-3:]}" for p in inspectors},
        "inspector_units": dict.fromkeys(inspectors, "执法监察大队"),
        "expert_names": {e: f"专家{e[-3:]}" for e in experts},
        "exclusions": [(_uscc(rng, taken), "经营状态为注销")] if rng.random() < 0.3 else [],
        "previous": previous,
    }
    if fate < 0.06:
        record = build_record(
            setup, status="voided", void_reason="开奖前中断", witnesses=witnesses[:1], **names
        )
        return sign_record(record, KEY)
    done = []
    for _ in range(rng.choice([0, 0, 1, 2, 3])):
        outcome = apply_substitutions(result, done)
        s = rng.choice(outcome.selected)
        kind = "expert" if s.experts and rng.random() < 0.3 else "inspector"
        team_now = s.experts if kind == "expert" else s.inspectors
        pool = experts if kind == "expert" else inspectors
        others = [p for p in pool if p not in team_now]
        unavailable = ((rng.choice(others), "请假"),) if others and rng.random() < 0.5 else ()
        req = SubstitutionRequest(
            s.id, rng.choice(team_now), "因公出差", unavailable, kind, "2026-06-02T10:00", "王明"
        )
        try:
            apply_substitutions(result, [*done, req])
        except DrawInputError:
            continue
        done.append(req)
    subs = apply_substitutions(result, done).substitutions
    status = "voided" if fate < 0.15 else "confirmed"
    reason = "监督人提出异议，作废" if status == "voided" else None
    return sign_record(
        build_record(result, status=status, void_reason=reason, substitutions=subs, **names), KEY
    )


def altered_copies(record: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """What a forger might change: each alteration as is (signature now wrong), and re-signed
    with another key (signature valid, so only recomputing the draw can catch it)."""
    out: list[tuple[str, dict[str, Any]]] = []

    def both(label: str, rec: dict[str, Any]) -> None:
        out.append((label, rec))
        out.append((label + "（重新签名）", sign_record(rec, ATTACKER)))

    if record["witnesses"] and record["seed"] is not None:  # before the reveal the digits seed nothing
        rec = copy.deepcopy(record)
        rec["witnesses"][0]["digits"] = bump(rec["witnesses"][0]["digits"])
        both("见证人数字", rec)
    if len(record["selected"]) >= 2:
        rec = copy.deepcopy(record)
        rec["selected"][0], rec["selected"][1] = rec["selected"][1], rec["selected"][0]
        both("抽中对象互换", rec)
    rec = copy.deepcopy(record)
    rec["targets"][0]["name"] += "（改）"
    out.append(("对象名称", rec))
    if record["selected"]:
        rec = copy.deepcopy(record)
        rec["selected"][-1]["inspectors"].reverse()
        both("组内顺序", rec)
    if record["substitutions"]:
        rec = copy.deepcopy(record)
        rec["substitutions"].pop()
        both("删除递补", rec)
    rec = copy.deepcopy(record)
    rec["signature"]["value"] = bump(rec["signature"]["value"])
    out.append(("签名值", rec))
    return out


@pytest.fixture(scope="module")
def random_records() -> list[dict[str, Any]]:
    rng = random.Random(20261207)
    records: list[dict[str, Any]] = []
    n = 0
    while len(records) < N_DRAWS:
        n += 1
        rec = random_record(rng, n)
        if rec is not None:
            records.append(rec)
    return records


def test_the_random_draws_cover_every_kind(random_records: list[dict[str, Any]]) -> None:
    kinds = Counter()
    for r in random_records:
        kinds[r["task"]["draw_type"]] += 1
        kinds["strata"] += len({t["stratum"] for t in r["targets"]}) > 1
        kinds["experts"] += any(s["experts"] for s in r["selected"])
        kinds["mandatory"] += bool(r["params"]["mandatory"])
        kinds["substitutions"] += bool(r["substitutions"])
        kinds["expert substitutions"] += any(s.get("kind") == "expert" for s in r["substitutions"])
        kinds["void after reveal"] += r["status"] == "voided" and r["seed"] is not None
        kinds["void before reveal"] += r["status"] == "voided" and r["seed"] is None
        kinds["previous"] += bool(r["previous"])
        kinds["conflicts"] += bool(r["params"].get("inspector_conflicts"))
    assert len(random_records) == N_DRAWS
    assert min(kinds.values()) >= 5, kinds


def test_the_page_agrees_with_verify_on_random_draws_and_their_altered_copies(
    browser: Any, random_records: list[dict[str, Any]]
) -> None:
    files: list[tuple[bytes, str, str]] = []
    for rec in random_records:
        files.append((as_bytes(rec), f"{rec['session']}.json", "原样"))
        for label, altered in altered_copies(rec):
            files.append((as_bytes(altered), f"{rec['session']}.json", label))
    results = verify_many(browser, [(d, n) for d, n, _ in files])
    seen: Counter[tuple[str, bool]] = Counter()
    for (data, name, label), r in zip(files, results, strict=True):
        expected = python_verdict(data, name)
        assert page_verdict(r) == expected, (name, label, r["checks"])
        seen[label, expected[0]] += 1
    assert seen["原样", True] == N_DRAWS
    for label in ("见证人数字", "抽中对象互换", "组内顺序", "删除递补", "签名值"):
        assert seen[label, True] == 0 and seen[label, False] > 0, label
        if label not in ("签名值", "删除递补"):
            assert seen[label + "（重新签名）", True] == 0, label  # caught without the signature
    # Without its last substitution a record still replays (the draw before that substitution):
    # only the signature catches the removal, and a re-signed copy passes in both verifiers.
    assert seen["删除递补（重新签名）", False] == 0
    assert seen["对象名称", False] > 0 and seen["对象名称", True] == 0


def test_random_draws_also_verify_with_the_vendored_ed25519(
    browser: Any, random_records: list[dict[str, Any]]
) -> None:
    files = []
    for rec in random_records[:25]:
        files.append((as_bytes(rec), "r.json"))
        files.append((as_bytes(altered_copies(rec)[-1][1]), "r.json"))  # a wrong signature value
    results = verify_many(browser, files, force_noble=True)
    for (data, name), r in zip(files, results, strict=True):
        assert r["engine"] == "noble" and page_verdict(r) == python_verdict(data, name)
    assert [r["ok"] for r in results] == [True, False] * 25


_PROGRESS = """
const [b64] = arguments;
const done = arguments[arguments.length - 1];
const bin = atob(b64);
const bytes = new Uint8Array(bin.length);
for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
const seen = [];
window.dsjVerify(bytes, 'big.json', {onProgress: (n, total) => seen.push([n, total])}).then(r => done([r.ok, seen]));
"""


def test_a_big_record_reports_progress(browser: Any) -> None:
    rng = random.Random(5)
    taken: set[str] = set()
    targets = [(_uscc(rng, taken), rng.choice(REGIONS)) for _ in range(20_000)]
    people = [f"1405220{k:04d}" for k in range(30)]
    params = {"quotas": balance_regions(50, dict(Counter(s for _, s in targets))), "team_size": 2}
    result = run_draw(DrawInput("S-BIG", targets, people, [], params, [("甲", "1" * 20)]))
    data = as_bytes(sign_record(build_record(result), KEY))
    ok, seen = browser.execute_async_script(_PROGRESS, base64.b64encode(data).decode("ascii"))
    assert ok
    assert len(seen) >= 10 and seen[-1][1] == 20_000
    done = [n for n, _ in seen]
    assert done == sorted(done) and done[-1] == 20_000 + 50 * 30  # every ticket, then every ranking


def test_the_fingerprint_box_pins_the_key(browser: Any, random_records: list[dict[str, Any]]) -> None:
    rec = random_records[0]
    data, name = as_bytes(rec), "r.json"
    ours = public_key_fingerprint(public_key_of(KEY))
    other = public_key_fingerprint(public_key_of(ATTACKER))
    for typed in (ours, ours.replace(" ", "").lower(), ours.replace(" ", ":"), other):
        r = verify_many(browser, [(data, name)], fingerprint=typed)[0]
        assert page_verdict(r) == python_verdict(data, name, typed)
        assert r["checks"][-1][0] == "公钥指纹" and r["checks"][-1][1] == (typed != other)
        assert r["fingerprint"] == ours
    forged = as_bytes(sign_record(rec, ATTACKER))
    r = verify_many(browser, [(forged, name)], fingerprint=ours)[0]
    assert not r["ok"] and [c[0] for c in r["checks"] if not c[1]] == ["公钥指纹"]


def test_odd_but_consistent_records_agree(browser: Any) -> None:
    """Ids outside the Basic Multilingual Plane sort differently by UTF-16 units than by UTF-8
    bytes; strata with such names; odd JSON (floats, huge integers, wrong types) re-signed."""
    people = ["ｱ001", "𠀀002", "A003", "ﬀ004", "𝒜005", "z006"]
    targets = [(f"91140522{k:010d}", s) for k, s in enumerate(["𠀀镇", "ｱ区", "𠀀镇", "ｱ区", "甲"] * 4)]
    result = run_draw(
        DrawInput(
            "S-奇-𠀀",
            targets,
            people,
            people[:3],
            {"quotas": {"𠀀镇": 2, "ｱ区": 2, "甲": 1}, "team_size": 2, "expert_count": 1},
            [("甲", "12345678901234567890")],
        )
    )
    good = sign_record(build_record(result), KEY)
    odd: list[dict[str, Any]] = [good]
    for change in (
        lambda r: r["params"].__setitem__("team_size", 2.0),
        lambda r: r["task"].__setitem__("ratio", 0.3),
        lambda r: r["task"].__setitem__("big", 10**30),
        lambda r: r["params"]["quotas"].__setitem__("甲", True),
        lambda r: r.pop("exclusions"),
        lambda r: r.__setitem__("nonce", 5),
        lambda r: r.__setitem__("status", "voided"),
        lambda r: r["selected"][0].__setitem__("mandatory", "否"),
        lambda r: r["substitutions"].append({"target": r["selected"][0]["id"]}),
        lambda r: r.__setitem__(
            "previous", [{"session": "x", "commitment": "0" * 64, "nonce_revealed": "ab"}]
        ),
        lambda r: r["targets"].append(dict(r["targets"][0])),
        lambda r: r["inspectors"].append(dict(r["inspectors"][0])),
        lambda r: r["witnesses"].__setitem__(
            0, {"name": "甲", "digits": "１２３４５６７８９０１２３４５６７８９０"}
        ),
        lambda r: r["signature"].__setitem__("alg", "RSA"),
        lambda r: r["signature"].__setitem__("public_key", "zz"),
    ):
        rec = copy.deepcopy(good)
        change(rec)
        odd += [rec, sign_record(rec, KEY) if _signable(rec) else rec]
    files = [(as_bytes(r), "odd.json") for r in odd]
    results = verify_many(browser, files)
    assert results[0]["ok"], results[0]["checks"]
    for (data, name), r in zip(files, results, strict=True):
        assert page_verdict(r) == python_verdict(data, name), (data[:300], r["checks"])


def _signable(rec: dict[str, Any]) -> bool:
    try:
        sign_record(rec, KEY)
    except Exception:
        return False
    return True


# -- the record PDF, the files written beside records, the command ---------------------------


@pytest.fixture(scope="module")
def record_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A real session of the demo county: its JSON record, signed PDF and 核验工具.html, written
    by the session's writer into a folder and into the data folder's records folder."""
    from dsj_desktop.db.engine import open_database
    from dsj_desktop.demo import fill_demo
    from dsj_desktop.progress import run_job
    from dsj_desktop.publish.record_pdf import records_dir
    from dsj_desktop.publish.session_files import write_session_files

    from .test_draw_sessions import full_draw

    base = tmp_path_factory.mktemp("records")
    db = open_database(base / "data")
    try:
        run_job(fill_demo(db, draws=False, year=DEMO_YEAR))
        s = full_draw(db, "RW-2026-04")
        written = run_job(write_session_files(db, s, base / "out"))
        saved = run_job(write_session_files(db, s, records_dir(db)))[1]
    finally:
        db.close()
    return {p.suffix: p for p in written} | {"saved": saved}


def test_records_are_written_with_the_verifier_beside_them(record_files: dict[str, Path]) -> None:
    assert record_files[".html"].name == vh.FILE_NAME
    assert record_files[".html"].read_bytes() == vh.verifier_html()
    assert (record_files["saved"].parent / vh.FILE_NAME).read_bytes() == vh.verifier_html()


def test_the_page_verifies_the_record_pdf_through_its_attachment(
    browser: Any, record_files: dict[str, Path]
) -> None:
    from dsj_desktop.publish.record_pdf import verify_record_pdf

    pdf, js = record_files[".pdf"], record_files[".json"]
    check = verify_record_pdf(pdf)
    assert check.ok and check.report is not None
    r_pdf, r_json = verify_many(browser, [(pdf.read_bytes(), pdf.name), (js.read_bytes(), js.name)])
    assert r_pdf["ok"] and r_pdf["pdf"] == {"attachment": js.name}
    assert r_pdf["checks"][-1][:2] == ["PDF 附件", True] and "dsj-desktop verify" in r_pdf["checks"][-1][2]
    assert [(c[0], c[1]) for c in r_pdf["checks"][:-1]] == [(c.name, c.ok) for c in check.report.checks]
    assert r_json["ok"] and r_json["pdf"] is None and r_json["checks"] == r_pdf["checks"][:-1]


def test_bad_input_gets_a_clear_chinese_message(browser: Any, record_files: dict[str, Path]) -> None:
    pdf = record_files[".pdf"].read_bytes()
    at = pdf.index(b"/Type /EmbeddedFile")
    stream = pdf.index(b"stream", at) + 8
    corrupt = bytearray(pdf)
    corrupt[stream + 40 : stream + 48] = b"\x00" * 8
    cases = [
        (b"", "empty.json", "是空的"),
        (b"hello, world", "notes.txt", "不是抽取记录"),
        ("见证人名单".encode("gb18030"), "x.json", "不是抽取记录"),
        (b"[1, 2, 3]", "list.json", "不是抽取记录"),
        (b"{\xff\xfe}", "bad.json", "不是 UTF-8"),
        (b'{"a": 1,}', "bad.json", "不是有效的 JSON（第 1 行第 9 列"),
        (b'{"spec": "DSJ-DRAW-2"}', "other.json", "不是 DSJ-DRAW-1 抽取记录"),
        (b'{"spec": "DSJ-DRAW-1", "spec": "DSJ-DRAW-1"}', "dup.json", "出现了两次键"),
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, "nested.json", "嵌套超过"),
        (b"[" * 200_000, "nested.json", "不是抽取记录"),
        (b'{"spec": "DSJ-DRAW-1", "x": NaN}', "nan.json", "不是有效的 JSON"),
        (pdf[: at - 100], "cut.pdf", "没有找到附带的抽取记录"),
        (bytes(corrupt), "corrupt.pdf", "已损坏"),
        (b"%PDF-1.7\n" + os.urandom(5000), "junk.pdf", "没有找到附带的抽取记录"),
        (b"PK\x03\x04" + os.urandom(100), "记录.pdf", "内容不是 PDF"),
        (
            b"%PDF-1.7\n" + b"".join(b"%d 0 obj " % k for k in range(300_000)),
            "objs.pdf",
            "没有找到附带的抽取记录",
        ),
        (b"%PDF-1.7\n" + b"1 0 obj " + b"<<" * 2_000_000, "deep.pdf", "没有找到附带的抽取记录"),
        (
            b"%PDF-1.7\n" + b"".join(b"%d 0 obj " % k + b"<<" * 3000 for k in range(1000)),
            "deep.pdf",
            "结构异常",
        ),
        (
            b"%PDF-1.7\n" + b"".join(b"%d 0 obj << /Type /EmbeddedFile >> stream\n" % k for k in range(100)),
            "many.pdf",
            "附件多得不正常",
        ),
    ]
    results = verify_many(browser, [(d, n) for d, n, _ in cases])
    for (_, name, message), r in zip(cases, results, strict=True):
        assert not r["ok"] and r["checks"] == [] and r["error"], (name, r)
        assert message in r["error"], (name, r["error"])


_BIG = """
const done = arguments[arguments.length - 1];
(async () => {
  const out = [];
  const mb = 1024 * 1024;
  const zeros = new Uint8Array(50 * mb);
  const text = new Uint8Array(50 * mb).fill(0x61);
  text.set(new TextEncoder().encode('{"spec":"DSJ-DRAW-1","x":"'));
  text.set(new TextEncoder().encode('"}'), text.length - 2);
  const pdf = new Uint8Array(50 * mb).fill(0x20);
  pdf.set(new TextEncoder().encode('%PDF-1.7\\n'));
  for (const [bytes, name] of [[zeros, 'big.json'], [text, 'big.json'], [pdf, 'big.pdf'],
                               [new Uint8Array(70 * mb), 'huge.pdf']]) {
    const r = await window.dsjVerify(bytes, name);
    out.push([r.ok, r.error, r.checks.length, r.ms]);
  }
  return JSON.stringify(out);
})().then(done, e => done(JSON.stringify(String(e))));
"""


def test_big_files_get_a_message_not_a_hang(browser: Any) -> None:
    results = json.loads(browser.execute_async_script(_BIG))
    zeros, text, pdf, huge = results
    assert zeros[:3] == [False, zeros[1], 0] and "不是抽取记录" in zeros[1]
    assert text[0] is False and text[2] > 0  # a 50 MB file that is JSON is read and checked
    assert pdf[:3] == [False, pdf[1], 0] and "没有找到附带的抽取记录" in pdf[1]
    assert huge[:3] == [False, huge[1], 0] and "超过本页面能核验的 64 MB 上限" in huge[1]


def test_the_command_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dsj_desktop.cli import main

    assert main(["verifier-html", str(tmp_path / "v.html")]) == 0
    assert (tmp_path / "v.html").read_bytes() == vh.verifier_html()
    assert "已写出核验工具" in capsys.readouterr().out
    assert main(["verifier-html", str(tmp_path)]) == 0  # a folder: 核验工具.html in it
    assert (tmp_path / vh.FILE_NAME).is_file()


def test_the_year_archive_carries_the_verifier(demo_results_data_dir: Path, tmp_path: Path) -> None:
    from dsj_desktop.cli import main

    arch = tmp_path / "档案"
    assert main(["--data-dir", str(demo_results_data_dir), "archive", "2026", "--out", str(arch)]) == 0
    page = arch / "抽取记录" / vh.FILE_NAME
    assert page.read_bytes() == vh.verifier_html()
    manifest = json.loads((arch / "manifest.json").read_text(encoding="utf-8"))
    assert f"抽取记录/{vh.FILE_NAME}" in {f["path"] for f in manifest["files"]}


def test_the_page_shows_the_checklist_and_the_record(browser: Any, record_files: dict[str, Path]) -> None:
    data = record_files[".json"].read_bytes()
    record = json.loads(data)
    res = browser.execute_async_script(
        "const [b, n] = arguments; const done = arguments[arguments.length - 1];"
        "window.dsjShow(new TextEncoder().encode(b), n).then(r => done(r.ok));",
        data.decode("utf-8"),
        record_files[".json"].name,
    )
    assert res is True
    verdict = browser.find_element("id", "verdict").text
    assert verdict.startswith("✔ 验证通过")
    rows = browser.find_elements("css selector", "#checks tbody tr")
    assert len(rows) == 16 and all(r.get_attribute("class") == "ok" for r in rows)
    body = browser.find_element("id", "report").text
    assert record["task"]["name"] in body and record["session"] in body
    for w in record["witnesses"]:
        assert w["name"] in body and w["digits"] in body
    names = {t["id"]: t["name"] for t in record["targets"]}
    people = {p["id"]: p["name"] for p in record["inspectors"]}
    for s in record["selected"]:
        assert s["id"] in body and names[s["id"]] in body
        assert all(people[p] in body for p in s["inspectors"])
    # an altered copy: the first difference is named
    record["witnesses"][0]["digits"] = bump(record["witnesses"][0]["digits"])
    res = browser.execute_async_script(
        "const [b, n] = arguments; const done = arguments[arguments.length - 1];"
        "window.dsjShow(new TextEncoder().encode(b), n).then(r => done(r.ok));",
        json.dumps(record, ensure_ascii=False),
        "altered.json",
    )
    assert res is False
    verdict = browser.find_element("id", "verdict").text
    assert verdict.startswith("✘ 验证不通过") and "第一处不符——随机种子" in verdict
    # nothing was fetched from anywhere
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
