"""Throughput of the crypto layer: SHA-256 on 64 bytes, secp256k1 gen/mul/add per backend,
ed25519 gen/mul, and the instruction functions themselves.

    python bench/bench_crypto.py [--seconds 0.5] [--json]

Prints operations per second (best of three timed rounds of at least ``--seconds`` each).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from aluvm.semantics import digests
from aluvm.semantics.curves import ed25519
from aluvm.semantics import crypto as ops_crypto
from aluvm import secp256k1  # noqa: E402
from aluvm.machine.registers import Registers  # noqa: E402


def rate(fn, args: list, seconds: float) -> float:
    """Calls per second of fn(*a) cycling over args."""
    n = len(args)
    best = 0.0
    for _ in range(3):
        count = 0
        start = time.perf_counter()
        while True:
            for a in args:
                fn(*a)
            count += n
            el = time.perf_counter() - start
            if el >= seconds:
                break
        best = max(best, count / el)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("--json", action="store_true")
    opt = ap.parse_args(argv)
    rnd = random.Random(42)
    t = opt.seconds
    res: dict[str, float] = {}

    msgs = [(bytes(rnd.randrange(256) for _ in range(64)),) for _ in range(64)]
    res["sha256/64B"] = rate(digests.sha256, msgs, t)
    res["ripemd160/64B"] = rate(digests.ripemd160, msgs, t)
    res["ripemd160_pure/64B"] = rate(digests.ripemd160_pure, msgs, t)

    regs = Registers()
    regs.s[0] = msgs[0][0]
    res["op sha256 (regs)"] = rate(ops_crypto.sha256, [(regs, 0, 1)], t)

    ks = [rnd.randrange(1, secp256k1.N) for _ in range(64)]
    pts = [secp256k1.BACKENDS["gmpy2"].gen(k) for k in ks]
    for name, curve in sorted(secp256k1.BACKENDS.items()):
        res[f"secp gen [{name}]"] = rate(curve.gen, [(k,) for k in ks], t)
        res[f"secp mul [{name}]"] = rate(curve.mul, list(zip(ks[::-1], pts)), t)
        res[f"secp add [{name}]"] = rate(curve.add, list(zip(pts, pts[1:])), t)

    regs.r[2][0] = ks[0]
    res[f"op secp_gen [{secp256k1.DEFAULT.name}]"] = rate(ops_crypto.secp_gen, [(regs, 0, 1)], t)

    eks = [rnd.randrange(1, ed25519.L) for _ in range(16)]
    epts = [ed25519.gen(k) for k in eks]
    res["ed25519 gen"] = rate(ed25519.gen, [(k,) for k in eks], t)
    res["ed25519 mul"] = rate(ed25519.mul, list(zip(eks[::-1], epts)), t)
    res["ed25519 add (points cached valid)"] = rate(ed25519.add, list(zip(epts, epts[1:])), t)

    def add_cold(p, q):
        ed25519._VALID_CACHE.clear()
        return ed25519.add(p, q)
    res["ed25519 add (cold validity check)"] = rate(add_cold, list(zip(epts, epts[1:])), t)

    if opt.json:
        print(json.dumps({k: round(v, 1) for k, v in res.items()}, indent=1))
    else:
        width = max(map(len, res))
        for k, v in res.items():
            print(f"{k:<{width}}  {v:>12,.0f} ops/s")
        print(f"default secp256k1 backend: {secp256k1.DEFAULT_BACKEND}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
