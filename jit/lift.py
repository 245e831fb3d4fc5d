"""Lifting: a library's bytecode -> a CFG of basic blocks.

Decoding goes through :meth:`aluvm.interp.Program.decode_at`, i.e. through the instruction
table of the profile (and of the library's ISA extensions), exactly as the interpreter decodes.
Blocks are discovered from the roots (the entry points) and every statically known successor:
jump targets (which may land inside an instruction: decoding simply restarts there), the
fall-through of ``jif``/``test``, return addresses (``spec`` profile) and the instruction after
every instruction that is not compiled (the interpreter runs it, then native code resumes there).

Every control decision reads the instruction table's flow facts (:class:`aluvm.isa.table.Flow`),
never key names.  A block is a run of compiled straight-line instructions ending in one of

* ``ctrl``: a compiled control instruction (:data:`CTRL_KEYS`: ``fail jmp jif routine ret``
  and the reserved opcodes) - anything that may jump or always stops (``test``, which only
  may stop, stays in the body: :func:`in_body`);
* ``fall``: the next instruction starts another block (a leader);
* ``exit``: the next instruction is not compiled (or is truncated, or lies past the end of the
  code): the interpreter takes over at that offset.

Leaders are the roots, all successors above, and every offset where two linear decodes meet.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from aluvm.isa import table as isa
from aluvm.isa.codec import Instr
from aluvm.isa.table import PLAIN, Flow
from aluvm.machine.registers import U64_MAX


def is_terminator(flow: Flow) -> bool:
    """Compiled as a block terminator: any control flow that stays inside this library and
    advances (``call``/``exec`` go through the machine's library loop and the reference's
    non-advancing ``nop`` through the interpreter)."""
    return flow.control and not flow.leaves and not flow.stays


def in_body(flow: Flow) -> bool:
    """A compiled control instruction that stays inside its block: it may only stop the run
    (``test``), so native code either exits there or goes on with the next instruction - it
    needs no block of its own, and its fall-through is no leader."""
    return (is_terminator(flow) and flow.falls and not flow.jumps and not flow.calls
            and not flow.returns)


#: control keys compiled as block terminators (derived from the table's flows)
CTRL_KEYS = frozenset(f.key for forms in isa.REFERENCE_TABLE + isa.SPEC_TABLE for f in forms
                      if is_terminator(f.flow))
#: straight-line instructions per block at most (bounds the exact slow path and IR size)
MAX_BODY = 256


@dataclass
class LInstr:
    pos: int
    ins: Instr

    @property
    def key(self) -> str:
        return self.ins.form.key

    @property
    def nxt(self) -> int:
        return self.pos + self.ins.size

    @property
    def cx(self) -> int:
        return self.ins.form.cx

    @property
    def flow(self) -> Flow:
        return self.ins.form.flow

    @property
    def target(self) -> Optional[int]:
        """The in-library jump target (None: the instruction does not jump)."""
        return self.ins.form.target(self.ins.args)


@dataclass
class Block:
    start: int
    body: list[LInstr]
    term: str                         # 'ctrl' | 'fall' | 'exit'
    ctrl: Optional[LInstr] = None     # the terminator for 'ctrl'
    target: int = 0                   # 'fall': next leader; 'exit': where the interpreter resumes

    @property
    def native(self) -> bool:
        """Worth entering natively (an exit-only block would just bounce to the interpreter)."""
        return bool(self.body) or self.term == "ctrl"

    def prefix_costs(self) -> list[int]:
        """ca0 charge before each instruction of ``body`` (+ the terminator), saturating."""
        out, acc = [], 0
        for li in self.body:
            out.append(acc)
            acc = min(acc + li.cx, U64_MAX)
        out.append(acc)
        return out

    @property
    def cost(self) -> int:
        total = self.prefix_costs()[-1]
        if self.ctrl is not None:
            total = min(total + self.ctrl.cx, U64_MAX)
        return total


@dataclass
class CFG:
    blocks: dict[int, Block]
    roots: tuple[int, ...]
    limit: int
    call_stack: bool = False          # the profile's working call stack (S5/S6)
    n_compiled: int = 0
    n_fallback: int = 0
    fallback_keys: dict[str, int] = field(default_factory=dict)

    @property
    def has_loop(self) -> bool:
        """Some jump goes backwards, or (working call stack) a ``ret`` may return to a compiled
        call: code may run more than once.  (A reference ``ret`` never jumps: cp0 stays.)"""
        calls = returns = False
        for b in self.blocks.values():
            li = b.ctrl
            if li is None:
                continue
            calls |= li.flow.calls
            returns |= li.flow.returns
            target = li.target
            if target is not None and target <= li.pos:
                return True
        return self.call_stack and calls and returns

    @property
    def entries(self) -> frozenset[int]:
        """Offsets at which native code can be entered."""
        return frozenset(p for p, b in self.blocks.items() if b.native)

    def native_successors(self, blk: Block, entries: frozenset[int]) -> list[int]:
        """Blocks native code may continue in directly (a ``ret`` goes through dispatch)."""
        li = blk.ctrl
        if blk.term == "fall":
            out = [blk.target]
        elif li is None:
            out = []
        else:
            target = li.target
            out = [] if target is None else [target]
            if li.flow.falls:
                out.append(li.nxt)
        return [p for p in out if p in entries]

    def run_lengths(self) -> dict[int, float]:
        """For every native block, the most instructions native code can run from it before it
        has to exit (``inf`` when it can reach a native loop).  Tarjan's SCCs, iteratively."""
        native = self.entries
        entries = sorted(native)
        succ = {p: self.native_successors(self.blocks[p], native) for p in entries}
        index: dict[int, int] = {}
        low: dict[int, int] = {}
        on: set[int] = set()
        stack: list[int] = []
        value: dict[int, float] = {}
        counter = 0
        for root in entries:
            if root in index:
                continue
            work = [(root, 0)]
            while work:
                v, k = work.pop()
                if k == 0:
                    index[v] = low[v] = counter
                    counter += 1
                    stack.append(v)
                    on.add(v)
                nxt = succ[v]
                if k < len(nxt):
                    work.append((v, k + 1))
                    w = nxt[k]
                    if w not in index:
                        work.append((w, 0))
                    elif w in on:
                        low[v] = min(low[v], index[w])
                    continue
                for w in nxt:       # children done: fold their low links
                    if w in on and index[w] > index[v]:
                        low[v] = min(low[v], low[w])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    cyclic = len(comp) > 1 or v in succ[v]
                    for w in comp:
                        own = len(self.blocks[w].body) + (1 if self.blocks[w].ctrl else 0)
                        out = [value[x] for x in succ[w] if x not in comp]
                        value[w] = float("inf") if cyclic or float("inf") in out else own + max(out, default=0)
        return value


