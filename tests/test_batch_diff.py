"""The batch kernel's native code vs single interpreter runs on random compiled programs.

tests/test_batch_fallback.py runs random programs of every kind (most rows leave native code);
this file draws programs the kernel keeps native: 1-12 compiled instructions on A registers only,
sometimes a loop back, random operands (the operand rules of tests/test_jit_diff.py), inputs of
every family with edge values for A registers, undefined inputs, entry points and complexity
limits, both profiles.  Every row must equal a separate :func:`aluvm.run` in the interpreter
tier: st0, cy0, ca0 and the whole set of defined registers.  Inputs go in both as
``{"regs": {name: hex}}`` rows and, for narrow A registers, as numpy columns; the two agree.
"""
from __future__ import annotations

import random
import re

import numpy as np
import pytest

import aluvm
from aluvm.asm.disassembler import asm_text
from aluvm.isa.codec import decode, decode_all
from aluvm import Batch, DEFAULT_ISAE, Lib, Registers
from aluvm.tools.columns import reg_key

from test_batch import assert_same
from test_batch_fallback import random_input_regs, random_raw
from test_jit_diff import edge_value, random_instruction

ROWS = 40
PROGRAMS = 150


def _a_registers_only(ins: bytes) -> bool:
    """No R, F or S operand in the instruction's text (what the kernel keeps native)."""
    text = asm_text(decode(ins, 0))
    return re.search(r"\b([rf]\d+b?|s16)\[", text) is None


def operands(code: bytes) -> set[str]:
    """The A registers the program's instructions name (what makes its inputs matter)."""
    names: set[str] = set()
    for off, ins in decode_all(code)[0]:
        names.update(re.findall(r"\ba\d+\[\d+\]", asm_text(ins)))
    return names


def a_program(rng: random.Random) -> bytes:
    """1-12 compiled instructions on A registers only, a loop back a third of the time."""
    code = b""
    for _ in range(rng.randint(1, 12)):
        while True:
            ins = random_instruction(rng, len(code) + 8, True)
            if _a_registers_only(ins):
                break
        code += ins
    if rng.random() < 0.33:
        code += bytes([rng.choice([2, 3, 4])]) + rng.randrange(len(code)).to_bytes(2, "little")
    return code


@pytest.fixture(autouse=True, scope="module")
def _cache_dir(test_jit_cache):
    yield


def _raw(rng: random.Random, name: str) -> bytes | None:
    """An input value in vector format: A registers get edge values (carries, signs, all
    ones), the other families what the fallback tests give them; a tenth undefined."""
    if not name.startswith("a"):
        return random_raw(rng, name)
    if rng.random() < 0.1:
        return None
    key = reg_key(name)
    return edge_value(rng, key.width * 8).to_bytes(key.width, "big")


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


def check_program(rng: random.Random, profile: str) -> int:
    """One random program over ``ROWS`` inputs; returns how many rows stayed native."""
    code = a_program(rng)
    data = rng.randbytes(rng.choice([0, 16, 64]))
    lib = Lib.with_(DEFAULT_ISAE, code, data)
    loops = any(b in (2, 3, 4) for b in code)
    # loops run to the complexity limit (a cy0 of 65535 jumps is slow in the interpreter)
    cl0 = (rng.choice([rng.randrange(300), rng.randrange(30000)]) if loops
           else rng.choice([None, None, rng.randrange(400)]))
    entry = 0 if rng.random() < 0.85 else rng.randrange(len(code) + 2)
    names = sorted(operands(code) | set(random_input_regs(rng)))
    rows = [{n: v for n in names if (v := _raw(rng, n)) is not None} for _ in range(ROWS)]
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
    return int((~res.fallback).sum())


@pytest.mark.parametrize("profile", ["reference", "spec"])
def test_batch_equals_single_runs_on_random_programs(profile: str) -> None:
    rng = random.Random(f"batch-diff-{profile}")
    native = sum(check_program(rng, profile) for _ in range(PROGRAMS))
    assert native > PROGRAMS * ROWS // 4        # the kernel's own code, not only fallbacks
