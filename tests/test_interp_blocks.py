"""The interpreter's block dispatch (aluvm.machine.blocks) changes nothing but speed.

A plain run dispatches a straight-line block (or a one-block loop) at a time; a traced run
goes instruction by instruction (``Program._run_full``).  Both must leave the same state and
outcome on random programs from the instruction table (loops, panics, complexity limits inside
blocks, jump counters at the limit, both profiles), and the corner cases are pinned by hand.
"""
from __future__ import annotations

import random

import pytest

from aluvm.isa import table as isa
from aluvm.isa.codec import encode
from aluvm.library.lib import DEFAULT_ISAE, Lib
from aluvm.machine.interp import PROFILES, Machine
from aluvm.machine.registers import Registers

from test_jit_diff import random_program, random_registers, snapshot


def _run(code: bytes, regs: Registers, profile: str, per_instruction: bool,
         data: bytes = b"", entry: int = 0) -> dict:
    lib = Lib.with_(DEFAULT_ISAE, code, data)
    machine = Machine(PROFILES[profile])
    machine.add(lib.code, lib.data, lib.libs, lib.id)
    trace = (lambda *_: None) if per_instruction else None   # a trace forces single steps
    outcome = machine.run(lib.id, entry, regs, trace=trace, check=False)
    return snapshot(regs, outcome, lib)


@pytest.mark.parametrize("profile", ["reference", "spec"])
def test_blocks_match_single_steps_on_random_programs(profile: str) -> None:
    rng = random.Random(f"blocks-{profile}")
    for _ in range(1500):
        code = random_program(rng)
        data = rng.randbytes(rng.choice([0, 16, 64]))
        regs = random_registers(rng, any(b in (2, 3, 4) for b in code))
        entry = 0 if rng.random() < 0.85 else rng.randrange(len(code) + 2)
        blocks = _run(code, regs.copy(), profile, False, data, entry)
        steps = _run(code, regs.copy(), profile, True, data, entry)
        assert blocks == steps, f"code={code.hex()} entry={entry} profile={profile}"


def _ins(key: str, *args: int) -> bytes:
    return encode(isa.BY_KEY[key], list(args))


def _cx(key: str) -> int:
    return isa.BY_KEY[key].cx


def test_panic_inside_a_block_charges_the_instructions_before_it() -> None:
    """Two adds, then stp on a defined a64 (the reference panics, P1): ca0 holds the adds'
    complexity only, exactly as the instruction-by-instruction loop leaves it."""
    code = _ins("add_a", 1, 0, 1, 3) * 2 + _ins("stp", 3, 1, 1) + _ins("jmp", 0)
    regs = Registers()
    regs.a[3][0], regs.a[3][1] = 1, 2
    out = _run(code, regs, "reference", False)
    assert out["panic"]
    assert regs.a[3][1] == 4 and regs.ca0 == 2 * _cx("add_a") and regs.st0 is False


def test_panic_in_a_later_round_of_a_one_block_loop() -> None:
    """``stp a8[0]; dup a8[1],a8[0]; jmp 0``: the first round's stp meets an undefined a8[0]
    (st0 = false), the dup defines it, the second round's stp panics (reference P1): ca0 is the
    first round's complexity, cy0 one jump."""
    code = _ins("stp", 0, 0, 1) + _ins("dup_a", 1, 0, 0) + _ins("jmp", 0)
    regs = Registers()
    regs.a[0][1] = 9
    out = _run(code, regs, "reference", False)
    assert out["panic"] and regs.cy0 == 1 and regs.a[0][0] == 9
    assert regs.ca0 == _cx("stp") + _cx("dup_a") + _cx("jmp")


def test_panic_in_a_later_round_of_a_one_instruction_loop() -> None:
    """``st.a a16[0]; jmp 0``: the first round defines a16[0] (st0 into an undefined
    register), the second panics (adding into a16, reference P2): ca0 and cy0 hold exactly
    the first round."""
    code = _ins("st", 1, 1, 0) + _ins("jmp", 0)
    regs = Registers()
    regs.cy0 = 7
    out = _run(code, regs, "reference", False)
    assert out["panic"] and regs.cy0 == 8 and regs.a[1][0] == 1
    assert regs.ca0 == _cx("st") + _cx("jmp")


@pytest.mark.parametrize("cl0", [1, 2, 3, 4, 5, 7, 100, 101, 102])
def test_complexity_limit_inside_a_loop_block(cl0: int) -> None:
    """cl0 reached in the middle of a one-block loop: the run stops after exactly the
    instruction that reaches it, as the per-instruction loop does."""
    code = _ins("add_a", 1, 0, 1, 3) + _ins("add_a", 1, 0, 2, 3) + _ins("jmp", 0)
    regs = Registers()
    regs.a[3][0], regs.a[3][1], regs.a[3][2] = 1, 0, 0
    regs.cl0 = cl0
    a = _run(code, regs.copy(), "reference", False)
    b = _run(code, regs.copy(), "reference", True)
    assert a == b
    costs = [_cx("add_a"), _cx("add_a"), _cx("jmp")]
    ca0 = n = 0
    while ca0 < cl0:                    # the first instruction whose charge reaches cl0
        ca0 += costs[n % 3]
        n += 1
    assert a["ca0"] == ca0 and a["st0"] is False and a["reason"] == "complexity limit reached"
    assert a["cy0"] == n // 3 and a["regs"]["a64[2]"] == ((n + 1) // 3).to_bytes(8, "big").hex()


def test_non_advancing_nop_is_reported_at_its_own_offset() -> None:
    """The reference's nop after two instructions: the hang names the nop's offset."""
    code = _ins("add_a", 1, 0, 1, 3) * 2 + bytes([0xFF])
    regs = Registers()
    regs.a[3][0], regs.a[3][1] = 1, 2
    out = _run(code, regs, "reference", False)
    assert out["aborted"] and "0x0006" in out["reason"], out["reason"]
