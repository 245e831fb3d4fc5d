"""Host ISA extensions: opcodes a host environment adds, and the contract they run under.

AluVM lets the host extend the instruction set (RGB does this with its contract opcodes).  A
host describes its opcodes as data, in the field mini-language of :mod:`aluvm.isa.table`, gives
each a semantic function and names the whole set with an ISA-extension id.  :func:`extend`
returns a new :class:`~aluvm.machine.interp.Profile` whose decode table is the base table with
those opcodes replaced *for libraries whose ISAE segment names the extension*.  The extension id
is part of the library's ISAE string and therefore of its library id.  In a library that does
not declare the extension the opcodes decode as the reference's reserved/extension bytes
(1 byte, ``st0 = false``, complexity 2^64-1), as the reference does with its default
``ReservedOp`` extension.

Only extension opcodes can be claimed: those the reference decodes as extension bytes (0x83,
0x85..0x87, 0x90..0xFE, and 0x88..0x8F when the machine is built without the curve features,
see :mod:`aluvm.machine.features`).

The op contract
---------------
An op is ``execute(regs, host, *fields) -> Step``:

* ``regs`` is the :class:`~aluvm.machine.registers.Registers` of the run; ops read and write
  registers directly (A: ``regs.a[code][idx]`` an ``int`` in range or ``None``; S:
  ``regs.s[idx]`` ``bytes`` or ``None``; ``regs.st0``);
* ``host`` is the run's host context (``run(..., host=ctx)``, one per batch input, or built by
  the CLI from ``--context FILE.json`` with :attr:`Extension.load_context`); ``None`` when the
  caller gave none.  The VM never shares or mutates it; two runs in two threads each see their
  own, so an op must keep its state in the context or the registers, never in globals;
* ``fields`` are the op's decoded field values in field-spec order (pads omitted).

What the op returns decides what happens next (the reference's ``ExecStep``):

* ``None`` (:data:`NEXT`): continue with the next instruction;
* an ``int >= 0``: jump to that offset of the current library (as the reference's
  ``ExecStep::Jump``: no ``cy0`` count);
* :data:`STOP`: stop the program, ``st0`` as the op left it;
* :data:`FAIL`: set ``st0 = false`` and stop (what RGB's ops do on a failed check);
* to fail *and continue* (like the core ops on undefined input) set ``regs.st0 = False`` and
  return ``None``;
* a :class:`~aluvm.machine.registers.LibSite`: transfer control to another library.

The op's complexity is charged after it runs, as for every instruction; an exception raised by
an op ends the run with ``st0 = false`` and an ``internal error`` reason (a host bug must never
crash validation).  Both tiers run ops with the same contract: the JIT never compiles an
extension op, it returns to the interpreter with the exact state for it.

Example (see ``examples/host_extension.py``)::

    def popcnt(regs, host, reg, idx, dst):
        x = regs.a[reg][idx]
        regs.a[0][dst] = None if x is None else bin(x).count("1")

    POPCNT = Extension("POPCNT", (ExtOp(0x90, "popcnt", "reg:3 idx:5 dst:8", 1, popcnt,
                                        "popcnt  {A:reg}{i:idx},a8{i:dst}"),))
    profile = extend(REFERENCE, POPCNT)
"""
from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional, Sequence, Union

from aluvm.errors import HostError, InputError, Panic
from aluvm.isa import table as isa
from aluvm.machine import interp
from aluvm.machine.features import absent_opcodes
from aluvm.machine.interp import Profile
from aluvm.machine.registers import LibSite, Registers

#: opcodes the reference always decodes as extension bytes (whatever its features)
EXTENSION_OPCODES = frozenset([0x83, 0x85, 0x86, 0x87, *range(0x90, 0xFF)])

NEXT = None
STOP = interp.STOP
FAIL = -3

Step = Union[None, int, LibSite]


#: an op's semantics: ``execute(regs: Registers, host: Any, *fields: int) -> Step`` (the
#: field count varies per op, so the type can only say ``...`` for the arguments)
ExtExecute = Callable[..., Step]


@dataclass(frozen=True)
class ExtOp:
    """One host opcode: decode shape, complexity, display and semantics."""

    opcode: int
    mnemonic: str
    fields: str                        # field spec, e.g. "reg:3 idx:5 dst:8"
    cx: int
    execute: ExtExecute                # execute(regs, host, *fields) -> Step
    display: Optional[str] = None      # template for isa.render; default: mnemonic + decimals
    #: further assembler spellings of the same op (e.g. a macro form of the reference)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Extension:
    """A named set of host opcodes; ``isae`` is the ISA-extension id libraries declare.

    ``unclaimed``: when given, every other extension opcode of a library declaring this
    extension decodes as a one-byte failing op (complexity 2^64-1) shown with this text, as a
    host ISA that decodes its whole range does (RGB's ``Fail`` variants); without it they
    stay the reference's reserved bytes.  ``load_context``: builds the host context from
    parsed JSON (the CLI's ``--context``).  ``prepare``: sets up registers from the context
    before a run (e.g. RGB puts the operation type in ``a16[0]``).  ``version`` enters the
    JIT cache key with the ops' definitions."""

    isae: str
    ops: tuple[ExtOp, ...]
    unclaimed: Optional[Callable[[int], str]] = None
    load_context: Optional[Callable[[Any], Any]] = None
    prepare: Optional[Callable[[Registers, Any], None]] = None
    version: str = ""
    description: str = ""


