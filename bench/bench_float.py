"""Time per call of aluvm.semantics.floats operations, in ns/op.

Usage: python bench/bench_float.py [iterations]

Covers the f32/f64 round-to-nearest hardware fast paths, the MPFR path (f32/f64 with other
rounding modes, f128), bf16, and the f80 soft-float port.
"""
from __future__ import annotations

import random
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aluvm.semantics import floats  # noqa: E402


def _operands(fc: int, count: int) -> list[tuple[int, int]]:
    """Random finite, non-zero operand pairs of moderate magnitude."""
    rng = random.Random(fc)
    pack = {2: ("<f", "<I"), 3: ("<d", "<Q")}
    out = []
    for _ in range(count):
        x, y = rng.uniform(-1e6, 1e6), rng.uniform(-1e6, 1e6)
        if fc in pack:
            fmt, ifmt = pack[fc]
            out.append(tuple(struct.unpack(ifmt, struct.pack(fmt, v))[0] for v in (x, y)))
        elif fc == 0:
            out.append(tuple(struct.unpack("<I", struct.pack("<f", v))[0] >> 16 for v in (x, y)))
        elif fc == 5:
            out.append(tuple(((0x3FFF + rng.randint(-20, 20)) << 112) | rng.getrandbits(112)
                             for _ in range(2)))
        elif fc == 4:
            out.append(tuple(floats.store(4, ((0x3FFF + rng.randint(-20, 20)) << 64)
                                          | rng.getrandbits(63)) for _ in range(2)))
    return out


def bench(label: str, op: str, fc: int, rnd: int, n: int, repeats: int = 5) -> None:
    """Best of `repeats` runs (the machine is shared, so the minimum is the stable figure)."""
    pairs = _operands(fc, 256)
    arith = floats.arith
    best = float("inf")
    for _ in range(repeats):
        calls = 0
        start = time.perf_counter()
        while calls < n:
            for a, b in pairs:
                try:
                    arith(op, fc, rnd, a, b)
                except Exception:      # f80 add/sub panics on about half of the pairs
                    pass
            calls += len(pairs)
        best = min(best, (time.perf_counter() - start) / calls)
    print(f"{label:<28} {best * 1e9:9.0f} ns/op")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    bench("f32 add (nearest, FPU)", "add", 2, 1, n)
    bench("f32 mul (nearest, FPU)", "mul", 2, 1, n)
    bench("f32 add (toward zero, MPFR)", "add", 2, 0, n)
    bench("f64 add (nearest, FPU)", "add", 3, 1, n)
    bench("f64 div (nearest, FPU)", "div", 3, 1, n)
    bench("f64 add (ceil, MPFR)", "add", 3, 3, n)
    bench("f128 add (nearest, MPFR)", "add", 5, 1, n)
    bench("f128 mul (floor, MPFR)", "mul", 5, 2, n)
    bench("bf16 add", "add", 0, 1, n)
    bench("f80 add (soft-float port)", "add", 4, 1, n // 4)
    bench("f80 mul (soft-float port)", "mul", 4, 1, n // 4)
    bench("f80 div (soft-float port)", "div", 4, 1, n // 10)


if __name__ == "__main__":
    main()
