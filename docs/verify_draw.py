#!/usr/bin/env python3
"""独立验证一份 DSJ-DRAW-1 抽取记录（只用 Python 标准库）。

用法：python3 verify_draw.py 抽取记录.json
全部符合时退出码为 0，否则为 1。若已安装 cryptography，还核对 Ed25519 签名；否则跳过并注明。

This script deliberately shares no code with dsj-desktop: it re-implements the published
standard (draw-v1.md, sections 1-9) in the plainest way, so that anyone can read it and check
a record without trusting the program that made it. It favours clarity over speed.
"""

from __future__ import annotations

import hashlib
import json
import sys

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


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        r = json.load(f)
    results = []

    def check(name: str, ok: bool, detail: str = "") -> None:
        results.append(ok)
        print(("通过  " if ok else "不通过") + f"  {name}" + (f"：{detail}" if detail else ""))

    print(f"场次 {r['session']}，状态 {r['status']}")
    check("规范版本", r.get("spec") == "DSJ-DRAW-1", str(r.get("spec")))

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

    # Section 8: the Ed25519 signature over the canonical JSON without "signature".
    body = canonical({k: v for k, v in r.items() if k != "signature"}).encode("utf-8")
    sig = r.get("signature") or {}
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        print("提示    签名：未安装 cryptography，未核对签名（pip install cryptography 后可核对）")
    else:
        try:
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sig["public_key"]))
            key.verify(bytes.fromhex(sig["value"]), body)
            fingerprint = hashlib.sha256(bytes.fromhex(sig["public_key"])).hexdigest().upper()
            check(
                "签名",
                sig.get("alg") == "Ed25519",
                "公钥指纹 " + " ".join(fingerprint[i : i + 4] for i in range(0, 64, 4)),
            )
        except (InvalidSignature, KeyError, ValueError, TypeError):
            check("签名", False, "签名无效或缺失")

    ok = all(results)
    print("结论：" + ("全部符合" if ok else "有不符之处"))
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
