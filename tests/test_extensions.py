"""Host ISA extensions: declared opcodes execute, undeclared ones stay reserved."""
from __future__ import annotations

import sys

import pytest

from aluvm.host.extensions import ExtOp, Extension, extend
from aluvm.machine.interp import REFERENCE
from aluvm.library.lib import Lib

from conftest import ROOT

sys.path.insert(0, str(ROOT / "examples"))
import host_extension  # noqa: E402


def test_declared_extension_executes() -> None:
    regs = host_extension.run(bytes([0x90, 0x03, 0x02]), "ALU POPCNT", 0xF0F0)
    assert regs.a[0][2] == 8 and regs.st0 is True and regs.ca0 == 1


def test_undeclared_extension_is_reserved() -> None:
    regs = host_extension.run(bytes([0x90, 0x03, 0x02]), "ALU", 0xF0F0)
    assert regs.a[0][2] is None and regs.st0 is False and regs.ca0 == 2**64 - 1


def test_extension_id_enters_the_library_id() -> None:
    assert Lib.with_("ALU POPCNT", b"\x90\x03\x02").id != Lib.with_("ALU", b"\x90\x03\x02").id


def test_extension_display() -> None:
    table = host_extension.PROFILE.table_for(("POPCNT",))
    from aluvm.isa.codec import decode
    from aluvm.asm.display import instr_text
    ins = decode(bytes([0x90, 0x03, 0x02]), 0, table=table)
    assert instr_text(ins) == "popcnt  a64[0],a8[2]"


@pytest.mark.parametrize("opcode", [0x20, 0x80, 0x84, 0x40, 0xFF])
def test_core_opcodes_cannot_be_claimed(opcode: int) -> None:
    with pytest.raises(ValueError):
        extend(REFERENCE, Extension("BAD", (ExtOp(opcode, "x", "", 1, lambda regs, host: None),)))


def test_two_extensions_cannot_share_an_opcode() -> None:
    a = Extension("AAA", (ExtOp(0x91, "a", "", 1, lambda regs, host: None),))
    b = Extension("BBB", (ExtOp(0x91, "b", "", 1, lambda regs, host: None),))
    with pytest.raises(ValueError):
        extend(REFERENCE, a, b)


@pytest.mark.usefixtures("jit_eager")
def test_extensions_and_multi_library_in_the_jit_tier() -> None:
    """The extension op runs in the interpreter between compiled code; a call into another
    library crosses from one compiled unit to another.  Both tiers leave the same state, and
    the JIT tier really ran native code."""
    import aluvm
    from aluvm.jit.engine import JitMachine, jit_runner, last_stats
    from aluvm.machine.registers import Registers
    from aluvm.isa.codec import encode
    from aluvm.isa.table import BY_KEY
    # popcnt a64[0] -> a8[2]; 12 x stinv; add.uc a8[2],a8[2]: the extension op runs in the
    # interpreter, then native code (long enough to be worth entering, see aluvm.jit.tiering)
    add = encode(BY_KEY["add_a"], [0, 2, 2, 0])
    lib = Lib.with_("ALU POPCNT", bytes([0x90, 0x03, 0x02]) + b"\x1f" * 12 + add)
    states = []
    for runner in (aluvm.run, jit_runner):
        regs = Registers()
        regs.a[3][0] = 0xF0F0
        if runner is aluvm.run:
            aluvm.run(lib, regs, profile=host_extension.PROFILE, tier="interp")
        else:
            jit_runner(lib, regs, 0, host_extension.PROFILE)
        states.append((regs.a[0][2], regs.st0, regs.ca0))
    stats = last_stats()
    assert states[0] == states[1] == (16, True, 14)
    assert stats["compiled_instrs"] == 13 and stats["native_calls"] == 1, stats
    assert stats["fallback_keys"] == {"ext:POPCNT:popcnt": 1}, stats
    callee = aluvm.Lib.with_(aluvm.DEFAULT_ISAE, bytes.fromhex("1f1f1f"))
    caller = aluvm.Lib.with_(aluvm.DEFAULT_ISAE, bytes.fromhex("0601000000"), b"", [callee.id])
    states = []
    for tier in ("interp", "jit"):
        regs = Registers()
        aluvm.run(caller, regs, libs=[callee], tier=tier)
        states.append((regs.st0, regs.cy0, regs.ca0))
    assert states[0] == states[1] == (True, 1, 4)
    machine = JitMachine(REFERENCE)
    unit = machine.add(callee.code, callee.data, callee.libs, callee.id)
    assert unit.fn is not None and unit.meta["compiled_instrs"] == 3
