"""JIT vs interpreter on the issue's loop: ``add.sw a64[0],a64[1]; jmp 0``.

Code ``200261020000``, a64[0]=3, a64[1]=5; the loop runs until cy0 reaches 65535 (65,536 adds,
131,072 instructions).  One run measures:

* interpreter per run (warm decode cache, median);
* JIT per run, compilation excluded (warm in-process cache, median; includes marshalling);
* compile time (lift + codegen + LLVM + load, disk cache off) and the one-time runtime-helper
  initialisation;
* cached reload (object from the on-disk cache into a fresh in-process cache);
* a plain-Python loop doing the same arithmetic and counters;
* break-even: runs after which compiling has paid for itself.

Usage: ``python bench/bench_jit.py [runs]``.  Targets: JIT < 0.45 ms per run and >= 100x faster
than the interpreter.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aluvm.machine.interp import REFERENCE, Machine  # noqa: E402
from aluvm.library.lib import DEFAULT_ISAE, Lib  # noqa: E402
from aluvm.machine.registers import Registers  # noqa: E402

CODE = bytes.fromhex("200261020000")
EXPECT_B = 5 + 3 * 65536


def fresh() -> Registers:
    regs = Registers()
    regs.a[3][0], regs.a[3][1] = 3, 5
    return regs


def check(regs: Registers) -> None:
    assert regs.cy0 == 65535 and regs.st0 is False and regs.ca0 == 196608
    assert regs.a[3][1] == EXPECT_B, regs.a[3][1]


def timed(fn, runs: int) -> float:
    out = []
    for _ in range(runs):
        regs = fresh()
        t = time.perf_counter()
        fn(regs)
        out.append(time.perf_counter() - t)
        check(regs)
    return statistics.median(out)


def baseline_once() -> float:
    """Plain Python: the same wrapped add, counters and limit checks, no decoding (the sums stay
    positive, so the signed-store rule never changes a value here)."""
    t = time.perf_counter()
    a, b, cy0, ca0, cl0 = 3, 5, 0, 0, None
    while True:
        b = (a + b) & 0xFFFFFFFFFFFFFFFF
        ca0 += 1
        if cl0 is not None and ca0 >= cl0:
            break
        ca0 += 2
        if cy0 == 65535:
            break
        cy0 += 1
    dt = time.perf_counter() - t
    assert b == EXPECT_B
    return dt


def main(runs: int = 15) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="aluvm-jit-bench-") as cache:
        from aluvm.jit.cache import CodeCache, use_code_cache
        from aluvm.jit.settings import JitSettings
        # a fresh object cache: cold compile, then reload
        prev = use_code_cache(CodeCache(JitSettings.from_env(cache_dir=Path(cache))))
        try:
            return _measure(runs)
        finally:
            use_code_cache(prev)


def _measure(runs: int) -> dict[str, float]:
    from aluvm.jit import engine
    from aluvm.jit.engine import jit_runner, last_stats

    lib = Lib.with_(DEFAULT_ISAE, CODE, b"")
    machine = Machine(REFERENCE)
    machine.add(lib.code, lib.data, lib.libs, lib.id)
    machine.run(lib.id, 0, fresh())                       # warm the decode cache
    t_interp = timed(lambda r: machine.run(lib.id, 0, r), max(3, runs // 3))

    t0 = time.perf_counter()
    from aluvm.jit.backend import backend
    from aluvm.jit.cache import code_cache
    from aluvm.jit.loader import loader
    backend()
    loader().load_runtime(code_cache())                    # one-time per process
    t_init = time.perf_counter() - t0

    engine.clear_memory_cache()
    t0 = time.perf_counter()
    engine.get_compiled(lib.code, lib.data, lib.libs, lib.id, REFERENCE, lib.isae)
    t_compile = time.perf_counter() - t0

    engine.clear_memory_cache()
    t0 = time.perf_counter()
    unit, how = engine.get_compiled(lib.code, lib.data, lib.libs, lib.id, REFERENCE, lib.isae)
    t_reload = time.perf_counter() - t0
    assert how == "disk", how

    jit_runner(lib, fresh(), 0, "reference")
    t_jit = timed(lambda r: jit_runner(lib, r, 0, "reference"), runs)
    stats = last_stats()
    t_base = statistics.median(baseline_once() for _ in range(max(3, runs // 3)))

    gain = t_interp - t_jit
    breakeven = t_compile / gain if gain > 0 else float("inf")
    rows = [
        ("interpreter, per run", t_interp * 1e3, ""),
        ("JIT, per run (compiled)", t_jit * 1e3,
         f"{t_interp / t_jit:7.1f}x faster than the interpreter"),
        ("JIT compile (cold, no disk cache)", t_compile * 1e3,
         f"opt level {unit.meta['opt_level']}, {unit.meta['object_bytes']} B object"),
        ("JIT reload from disk cache", t_reload * 1e3, ""),
        ("JIT one-time init (LLVM + helpers)", t_init * 1e3, "once per process"),
        ("plain-Python loop baseline", t_base * 1e3,
         f"{t_base / t_jit:7.1f}x slower than the JIT"),
    ]
    print(f"loop add.sw a64[0],a64[1]; jmp 0  x 65536  (median of {runs} runs)")
    print(f"{'':38}{'ms':>10}")
    for name, ms, note in rows:
        print(f"  {name:36}{ms:10.3f}   {note}")
    print(f"  {'break-even':36}{breakeven:10.1f}   runs until compiling pays off")
    print(f"  native calls {stats['native_calls']}, interpreter steps {stats['interp_steps']}")
    ok = t_jit < 0.45e-3 and t_interp / t_jit >= 100
    print(f"  targets (< 0.45 ms, >= 100x): {'met' if ok else 'NOT met'}")
    return {"interp_s": t_interp, "jit_s": t_jit, "compile_s": t_compile, "reload_s": t_reload,
            "init_s": t_init, "baseline_s": t_base, "breakeven_runs": breakeven}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
