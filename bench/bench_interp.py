"""Interpreter throughput on the issue's loop: ``add.sw a64[0],a64[1]; jmp 0``.

Code ``200261020000``, a64[0]=3, a64[1]=5; the loop runs until cy0 reaches 65535 (131,071
instructions).  The reference takes about 0.9 s per run on our machines.  Also times a plain
Python loop doing the same arithmetic and counter bookkeeping, as a floor for any interpreter.
``--cpu`` times this thread's CPU time instead of wall time: on a machine shared with other
processes the wall-time ratio of the interleaved rounds still swings (e.g. 1.2-2.4 at load 7 on
2 cores), the CPU-time ratio does not (1.5-1.6).
"""
from __future__ import annotations

import statistics
import time

from aluvm.machine.interp import REFERENCE, Machine
from aluvm.library.lib import DEFAULT_ISAE, Lib
from aluvm.machine.registers import Registers

CODE = bytes.fromhex("200261020000")
REFERENCE_SECONDS = 0.9


def fresh() -> Registers:
    regs = Registers()
    regs.a[3][0], regs.a[3][1] = 3, 5
    return regs


#: the clock: wall time, or this thread's CPU time (``--cpu``: robust when other processes
#: share the cores)
CLOCK = time.perf_counter


def interp_once(machine: Machine, lib: Lib) -> float:
    regs = fresh()
    t = CLOCK()
    machine.run(lib.id, 0, regs)
    dt = CLOCK() - t
    assert regs.cy0 == 65535 and regs.a[3][1] == 5 + 3 * 65536
    return dt


def baseline_once() -> float:
    """Plain Python: the same wrapped add, counters and limit checks, no decoding."""
    t = CLOCK()
    a, b, cy0, ca0 = 3, 5, 0, 0
    while True:
        b = (a + b) & 0xFFFFFFFFFFFFFFFF
        ca0 += 1
        if cy0 == 65535:
            ca0 += 2
            break
        cy0 += 1
        ca0 += 2
    dt = CLOCK() - t
    assert b == 5 + 3 * 65536
    return dt


def main(runs: int = 21) -> dict[str, float]:
    """Interleaved rounds (interpreter, then the inline loop), medians: both see the same load."""
    lib = Lib.with_(DEFAULT_ISAE, CODE, b"")
    machine = Machine(REFERENCE)
    machine.add(lib.code, lib.data, lib.libs, lib.id)
    interp_once(machine, lib)  # warm the decode cache
    t_i: list[float] = []
    t_b: list[float] = []
    for _ in range(runs):
        t_i.append(interp_once(machine, lib))
        t_b.append(baseline_once())
    t_interp, t_base = statistics.median(t_i), statistics.median(t_b)
    ratios = sorted(i / b for i, b in zip(t_i, t_b))
    clock = "thread CPU time" if CLOCK is not time.perf_counter else "wall time"
    print(f"loop add.sw/jmp x 65535 (median of {runs} interleaved rounds, {clock})")
    print(f"  reference (quoted)      {REFERENCE_SECONDS * 1e3:10.2f} ms")
    print(f"  interpreter             {t_interp * 1e3:10.2f} ms   {REFERENCE_SECONDS / t_interp:6.1f}x faster than reference")
    print(f"  plain-Python baseline   {t_base * 1e3:10.2f} ms   interpreter / baseline = {t_interp / t_base:.2f}"
          f"  (per round: min {ratios[0]:.2f}, median {statistics.median(ratios):.2f})")
    return {"interp_s": t_interp, "baseline_s": t_base}


if __name__ == "__main__":
    import sys
    if "--cpu" in sys.argv:
        CLOCK = time.thread_time
    main()
