"""Which register banks an instruction may touch, read off the instruction table.

A *bank* is one list of :class:`~aluvm.machine.registers.Registers`, numbered as in
``[*regs.a, *regs.f, *regs.r, regs.s]``: A banks 0..7 (a8..a1024), F banks 8..15, R banks
16..23, and 24 for the sixteen S registers.  Every register operand of a form is named in its
display template, either by a placeholder whose field holds the bank code (``{A:reg}``,
``{AR:reg}``, ``{S:src}``, ...) or literally (``a16{i:off}``, ``r256{i:dst}``,
``{blk:block}256``).  The banks an instruction may read *or write* are therefore a function of
its form and operands (:func:`operand_banks`) - a superset of what it writes, which is what
the users need:

* the batch fallback path (:mod:`aluvm.tools.batch`) looks only at the banks a library can
  write when it gathers each run's outputs and resets the register file for the next input;
* the batch kernel (:mod:`aluvm.jit.batch`) compiles only instructions whose banks are all A
  banks (its columns are A registers).

Operands a template does not show are listed in :data:`_HIDDEN`.  Host extension ops (keys
outside the core tables) may do anything: :func:`operand_banks` returns ``None`` for them.
``tests/test_effects.py`` checks the result against the interpreter: every form of both
profiles, run on random operands and register files, changes only banks listed here.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, Iterable, Optional

from aluvm.isa import table as isa
from aluvm.machine.registers import A_NAMES, F_NAMES, R_NAMES

#: bank numbers of the families (bank = base + code)
A_BASE, F_BASE, R_BASE, S_BANK = 0, 8, 16, 24
N_BANKS = 25
ALL_BANKS: frozenset[int] = frozenset(range(N_BANKS))
A_BANKS: frozenset[int] = frozenset(range(A_BASE, A_BASE + 8))

#: placeholder kind -> bank of the field's value
_KINDS: dict[str, Callable[[int], int]] = {
    "A": lambda v: A_BASE + v,
    "F": lambda v: F_BASE + v,
    "R": lambda v: R_BASE + v,
    "AF": lambda v: A_BASE + v if v < 8 else F_BASE + v - 8,
    "AR": lambda v: A_BASE + v if v < 8 else R_BASE + v - 8,
    "A2": lambda v: A_BASE + v,                         # a8 / a16
    "S": lambda v: S_BANK,
}
_NAMED = {**{n: A_BASE + c for c, n in enumerate(A_NAMES)},
          **{n: F_BASE + c for c, n in enumerate(F_NAMES)},
          **{n: R_BASE + c for c, n in enumerate(R_NAMES)}}
_PLACEHOLDER = re.compile(r"\{(\w+):(\w+)\}")
#: a register written literally: a bank name followed by an index placeholder or bracket
_LITERAL = re.compile(r"(?<![\w}])([afr]\d+b?)(?=\{|\[)")
#: ``{blk:block}256``: a256 when the flag is set, else r256 (secp/ed multiplication)
_BLK = re.compile(r"\{blk:(\w+)\}256")

#: operands a form's template does not show: key -> banks of (field name -> value)
_HIDDEN: dict[str, Callable[[dict[str, int]], Iterable[int]]] = {
    "stp": lambda a: (A_BASE + a["reg"],),               # displayed as its own text
}

#: the longest instruction in bytes: what decoding at an offset reads of the code
_MAX_SIZE = max(f.size for table in (isa.REFERENCE_TABLE, isa.SPEC_TABLE) for forms in table
                for f in forms)

_CORE_KEYS = frozenset(f.key for table in (isa.REFERENCE_TABLE, isa.SPEC_TABLE)
                       for forms in table for f in forms)


@lru_cache(maxsize=None)
def _template(display: str) -> tuple[tuple[tuple[str, str], ...], frozenset[int],
                                     tuple[str, ...]]:
    """(register placeholders, literal banks, ``blk`` fields) of a display template."""
    holders = tuple((k, f) for k, f in _PLACEHOLDER.findall(display) if k in _KINDS)
    literal = frozenset(_NAMED[n] for n in _LITERAL.findall(_BLK.sub("", display)))
    return holders, literal, tuple(_BLK.findall(display))


def operand_banks(form: isa.Form, args: tuple[int, ...]) -> Optional[frozenset[int]]:
    """Every bank an instruction of ``form`` with decoded ``args`` may read or write; ``None``
    for a host extension op (unknown: any bank)."""
    if form.key not in _CORE_KEYS:
        return None
    values = dict(zip(form.args, args))
    holders, literal, blk = _template(form.display)
    out = set(literal)
    for kind, name in holders:
        out.add(_KINDS[kind](values[name]))
    for name in blk:
        out.add(A_BASE + 5 if values[name] else R_BASE + 2)     # a256 / r256
    hidden = _HIDDEN.get(form.key)
    if hidden is not None:
        out.update(hidden(values))
    return frozenset(out)


def program_banks(prog: Any) -> Optional[frozenset[int]]:
    """Every bank a run of ``prog`` (a :class:`~aluvm.machine.interp.Program`) may touch:
    the union over the instructions that decode at *every* offset of its code (a jump may land
    inside an instruction), or ``None`` if one of them is a host extension op.  Past the code,
    a zero-extended profile decodes ``fail``, which touches no register.  (An instruction is
    at most :data:`_MAX_SIZE` bytes and its banks depend on those bytes alone, so repeated
    byte windows are decoded once: a 60 KB library of one repeated instruction takes ~10 ms.)"""
    out: set[int] = set()
    code = prog.dcode
    seen: dict[bytes, Optional[frozenset[int]]] = {}
    for pos in range(min(len(prog.code), prog.limit)):
        window = code[pos:pos + _MAX_SIZE]
        if window in seen:
            continue
        ins = prog.decode_at(pos)
        banks = frozenset() if ins is None else operand_banks(ins.form, ins.args)
        seen[window] = banks
        if banks is None:
            return None
        out |= banks
        if len(out) == N_BANKS:
            break
    return frozenset(out)


__all__ = ["operand_banks", "program_banks", "A_BANKS", "ALL_BANKS", "N_BANKS", "S_BANK",
           "A_BASE", "F_BASE", "R_BASE"]
