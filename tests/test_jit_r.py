"""R registers (r128..r1024) in the JIT: bitwise logic, shifts, rotations, reversal, compares,
put/clear, moves and ``spy`` (A <-> R) compile, and leave exactly the interpreter's state.

Random programs over those families only (with the a8/a16 shift registers they read), random R
values at the edges that matter (0, 1, the top bit, all ones), loops to the jump limit, both
profiles; the same programs again with the native register file against a guard page at either
end.  r2048..r8192 stay in the interpreter (compile cost, see jit/support.py).
"""
from __future__ import annotations

import random

import pytest

from aluvm.isa import table as isa
from aluvm.isa.codec import encode
from aluvm.jit import guard
from aluvm.jit.engine import jit_runner, last_stats
from aluvm.library.lib import DEFAULT_ISAE, Lib
from aluvm.machine.registers import R_BITS, Registers
from aluvm.tools.service import interp_runner

from test_jit_diff import snapshot

pytestmark = pytest.mark.usefixtures("jit_eager")

#: the R forms and how their register field is coded: "ar" (RegAR, 8 + R code), "r" (R code);
#: the JIT compiles them for r128..r1024 (R codes 0..4)
R_FORMS = {
    "and": "ar", "or": "ar", "xor": "ar", "not": "ar", "shl": "ar", "scl": "ar", "scr": "ar",
    "shr_r": "r", "rev_r": "r", "clr_r": "r", "put_r": "r", "putif_r": "r", "mov_r": "r",
    "dup_r": "r", "cpy_r": "r", "eq_r": "r", "ifz_r": "r", "ifn_r": "r", "gt_r": "r", "lt_r": "r",
    "spy": "r",
}


def _reg_field(rng: random.Random, kind: str) -> int:
    return (8 if kind == "ar" else 0) + rng.randrange(5)


def _instruction(rng: random.Random) -> bytes:
    key = rng.choice(sorted(R_FORMS))
    form = isa.BY_KEY[key]
    args = []
    for f in form.fields:
        if f.fixed is not None or f.kind == "pad":
            continue
        if key == "spy" and f.name == "reg1":
            v = rng.randrange(8)                        # spy's A register: any width
        elif f.name in ("reg", "reg1", "reg2"):
            v = _reg_field(rng, R_FORMS[key])
        elif f.name == "off":
            v = rng.choice([0, 8, 64, rng.randrange(2048)])
        elif f.name == "a2":
            v = rng.randrange(2)
        elif f.name == "flag":
            v = rng.randrange(1 << f.bits)
        else:
            v = rng.choice([0, 1, 2, 3, rng.randrange(1 << f.bits)])
        args.append(v)
    return encode(form, args)


def _value(rng: random.Random, w: int) -> int:
    mask = (1 << w) - 1
    pick = [0, 1, mask, 1 << (w - 1), mask >> 1, rng.getrandbits(w), rng.getrandbits(w),
            rng.getrandbits(rng.randint(1, w))]
    return rng.choice(pick)


def _registers(rng: random.Random, loop: bool) -> Registers:
    regs = Registers()
    for c in range(8):
        for i in range(4):
            if rng.random() < 0.6:
                regs.r[c][i] = _value(rng, R_BITS[c])
    for c in (0, 1):                                    # shift amounts (a8 / a16)
        for i in range(4):
            if rng.random() < 0.8:
                regs.a[c][i] = rng.choice([0, 1, 7, 63, 127, 128, 159, 160, 200, 255,
                                           rng.randrange(1 << (8 << c))])
    for c in range(2, 8):                               # spy's other A registers
        for i in range(4):
            if rng.random() < 0.5:
                regs.a[c][i] = _value(rng, 8 << c)
    regs.st0 = rng.random() < 0.6
    regs.cy0 = 65535 - rng.randrange(30) if loop else 0
    return regs


def _program(rng: random.Random) -> tuple[bytes, bool]:
    code = b"".join(_instruction(rng) for _ in range(rng.randint(1, 8)))
    loop = rng.random() < 0.4
    if loop:
        code += encode(isa.BY_KEY["jmp"], [0])
    return code, loop


def _check(seed: str, profile: str) -> dict:
    rng = random.Random(seed)
    code, loop = _program(rng)
    data = rng.randbytes(rng.choice([0, 40, 3000]))
    regs = _registers(rng, loop)
    lib = Lib.with_(DEFAULT_ISAE, code, data)
    r1, r2 = regs.copy(), regs.copy()
    o1 = interp_runner(lib, r1, 0, profile)
    o2 = jit_runner(lib, r2, 0, profile)
    stats = last_stats()
    assert "compile_error" not in stats, stats["compile_error"]
    assert snapshot(r1, o1, lib) == snapshot(r2, o2, lib), f"code={code.hex()} profile={profile}"
    return stats


@pytest.mark.parametrize("profile", ["reference", "spec"])
def test_r_families_match_the_interpreter_and_compile(profile: str) -> None:
    fallback = compiled = 0
    for k in range(250):
        stats = _check(f"r-{profile}-{k}", profile)
        fallback += stats["fallback_instrs"]
        compiled += stats["compiled_instrs"]
    # every drawn form is one the JIT compiles (put_r/putif_r past the data segment too)
    assert fallback == 0 and compiled > 1000


@pytest.mark.parametrize("mode", ["start", "end"])
def test_r_families_with_the_register_file_against_a_guard_page(mode: str) -> None:
    """The R banks lie at the far end of the native register file, past the call-stack window."""
    guard.enable(mode)
    try:
        for k in range(40):
            _check(f"r-guard-{mode}-{k}", "reference")
    finally:
        guard.enable(None)


@pytest.mark.parametrize("key", ["xor", "gt_r"])
def test_wide_r_runs_in_the_interpreter(key: str) -> None:
    """r2048 with an operand of 2^1024: the reference panics (P20/P21), spec computes; the
    instruction is left to the interpreter (r2048+ does not compile) and both tiers agree."""
    code = encode(isa.BY_KEY[key], [13, 0, 1, 2] if key == "xor" else [0, 1, 5])
    lib = Lib.with_(DEFAULT_ISAE, code, b"")
    for profile in ("reference", "spec"):
        regs = Registers()
        regs.r[5][0], regs.r[5][1] = 1 << 1024, 5
        r1, r2 = regs.copy(), regs.copy()
        o1, o2 = interp_runner(lib, r1, 0, profile), jit_runner(lib, r2, 0, profile)
        assert snapshot(r1, o1, lib) == snapshot(r2, o2, lib)
        assert last_stats()["fallback_instrs"] == 1
        assert o2.panicked == (profile == "reference")
