"""JIT versus C, interpreter versus inline CPython: issue 9's loops, in one process.

The C program (``bench/loops.c``) keeps exactly the machine's semantics and counters; it is built
here with the system C compiler (``-O2``, skipped cleanly if there is none) as a shared object
and called through ctypes, so every contender runs in this process, interleaved round by round;
the table shows medians.  Every contender's final state is checked against the interpreter's
(the conformance-tested reference tier) and the C program's before anything is timed.

    python bench/bench_native.py [rounds]
"""
from __future__ import annotations

import ctypes
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aluvm import Lib, Registers, run  # noqa: E402
from aluvm.library.lib import DEFAULT_ISAE  # noqa: E402

HERE = Path(__file__).resolve().parent
M64 = (1 << 64) - 1

#: name -> (code hex, initial registers {(bank, idx): value}, C function)
PROGRAMS = {
    "loop1": ("200261020000", {(3, 0): 3, (3, 1): 5}),
    "loop4": ("200261" * 4 + "020000", {(3, 0): 3, (3, 1): 5}),
    "loopmix": ("2002012002212002412202612a0321020000",
                {(0, 0): 3, (0, 1): 5, (1, 0): 3, (1, 1): 5, (2, 0): 3, (2, 1): 5,
                 (3, 0): 3, (3, 1): 5}),
}
#: (bank code, width, C field names)
_BANKS = ((0, 8, "a8", "d8", 2), (1, 16, "a16", "d16", 2), (2, 32, "a32", "d32", 2),
          (3, 64, "a64", "d64", 3))
#: the reference's quoted time for loop1 (rust-aluvm, release build)
REFERENCE_LOOP1_S = 0.9


class CState(ctypes.Structure):
    _fields_ = [("a8", ctypes.c_uint64 * 2), ("a16", ctypes.c_uint64 * 2),
                ("a32", ctypes.c_uint64 * 2), ("a64", ctypes.c_uint64 * 3),
                ("d8", ctypes.c_uint8 * 2), ("d16", ctypes.c_uint8 * 2),
                ("d32", ctypes.c_uint8 * 2), ("d64", ctypes.c_uint8 * 3),
                ("st0", ctypes.c_uint8), ("has_cl0", ctypes.c_uint8), ("cy0", ctypes.c_uint32),
                ("ca0", ctypes.c_uint64), ("cl0", ctypes.c_uint64)]


def build_c(workdir: Path) -> Optional[ctypes.CDLL]:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        return None
    out = workdir / "loops.so"
    r = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(out), str(HERE / "loops.c")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"  (C compiler failed: {r.stderr.strip()[:200]})")
        return None
    return ctypes.CDLL(str(out))


def fresh(init: dict) -> Registers:
    regs = Registers()
    for (c, i), v in init.items():
        regs.a[c][i] = v
    return regs


def c_state(init: dict) -> CState:
    s = CState()
    for c, _w, a, d, _n in _BANKS:
        for (cc, i), v in init.items():
            if cc == c:
                getattr(s, a)[i] = v
                getattr(s, d)[i] = 1
    s.st0 = 1
    return s


def state_of_regs(regs: Registers) -> tuple:
    a = tuple((c, i, regs.a[c][i]) for c, _w, _a, _d, n in _BANKS for i in range(n))
    return a, bool(regs.st0), regs.cy0, regs.ca0


def state_of_c(s: CState) -> tuple:
    a = tuple((c, i, getattr(s, an)[i] if getattr(s, dn)[i] else None)
              for c, _w, an, dn, n in _BANKS for i in range(n))
    return a, bool(s.st0), s.cy0, s.ca0


