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


def test_extensions_and_multi_library_in_the_jit_tier() -> None:
    import aluvm
    from aluvm.machine.registers import Registers
    lib = Lib.with_("ALU POPCNT", bytes([0x90, 0x03, 0x02]))
    for tier in ("interp", "jit"):
        regs = Registers()
        regs.a[3][0] = 0xF0F0
        aluvm.run(lib, regs, profile=host_extension.PROFILE, tier=tier)
        assert regs.a[0][2] == 8 and regs.st0 is True
    callee = aluvm.Lib.with_(aluvm.DEFAULT_ISAE, bytes.fromhex("1f1f1f"))
    caller = aluvm.Lib.with_(aluvm.DEFAULT_ISAE, bytes.fromhex("0601000000"), b"", [callee.id])
    states = []
    for tier in ("interp", "jit"):
        regs = Registers()
        aluvm.run(caller, regs, libs=[callee], tier=tier)
        states.append((regs.st0, regs.cy0, regs.ca0))
    assert states[0] == states[1] == (True, 1, 4)
