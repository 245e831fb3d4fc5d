"""The reference interpreter.

A library is decoded lazily, once per (library, profile): every reachable offset becomes a
``(fn, next, cx)`` entry where ``fn(regs)`` is the instruction's semantics with its operands
already bound.  The run loop then only looks entries up, calls them and keeps the counters:

* ``fn`` returns ``None`` (fall through), a jump target (``int >= 0``), :data:`STOP`,
  :data:`NOP_SPIN` (the reference's non-advancing ``nop``) or a :class:`LibSite` (call/exec/ret).
* complexity is added *after* execution, saturating at 2^64-1, and the limit check follows it
  (spec §4.1); a ``Panic`` aborts without charging (semantics.md intro).

Profiles are op tables (py-evm style): ``spec`` is the ``reference`` table with a few entries
replaced, plus the decode-table changes of :data:`aluvm.isa.SPEC_TABLE`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import AbstractSet, Callable, Container, Iterable, Mapping, Optional

from aluvm.isa import table as isa
from aluvm.machine import blocks
from aluvm.semantics import bytestr, crypto, numeric
from aluvm.semantics.floats import spec as float_spec
from aluvm.isa.codec import Instr, decode
from aluvm.errors import HostError, InputError, Panic, RegisterError
from aluvm.isa.table import PUT, PUT_S
from aluvm.library.ids import ZERO_LIB_ID, LibSite
from aluvm.machine.registers import CALL_DEPTH, JUMP_LIMIT, U64_MAX, Registers

#: tests set ``ALUVM_STRICT=1``: an unexpected exception inside a run (or a JIT compile error)
#: propagates instead of becoming an ``internal`` outcome (or a silent interpreter fallback)
STRICT = os.environ.get("ALUVM_STRICT", "") not in ("", "0")

STOP = -1
NOP_SPIN = -2

Action = Optional[object]
Entry = tuple[Callable[[Registers], Action], int, int]


@dataclass(frozen=True)
class Profile:
    """A decode table plus an op table plus the machine fixes that go with them (each fix is
    its own flag, named for what it changes; the reference has none of them)."""

    name: str
    table: tuple
    ops: Mapping[str, Callable[..., None]]
    #: S5/S6: ``routine``/``call`` push the return address and grow the stack (depth 65535)
    call_stack: bool = False
    #: S7: ``put s`` past the data segment loads what is there and clears st0 (no panic)
    put_s_truncates: bool = False
    #: S11: code reads as zero-extended to 64 KiB (past the end: ``fail``)
    zero_extended_code: bool = False
    #: S12: a call into a library the machine does not have fails (clears st0)
    missing_lib_fails: bool = False
    #: where ops differ from the reference's (key -> regions); see :mod:`aluvm.semantics.differs`
    differs: Mapping[str, tuple] = field(default_factory=dict)
    #: host ISA extensions: ISAE id -> {opcode: forms}; see :mod:`aluvm.host.extensions`
    extensions: Mapping[str, Mapping[int, tuple]] = field(default_factory=dict)
    #: the reference crate's optional ISA features this machine is built with (see
    #: :mod:`aluvm.machine.features`); without one, its opcodes decode as extension bytes
    features: frozenset = frozenset(("secp256k1", "curve25519"))
    _tables: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def __str__(self) -> str:
        return self.name

    def table_for(self, isae: Iterable[str] = ()) -> tuple:
        """The decode table for a library declaring ``isae``: extension opcodes apply only
        where their extension is declared."""
        names = tuple(n for n in isae if n in self.extensions)
        if not names:
            return self.table
        table = self._tables.get(names)
        if table is None:
            t = list(self.table)
            for n in names:
                for op, forms in self.extensions[n].items():
                    t[op] = forms
            table = self._tables[names] = tuple(t)
        return table


def _ops(*tables: Mapping[str, Callable[..., None]]) -> dict[str, Callable[..., None]]:
    out: dict[str, Callable[..., None]] = {}
    for t in tables:
        out.update(t)
    return out


REFERENCE = Profile("reference", isa.REFERENCE_TABLE,
                    _ops(numeric.OPS, bytestr.REFERENCE_OPS, crypto.REFERENCE_OPS))
SPEC = Profile("spec", isa.SPEC_TABLE,
               _ops(REFERENCE.ops, numeric.SPEC_OVERRIDES, bytestr.SPEC_OVERRIDES,
                    crypto.SPEC_OVERRIDES, float_spec.SPEC_OVERRIDES),
               call_stack=True, put_s_truncates=True, zero_extended_code=True,
               missing_lib_fails=True,
               differs={**numeric.SPEC_DIFFERS, **bytestr.SPEC_DIFFERS, **crypto.SPEC_DIFFERS,
                        **float_spec.SPEC_DIFFERS})
PROFILES = {"reference": REFERENCE, "spec": SPEC}


def get_profile(name: "str | Profile") -> Profile:
    """A profile by name (a :class:`Profile` is returned as is: hosts build their own)."""
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise InputError(f"unknown profile {name!r} (choose from {', '.join(PROFILES)})") from None


#: the four ways a run can end besides finishing: a reference behaviour (the reference panics,
#: or never terminates), a bug of this package, or an exception in a host extension's code
OUTCOME_KINDS = ("finished", "panic", "hang", "internal", "host")


@dataclass
class Outcome:
    """How a run ended; ``reason`` is human-readable and stable.

    ``panicked`` is only ever set for a *reference* behaviour (with ``hang`` when the reference
    never terminates); ``internal`` (a bug here) and ``host_error`` (a host extension raised)
    are reported as what they are, never as a reference panic."""

    st0: bool
    reason: str
    panicked: bool = False   # the reference panics (or, with ``hang``, never terminates) here
    hang: bool = False
    internal: bool = False   # an unexpected exception inside this package
    host_error: bool = False  # a host extension's execute() raised

    @property
    def kind(self) -> str:
        """One of :data:`OUTCOME_KINDS`."""
        if self.internal:
            return "internal"
        if self.host_error:
            return "host"
        if self.panicked:
            return "hang" if self.hang else "panic"
        return "finished"


class Program:
    """One library decoded for one profile.  Safe to share between runs and threads: entries
    are filled lazily and idempotently (the same offset always binds the same closure)."""

    def __init__(self, code: bytes, data: bytes, libs: Iterable[bytes], lib_id: bytes,
                 profile: Profile = REFERENCE, isae: Iterable[str] = ()) -> None:
        self.code = bytes(code)
        self.data = bytes(data)
        self.libs = tuple(libs)
        self.id = lib_id
        self.profile = profile
        self.table = profile.table_for(isae)
        if profile.zero_extended_code:
            # S11 fixed: code is conceptually extended to 2^16 bytes with zeros (= fail)
            self.limit = 0x10000
            self._dcode = self.code + bytes(0x10000 + 8 - len(self.code))
        else:
            self.limit = len(self.code)
            self._dcode = self.code
        self.entries: dict[int, Entry] = {}
        self.blocks: dict[int, blocks.Block] = {}
        self.no_block: set[int] = set()     # offsets where no block decodes

    @property
    def dcode(self) -> bytes:
        """The bytes decoding reads: the code (zero-extended under a profile that says so)."""
        return self._dcode

    def decode_at(self, pos: int) -> Optional[Instr]:
        return decode(self._dcode, pos, self.data, self.libs, self.table)

    def entry(self, pos: int) -> Optional[Entry]:
        ent = self.entries.get(pos)
        if ent is None and pos < self.limit:
            ins = self.decode_at(pos)
            if ins is None:
                return None
            ent = (self._bind(ins, pos), pos + ins.size, ins.form.cx)
            self.entries[pos] = ent
        return ent

    # ---- binding operands ----------------------------------------------------------------

    def _bind(self, ins: Instr, pos: int) -> Callable[[Registers], Action]:
        form = ins.form
        if form.flow.control:
            return _CONTROL[form.key](self, ins, pos)
        fn = self.profile.ops[form.key]
        if form.special == PUT:
            reg, idx, _off = ins.args
            value = ins.value
            return lambda regs: fn(regs, reg, idx, value)
        if form.special == PUT_S:
            if ins.value is None:
                if not self.profile.put_s_truncates:
                    return _put_s_panic
                # spec: truncate to the data present and report it through st0 (S7 fixed)
                s, off, ln = ins.args
                value = self.data[min(off, len(self.data)):min(off + ln, len(self.data))]
                return lambda regs: fn(regs, s, value, True)
            incomplete: bool
            value, incomplete = ins.value  # type: ignore[misc]
            s = ins.args[0]
            return lambda regs: fn(regs, s, value, incomplete)
        args = ins.args
        specialise = numeric.SPECIALISED.get(fn)
        if specialise is not None:
            bound = specialise(*args)
            if bound is not None:
                return bound
        n = len(args)
        if n == 0:
            return fn
        if n == 2:
            a0, a1 = args
            return lambda regs: fn(regs, a0, a1)
        if n == 4:
            a0, a1, a2, a3 = args
            return lambda regs: fn(regs, a0, a1, a2, a3)
        return lambda regs: fn(regs, *args)

    # ---- running ---------------------------------------------------------------------------

    def run(self, regs: Registers, pos: int, trace: Optional[Callable] = None
            ) -> tuple[Optional[LibSite], Optional[str]]:
        """Run from ``pos`` until this library stops (``(None, reason)``) or transfers control
        to a library site (``(site, None)``).  Raises ``Panic``."""
        if trace is None:
            return self._run_plain(regs, pos)
        site, reason, _ = self._run_full(regs, pos, trace, None, None)
        return site, reason

    def run_until(self, regs: Registers, pos: int, until: AbstractSet[int],
                  steps: Optional[list[int]] = None, trace: Optional[Callable] = None
                  ) -> tuple[Optional[LibSite], Optional[str], Optional[int]]:
        """:meth:`run`, but after at least one instruction also return as soon as execution
        reaches a position in ``until`` (the JIT's native entries, a debugger's stops):
        ``(site, reason, reached)`` with exactly one of them set.  ``steps``: a one-element
        list to which the number of executed instructions is added."""
        return self._run_full(regs, pos, trace, until, steps)

    def _run_full(self, regs: Registers, pos: int, trace: Optional[Callable],
                  until: Optional[Container[int]], steps: Optional[list]
                  ) -> tuple[Optional[LibSite], Optional[str], Optional[int]]:
        """The run loop with tracing, ``until`` and ``steps``."""
        get = self.entries.get
        ca0, cl0 = regs.ca0, regs.cl0
        # one compare per instruction for both the limit and saturation: past ``bound``
        # either ca0 saturates (no limit) or the limit is reached
        bound = U64_MAX + 1 if cl0 is None else cl0
        n = 0
        try:
            while True:
                ent = get(pos)
                if ent is None:
                    ent = self.entry(pos)
                    if ent is None:
                        return None, ("end of code" if pos >= self.limit
                                      else f"truncated instruction at {pos:#06x}"), None
                fn, nxt, cx = ent
                if trace is not None:
                    trace(self, pos, regs, "before")
                r = fn(regs)
                n += 1
                ca0 += cx
                if ca0 >= bound:
                    if ca0 > U64_MAX:
                        ca0 = U64_MAX
                    if cl0 is not None and ca0 >= cl0:
                        if trace is not None:
                            regs.ca0 = ca0
                            trace(self, pos, regs, "after")
                        regs.st0 = False
                        return None, "complexity limit reached", None
                if trace is not None:
                    regs.ca0 = ca0
                    trace(self, pos, regs, "after")
                if r is None:
                    pos = nxt
                elif r.__class__ is int:
                    if r >= 0:
                        pos = r  # type: ignore[assignment]
                    elif r == STOP:
                        return None, _stop_reason(regs), None
                    else:  # NOP_SPIN: the reference's nop never advances (S2)
                        if cl0 is None:
                            raise Panic("nop at 0x%04x never advances: the reference hangs" % pos,
                                        hang=True)
                        ca0 = max(ca0, cl0)
                        regs.st0 = False
                        return None, "complexity limit reached (non-advancing nop)", None
                else:
                    return r, None, None  # type: ignore[return-value]  # a LibSite
                if until is not None and pos in until:
                    return None, None, pos
        finally:
            regs.ca0 = ca0
            if steps is not None:
                steps[0] += n

    def _run_plain(self, regs: Registers, pos: int) -> tuple[Optional[LibSite], Optional[str]]:
        """:meth:`run` without tracing, ``until`` or ``steps`` (the common case, and the
        interpreter's hot path): the same semantics as :meth:`_run_full`, dispatched a
        straight-line block at a time (:mod:`aluvm.machine.blocks`).  A block whose complexity
        could reach the limit or saturate ``ca0`` runs one instruction at a time instead."""
        get = self.blocks.get
        ca0, cl0 = regs.ca0, regs.cl0
        bound = U64_MAX + 1 if cl0 is None else cl0
        try:
            while True:
                blk = get(pos)
                if blk is None:
                    blk = self.block(pos)
                    if blk is None:
                        return None, ("end of code" if pos >= self.limit
                                      else f"truncated instruction at {pos:#06x}")
                fn, cx, loop = blk
                if ca0 + cx >= bound:
                    regs.ca0 = ca0
                    site, reason, reached = self._run_full(regs, pos, None, _EVERYWHERE, None)
                    ca0 = regs.ca0
                    if reached is None:
                        return site, reason
                    pos = reached
                    continue
                if loop:
                    r, ca0 = fn(regs, ca0, bound)
                else:
                    r = fn(regs)
                    ca0 += cx
                if r.__class__ is int:
                    if r >= 0:
                        pos = r  # type: ignore[assignment]
                    elif r == STOP:
                        return None, _stop_reason(regs)
                    else:  # NOP_SPIN: the reference's nop never advances (S2)
                        if cl0 is None:
                            raise Panic("nop at 0x%04x never advances: the reference hangs" % pos,
                                        hang=True)
                        ca0 = max(ca0, cl0)
                        regs.st0 = False
                        return None, "complexity limit reached (non-advancing nop)"
                else:
                    return r, None  # type: ignore[return-value]  # a LibSite (call/exec/ret)
        except BaseException as e:
            ca0 += blocks.charged(e)     # the instructions of the block that completed
            raise
        finally:
            regs.ca0 = ca0

    def block(self, pos: int) -> Optional[blocks.Block]:
        """The block at ``pos``, built once; ``None`` where nothing decodes (remembered too:
        a run that ends by running off the code asks for that offset every time)."""
        blk = self.blocks.get(pos)
        if blk is None and pos not in self.no_block:
            blk = blocks.build(self, pos)
            if blk is not None:
                self.blocks[pos] = blk
            else:
                self.no_block.add(pos)
        return blk


class _Everywhere:
    """``until`` for :meth:`Program._run_full` that stops after every instruction."""

    def __contains__(self, pos: object) -> bool:
        return True


_EVERYWHERE = _Everywhere()


def _stop_reason(regs: Registers) -> str:
    return "stopped" if regs.st0 else "failed"


def _put_s_panic(regs: Registers) -> None:
    raise Panic("put s16: data slice out of range of the data segment (reference S7)")


# ---- control flow builders -------------------------------------------------------------------
# One builder per control key (a form whose table flow is not plain fall-through): it binds the
# operands and returns the closure the run loop calls.

def _jump(regs: Registers) -> bool:
    """Count a jump in cy0; at the 65535 limit fail instead (spec §4.3)."""
    if regs.cy0 >= JUMP_LIMIT:
        regs.st0 = False
        return False
    regs.cy0 += 1
    return True


def _fail(regs: Registers) -> int:
    regs.st0 = False
    return STOP


def _b_fail(prog: Program, ins: Instr, pos: int):
    """``fail`` and the reserved opcodes (whose complexity is 2^64-1)."""
    return _fail


def _nop_spin(regs: Registers) -> int:
    return NOP_SPIN


def _b_nop(prog: Program, ins: Instr, pos: int):
    """The reference's ``nop`` never advances (S2)."""
    return _nop_spin


def _b_test(prog: Program, ins: Instr, pos: int):
    def test(regs: Registers) -> Optional[int]:
        return None if regs.st0 else STOP
    return test


def _b_jmp(prog: Program, ins: Instr, pos: int):
    target = ins.args[0]

    def jmp(regs: Registers) -> int:
        if regs.cy0 >= JUMP_LIMIT:      # (_jump, inlined: the hottest closure of a loop)
            regs.st0 = False
            return STOP
        regs.cy0 += 1
        return target
    return jmp


def _b_jif(prog: Program, ins: Instr, pos: int):
    target = ins.args[0]

    def jif(regs: Registers) -> Optional[int]:
        if not regs.st0:
            return None
        return target if _jump(regs) else STOP
    return jif


def _push(regs: Registers, site: LibSite, fixed: bool) -> bool:
    """The reference's ``call()``: count a jump, store the site, never advance cp0 (S5)."""
    if not _jump(regs):
        return False
    regs.cs0[regs.cp0] = site
    if fixed:
        if regs.cp0 >= CALL_DEPTH:
            regs.st0 = False
            return False
        regs.cp0 += 1
    return True


def _return_past_end(regs: Registers) -> int:
    """spec: the call stack holds u16 positions; a call whose return address would be 0x10000
    (the call ends the 64 KiB code) fails like an overflowing call stack."""
    if _jump(regs):
        regs.st0 = False
    return STOP


def _b_routine(prog: Program, ins: Instr, pos: int):
    target, fixed = ins.args[0], prog.profile.call_stack
    if fixed and pos + ins.size > 0xFFFF:
        return _return_past_end
    # reference stores the routine's own site (S6); spec stores the return address
    site = LibSite(prog.id, pos + ins.size if fixed else pos)

    def routine(regs: Registers) -> int:
        return target if _push(regs, site, fixed) else STOP
    return routine


def _b_call(prog: Program, ins: Instr, pos: int):
    fixed = prog.profile.call_stack
    if fixed and pos + ins.size > 0xFFFF:
        return _return_past_end
    target = LibSite(ins.value, ins.args[0])  # type: ignore[arg-type]
    pushed = LibSite(prog.id, pos + ins.size) if fixed else target  # S6: reference pushes target

    def call(regs: Registers) -> object:
        return target if _push(regs, pushed, fixed) else STOP
    return call


def _b_exec(prog: Program, ins: Instr, pos: int):
    target = LibSite(ins.value, ins.args[0])  # type: ignore[arg-type]

    def exec_(regs: Registers) -> object:
        return target if _jump(regs) else STOP
    return exec_


def _b_ret(prog: Program, ins: Instr, pos: int):
    def ret(regs: Registers) -> object:
        if regs.cp0 == 0:
            return STOP
        regs.cs0.pop(regs.cp0, None)
        regs.cp0 -= 1
        return regs.cs0.get(regs.cp0, LibSite(ZERO_LIB_ID, 0))
    return ret


_CONTROL = {"fail": _b_fail, "reserved": _b_fail, "nop": _b_nop, "test": _b_test,
            "jmp": _b_jmp, "jif": _b_jif, "routine": _b_routine, "call": _b_call,
            "exec": _b_exec, "ret": _b_ret}


def check_profile(profile: Profile) -> None:
    """Every form the profile decodes has its behaviour: a control builder when its table flow
    is control, an op otherwise (raises ``AssertionError`` naming the gaps)."""
    tables = [profile.table] + [profile.table_for([n]) for n in profile.extensions]
    forms = {f for t in tables for forms in t for f in forms}
    missing = sorted(f.key for f in forms
                     if (f.flow.control and f.key not in _CONTROL)
                     or (not f.flow.control and f.key not in profile.ops))
    stray = sorted(k for k in _CONTROL if k in profile.ops)
    if missing or stray:
        raise AssertionError(f"profile {profile.name}: no behaviour for {missing}, "
                             f"control keys also in the op table: {stray}")


for _profile in PROFILES.values():
    check_profile(_profile)


# ---- the machine ------------------------------------------------------------------------------

@dataclass
class Machine:
    """Runs programs made of one or more libraries against a register file."""

    profile: Profile = REFERENCE
    programs: dict[bytes, Program] = field(default_factory=dict)

    def add(self, code: bytes, data: bytes, libs: Iterable[bytes], lib_id: bytes,
            isae: Iterable[str] = ()) -> Program:
        prog = self.programs.get(lib_id)
        if prog is None:
            prog = Program(code, data, libs, lib_id, self.profile, isae)
            self.programs[lib_id] = prog
        return prog

    def run(self, lib_id: bytes, pos: int, regs: Registers,
            trace: Optional[Callable] = None, host: object = None, check: bool = True) -> Outcome:
        """Run from ``pos`` of ``lib_id``; ``host`` (when given) becomes ``regs.host``, the
        context host extension ops receive (see :mod:`aluvm.host.extensions`).  Raises
        :class:`RegisterError` if ``regs`` holds a value no register can hold, or ``pos`` is not
        a u16 (``check=False``: the caller built them from validated input, as the service
        does); otherwise never raises."""
        if check:
            regs.check()
            if pos.__class__ is not int or not 0 <= pos <= 0xFFFF:
                raise RegisterError(f"entry {pos!r}: not an offset in [0, 65535]")
        if host is not None:
            regs.host = host
        ending = self.run_bare(lib_id, pos, regs, trace)
        return ending if ending.__class__ is Outcome else Outcome(regs.st0, ending)  # type: ignore[arg-type]

    def run_bare(self, lib_id: bytes, pos: int, regs: Registers,
                 trace: Optional[Callable] = None) -> str | Outcome:
        """:meth:`run` without its checks, returning the reason of a normal ending instead of
        an :class:`Outcome` (a panic or error: its Outcome): the same run, for callers that
        run many inputs and read only the registers (the batch fallback path)."""
        reason = "stopped"
        try:
            while True:
                prog = self.programs.get(lib_id)
                if prog is None:
                    # S12: the reference retries pos+1 up to 65535 and returns st0 unchanged
                    if self.profile.missing_lib_fails:
                        regs.st0 = False
                    return "library not found"
                site, why = prog.run(regs, pos, trace)
                if why is not None:
                    reason = why
                if site is None:
                    return reason
                lib_id, pos = site
        except Panic as p:
            regs.st0 = False
            if p.hang:
                return Outcome(False, f"aborted: {p.reason}", panicked=True, hang=True)
            return Outcome(False, f"panic: {p.reason}", panicked=True)
        except HostError as e:
            regs.st0 = False
            return Outcome(False, f"host extension error: {e.reason}", host_error=True)
        except Exception as e:  # a bug here: never reported as a reference behaviour
            if STRICT:
                raise
            regs.st0 = False
            return Outcome(False, f"internal error: {type(e).__name__}: {e}", internal=True)
