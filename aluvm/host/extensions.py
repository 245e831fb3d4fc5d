"""Host ISA extensions.

AluVM lets the host environment extend the instruction set (RGB does this with its own
opcodes).  A host describes its opcodes as data, in the same field mini-language as
:mod:`aluvm.isa`, gives each a semantic function ``execute(regs, *args)`` and names the whole set
with an ISA-extension id.  :func:`extend` returns a new :class:`~aluvm.machine.interp.Profile` whose
decode table is the base table with those opcodes replaced *for libraries whose ISAE segment
names the extension*.  The extension id is part of the library's ISAE string and therefore of
its library id.  In a library that does not declare the extension the opcodes decode as the
reference's reserved/extension bytes (1 byte, ``st0 = false``, complexity 2^64-1), exactly as the
reference does with its default ``ReservedOp`` extension.

Only extension opcodes can be claimed: those that the reference decodes as extension bytes
(0x83, 0x85..0x87, 0x90..0xFE).

Example (see ``examples/host_extension.py``)::

    def popcnt(regs, reg, idx, dst):
        x = regs.a[reg][idx]
        regs.a[0][dst] = None if x is None else bin(x).count("1")

    POPCNT = Extension("POPCNT", (ExtOp(0x90, "popcnt", "reg:3 idx:5 dst:8", 1, popcnt,
                                        "popcnt  {A:reg}{i:idx},a8{i:dst}"),))
    profile = extend(REFERENCE, POPCNT)
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional, Sequence

from aluvm.isa import table as isa
from aluvm.machine.interp import Profile

EXTENSION_OPCODES = frozenset([0x83, 0x85, 0x86, 0x87, *range(0x90, 0xFF)])


@dataclass(frozen=True)
class ExtOp:
    """One host opcode: decode shape, complexity, display and semantics."""

    opcode: int
    mnemonic: str
    fields: str                        # field spec, e.g. "reg:3 idx:5 dst:8"
    cx: int
    execute: Callable[..., None]       # execute(regs, *args) in field order
    display: Optional[str] = None      # template for isa.render; default: mnemonic + decimals


@dataclass(frozen=True)
class Extension:
    """A named set of host opcodes; ``isae`` is the ISA-extension id libraries declare."""

    isae: str
    ops: tuple[ExtOp, ...]


def _form(ext: Extension, op: ExtOp) -> isa.Form:
    fields = isa._fields(op.fields) if op.fields else ()
    args = tuple(f.name for f in fields if f.fixed is None and f.kind != "pad")
    display = op.display or (f"{op.mnemonic:<8}" + ",".join(f"{{d:{a}}}" for a in args)).rstrip()
    return isa.Form(op.opcode, f"ext:{ext.isae}:{op.mnemonic}", fields, op.cx, display,
                    isa.PLAIN, "extension", args)


def _validate(exts: Sequence[Extension]) -> None:
    from aluvm.library.lib import parse_isae
    seen: dict[int, str] = {}
    for ext in exts:
        parse_isae(ext.isae)  # raises LibraryError on a malformed id
        for op in ext.ops:
            if op.opcode not in EXTENSION_OPCODES:
                raise ValueError(f"{ext.isae}: opcode {op.opcode:#04x} is not an extension opcode")
            if op.opcode in seen:
                raise ValueError(f"opcode {op.opcode:#04x} claimed by {seen[op.opcode]} and {ext.isae}")
            if not 0 <= op.cx <= 2**64 - 1:
                raise ValueError(f"{ext.isae}.{op.mnemonic}: complexity must be a u64")
            seen[op.opcode] = ext.isae


def extend(base: Profile, *exts: Extension) -> Profile:
    """A profile that decodes and executes the given extensions where libraries declare them."""
    _validate(exts)
    ops = dict(base.ops)
    overlays = dict(base.extensions)
    for ext in exts:
        overlay = {}
        for op in ext.ops:
            form = _form(ext, op)
            ops[form.key] = op.execute
            overlay[op.opcode] = (form,)
        overlays[ext.isae] = overlay
    name = base.name + "+" + "+".join(e.isae for e in exts)
    return replace(base, name=name, ops=ops, extensions=overlays)
