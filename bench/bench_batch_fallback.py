"""The batch engine on scripts the kernel cannot run natively (every input takes the fallback
path), against the old per-input path and the interpreter's batch.

Scripts:

* ``sha256``: ``examples/sha256_commitment.aluasm`` (S register, sha2, R compare: nothing of
  it runs in the kernel) - the fallback-heavy row of ``bench_batch.py``;
* ``mixed``: native A arithmetic, then an R instruction (leaves the kernel mid-run), then more
  A work: the kernel's rows all fall back after running part of the script natively;
* ``loop+sha2``: a loop (so single runs are native too), then ``sha2``: every run, batch or
  single, makes a round trip native -> interpreter -> native.

Cases, one process, interleaved round by round, medians: ``aluvm.Batch`` JIT tier (kernel +
fallback), ``aluvm.Batch`` interpreter tier, and the old per-input path (a ``Registers`` per
input through ``jit_runner``, what ``bench_batch.py`` calls the old path).  Both wall-clock
runs/s and runs per CPU-second of the calling thread (``thread_time``: less sensitive to other
processes on a shared machine) are printed, with the batch / old ratios.  Before timing, the
batch results are checked against single runs on a sample.

    python bench/bench_batch_fallback.py [--n 2500] [--rounds 9]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIXED = """
.MAIN
        put     a64[2],7
        add.uc  a64[0],a64[2]
        mul.uc  a64[0],a64[1]
        eq.n    r128[0],r128[1]
        add.uc  a64[1],a64[0]
        lt.u    a64[1],a64[3]
"""

#: a loop the JIT compiles for single runs too (not "tiny"), then an S instruction: every run
#: leaves native code once in the middle (a round trip native -> interpreter -> native)
LOOP_SHA = """
.MAIN
        put     a64[2],3
        put     a64[4],0
loop:   add.uc  a64[2],a64[0]
        add.uc  a64[1],a64[0]
        add.uc  a64[2],a64[4]
        lt.u    a64[4],a64[3]
        jif     loop
        sha2    s16[0],r256[0]
        put     a64[5],1
        add.uc  a64[5],a64[0]
        mul.uc  a64[5],a64[0]
        gt.u    a64[0],a64[5]
"""


def scripts(n: int) -> dict[str, tuple[Any, dict[str, Any]]]:
    from aluvm.asm import assemble, assemble_file
    sha = assemble_file(ROOT / "examples" / "sha256_commitment.aluasm")
    msgs = [b"AluVM commitment" if k % 2 else bytes([k % 251]) * (k % 60) for k in range(n)]
    rng = np.random.default_rng(5)
    mixed = {"a64[0]": rng.integers(0, 1 << 20, n, dtype=np.uint64),
             "a64[1]": rng.integers(0, 1 << 20, n, dtype=np.uint64),
             "a64[3]": rng.integers(0, 1 << 40, n, dtype=np.uint64),
             "r128[0]": [int(x).to_bytes(16, "little") for x in rng.integers(0, 3, n)],
             "r128[1]": [int(x).to_bytes(16, "little") for x in rng.integers(0, 3, n)]}
    loop_sha = {"a64[0]": mixed["a64[0]"], "a64[1]": mixed["a64[1]"],
                "a64[3]": rng.integers(0, 40, n, dtype=np.uint64), "s16[0]": msgs}
    return {"sha256": (sha, {"s16[0]": msgs}), "mixed": (assemble(MIXED), mixed),
            "loop+sha2": (assemble(LOOP_SHA), loop_sha)}


def old_path(lib: Any, inputs: dict[str, Any], n: int) -> Callable[[], None]:
    """A ``Registers`` per input through ``jit_runner`` (inputs set from Python lists)."""
    from aluvm.jit.engine import jit_runner
    from aluvm.machine.registers import Registers
    from aluvm.tools.columns import reg_key
    sets = []
    for name, col in inputs.items():
        key = reg_key(name)
        vals = col.tolist() if isinstance(col, np.ndarray) else list(col)
        if key.fam == "r":
            vals = [int.from_bytes(v, "little") for v in vals]
        sets.append((key.fam, key.code, key.idx, vals))

    def go() -> None:
        for j in range(n):
            regs = Registers()
            for fam, code, idx, vals in sets:
                if fam == "s":
                    regs.s[idx] = vals[j]
                else:
                    getattr(regs, fam)[code][idx] = vals[j]
            jit_runner(lib, regs, 0, "reference")
    return go


def check(lib: Any, inputs: dict[str, Any], res: Any, rows: range) -> None:
    """Batch rows == single runs (st0, cy0, ca0, every defined register)."""
    import aluvm
    from aluvm.machine.registers import Registers
    from aluvm.tools.columns import reg_key
    for i in rows:
        regs = Registers()
        for name, col in inputs.items():
            v = col[i]
            key = reg_key(name)
            regs.set_named(name, v if isinstance(v, bytes) else int(v).to_bytes(key.width, "big"))
        aluvm.run(lib, regs, tier="jit")
        got = (bool(res.st0[i]), int(res.cy0[i]), int(res.ca0[i]), res.defined(i))
        assert got == (regs.st0, regs.cy0, regs.ca0, regs.defined()), i


def main(argv: list[str] | None = None) -> dict[str, float]:
    from aluvm import Batch
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2500)
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args(argv)
    n = args.n
    cases: dict[str, Callable[[], Any]] = {}
    for name, (lib, inputs) in scripts(n).items():
        jit, interp = Batch(lib, threads=1), Batch(lib, tier="interp")
        res = jit.run(inputs)
        assert res.fallback.all()
        check(lib, inputs, res, range(0, n, max(1, n // 50)))
        check(lib, inputs, interp.run(inputs), range(0, n, max(1, n // 50)))
        old = old_path(lib, inputs, n)
        old()
        cases[f"{name}: kernel + fallback"] = lambda b=jit, i=inputs: b.run(i)
        cases[f"{name}: interpreter batch"] = lambda b=interp, i=inputs: b.run(i)
        cases[f"{name}: old per-input path"] = old
    wall: dict[str, list[float]] = {k: [] for k in cases}
    cpu: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.rounds):
        for k, fn in cases.items():
            t0, c0 = time.perf_counter(), time.thread_time()
            fn()
            cpu[k].append(time.thread_time() - c0)
            wall[k].append(time.perf_counter() - t0)
    out: dict[str, float] = {}
    print(f"batch fallback path, {n:,} inputs per run, medians of {args.rounds} interleaved "
          f"rounds")
    print(f"  {'case':<40}{'runs/s':>12}{'runs/CPU-s':>13}")
    for k in cases:
        w, c = n / statistics.median(wall[k]), n / statistics.median(cpu[k])
        out[k], out[k + " (cpu)"] = w, c
        print(f"  {k:<40}{w:>12,.0f}{c:>13,.0f}")
    for name in scripts(1):
        kf, ib, op = (f"{name}: kernel + fallback", f"{name}: interpreter batch",
                      f"{name}: old per-input path")
        print(f"  {name}: kernel + fallback / old path {out[kf] / out[op]:.2f} "
              f"(CPU {out[kf + ' (cpu)'] / out[op + ' (cpu)']:.2f}), / interpreter batch "
              f"{out[kf] / out[ib]:.2f} (CPU {out[kf + ' (cpu)'] / out[ib + ' (cpu)']:.2f})")
    return out


if __name__ == "__main__":
    main()
