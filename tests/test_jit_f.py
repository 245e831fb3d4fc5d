"""F registers in the JIT: f32/f64 add/sub/mul/div in round-to-nearest-even, comparisons, neg,
abs, put, clear and moves compile, and leave exactly the interpreter's state (NaN operands, -0, infinities, overflow,
subnormal results - exact sums, underflowing products - division by zero); other rounding modes
and formats stay in the interpreter.
"""
from __future__ import annotations

import itertools
import random
import struct

import pytest

from aluvm.isa import table as isa
from aluvm.isa.codec import encode
from aluvm.jit.engine import jit_runner, last_stats
from aluvm.library.lib import DEFAULT_ISAE, Lib
from aluvm.machine.registers import Registers
from aluvm.tools.service import interp_runner

from test_jit_diff import snapshot

pytestmark = pytest.mark.usefixtures("jit_eager")

F32, F64 = 2, 3
OPS = ("add_f", "sub_f", "mul_f", "div_f")


def _f32(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def _f64(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


#: bit patterns at the edges: zeros, infinities, NaNs, subnormals, min normal, max finite
EDGES = {
    F32: [0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFF800001, 0x00000001, 0x80000001,
          0x007FFFFF, 0x00800000, 0x80800000, 0x7F7FFFFF, 0xFF7FFFFF, _f32(1.0), _f32(-1.5),
          _f32(3.0), _f32(0.1), _f32(2.0 ** -100), _f32(2.0 ** 100), _f32(2.0 ** -63),
          _f32(1.0000001), _f32(-2.0 ** -126 * 1.5)],
    F64: [0, 1 << 63, 0x7FF << 52, 0xFFF << 52, 0x7FF8 << 48, (0x7FF << 52) | 1, 1, (1 << 63) | 1,
          (1 << 52) - 1, 1 << 52, (1 << 63) | (1 << 52), 0x7FEFFFFFFFFFFFFF, 0xFFEFFFFFFFFFFFFF,
          _f64(1.0), _f64(-1.5), _f64(3.0), _f64(0.1), _f64(2.0 ** -600), _f64(2.0 ** 600),
          _f64(2.0 ** -511), _f64(1.0000000000000002), _f64(-2.0 ** -1022 * 1.5)],
}


def _run_both(lib: Lib, regs: Registers, profile: str = "reference") -> dict:
    r1, r2 = regs.copy(), regs.copy()
    o1, o2 = interp_runner(lib, r1, 0, profile), jit_runner(lib, r2, 0, profile)
    a, b = snapshot(r1, o1, lib), snapshot(r2, o2, lib)
    assert a == b, f"code={lib.code.hex()} f={regs.f[2][:2]} {regs.f[3][:2]}"
    return last_stats()


@pytest.mark.parametrize("fc,key", list(itertools.product((F32, F64), OPS)))
def test_arithmetic_on_every_pair_of_edge_values(fc: int, key: str) -> None:
    """One compiled library (op; stinv; op) per format and op, every pair of edge values
    (and undefined), both operand orders."""
    op = encode(isa.BY_KEY[key], [1, 0, 1, fc])
    lib = Lib.with_(DEFAULT_ISAE, op + b"\x1f" + op, b"")
    values = EDGES[fc] + [None]
    for x, y in itertools.product(values, values):
        regs = Registers()
        regs.f[fc][0], regs.f[fc][1] = x, y
        stats = _run_both(lib, regs)
        assert stats["fallback_instrs"] == 0


@pytest.mark.parametrize("fc,key", list(itertools.product((F32, F64), ("gt_f", "lt_f", "eq_f"))))
def test_comparisons_on_every_pair_of_edge_values(fc: int, key: str) -> None:
    """``.e`` (IEEE order) and ``.r`` (the reference's flipped-exponent-bit order), one library
    for both flags; NaN and undefined operands give false, -0 equals +0."""
    code = b"".join(encode(isa.BY_KEY[key], [flag, 0, 1, fc]) + encode(isa.BY_KEY["st"], [0, 0, k])
                    for k, flag in enumerate((0, 1)))
    lib = Lib.with_(DEFAULT_ISAE, code, b"")
    values = EDGES[fc] + [None]
    for x, y in itertools.product(values, values):
        regs = Registers()
        regs.f[fc][0], regs.f[fc][1] = x, y
        assert _run_both(lib, regs)["fallback_instrs"] == 0


@pytest.mark.parametrize("fc", [F32, F64])
def test_neg_abs_put_on_every_edge_value(fc: int) -> None:
    code = (encode(isa.BY_KEY["neg"], [8 + fc, 0]) + encode(isa.BY_KEY["abs"], [8 + fc, 1])
            + encode(isa.BY_KEY["put_f"], [fc, 2, 0]) + encode(isa.BY_KEY["put_f"], [fc, 3, 60]))
    for v in EDGES[fc] + [None]:
        data = (v or 0).to_bytes(8, "little")       # put_f f[3] lies past the data segment
        lib = Lib.with_(DEFAULT_ISAE, code, data)
        regs = Registers()
        regs.f[fc][0] = regs.f[fc][1] = v
        assert _run_both(lib, regs)["fallback_instrs"] == 0


def _random_value(rng: random.Random, fc: int) -> int:
    w = 32 if fc == F32 else 64
    if rng.random() < 0.4:
        return rng.choice(EDGES[fc])
    if rng.random() < 0.5:          # exponent near the ends: overflow and underflow
        e = rng.choice([1, 2, 3, 100, (1 << (8 if fc == F32 else 11)) - 2])
        fb = 23 if fc == F32 else 52
        return (rng.getrandbits(1) << (w - 1)) | (e << fb) | rng.getrandbits(fb)
    return rng.getrandbits(w)


def _program(rng: random.Random) -> tuple[bytes, bool]:
    out = b""
    for _ in range(rng.randint(1, 8)):
        key = rng.choice(OPS + ("clr_f", "mov_f", "dup_f", "swp_f", "gt_f", "lt_f", "eq_f",
                                "neg", "abs", "put_f"))
        fc = rng.choice([F32, F64])
        i, j = rng.randrange(4), rng.randrange(4)
        if key in OPS:
            rnd = 1 if rng.random() < 0.85 else rng.randrange(4)
            out += encode(isa.BY_KEY[key], [rnd, i, j, fc])
        elif key == "clr_f":
            out += encode(isa.BY_KEY[key], [fc, i])
        elif key in ("neg", "abs"):
            out += encode(isa.BY_KEY[key], [8 + fc, i])
        elif key == "put_f":
            out += encode(isa.BY_KEY[key], [fc, i, rng.randrange(40)])
        elif key in ("gt_f", "lt_f", "eq_f"):
            out += encode(isa.BY_KEY[key], [rng.randrange(2), i, j, fc])
        else:
            out += encode(isa.BY_KEY[key], [i, j, fc])
    loop = rng.random() < 0.4
    if loop:
        out += encode(isa.BY_KEY["jmp"], [0])
    return out, loop


@pytest.mark.parametrize("profile", ["reference", "spec"])
def test_random_float_programs_match_the_interpreter(profile: str) -> None:
    rng = random.Random(f"f-{profile}")
    compiled = 0
    for _ in range(250):
        code, loop = _program(rng)
        regs = Registers()
        for fc in (F32, F64):
            for i in range(4):
                if rng.random() < 0.85:
                    regs.f[fc][i] = _random_value(rng, fc)
        regs.st0 = rng.random() < 0.5
        regs.cy0 = 65535 - rng.randrange(40) if loop else 0
        data = b"".join(v.to_bytes(8, "little") for v in (_random_value(rng, F64) for _ in range(4)))
        compiled += _run_both(Lib.with_(DEFAULT_ISAE, code, data), regs, profile)["compiled_instrs"]
    assert compiled > 1000


def test_other_rounding_modes_and_formats_stay_in_the_interpreter() -> None:
    code = (encode(isa.BY_KEY["add_f"], [0, 0, 1, F64]) + encode(isa.BY_KEY["mul_f"], [1, 0, 1, 5])
            + encode(isa.BY_KEY["add_f"], [1, 0, 1, F64]))
    regs = Registers()
    regs.f[F64][0], regs.f[F64][1] = _f64(0.1), _f64(0.2)
    stats = _run_both(Lib.with_(DEFAULT_ISAE, code, b""), regs)
    assert stats["fallback_keys"] == {"add_f": 1, "mul_f": 1} and stats["compiled_instrs"] == 1