Supports = Callable[[Instr], bool]


def successors(li: LInstr, call_stack: bool) -> list[int]:
    """Statically known next offsets of an instruction that ends a linear decode: its jump
    target, its fall-through (for an instruction that is not compiled: where native code resumes
    after the interpreter ran it) and, with a working call stack, the return address a call
    pushes."""
    flow = li.flow
    target = li.target
    out = [] if target is None else [target]
    if flow.falls or (flow.calls and call_stack):
        out.append(li.nxt)
    return out


def lift(prog, roots: Iterable[int], supports: Supports) -> CFG:
    """Lift ``prog`` (an :class:`aluvm.interp.Program`) from ``roots``."""
    limit = prog.limit
    call_stack = prog.profile.call_stack
    cache: dict[int, Optional[Instr]] = {}
    # a plain instruction decodes from its own bytes alone (opcode + argument word), so equal
    # byte strings decode to the same (immutable) Instr: decode each distinct one once
    table, dcode = prog.table, prog.dcode
    same_bytes: dict[bytes, Instr] = {}

    def decode(p: int) -> Optional[Instr]:
        if p in cache:
            return cache[p]
        ins: Optional[Instr]
        if p >= limit:
            ins = None
        else:
            form = table[dcode[p]][0]
            end = p + form.size
            if form.special != PLAIN or end > len(dcode):
                ins = prog.decode_at(p)
            else:
                chunk = dcode[p:end]
                ins = same_bytes.get(chunk)
                if ins is None:
                    ins = same_bytes[chunk] = prog.decode_at(p)
        cache[p] = ins
        return ins

    compiled: dict[int, bool] = {}
    # supports() depends on the instruction only (shared Instr objects are decoded once and kept
    # alive by ``cache``, so their ids are unique while lifting)
    supported: dict[int, bool] = {}

    def compiles(p: int, ins: Instr) -> bool:
        ok = compiled.get(p)
        if ok is None:
            ok = supported.get(id(ins))
            if ok is None:
                ok = supported[id(ins)] = supports(ins)
            # spec: a call whose return address does not fit the u16 call stack fails; the
            # interpreter runs it (native code keeps return addresses in 16 bits)
            ok = compiled[p] = ok and not (call_stack and ins.form.key == "routine"
                                           and p + ins.size > 0xFFFF)
        return ok

    ends: dict[int, bool] = {}      # id(flow) -> a compiled instruction of it ends its block

    def ends_block(flow: Flow) -> bool:
        e = ends.get(id(flow))
        if e is None:
            e = ends[id(flow)] = is_terminator(flow) and not in_body(flow)
        return e

    roots = tuple(sorted({r for r in roots if 0 <= r < limit}))
    leaders: set[int] = set(roots)
    visited: set[int] = set()
    work = list(roots)

    def add_leader(p: int) -> None:
        if 0 <= p < limit and p not in leaders:
            leaders.add(p)
            work.append(p)

    # phase 1: leaders
    while work:
        start = work.pop()
        if start in visited:
            continue
        p = start
        while True:
            if p >= limit:
                break
            if p != start and p in visited:
                leaders.add(p)          # two linear decodes meet: split there
                break
            visited.add(p)
            ins = decode(p)
            if ins is None:
                break
            # (call/exec are never compiled)
            if ends_block(ins.form.flow) or not compiles(p, ins):
                for s in successors(LInstr(p, ins), call_stack):
                    add_leader(s)
                break
            p += ins.size

    # phase 2: blocks (a body longer than MAX_BODY is split, adding a leader)
    blocks: dict[int, Block] = {}
    todo = sorted(leaders)
    while todo:
        start = todo.pop()
        if start in blocks:
            continue
        body: list[LInstr] = []
        p = start
        while True:
            ins = decode(p)
            if ins is None or not compiles(p, ins):
                blk = Block(start, body, "exit", target=p)
                break
            li = LInstr(p, ins)
            if ends_block(ins.form.flow):
                blk = Block(start, body, "ctrl", ctrl=li)
                break
            body.append(li)
            p += ins.size
            if p in leaders:
                blk = Block(start, body, "fall", target=p)
                break
            if len(body) >= MAX_BODY:
                leaders.add(p)
                todo.append(p)
                blk = Block(start, body, "fall", target=p)
                break
        blocks[start] = blk

    cfg = CFG(blocks, roots, limit, call_stack)
    exits = set()
    for b in blocks.values():
        cfg.n_compiled += len(b.body) + (1 if b.ctrl is not None else 0)
        if b.term == "exit":
            exits.add(b.target)
    for p in sorted(exits):
        ins = decode(p)
        if ins is not None:
            cfg.n_fallback += 1
            cfg.fallback_keys[ins.form.key] = cfg.fallback_keys.get(ins.form.key, 0) + 1
    return cfg
