"""Execution traces: one record per executed instruction, the same in both tiers.

A record (:class:`Step`) holds where the instruction is (library, offset), its display text,
every register it changed (old and new value, in the vectors' hex format; ``None`` is
undefined) and the control registers ``st0 cy0 ca0 cp0`` after it ran.  The text form is for
people, the JSON-lines form (:meth:`Step.to_json`) is stable for tools.

Both tiers produce records through the interpreter's trace hook: the interpreter tier runs
every instruction in the interpreter; the JIT tier (:mod:`aluvm.tools.jitstep`) runs every
instruction the JIT compiles as native code, one instruction per native call, and the rest in
the interpreter, exactly as the JIT tier does.  :func:`first_difference` then finds the first
instruction at which two traces part.

A trace is bounded (``limit`` records, :data:`aluvm.limits.TRACE_LINES_MAX` by default): a run
without ``cl0`` may execute ~2^32 instructions.  Before the instruction past the bound the
recorder detaches (:class:`TraceDetached`) and the run goes on untraced from that exact state -
the interpreter tier in the plain interpreter loop, the JIT tier in the JIT tier proper (native
code) - so the final state is always the run's real end, at the speed of an untraced run.
"""
from __future__ import annotations

from aluvm.errors import InputError

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence

from aluvm.machine.interp import Machine, Outcome, get_profile
from aluvm.machine.registers import A_NAMES, F_NAMES, R_NAMES, Registers, reg_bytes
from aluvm.limits import TRACE_LINES_MAX

#: one changed register: (old, new) in vector hex, ``None`` = undefined
Change = tuple[Optional[str], Optional[str]]


@dataclass
class Step:
    """One executed instruction."""

    n: int                     # 0-based index in the run
    lib: str                   # library id, hex
    pos: int
    text: str
    writes: dict[str, Change]
    st0: bool
    cy0: int
    ca0: int
    cp0: int
    tier: str = "interp"       # who executed it: "interp" or "native" (not compared)

    def key(self) -> tuple:
        """What two tiers must agree on (everything but who executed it)."""
        return (self.lib, self.pos, self.text, self.writes, self.st0, self.cy0, self.ca0, self.cp0)

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "lib": self.lib, "pos": self.pos, "ins": self.text,
                "writes": {k: [o, v] for k, (o, v) in self.writes.items()},
                "st0": self.st0, "cy0": self.cy0, "ca0": self.ca0, "cp0": self.cp0,
                "tier": self.tier}

    def to_text(self) -> str:
        changes = " ".join(f"{k}: {_show(o)} -> {_show(v)}" for k, (o, v) in self.writes.items())
        flags = f"st0={'true' if self.st0 else 'false'} cy0={self.cy0} ca0={self.ca0}"
        return f"{self.pos:04x}  {self.text:<36} {flags:<30} {changes}".rstrip()


def _show(v: Optional[str]) -> str:
    return "~" if v is None else "0x" + v


def step_line(step: Step, fmt: str) -> str:
    """One record in ``fmt`` ('text' or 'jsonl')."""
    if fmt == "jsonl":
        return json.dumps(step.to_json(), sort_keys=True)
    return step.to_text()


class TraceDetached(BaseException):
    """Raised by a :class:`Recorder` that has passed on its ``limit`` records, before the next
    instruction runs: the registers hold the exact state at ``pos`` of library ``lib_id``.  (A
    ``BaseException``: the machine's ``except Exception`` must not turn it into an outcome.)"""

    def __init__(self, lib_id: bytes, pos: int) -> None:
        super().__init__(lib_id, pos)
        self.lib_id = lib_id
        self.pos = pos


class Recorder:
    """The interpreter's trace hook (``trace(prog, pos, regs, when)``) turned into
    :class:`Step` records, passed to ``sink`` as they happen; after ``limit`` records it raises
    :class:`TraceDetached` instead of running the next instruction."""

    def __init__(self, sink: Callable[[Step], None], limit: Optional[int] = None) -> None:
        self.sink = sink
        self.limit = limit
        self.n = 0
        self.tier = "interp"
        self._before: tuple = ()
        self._text: dict[tuple[int, int], str] = {}     # (id(program), offset) -> display

    def __call__(self, prog: Any, pos: int, regs: Registers, when: str) -> None:
        if when == "before":
            if self.n == self.limit:
                raise TraceDetached(prog.id, pos)
            self._before = _snapshot(regs)
            return
        text = self._text.get((id(prog), pos))
        if text is None:
            from aluvm.tools.service import display
            ins = prog.decode_at(pos)
            text = self._text[(id(prog), pos)] = display(ins) if ins is not None else "?"
        self.sink(Step(self.n, prog.id.hex(), pos, text, _writes(self._before, regs), regs.st0,
                       regs.cy0, regs.ca0, regs.cp0, self.tier))
        self.n += 1


_FAMILIES = (("a", A_NAMES), ("f", F_NAMES), ("r", R_NAMES))


def _snapshot(regs: Registers) -> tuple:
    """The register banks as they are (cheap: list copies; converted only where changed)."""
    copy = list.copy
    return (list(map(copy, regs.a)), list(map(copy, regs.f)), list(map(copy, regs.r)),
            regs.s.copy())