def inline_loop1() -> tuple:
    """loop1 written as one inline CPython loop: the same wrapped add with the signed store
    rule, defined flags, st0, saturating ca0 with the cl0 check, cy0 and its limit."""
    a, b, da, db = 3, 5, True, True
    st0, cy0, ca0, cl0 = True, 0, 0, None
    m = M64
    while True:
        if da and db:
            b = (a + b) & m
            if b >> 63:                                   # store_signed
                nb = ((b ^ m).bit_length() + 8) & ~7
                if nb < 64:
                    b &= (1 << nb) - 1
            st0 = True
        else:
            b, db, st0 = None, False, False
        ca0 += 1
        if ca0 > m:
            ca0 = m
        if cl0 is not None and ca0 >= cl0:
            st0 = False
            break
        ca0 += 2
        if ca0 > m:
            ca0 = m
        if cy0 >= 65535:
            st0 = False
            break
        cy0 += 1
        if cl0 is not None and ca0 >= cl0:
            st0 = False
            break
    return b, st0, cy0, ca0


def timed(setup: Callable[[], object], fn: Callable[[object], object]) -> float:
    """Seconds of ``fn(setup())``, the setup (a fresh register file) not counted, after one
    untimed call (so every contender is measured warm, whatever ran before it)."""
    fn(setup())
    arg = setup()
    t = time.perf_counter()
    fn(arg)
    return time.perf_counter() - t


def main(rounds: int = 15) -> dict:
    with tempfile.TemporaryDirectory(prefix="aluvm-bench-c-") as tmp:
        return _measure(rounds, build_c(Path(tmp)))


def _measure(rounds: int, clib: Optional[ctypes.CDLL]) -> dict:
    results: dict[str, dict[str, float]] = {}
    for name, (code, init) in PROGRAMS.items():
        lib = Lib.with_(DEFAULT_ISAE, bytes.fromhex(code), b"")
        ref_regs = fresh(init)
        run(lib, ref_regs)                               # the interpreter: reference tier
        expect = state_of_regs(ref_regs)
        contenders: dict[str, tuple[Callable, Callable]] = {}
        for profile in ("reference", "spec"):
            regs = fresh(init)
            run(lib, regs, tier="jit", profile=profile)   # compile + check
            got = state_of_regs(regs)
            if profile == "reference" or got == expect:
                assert got == expect, (name, profile, got, expect)
            contenders[f"jit/{profile}"] = (
                lambda: fresh(init), lambda r, p=profile: run(lib, r, tier="jit", profile=p))
        if clib is not None:
            fn = getattr(clib, name)
            s = c_state(init)
            fn(ctypes.byref(s))
            assert state_of_c(s) == expect, (name, state_of_c(s), expect)
            contenders["C -O2"] = (lambda: ctypes.byref(c_state(init)), fn)
        if name == "loop1":
            assert inline_loop1() == (expect[0][7][2], expect[1], expect[2], expect[3])
            contenders["interpreter"] = (lambda: fresh(init), lambda r: run(lib, r))
            contenders["inline CPython"] = (lambda: None, lambda _: inline_loop1())
        times: dict[str, list[float]] = {k: [] for k in contenders}
        for _ in range(rounds):
            for k, (setup, call) in contenders.items():
                times[k].append(timed(setup, call))
        results[name] = {k: statistics.median(v) for k, v in times.items()}
    _report(results, rounds, clib is not None)
    return results


def _report(results: dict, rounds: int, have_c: bool) -> None:
    print(f"medians of {rounds} interleaved rounds, one process; final states checked")
    print(f"  {'program':9}{'JIT ref ms':>11}{'JIT spec ms':>12}{'C -O2 ms':>10}"
          f"{'JIT/C':>7}{'spec/C':>8}")
    for name, r in results.items():
        c = r.get("C -O2")
        ratio = f"{r['jit/reference'] / c:7.2f}{r['jit/spec'] / c:8.2f}" if c else "   (no C compiler)"
        print(f"  {name:9}{r['jit/reference'] * 1e3:11.3f}{r['jit/spec'] * 1e3:12.3f}"
              f"{(c or 0) * 1e3:10.3f}{ratio}")
    r = results["loop1"]
    print(f"  loop1 interpreter {r['interpreter'] * 1e3:.2f} ms, inline CPython "
          f"{r['inline CPython'] * 1e3:.2f} ms: interpreter / inline = "
          f"{r['interpreter'] / r['inline CPython']:.2f}; reference (quoted) "
          f"{REFERENCE_LOOP1_S * 1e3:.0f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
