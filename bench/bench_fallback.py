"""Cost of a fallback exit and re-entry: native code -> interpreter (one instruction) -> native.

A loop of 12 ``add.sw a64`` plus one instruction the JIT does not compile (``clr r128[0]``)
and ``jmp 0`` exits native code once per iteration; the same loop with a compiled ``clr
a64[5]`` instead stays native.  Per round trip: (fallback loop - native loop) / iterations,
minus nothing else - the difference includes the interpreter running the one instruction.
Interleaved rounds, medians, one process; final states checked against the interpreter.

    python bench/bench_fallback.py [rounds]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aluvm import Lib, Registers, run  # noqa: E402
from aluvm.isa import table as isa  # noqa: E402
from aluvm.isa.codec import encode  # noqa: E402
from aluvm.library.lib import DEFAULT_ISAE  # noqa: E402

BODY = bytes.fromhex("200261" * 12)
JMP = bytes.fromhex("020000")


def _lib(extra: bytes) -> Lib:
    return Lib.with_(DEFAULT_ISAE, BODY + extra + JMP, b"")


def fresh() -> Registers:
    regs = Registers()
    regs.a[3][0], regs.a[3][1] = 3, 5
    regs.cy0 = 65535 - 4096            # 4096 iterations
    return regs


def main(rounds: int = 9) -> dict:
    from aluvm.jit.engine import last_stats
    clr_r = encode(isa.BY_KEY["clr_r"], [0, 0])
    clr_a = encode(isa.BY_KEY["clr_a"], [3, 5])
    libs = {"fallback": _lib(clr_r), "native": _lib(clr_a)}
    calls = {}
    for name, lib in libs.items():
        r1, r2 = fresh(), fresh()
        run(lib, r1)
        run(lib, r2, tier="jit")
        assert (r1.a, r1.st0, r1.cy0, r1.ca0) == (r2.a, r2.st0, r2.cy0, r2.ca0), name
        calls[name] = last_stats()
    times: dict[str, list[float]] = {k: [] for k in libs}
    for _ in range(rounds):
        for name, lib in libs.items():
            run(lib, fresh(), tier="jit")
            regs = fresh()
            t = time.perf_counter()
            run(lib, regs, tier="jit")
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    trips = calls["fallback"]["fallback_exits"]
    per = (med["fallback"] - med["native"]) / max(trips, 1)
    print(f"fallback exit + one interpreted instruction + re-entry: {per * 1e6:.2f} us per round "
          f"trip ({trips} round trips; loop with fallback {med['fallback'] * 1e3:.2f} ms, "
          f"all native {med['native'] * 1e3:.3f} ms; native calls {calls['fallback']['native_calls']})")
    return {"round_trip_s": per}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
