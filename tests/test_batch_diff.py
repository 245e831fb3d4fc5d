"""Batch kernel vs single interpreter runs on random programs from the instruction table.

tests/test_batch.py pins the batch engine on hand-written scripts; this file is its
differential backbone: random programs (the generator of tests/test_jit_diff.py: loops, jumps
into instructions, reserved opcodes, everything the kernel has to hand to the fallback path),
random inputs in every register family (A of every width, F, R, S), undefined inputs, entry
points and complexity limits, both profiles.  Every row of every batch must equal a separate
:func:`aluvm.run` in the interpreter tier: st0, cy0, ca0 and the whole set of defined
registers.  Inputs go in both as ``{"regs": {name: hex}}`` rows and, for narrow A registers, as
numpy columns; the two must agree.
"""
from __future__ import annotations

import random
import re

import numpy as np
import pytest

import aluvm
from aluvm.asm.disassembler import asm_text
from aluvm.isa.codec import decode
from aluvm import Batch, DEFAULT_ISAE, Lib, Registers
from aluvm.machine.registers import A_BITS, A_NAMES, F_BYTES, F_NAMES, R_BITS, R_NAMES

from test_batch import assert_same
from test_jit_diff import NATIVE_ONLY, edge_value, random_instruction, random_program

ROWS = 40
PROGRAMS = 120


#: compiled instructions on A registers only (R and F instructions leave the kernel's native
#: code, so programs of these forms mostly stay native in the kernel)
A_FORMS = [f for f in NATIVE_ONLY if not f.key.endswith(("_r", "_f")) and f.key != "spy"]


def _a_registers_only(ins: bytes) -> bool:
    """No R, F or S operand in the instruction's text (what the kernel keeps native)."""
    text = asm_text(decode(ins, 0))
    return re.search(r"\b([rf]\d+b?|s16)\[", text) is None


def a_program(rng: random.Random) -> bytes:
    """1-12 compiled instructions on A registers only, a loop back a third of the time."""
    code = b""
    for _ in range(rng.randint(1, 12)):
        while True:
            ins = random_instruction(rng, len(code) + 8, True, A_FORMS)
            if _a_registers_only(ins):
                break
        code += ins
    if rng.random() < 0.33:
        code += bytes([rng.choice([2, 3, 4])]) + rng.randrange(len(code)).to_bytes(2, "little")
    return code


@pytest.fixture(autouse=True, scope="module")
def _cache_dir(test_jit_cache):
    yield


def _pick_names(rng: random.Random) -> list[str]:
    """Input registers of one batch: mostly low A indexes (where the generator's operands
    collide), sometimes F, R and S."""
    names = set()
    for _ in range(rng.randint(1, 9)):
        idx = rng.choice([0, 1, 2, 3, rng.randrange(32)])
        names.add(f"{A_NAMES[rng.randrange(8)]}[{idx}]")
    if rng.random() < 0.2:
        names.add(f"s16[{rng.choice([0, 1, 2, rng.randrange(16)])}]")
    if rng.random() < 0.15:
        names.add(f"{R_NAMES[rng.choice([0, 1, 2, 3, 4, rng.randrange(8)])]}[{rng.choice([0, 1, rng.randrange(32)])}]")
    if rng.random() < 0.15:
        names.add(f"{F_NAMES[rng.randrange(8)]}[{rng.choice([0, 1, rng.randrange(32)])}]")
    return sorted(names)


def _value(rng: random.Random, name: str) -> bytes:
    """A random value of register ``name`` in vector format (what the shared vectors and the
    batch input lines carry), produced through :class:`Registers` itself."""
    fam, code = name[0], name[:name.index("[")]
    idx = int(name[name.index("[") + 1:-1])
    regs = Registers()
    if fam == "s":
        return rng.randbytes(rng.choice([0, 1, 5, 32, rng.randrange(80)]))
    if fam == "a":
        regs.a[A_NAMES.index(code)][idx] = edge_value(rng, A_BITS[A_NAMES.index(code)])
    elif fam == "r":
        c = R_NAMES.index(code)
        regs.r[c][idx] = rng.choice([0, 1, rng.getrandbits(R_BITS[c])])
    else:
        regs.set_named(name, rng.randbytes(F_BYTES[F_NAMES.index(code)]))
    return regs.get_named(name)


def _single(lib: Lib, row: dict[str, bytes], entry: int, cl0, profile: str) -> Registers:
    regs = Registers()
    for name, val in row.items():
        regs.set_named(name, val)
    regs.cl0 = cl0
    aluvm.run(lib, regs, entry=entry, profile=profile, tier="interp")
    return regs


def _numpy_columns(rows: list[dict[str, bytes]], names: list[str]) -> dict | None:
    """The same inputs as numpy (masked) columns when every input is a narrow A register."""
    if not all(n[0] == "a" and int(n[1:n.index("[")]) <= 64 for n in names):
        return None
    cols = {}
    for name in names:
        w = int(name[1:name.index("[")]) // 8
        vals = [int.from_bytes(r[name], "big") if name in r else 0 for r in rows]
        cols[name] = np.ma.masked_array(np.array(vals, dtype=f"u{w}"),
                                        mask=[name not in r for r in rows])
    return cols


def check_program(rng: random.Random, profile: str) -> None:
    code = a_program(rng) if rng.random() < 0.5 else random_program(rng)
    data = rng.randbytes(rng.choice([0, 16, 64]))
    lib = Lib.with_(DEFAULT_ISAE, code, data)
    loops = any(b in (2, 3, 4) for b in code)
    # loops run to the complexity limit (a cy0 of 65535 jumps is slow in the interpreter)
    cl0 = (rng.choice([rng.randrange(300), rng.randrange(30000)]) if loops
           else rng.choice([None, None, rng.randrange(400)]))
    entry = 0 if rng.random() < 0.85 else rng.randrange(len(code) + 2)
    names = _pick_names(rng)
    rows = [{n: _value(rng, n) for n in names if rng.random() > 0.1} for _ in range(ROWS)]
    what = f"code={code.hex()} data={data.hex()} entry={entry} cl0={cl0} profile={profile}"
    batch = Batch(lib, tier="jit", threads=2, entry=entry, profile=profile, cl0=cl0, chunk=16)
    res = batch.run([{"regs": {k: v.hex() for k, v in r.items()}} for r in rows])
    for i, row in enumerate(rows):
        regs = _single(lib, row, entry, cl0, profile)
        assert (bool(res.st0[i]), int(res.cy0[i]), int(res.ca0[i])) == \
            (regs.st0, regs.cy0, regs.ca0), f"row {i}: {what}"
        assert res.defined(i) == regs.defined(), f"row {i}: {what}"
    cols = _numpy_columns(rows, names)
    if cols is not None:
        assert_same(batch.run(cols), res)


@pytest.mark.parametrize("profile", ["reference", "spec"])
def test_batch_equals_single_runs_on_random_programs(profile: str) -> None:
    rng = random.Random(f"batch-diff-{profile}")
    for _ in range(PROGRAMS):
        check_program(rng, profile)
