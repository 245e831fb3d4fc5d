"""Straight-line blocks: the unit the interpreter's plain run loop dispatches on.

A block is the run of instructions from an offset up to and including the first control
instruction or host extension op (at most :data:`MAX_BLOCK` instructions, never past an offset that does not
decode; the reference's non-advancing ``nop`` is always a block of its own).  It becomes one
closure that calls the instructions' own bound ops (:meth:`Program.entry`) in order and returns
where execution goes on: an offset (``int >= 0``), ``STOP``/``NOP_SPIN`` or a ``LibSite`` -
never ``None``.  A block adds no semantics; it saves the run loop's per-instruction lookup,
counter and dispatch work.  Two kinds:

* ``block(regs) -> next``;
* a *loop* - a block ending in ``jmp`` to its own start (a one-block loop) -
  ``loop(regs, ca0, bound) -> (next, ca0)`` runs the block again and again in its own frame,
  as many rounds as the jump counter and the complexity budget allow (counted before it
  starts), and returns with the complexity charged.

Exactness is the run loop's part: it enters a block only when the block's whole complexity
cannot reach the limit (nor saturate ``ca0``), and otherwise runs instruction by instruction.
An exception raised inside a block carries, in :data:`CHARGED`, the complexity of the
instructions that completed before it, so ``ca0`` ends exactly where the per-instruction loop
leaves it (an instruction that raises is not charged).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from aluvm.isa import table as isa
from aluvm.isa.table import JUMPS
from aluvm.machine.registers import JUMP_LIMIT

#: instructions per block at most (bounds the work of building overlapping blocks)
MAX_BLOCK = 32
#: the attribute of an exception raised inside a block: complexity charged before it
CHARGED = "aluvm_charged"

#: the core instruction set's keys; any other op is a host extension's, which may return an
#: action (jump, stop, library site) though its flow says it falls through: it ends a block
_CORE_KEYS = frozenset(f.key for table in (isa.REFERENCE_TABLE, isa.SPEC_TABLE)
                       for forms in table for f in forms)

Op = Callable[[Any], object]
#: (closure, total complexity, is a loop)
Block = tuple[Callable[..., Any], int, bool]


def charged(exc: BaseException) -> int:
    """The complexity a block charged before ``exc`` was raised (removing the mark)."""
    return exc.__dict__.pop(CHARGED, 0)


def build(prog: Any, pos: int) -> Optional[Block]:
    """The block starting at ``pos`` of ``prog`` (an :class:`~aluvm.machine.interp.Program`),
    or ``None`` if no instruction decodes at ``pos``."""
    from aluvm.machine.interp import STOP
    ops: list[Op] = []
    costs: list[int] = []
    p = pos
    term: Optional[Op] = None
    self_jump = False
    while len(ops) < MAX_BLOCK:
        ent = prog.entry(p)
        if ent is None:
            break
        fn, nxt, cx = ent
        ins = prog.decode_at(p)
        flow = ins.form.flow
        if flow.stays and costs:
            break           # the non-advancing nop starts its own block (its reports name it)
        costs.append(cx)
        if flow.control or ins.form.key not in _CORE_KEYS:
            term = fn
            self_jump = flow == JUMPS and ins.form.target(ins.args) == pos
            p = nxt
            break
        ops.append(fn)
        p = nxt
    if not costs:
        return None
    prefix = [sum(costs[:k]) for k in range(len(costs) + 1)]
    if self_jump and ops:
        return _loop(ops, pos, prefix, STOP), prefix[-1], True
    return _straight(ops, term, p, prefix), prefix[-1], False


def _straight(ops: list[Op], term: Optional[Op], nxt: int, prefix: list[int]) -> Op:
    """``ops`` in order, then ``term`` (a control instruction's op, whose ``None`` means fall
    through) or fall through to ``nxt``."""
    if len(ops) == 1 and term is not None:
        (op,), c1 = ops, prefix[1]

        def one_then_control(regs: Any) -> object:     # one frame fewer than the loop below
            op(regs)
            try:
                r = term(regs)
            except BaseException as e:
                e.__dict__[CHARGED] = c1
                raise
            return nxt if r is None else r
        return one_then_control

    def straight(regs: Any) -> object:
        k = 0
        try:
            for op in ops:
                op(regs)
                k += 1
            r = None if term is None else term(regs)
        except BaseException as e:
            e.__dict__[CHARGED] = prefix[k]
            raise
        return nxt if r is None else r
    return straight


def _rounds(regs: Any, ca0: int, bound: int, cost: int) -> tuple[int, int, int]:
    """How many rounds a one-block loop runs, known before it starts: ``(cy0, jumps, n)`` -
    ``jumps`` rounds can still jump (cy0 below :data:`JUMP_LIMIT`), the one after them runs and
    its jump fails; and a round starts only while it cannot reach ``bound`` (the caller checked
    the first).  Data ops never read or write cy0, so it is counted here, not per round."""
    cy0 = regs.cy0
    jumps = JUMP_LIMIT - cy0 if cy0 < JUMP_LIMIT else 0
    return cy0, jumps, min((bound - 1 - ca0) // cost, jumps + 1)


def _loop(ops: list[Op], start: int, prefix: list[int], stop: int) -> Callable[..., object]:
    """``ops`` then ``jmp start`` (counted in cy0 as the interpreter's ``jmp`` counts it: at
    :data:`JUMP_LIMIT` the jump fails with ``stop``), round after round while the next round
    cannot reach ``bound``."""
    cost = prefix[-1]

    def end(regs: Any, ca0: int, cy0: int, jumps: int, n: int) -> tuple[object, int]:
        if n > jumps:                       # the last round's jump failed at the limit
            regs.cy0 = cy0 + jumps
            regs.st0 = False
            return stop, ca0 + n * cost
        regs.cy0 = cy0 + n
        return start, ca0 + n * cost

    if len(ops) == 1:
        (op,) = ops

        def loop_one(regs: Any, ca0: int, bound: int) -> tuple[object, int]:
            cy0, jumps, n = _rounds(regs, ca0, bound, cost)
            k = 0
            try:
                for k in range(n):
                    op(regs)
            except BaseException as e:      # round k did not complete
                regs.cy0 = cy0 + k
                e.__dict__[CHARGED] = k * cost
                raise
            return end(regs, ca0, cy0, jumps, n)
        return loop_one

    def loop(regs: Any, ca0: int, bound: int) -> tuple[object, int]:
        cy0, jumps, n = _rounds(regs, ca0, bound, cost)
        r = k = 0
        try:
            for r in range(n):
                k = 0
                for op in ops:
                    op(regs)
                    k += 1
        except BaseException as e:          # op k of round r raised
            regs.cy0 = cy0 + r
            e.__dict__[CHARGED] = r * cost + prefix[k]
            raise
        return end(regs, ca0, cy0, jumps, n)
    return loop


__all__ = ["build", "charged", "Block", "MAX_BLOCK", "CHARGED"]
