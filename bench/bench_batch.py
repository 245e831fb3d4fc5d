"""Batch validation throughput: one script, many inputs (the product's main workload).

Runs ``examples/validate.aluasm`` (range and parity checks) and a 64-iteration arithmetic
loop over N inputs in the interpreter and the JIT, and a plain-Python function doing the same
validation as the baseline.  Prints inputs/second for each.
"""
from __future__ import annotations

import random
import time
from pathlib import Path

from aluvm.library.lib import Lib
from aluvm.machine.registers import Registers
from aluvm.tools.service import interp_runner

ROOT = Path(__file__).resolve().parent.parent
N = 3000
LOOP = """
.MAIN
        put     a64[1],1
        put     a64[2],64
        put     a64[3],0
        put     a64[4],0
loop:   add.uc  a64[1],a64[3]           ; i += 1
        add.uc  a64[0],a64[4]           ; acc += input
        lt.u    a64[3],a64[2]           ; i < 64
        jif     loop
"""


def _inputs(n: int) -> list[int]:
    rng = random.Random(1)
    return [rng.randrange(0, 200) for _ in range(n)]


def _throughput(runner, lib: Lib, values: list[int]) -> tuple[float, int]:
    ok = 0
    t = time.perf_counter()
    for v in values:
        regs = Registers()
        regs.a[3][0] = v
        runner(lib, regs, 0, "reference")
        ok += regs.st0
    return len(values) / (time.perf_counter() - t), ok


def _python_validate(v: int) -> bool:
    return 10 <= v <= 100 and v % 2 == 0


def main() -> dict[str, float]:
    from aluvm.asm import assemble_file
    from aluvm.jit.engine import jit_runner
    values = _inputs(N)
    from aluvm.asm import assemble
    loop = assemble(LOOP)
    rows = []
    for name, lib in (("validate.aluasm", assemble_file(ROOT / "examples" / "validate.aluasm")),
                      ("64-step loop", loop)):
        jit_runner(lib, Registers(), 0, "reference")        # compile (and cache) once
        interp_runner(lib, Registers(), 0, "reference")
        r_i, ok_i = _throughput(interp_runner, lib, values)
        r_j, ok_j = _throughput(jit_runner, lib, values)
        assert ok_i == ok_j, "tiers disagree"
        rows.append((name, r_i, r_j))
    t = time.perf_counter()
    expected = sum(_python_validate(v) for v in values)
    r_py = N / (time.perf_counter() - t)
    print(f"batch of {N} inputs (inputs per second)")
    print(f"  {'script':<18}{'interpreter':>14}{'jit':>14}{'jit/interp':>12}")
    for name, r_i, r_j in rows:
        print(f"  {name:<18}{r_i:>14,.0f}{r_j:>14,.0f}{r_j / r_i:>11.1f}x")
    print(f"  plain-Python validate function: {r_py:,.0f}/s ({expected} of {N} valid)")
    return {f"{n}:{k}": v for n, a, b in rows for k, v in (("interp", a), ("jit", b))}


if __name__ == "__main__":
    main()
