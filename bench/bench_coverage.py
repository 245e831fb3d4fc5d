"""What the wider JIT coverage buys: loops over R registers, f32/f64 and spec ``inc``, JIT per
run vs interpreter per run, in one process (interleaved rounds, medians).

Each loop runs to the jump limit from cy0 = 65535 - 4096 (4,097 rounds); both tiers' final
states are checked equal, and the JIT run must not leave native code (no fallback exits).

    python bench/bench_coverage.py [rounds]
"""
from __future__ import annotations

import statistics
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aluvm.isa import table as isa  # noqa: E402
from aluvm.isa.codec import encode  # noqa: E402
from aluvm.library.lib import DEFAULT_ISAE, Lib  # noqa: E402
from aluvm.machine.registers import Registers  # noqa: E402

ROUNDS_CY0 = 65535 - 4096


def _ins(key: str, *args: int) -> bytes:
    return encode(isa.BY_KEY[key], list(args))


def _f64(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def cases() -> dict[str, tuple[bytes, str, dict]]:
    """name -> (code, profile, registers: name -> value)."""
    jmp = _ins("jmp", 0)
    return {
        "r256 xor+shl+eq": (_ins("xor", 10, 0, 1, 2) + _ins("shl", 0, 0, 10, 2)
                            + _ins("eq_r", 0, 1, 2, 2) + jmp, "reference",
                            {"r": [(2, 0, (1 << 255) | 12345), (2, 1, 987654321)], "a": [(0, 0, 3)]}),
        "f64 add+mul (nearest)": (_ins("add_f", 1, 0, 1, 3) + _ins("mul_f", 1, 2, 1, 3) + jmp,
                                  "reference", {"f": [(3, 0, _f64(1e-3)), (3, 1, _f64(1.0)),
                                                      (3, 2, _f64(0.5))]}),
        "spec inc a64": (_ins("stp", 3, 0, 1) + jmp, "spec", {"a": [(3, 0, 5)]}),
    }


def _regs(init: dict) -> Registers:
    regs = Registers()
    for bank, items in init.items():
        for code, idx, v in items:
            getattr(regs, bank)[code][idx] = v
    regs.cy0 = ROUNDS_CY0
    return regs


def main(rounds: int = 9) -> dict:
    from aluvm import run
    from aluvm.jit.engine import last_stats
    out = {}
    for name, (code, profile, init) in cases().items():
        lib = Lib.with_(DEFAULT_ISAE, code, b"")
        r1, r2 = _regs(init), _regs(init)
        run(lib, r1, profile=profile)
        run(lib, r2, tier="jit", profile=profile)
        assert (r1.a, r1.f, r1.r, r1.st0, r1.cy0, r1.ca0) == (r2.a, r2.f, r2.r, r2.st0, r2.cy0, r2.ca0), name
        stats = last_stats()
        assert stats["fallback_exits"] == 0 and stats["fallback_instrs"] == 0, (name, stats)
        t_i: list[float] = []
        t_j: list[float] = []
        for _ in range(rounds):
            for tier, times in (("interp", t_i), ("jit", t_j)):
                regs = _regs(init)
                t = time.perf_counter()
                run(lib, regs, tier=tier, profile=profile)
                times.append(time.perf_counter() - t)
        mi, mj = statistics.median(t_i), statistics.median(t_j)
        print(f"  {name:24} interpreter {mi * 1e3:8.3f} ms   JIT {mj * 1e3:7.3f} ms   "
              f"interpreter / JIT {mi / mj:7.1f}")
        out[name] = mi / mj
    return out


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
