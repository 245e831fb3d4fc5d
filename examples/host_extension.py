"""A host ISA extension: ``popcnt aN[i],a8[j]`` (opcode 0x90) under the ISAE id ``POPCNT``.

Run it:  python examples/host_extension.py
"""
from __future__ import annotations

from aluvm.host.extensions import ExtOp, Extension, extend
from aluvm.machine.interp import REFERENCE, Machine
from aluvm.library.lib import Lib
from aluvm.machine.registers import Registers


def popcnt(regs: Registers, host: object, reg: int, idx: int, dst: int) -> None:
    """a8[dst] <- number of set bits of aN[idx]; undefined source -> undefined, st0 = false
    (and continue).  ``host`` is the run's host context (unused here)."""
    x = regs.a[reg][idx]
    regs.a[0][dst] = None if x is None else bin(x).count("1")
    if x is None:
        regs.st0 = False


POPCNT = Extension("POPCNT", (
    ExtOp(0x90, "popcnt", "reg:3 idx:5 dst:5 pad:3:pad", 1, popcnt,
          "popcnt  {A:reg}{i:idx},a8{i:dst}"),
))
PROFILE = extend(REFERENCE, POPCNT)


def run(code: bytes, isae: str, a64: int) -> Registers:
    lib = Lib.with_(isae, code)
    machine = Machine(PROFILE)
    machine.add(lib.code, lib.data, lib.libs, lib.id, lib.isae)
    regs = Registers()
    regs.a[3][0] = a64
    machine.run(lib.id, 0, regs)
    return regs


if __name__ == "__main__":
    code = bytes([0x90, 0x03, 0x02])          # popcnt a64[0],a8[2]
    regs = run(code, "ALU POPCNT", 0xF0F0)
    print("with POPCNT declared:   a8[2] =", regs.a[0][2], " st0 =", regs.st0)
    regs = run(code, "ALU", 0xF0F0)
    print("without the extension:  a8[2] =", regs.a[0][2], " st0 =", regs.st0, "(reserved op)")
