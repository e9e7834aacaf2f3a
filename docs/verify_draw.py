#!/usr/bin/env python3
"""独立验证一份 DSJ-DRAW-1 抽取记录（只用 Python 标准库）。

用法：python3 verify_draw.py 抽取记录.json [本局公布的记录签名公钥指纹]

退出码：0 全部符合（含 Ed25519 签名；给出指纹时还核对了签名公钥）；1 有不符之处或文件无法读取；
2 未核对签名（没有安装 cryptography：其余各项都符合，但名称、递补原因、作废原因等只有签名保护，
不能据此认定记录未被改动，请 pip install cryptography 后再核验）；64 用法错误。

This script deliberately shares no code with dsj-desktop: it re-implements the published
standard (draw-v1.md, sections 1-9) in the plainest way, so that anyone can read it and check
a record without trusting the program that made it. It favours clarity over speed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

MAX_BYTES = 50 * 1024 * 1024  # a real record is well under 10 MB
MAX_DIGITS = 40  # no number in a record is longer
SEP = "\x1f"  # section 1
LF = "\n"


def H(text: str) -> str:
    """SHA-256 of the UTF-8 bytes, 64 lowercase hex characters."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(obj: object) -> str:
    """Canonical JSON: sorted keys, no spaces, non-ASCII written as itself."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def rank(seed: str, kind: str, target: str, people: list[str]) -> list[str]:
    """Everybody ordered by ticket H(seed SEP kind SEP target SEP person), ties by id."""
    return sorted(people, key=lambda p: (H(seed + SEP + kind + SEP + target + SEP + p), p))


def make_teams(seed, kind, order, people, size, cap, conflicts):
    """Section 5.3: below-cap people in rank order first, then anyone further down the ranking."""
    count = {p: 0 for p in people}
    teams = {}
    for t in order:
        ranked = [p for p in rank(seed, kind, t, people) if (p, t) not in conflicts]
        team = [p for p in ranked if count[p] < cap][:size]
        for p in ranked:
            if len(team) >= size:
                break
            if p not in team:
                team.append(p)
        for p in team:
            count[p] += 1
        teams[t] = team
    return teams


class BadRecord(Exception):
    """The file is not a record this script can read; the message says why."""


def _no_duplicates(pairs: list) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise BadRecord(f"同一个对象里出现了两次键“{dup}”，这样的文件可能被改动过")
    return dict(pairs)


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise BadRecord(f"含有 {len(text)} 位的整数，记录中没有这样的数")
    return int(text)


def _no_float(text: str) -> None:
    raise BadRecord(f"含有小数或特殊数值 {text[:20]}，规范 JSON 中不允许")


def load(path: str) -> dict:
    """The record, or BadRecord: too large, not UTF-8 JSON, duplicate keys, floats, huge numbers."""
    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise BadRecord(
                f"文件有 {size // (1024 * 1024)} MB，超过 {MAX_BYTES // (1024 * 1024)} MB，不是抽取记录"
            )
        with open(path, "rb") as f:
            text = f.read().decode("utf-8-sig")
    except OSError as exc:
        raise BadRecord(f"无法读取文件：{exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BadRecord("不是 UTF-8 编码的文本") from None
    try:
        record = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_int=_bounded_int,
            parse_float=_no_float,
            parse_constant=_no_float,
        )
    except RecursionError:
        raise BadRecord("嵌套层数过多，不是抽取记录") from None
    except ValueError as exc:
        raise BadRecord(f"不是有效的 JSON（{exc}）") from None
    if not isinstance(record, dict):
        raise BadRecord("最外层不是 JSON 对象")
    return record


def main(path: str, fingerprint: str | None = None) -> int:
    try:
        r = load(path)
        return verify(r, fingerprint)
    except BadRecord as exc:
        print(f"不通过  文件：{exc}")
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:
        print(f"不通过  记录结构：缺少或有误的项目（{type(exc).__name__}: {str(exc)[:80]}）")
    print("结论：有不符之处")
    return 1


def verify(r: dict, fingerprint: str | None) -> int:
    results = []

    def check(name: str, ok: bool, detail: str = "") -> None:
        results.append(ok)
        print(("通过  " if ok else "不通过") + f"  {name}" + (f"：{detail}" if detail else ""))

    print(f"场次 {r['session']}，状态 {r['status']}")
    check("规范版本", r.get("spec") == "DSJ-DRAW-1", str(r.get("spec")))
    status, reason = r["status"], r.get("void_reason")
    check(
        "状态",
        (status == "confirmed" and not reason)
        or (status == "voided" and isinstance(reason, str) and reason != ""),
        f"{status}" + (f"（作废原因：{reason}）" if reason else ""),
    )

    # Section 2: the four hashes, from the lists in the record.
    targets = sorted((t["id"], t["stratum"]) for t in r["targets"])
    inspectors = sorted(p["id"] for p in r["inspectors"])
    experts = sorted(p["id"] for p in r["experts"])
    params = r["params"]
    hashes = {
        "targets": H("".join(i + SEP + s + LF for i, s in targets)),
        "inspectors": H("".join(i + LF for i in inspectors)),
        "experts": H("".join(i + LF for i in experts)),
        "params": H(canonical(params)),
    }
    for key, title in [
        ("targets", "检查对象名单"),
        ("inspectors", "执法人员名单"),
        ("experts", "专家名单"),
        ("params", "抽取参数"),
    ]:
        check(f"{title}摘要", hashes[key] == r["hashes"][key], hashes[key])

    # Section 3: commitment and witness digits.
    nonce, seed = r["nonce"], r["seed"]
    if nonce is None:
        check("承诺值", r["status"] == "voided", "作废于揭示之前，随机数未公开")
    else:
        check("承诺值 H(随机数)", H(nonce) == r["commitment"], r["commitment"])
    digits = [w["digits"] for w in r["witnesses"]]
    if seed is None:
        check("随机种子", r["status"] == "voided" and not r["selected"], "作废于揭示之前，没有抽取结果")
    else:
        total = sum(len(d) for d in digits)
        ok_digits = all(d.isascii() and d.isdigit() for d in digits) and total >= 20
        check("见证人数字", ok_digits, f"共 {total} 位")

        # Section 4: the seed.
        parts = [
            "DSJ-DRAW-1",
            r["session"],
            hashes["targets"],
            hashes["inspectors"],
            hashes["experts"],
            hashes["params"],
            *digits,
            nonce,
        ]
        my_seed = H(SEP.join(parts))
        check("随机种子", my_seed == seed, my_seed)

        # Section 5.1-5.2: per stratum the k smallest target tickets, plus the mandatory ones.
        def ticket(t: str) -> str:
            return H(my_seed + SEP + "target" + SEP + t)

        chosen = []
        for stratum, k in params["quotas"].items():
            members = sorted((ticket(i), i) for i, s in targets if s == stratum)
            chosen += [(tk, i, stratum, False) for tk, i in members[:k]]
        chosen += [(ticket(i), i, None, True) for i in params.get("mandatory", [])]
        chosen.sort(key=lambda c: (c[0], c[1]))
        order = [c[1] for c in chosen]

        # Section 5.3-5.4: teams and experts.
        n_total = len(order)
        size, ecount = params["team_size"], params.get("expert_count", 0)
        cap = params.get("inspector_cap", ceil_div(n_total * size, max(len(inspectors), 1)))
        ecap = params.get("expert_cap", ceil_div(n_total * ecount, max(len(experts), 1)))
        iconf = {(p, t) for p, t in params.get("inspector_conflicts", [])}
        econf = {(p, t) for p, t in params.get("expert_conflicts", [])}
        teams = make_teams(my_seed, "inspector", order, inspectors, size, cap, iconf)
        panels = make_teams(my_seed, "expert", order, experts, ecount, ecap, econf) if ecount else {}
        expected = [
            {
                "id": i,
                "stratum": s,
                "mandatory": m,
                "ticket": tk,
                "inspectors": teams[i],
                "experts": panels.get(i, []),
            }
            for tk, i, s, m in chosen
        ]
        differences = [
            f"第 {n} 个：应为 {e}，记录中为 {g}"
            for n, (e, g) in enumerate(zip(expected, r["selected"], strict=False), 1)
            if e != g
        ]
        if len(expected) != len(r["selected"]):
            differences.append(f"应抽中 {len(expected)} 个，记录中有 {len(r['selected'])} 个")
        check(
            "抽中对象、检查组与专家",
            not differences,
            "；".join(differences[:3]) or f"{len(expected)} 个对象一致",
        )

        # Section 6: replay the substitutions in order.
        removed_before: dict[tuple[str, str], set[str]] = {}
        sub_ok, notes = True, []
        for n, s in enumerate(r["substitutions"], 1):
            kind = s.get("kind", "inspector")
            pool, conflicts = (inspectors, iconf) if kind == "inspector" else (experts, econf)
            current = teams if kind == "inspector" else panels
            team = current.get(s["target"], [])
            history = removed_before.setdefault((kind, s["target"]), set())
            unavailable = {x["id"] for x in s["skipped"]}
            if s["removed"] not in team:
                sub_ok = False
                notes.append(f"第 {n} 次：被替换的人不在该组")
                break
            candidates = [
                p
                for p in rank(my_seed, kind, s["target"], pool)
                if p not in team
                and p not in history
                and (p, s["target"]) not in conflicts
                and p not in unavailable
            ]
            substitute = candidates[0] if candidates else None
            if substitute != s["substitute"]:
                sub_ok = False
                notes.append(f"第 {n} 次：应由 {substitute} 递补，记录中为 {s['substitute']}")
            if substitute is None:
                break
            team[team.index(s["removed"])] = substitute
            history.add(s["removed"])
        check("递补", sub_ok, "；".join(notes) or f"{len(r['substitutions'])} 次")

    # Section 8: earlier attempts at the task. A revealed nonce must open its commitment.
    prev_notes, prev_ok = [], isinstance(r["previous"], list)
    for n, p in enumerate(r["previous"] if prev_ok else [], 1):
        if (
            not isinstance(p, dict)
            or not isinstance(p.get("commitment"), str)
            or not isinstance(p.get("session"), str)
        ):
            prev_ok = False
            prev_notes.append(f"第 {n} 项格式有误")
            continue
        nonce_revealed = p.get("nonce_revealed")
        if isinstance(nonce_revealed, str):
            if H(nonce_revealed) != p["commitment"]:
                prev_ok = False
                prev_notes.append(f"场次 {p['session']} 公开的随机数与其承诺值不符")
            else:
                prev_notes.append(f"场次 {p['session']}：随机数与承诺值相符")
        elif nonce_revealed not in (None, False, True):
            prev_ok = False
            prev_notes.append(f"场次 {p['session']} 的 nonce_revealed 格式有误")
        else:
            prev_notes.append(f"场次 {p['session']}：随机数未公开")
    check("此前的抽取", prev_ok, "；".join(prev_notes) or "无")

    # Section 8: the Ed25519 signature over the canonical JSON without "signature".
    body = canonical({k: v for k, v in r.items() if k != "signature"}).encode("utf-8")
    sig = r.get("signature") or {}
    signature_checked = False
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        print(
            "未核对  签名：没有安装 cryptography，无法核对 Ed25519 签名（pip install cryptography 后可核对）"
        )
    else:
        try:
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sig["public_key"]))
            key.verify(bytes.fromhex(sig["value"]), body)
            found = hashlib.sha256(bytes.fromhex(sig["public_key"])).hexdigest().upper()
            shown = " ".join(found[i : i + 4] for i in range(0, 64, 4))
            check("签名", sig.get("alg") == "Ed25519", "Ed25519 签名有效，公钥指纹 " + shown)
            signature_checked = True
            if fingerprint is not None:
                wanted = "".join(ch for ch in fingerprint.upper() if ch in "0123456789ABCDEF")
                check(
                    "公钥指纹", wanted == found, "与给定的指纹一致" if wanted == found else "与给定的指纹不同"
                )
            else:
                print("提示    请把上面的公钥指纹与本局公布的指纹逐组核对（或把指纹作为第二个参数给出）")
        except (InvalidSignature, KeyError, ValueError, TypeError, AttributeError):
            check("签名", False, "签名无效或缺失")

    if not all(results):
        print("结论：有不符之处")
        return 1
    if not signature_checked:
        print(
            "结论：未核对签名——其余各项均符合，但名称、递补原因、作废原因和此前的抽取等只有签名能保护，"
            "不能据此认定记录未被改动。"
        )
        return 2
    print("结论：全部符合")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        sys.exit(64)
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else None))
