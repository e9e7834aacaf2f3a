"""``dsj-desktop verify`` as a user runs it: a fresh process checking a 2,400-candidate record,
as JSON (goal: under 1 s on these machines) and as the signed PDF (information), next to a bare
``python -c pass`` in the same run. Also lists which heavy libraries the JSON check loaded
(goal: none of Qt, reportlab, pyHanko, SQLAlchemy, openpyxl).

    python benchmarks/bench_verify_cli.py [--reps 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from dsj_desktop.draw.algorithm import DrawInput, run_draw
from dsj_desktop.draw.record import build_record, sign_record
from dsj_desktop.keys import KeyStore
from dsj_desktop.publish.record_pdf import record_json_bytes, record_pdf

HEAVY = ("PySide6", "reportlab", "pyhanko", "sqlalchemy", "openpyxl")
PROBE = (
    "import sys; from dsj_desktop.launch import main; code = main(sys.argv[1:]); "
    f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules]); sys.exit(code)"
)


def make_files(folder: Path) -> tuple[Path, Path, str]:
    keys = KeyStore(folder / "keys")
    targets = [(f"91140522MA{i:08d}", ("城关镇", "北留镇", "南河镇", "西山乡")[i % 4]) for i in range(2400)]
    inspectors = [f"1405220{i:04d}" for i in range(60)]
    result = run_draw(
        DrawInput("S-2026-0001", targets, inspectors, [],
                  {"quotas": {"城关镇": 30, "北留镇": 30, "南河镇": 30, "西山乡": 30}, "team_size": 2},
                  [("甲", "31415926535"), ("乙", "27182818284")])
    )  # fmt: skip
    record = build_record(
        result,
        task={"code": "BENCH", "name": "基准测试", "bureau": "青山县应急管理局"},
        target_names={t: f"青山县测试企业{n:05d}有限公司" for n, (t, _) in enumerate(targets)},
        inspector_names={p: f"执法人员{p[-3:]}" for p in inspectors},
    )
    record["pdf_key_fingerprint"] = keys.pdf_public_key_fingerprint()
    raw = keys.record_private_key().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    signed = sign_record(record, raw)
    json_path = folder / "S-2026-0001.json"
    json_path.write_bytes(record_json_bytes(signed))
    pdf_path = folder / "S-2026-0001.pdf"
    record_pdf(signed, keys, "青山县应急管理局").save(pdf_path)
    return json_path, pdf_path, keys.record_fingerprint()


def timed(args: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, encoding="utf-8")
    return time.perf_counter() - t0, proc.stdout + proc.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        json_path, pdf_path, fp = make_files(Path(tmp))
        runs = {
            "bare": ["-c", "pass"],
            "json": ["-c", PROBE, "verify", "--fingerprint", fp, str(json_path)],
            "pdf": ["-m", "dsj_desktop", "verify", "--fingerprint", fp, str(pdf_path)],
        }
        best = dict.fromkeys(runs, float("inf"))
        out: dict[str, str] = {}
        for _ in range(args.reps):  # interleaved, so every figure sees the same load
            for name, argv in runs.items():
                t, out[name] = timed(argv)
                best[name] = min(best[name], t)
        assert "验证通过" in out["json"] and "验证通过" in out["pdf"], out
        loaded = next(line for line in out["json"].splitlines() if line.startswith("LOADED"))
        size = json_path.stat().st_size // 1024
        print(f"record: 2,400 candidates, 120 drawn; JSON {size} KB, PDF {pdf_path.stat().st_size // 1024} KB; "
              f"best of {args.reps}")  # fmt: skip
        print(f"python -c pass (bare interpreter)            {best['bare'] * 1000:8.0f} ms")
        print(f"dsj-desktop verify record.json (goal < 1 s)  {best['json'] * 1000:8.0f} ms")
        print(f"dsj-desktop verify record.pdf (information)  {best['pdf'] * 1000:8.0f} ms")
        print(f"heavy libraries loaded for the JSON check: {loaded.removeprefix('LOADED ')}")


if __name__ == "__main__":
    main()