def _bound(execute: ExtExecute) -> Callable[..., Step]:
    """The interpreter-side callable: passes the run's host context and maps FAIL."""
    def run(regs: Registers, *fields: int) -> Step:
        try:
            step = execute(regs, regs.host, *fields)
        except Panic:
            raise
        except Exception as e:   # the host's code: a ``host`` outcome, not a panic or a bug here
            raise HostError(f"{getattr(execute, '__qualname__', 'extension op')}: "
                            f"{type(e).__name__}: {e}") from e
        if step.__class__ is int and step == FAIL:
            regs.st0 = False
            return STOP
        return step
    run.__qualname__ = getattr(execute, "__qualname__", "ext")
    return run


def _form(ext: Extension, op: ExtOp) -> isa.Form:
    form = isa.make_form(op.opcode, f"ext:{ext.isae}:{op.mnemonic}", op.fields, op.cx, "")
    display = op.display or (f"{op.mnemonic:<8}" + ",".join(f"{{d:{a}}}" for a in form.args)).rstrip()
    return replace(form, display=display)


def claimable(base: Profile) -> frozenset:
    """Opcodes an extension may claim on ``base``."""
    return EXTENSION_OPCODES | absent_opcodes(base)


def _validate(base: Profile, exts: Sequence[Extension]) -> None:
    from aluvm.library.lib import parse_isae
    allowed = claimable(base)
    seen: dict[int, str] = {}
    for ext in exts:
        parse_isae(ext.isae)  # raises LibraryError on a malformed id
        if ext.isae in base.extensions:
            raise InputError(f"extension {ext.isae} is already part of profile {base.name}")
        for op in ext.ops:
            if op.opcode not in allowed:
                raise InputError(f"{ext.isae}: opcode {op.opcode:#04x} is not an extension opcode")
            if op.opcode in seen:
                raise InputError(f"opcode {op.opcode:#04x} claimed by {seen[op.opcode]} and {ext.isae}")
            if not 0 <= op.cx <= 2**64 - 1:
                raise InputError(f"{ext.isae}.{op.mnemonic}: complexity must be a u64")
            seen[op.opcode] = ext.isae


def extend(base: Profile, *exts: Extension) -> Profile:
    """A profile that decodes and executes the given extensions where libraries declare them."""
    _validate(base, exts)
    ops: dict[str, Callable[..., Any]] = dict(base.ops)
    overlays = dict(base.extensions)
    allowed = claimable(base)
    for ext in exts:
        overlay: dict[int, tuple] = {}
        for op in ext.ops:
            form = _form(ext, op)
            ops[form.key] = bound = _bound(op.execute)
            # aliases follow the decoded form (decoding takes the first form that matches)
            aliases = tuple(replace(form, key=f"{form.key}|{i}", display=text)
                            for i, text in enumerate(op.aliases))
            for alias in aliases:
                ops[alias.key] = bound
            overlay[op.opcode] = (form, *aliases)
        if ext.unclaimed is not None:
            for code in sorted(allowed - overlay.keys()):
                overlay[code] = (replace(isa.reserved_form(code), display=ext.unclaimed(code)),)
        overlays[ext.isae] = overlay
    name = base.name + "+" + "+".join(f"{e.isae}#{definition_digest(e)}" for e in exts)
    profile = replace(base, name=name, ops=ops, extensions=overlays)
    interp.check_profile(profile)
    return profile


def definition_digest(ext: Extension) -> str:
    """A digest of everything that defines an extension (shapes, complexities, displays,
    semantics' source, version): two different extensions under one ISAE id never collide in
    a cache keyed on it."""
    h = hashlib.sha256(f"{ext.isae}\0{ext.version}".encode())
    for op in ext.ops:
        h.update(repr((op.opcode, op.mnemonic, op.fields, op.cx, op.display, op.aliases)).encode())
        h.update(_source_of(op.execute))
    if ext.unclaimed is not None:
        h.update(repr([ext.unclaimed(c) for c in range(0x80, 0xFF)]).encode())
    return h.hexdigest()[:12]


def _source_of(fn: Callable) -> bytes:
    try:
        return inspect.getsource(fn).encode()
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        return (getattr(fn, "__module__", "") + getattr(fn, "__qualname__", repr(fn))).encode() + (
            code.co_code if code is not None else b"")