def _writes(before: tuple, regs: Registers) -> dict[str, Change]:
    """Registers whose value changed since ``before``, in name order, as vector hex."""
    out: dict[str, Change] = {}
    for k, (fam, names) in enumerate(_FAMILIES):
        banks = getattr(regs, fam)
        if before[k] == banks:          # (most instructions write one register, or none)
            continue
        for code, name in enumerate(names):
            old, new = before[k][code], banks[code]
            if old == new:
                continue
            width = reg_bytes(fam, code)
            order = "little" if fam == "r" else "big"
            for idx, (x, y) in enumerate(zip(old, new)):
                if x != y:
                    out[f"{name}[{idx}]"] = (_int_hex(x, width, order), _int_hex(y, width, order))
    if before[3] != regs.s:
        for idx, (x, y) in enumerate(zip(before[3], regs.s)):
            if x != y:
                out[f"s16[{idx}]"] = (_hex(x), _hex(y))
    return dict(sorted(out.items())) if len(out) > 1 else out


def _int_hex(v: Optional[int], width: int, order: str) -> Optional[str]:
    return None if v is None else v.to_bytes(width, order).hex()  # type: ignore[arg-type]


def _hex(v: Optional[bytes]) -> Optional[str]:
    return None if v is None else v.hex()


@dataclass
class TraceRun:
    """A traced run: its outcome and, for the JIT tier, how it was traced."""

    outcome: Outcome
    steps: list[Step] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    #: the run went on past ``limit`` records, untraced (a run without cl0 can execute ~2^32
    #: instructions, so a trace is bounded and says that it stopped)
    truncated: bool = False


def traced_run(lib: Any, regs: Registers, entry: int, profile: str, tier: str = "interp",
               sink: Optional[Callable[[Step], None]] = None, keep: bool = True,
               stepper: Any = None, limit: int = TRACE_LINES_MAX) -> TraceRun:
    """Run ``lib`` in ``tier`` ('interp' or 'jit') with a trace.  The first ``limit`` records go
    to ``sink`` (when given) and, with ``keep``, into the result's ``steps``; then the run goes
    on untraced in the same tier to its end (``truncated``)."""
    result = TraceRun(Outcome(False, ""))

    def collect(step: Step) -> None:
        if keep:
            result.steps.append(step)
        if sink is not None:
            sink(step)

    recorder = Recorder(collect, limit)
    prof = get_profile(profile)
    resumed_at = -1
    if tier == "interp":
        machine = Machine(prof)
        machine.add(lib.code, lib.data, lib.libs, lib.id, lib.isae)
        try:
            result.outcome = machine.run(lib.id, entry, regs, trace=recorder)
        except TraceDetached as at:
            resumed_at = at.pos
            result.outcome = machine.run(at.lib_id, at.pos, regs, check=False)
        result.stats = {"trace_path": "interpreter"}
    elif tier == "jit":
        from aluvm.tools.jitstep import JitStepper
        stepper = stepper or JitStepper()
        try:
            result.outcome = stepper.run(lib, regs, entry, prof, recorder)
        except TraceDetached as at:
            resumed_at = at.pos
            result.outcome = stepper.resume(lib, regs, at.pos, prof)
        result.stats = stepper.stats()
    else:
        raise InputError(f"unknown tier {tier!r}")
    if resumed_at >= 0:
        result.truncated = True
        result.stats["trace_untraced_from"] = {"step": recorder.n, "pos": resumed_at}
    return result


@dataclass
class Difference:
    """Where two traces part: the record index and both records (``None``: that trace ended)."""

    index: int
    a: Optional[Step]
    b: Optional[Step]

    def fields(self) -> list[str]:
        """The fields in which the two records differ."""
        if self.a is None or self.b is None:
            return ["length"]
        names = ("lib", "pos", "text", "writes", "st0", "cy0", "ca0", "cp0")
        return [n for n, x, y in zip(names, self.a.key(), self.b.key()) if x != y]

    def to_json(self, names: tuple[str, str] = ("interp", "jit")) -> dict[str, Any]:
        at = self.a or self.b
        assert at is not None
        return {"step": self.index, "pos": at.pos, "lib": at.lib, "instruction": at.text,
                "fields": self.fields(),
                names[0]: self.a.to_json() if self.a else None,
                names[1]: self.b.to_json() if self.b else None}

    def describe(self, names: tuple[str, str] = ("interp", "jit")) -> str:
        at = self.a or self.b
        assert at is not None
        lines = [f"traces differ at step {self.index}: {at.pos:04x}  {at.text}"
                 f"  ({', '.join(self.fields())})"]
        for name, s in zip(names, (self.a, self.b)):
            lines.append(f"  {name:<6} " + (s.to_text() if s is not None else "(trace ended)"))
        return "\n".join(lines)


def first_difference(a: Sequence[Step], b: Sequence[Step]) -> Optional[Difference]:
    """The first record at which two traces differ, or ``None`` when they are identical."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x.key() != y.key():
            return Difference(i, x, y)
    if len(a) != len(b):
        i = min(len(a), len(b))
        return Difference(i, a[i] if i < len(a) else None, b[i] if i < len(b) else None)
    return None


def iter_json(lines: Iterable[str]) -> Iterable[dict[str, Any]]:
    """Parse a JSONL trace (for tools reading ``--trace-format jsonl`` output)."""
    for line in lines:
        if line.strip():
            yield json.loads(line)


__all__ = ["Step", "Recorder", "TraceDetached", "TraceRun", "traced_run", "first_difference",
           "Difference", "step_line", "iter_json"]


if __name__ == "__main__":      # (the vector comparison moved to its own module)
    from aluvm.tools.trace_vectors import main
    raise SystemExit(main())
