"""Cost of a fallback exit and re-entry: native code -> interpreter (one instruction) -> native.

A loop of 12 ``add.sw a64`` plus one instruction the JIT never compiles (``swp s16[0],s16[1]``,
an S-register op) and ``jmp 0`` exits native code once per iteration; the same loop with a
compiled ``clr a64[5]`` instead stays native.  Per round trip: (fallback loop - native loop) /
iterations, minus nothing else - the difference includes the interpreter running the one
instruction.  Interleaved rounds, medians, one process; final states checked against the
interpreter.  Then the round trip's parts, each timed on its own in a loop: marshalling in and
out, the native call through ctypes (an entry that exits at once), the interpreter's one step
up to the next hot entry.

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
    swp_s = encode(isa.BY_KEY["swp_s"], [0, 1])
    clr_a = encode(isa.BY_KEY["clr_a"], [3, 5])
    libs = {"fallback": _lib(swp_s), "native": _lib(clr_a)}
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
    parts = breakdown(libs["fallback"], len(BODY))
    print("  parts: " + ", ".join(f"{k} {v * 1e6:.2f} us" for k, v in parts.items())
          + f" (sum {sum(parts.values()) * 1e6:.2f} us)")
    return {"round_trip_s": per, **{f"{k}_s": v for k, v in parts.items()}}


def _per_call(fn, n: int = 20000, rounds: int = 5) -> float:
    """Median over rounds of the time per call of ``fn()``."""
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        out.append((time.perf_counter() - t) / n)
    return statistics.median(out)


def breakdown(lib: Lib, exit_pos: int) -> dict[str, float]:
    """The round trip's parts, timed one by one on the fallback library's compiled unit."""
    from aluvm.machine.interp import REFERENCE
    from aluvm.jit.compiled import _new_buffer
    from aluvm.jit.engine import get_compiled
    unit, _ = get_compiled(lib.code, lib.data, lib.libs, lib.id, REFERENCE)
    buf, _rf, addr = _new_buffer()
    regs = fresh()
    regs.cy0 = 0
    steps = [0]
    hot = unit.heat.hot

    def marshal() -> None:
        unit._in(regs, buf)
        unit._out(regs, buf)

    def step() -> None:
        unit.prog.run_until(regs, exit_pos, hot, steps)
        regs.cy0 = 0
    return {"marshal in+out": _per_call(marshal),
            "native call (exits at once)": _per_call(lambda: unit.fn(addr, 0xFFFF)),
            "interpreter step": _per_call(step)}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
