"""The skeleton of a compiled library's function: state, prologue, dispatch, blocks, exits.

One function per library, ``i32 fn(ptr rf, i32 pos)``, runs from ``pos`` until execution stops
(returns :data:`~aluvm.jit.layout.EXIT_STOP`, or :data:`~aluvm.jit.layout.EXIT_END` at the end
of the code) or the interpreter must take over (returns
:data:`~aluvm.jit.layout.EXIT_FALLBACK` with ``rf.exit_pos`` set).  On every exit the register
file ``rf`` holds the exact machine state *before* the instruction at ``exit_pos``.  In
pseudo-code::

    i32 fn(RegFile *rf, i32 pos):
      entry:                                   ; load the state once
        a8_0, d8_0, ... = rf->a[..], rf->adef[..]   ; every A register up to a64 the code uses
        st0, cy0, ca0, cp0 = rf->...; lim = rf->has_cl0 ? rf->cl0 : 2^64-1; bp = rf->bp
        if !(ca0 < lim): goto exit(FALLBACK at pos)  ; from here on ca0 < lim always holds
      dispatch:                                ; also the target of a native `ret`
        switch pos { case b: goto b<b> ... default: goto exit(FALLBACK at pos) }
      b<start>:                                ; one per native block
        if !(ca0 + cost(block) < lim): goto exit(FALLBACK at start)  ; interpreter, per instr.
        <body: each instruction's emitter; a corner case or reference panic exits
         (FALLBACK at that instruction) with ca0 charged up to it; a `test` whose st0 is
         false exits (STOP_CHARGE by the cost up to and including it; st0's slot is not
         written for it: the exit block knows st0 is false on such an edge)>
        ca0 = ca0 + cost(block)
        <terminator: fail/jmp/jif/routine/ret, or the next block, or a fallback exit>
      jump edge:                               ; jmp, jif taken, routine
        if cy0 >= 0xFFFF: st0 = false; goto exit(STOP)
        cy0 += 1
      exit:                                    ; (xcode, xpos): phis over every exit edge
        if xcode == STOP_CHARGE: ca0 += xpos; st0 = false; xcode, xpos = STOP, 0
        rf->a[..], rf->adef[..], rf->st0, cy0, ca0, cp0, exit_pos = ...; return xcode

Registers live in allocas that SROA turns into SSA values (code with loops is optimised; code
without loops runs each instruction at most once and is compiled fast, unoptimised), so inside
a block and across loop back-edges every A register the library touches (value ``iW`` + defined
``i1``), ``st0``, ``cy0``, ``ca0`` and ``cp0`` are plain SSA values.  Registers wider than
``SSA_MAX`` bits are read and written in place in the register file.

Unoptimised (*cold*) code is built for compile speed - LLVM's fast instruction selector and
register allocator, no IR passes: every IR instruction it contains is one the fast selector
handles (no ``i1`` selects or compares, no saturating or min/max intrinsics), and the bulky
rules (the signed store, the reference's signed ordering, the signed shift) are calls to
by-value helpers (:mod:`~aluvm.jit.helpers`) through the register file's ``rt`` slots.

Complexity: each block first checks ``ca0 + cost(block) < lim``; then the whole block is charged
at once and cannot reach the limit.  If the block could cross the limit, native code exits
*before* the block and the interpreter runs it instruction by instruction - the exact slow path
(the run necessarily ends inside that block).
"""
from __future__ import annotations

from typing import Any, Optional

from aluvm.machine.registers import U64_MAX

from aluvm.jit import layout
from aluvm.jit import runtime
from aluvm.jit.irbuilder import METADATA, IRBuilder, int_type
from aluvm.jit.layout import EXIT_END, EXIT_FALLBACK, EXIT_STOP, EXIT_STOP_CHARGE, OFF, REG_BITS
from aluvm.jit.lift import CFG, Block, LInstr

#: widest A register kept in an SSA value; wider ones are used in place in the register file
SSA_MAX = 64


class FunctionSkeleton(IRBuilder):
    """The parts of a library's function every emitter builds on (see the module docstring).

    While an instruction is emitted, :attr:`cur` is it, :attr:`args` its decoded fields by
    name, :attr:`cur_prefix` the complexity charged before it within its block and
    :attr:`ca_start` the block's ca0 on entry."""

    def __init__(self, cfg: CFG, prog: Any, name: str, cold: bool = False) -> None:
        super().__init__()
        #: unoptimised code (compiled fast, see :func:`aluvm.jit.engine.opt_level`): bulky
        #: rules become calls to runtime helpers and IR stays within what LLVM's fast
        #: instruction selector handles
        self.cold = cold
        #: the incoming edges of the shared exit block: (exit_pos << 2 | exit code, block
        #: label) - one phi, so one copy per edge
        self.exits: list[tuple[str, str]] = []
        self.charged = False                  # some edge is a STOP_CHARGE
        #: within the LLVM basic block being emitted: the SSA values last loaded from or
        #: stored to an A register's slots (value, defined) and st0 (forgotten at each label)
        self.known: dict[tuple[int, int], tuple[str, str]] = {}
        self.known_st0: Optional[str] = None
        #: st0's value not stored yet: written back only before the block's terminator (a
        #: second write before it makes the first dead; nothing in between reads the slot)
        self.pending_st0: Optional[str] = None
        #: 64-bit words of wide (> ``SSA_MAX``) register values read or written: LLVM expands
        #: wide arithmetic word by word, so this drives compile time (see :meth:`cost`)
        self.wide_words = 0
        self.ops: dict[str, Any] = {}        # key -> its bound emitter (``op_<key>``)
        self.lines = 0
        self.cfg = cfg
        self.prog = prog
        self.name = name
        self.call_stack = prog.profile.call_stack if prog is not None else False
        self.regs: dict[tuple[int, int], tuple[str, str]] = {}
        self.entries = cfg.entries if cfg is not None else frozenset()
        self.scratch: dict[int, int] = {}     # width -> scratch slots used for helper calls
        self.cur: LInstr
        self.cur_prefix = 0
        self.ca_start = ""
        self.args: dict[str, Any] = {}
        self.both = "true"

    # -- machine state ------------------------------------------------------------------------
    def slot(self, c: int, i: int) -> tuple[str, str]:
        """Pointers to the value and defined flag of register ``c`` (RegAR code: 0..7 A, 8..15
        R) / ``i``: allocas (SSA after SROA) for a8..a64, the register file itself for
        a128..a1024 and every R register (wide values kept in SSA across a whole function
        overwhelm the register allocator)."""
        key = (c, i)
        s = self.regs.get(key)
        if s is None:
            layout.reg_offset(c, i)   # bounds check: raises outside the register file
            s = self.regs[key] = (f"%a{c}_{i}", f"%d{c}_{i}")
        return s

    def get(self, c: int, i: int) -> tuple[str, str]:
        key = (c, i)
        hit = self.known.get(key)
        if hit is not None:
            return hit
        vp, dp = self.slot(c, i)
        w = REG_BITS[c]
        if w > SSA_MAX:
            self.wide_words += w // 64
            d = self.value(f"icmp ne i8 {self.value(f'load i8, ptr {dp}')}, 0")
            return self.value(f"load i{w}, ptr {vp}, align 1"), d
        vd = self.known[key] = (self.value(f"load i{w}, ptr {vp}"), self.value(f"load i1, ptr {dp}"))
        return vd

    def put(self, c: int, i: int, v: Optional[str], d: str) -> None:
        key = (c, i)
        vp, dp = self.slot(c, i)
        w = REG_BITS[c]
        if w > SSA_MAX:
            self.wide_words += w // 64
            if v is not None:
                self.emit(f"store i{w} {v}, ptr {vp}, align 1")
            self.emit(f"store i8 {self.value(f'zext i1 {d} to i8')}, ptr {dp}")
            return
        if v is not None:
            self.emit(f"store i{w} {v}, ptr {vp}")
            self.known[key] = (v, d)
        else:
            hit = self.known.get(key)
            if hit is not None:
                self.known[key] = (hit[0], d)
        self.emit(f"store i1 {d}, ptr {dp}")

    def begin(self, label: str) -> None:
        assert self.pending_st0 is None, "a block ended without a terminator"
        super().begin(label)
        self.known = {}
        self.known_st0 = None

    def st0(self) -> str:
        if self.known_st0 is None:
            self.known_st0 = self.value("load i1, ptr %st0p")
        return self.known_st0

    def set_st0(self, v: str) -> None:
        self.pending_st0 = self.known_st0 = v

    def flush_st0(self) -> None:
        """Store st0's pending value (before a terminator: the slot is read in other blocks)."""
        v = self.pending_st0
        if v is not None:
            self.out.append(f"  store i1 {v}, ptr %st0p")
            self.pending_st0 = None

    def br(self, label: str) -> None:
        self.flush_st0()
        super().br(label)

    def cbr(self, cond: str, yes: str, no: str, likely: Optional[bool] = None) -> None:
        self.flush_st0()
        super().cbr(cond, yes, no, likely)

    def exit_edge(self, code: int, pos: str) -> None:
        """Record that the current block branches to the shared exit block with (code,
        ``exit_pos``), packed into the value of the exit block's phi."""
        if pos.isdigit():
            packed = str(int(pos) << 2 | code)
        else:       # a run-time position (an i32 SSA value)
            wide = self.value(f"shl i64 {self.value(f'zext i32 {pos} to i64')}, 2")
            packed = self.value(f"or i64 {wide}, {code}")
        self.charged |= code == EXIT_STOP_CHARGE
        self.exits.append((packed, self.block_label))

    def exit(self, code: int, pos: str) -> None:
        """End the current block with an exit (code, ``exit_pos``) through the shared exit
        block (whose phi receives them: no per-exit stores)."""
        self.exit_edge(code, pos)
        self.br("exit")

    def exit_unless(self, cond: str, cont: str, code: int, pos: str,
                    likely: Optional[bool] = True, only_pred: bool = True) -> None:
        """Continue at the label ``cont`` when ``cond`` holds, else exit (code, ``pos``); then
        emit ``cont`` (``only_pred``: reached from here only, so the values known here stay
        known there)."""
        self.exit_edge(code, pos)
        self.cbr(cond, cont, "exit", likely)
        self.begin_after(cont) if only_pred else self.begin(cont)

    def stop_unless_st0(self, st0: str, charge: int) -> None:
        """A ``test`` inside a block: continue (at a new label) when ``st0`` holds, else stop
        with ca0 charged by ``charge`` (:data:`~aluvm.jit.layout.EXIT_STOP_CHARGE`).  St0's
        slot is not written for it: on the stop edge st0 is false (the exit block stores that
        for every STOP_CHARGE edge), past it true."""
        pending, self.pending_st0 = self.pending_st0, None
        cont = self.label("test.on")
        self.exit_edge(EXIT_STOP_CHARGE, str(charge))
        IRBuilder.cbr(self, st0, cont, "exit", True)     # (no write-back of st0)
        self.begin_after(cont)
        if pending is not None:     # the slot may hold an older value: st0 is true here
            self.pending_st0 = "true"
        self.known_st0 = "true"

    def begin_after(self, label: str) -> None:
        """Start the block ``label`` whose only predecessor is the block just ended: what was
        known there stays known."""
        known, st0 = self.known, self.known_st0
        self.begin(label)
        self.known, self.known_st0 = known, st0

    def charge(self, ca: str, amount: int) -> None:
        """ca0 <- ``ca`` + ``amount`` at an exit inside a block (cannot overflow: the whole
        block's charge stays below the limit, see :meth:`block`)."""
        v = ca if amount == 0 else self.value(f"add nuw i64 {ca}, {amount}")
        self.emit(f"store i64 {v}, ptr %ca0p")

    def goto(self, pos: int) -> None:
        """Continue at ``pos``: a native block, the end of the code, or the interpreter."""
        if pos in self.entries:
            self.br(f"b{pos}")
        elif pos >= self.cfg.limit:
            self.exit(EXIT_END, str(pos))
        else:
            self.exit(EXIT_FALLBACK, str(pos))

    # -- integer helpers ----------------------------------------------------------------------
    def primitive(self, name: str, w: int, xs: list[str], s: Optional[str] = None) -> list[str]:
        """A :mod:`jit.runtime` primitive at width ``w``: inline, or a call to its helper."""
        if not runtime.out_of_line(name, w):
            amap = dict(zip(("%x", "%y"), xs))
            if s is not None:
                amap["%s"] = s
            return runtime.inline(name, w, amap, self.fresh, self.emit)
        p = runtime.PRIMS[name]
        ty = int_type(w)
        slots = [f"%rt{w}_{k}" for k in range(p.results + len(xs))]
        self.scratch[w] = max(self.scratch.get(w, 0), len(slots))
        args = [f"ptr {q}" for q in slots[:p.results]]
        it = iter(slots[p.results:])
        for v in xs:
            slot = next(it)
            self.emit(f"store {ty} {v}, ptr {slot}")
            args.append(f"ptr {slot}")
        if "s" in p.operands:
            args.append(f"i32 {s}")
        self.decls.add(runtime.declaration(name, w))
        call = f"call {'i1' if p.flag else 'void'} @{runtime.symbol(name, w)}({', '.join(args)})"
        flag = [self.value(call)] if p.flag else []
        if not p.flag:
            self.emit(call)
        return [self.value(f"load {ty}, ptr {q}") for q in slots[:p.results]] + flag

    def by_value(self, name: str, w: int, *args: str) -> Optional[str]:
        """In cold code, a call to the runtime's by-value helper ``name`` at width ``w``
        (through its slot in the register file, see :mod:`~aluvm.jit.layout`); else (or
        at a width without helper) ``None``: the caller emits the rule inline - which is also
        how the helper itself is made (:mod:`~aluvm.jit.helpers`)."""
        if not self.cold or w not in runtime.BY_VALUE[name][0]:
            return None
        ops, ret = runtime.value_types(name, w)
        # the helper's address, loaded once per run of blocks that :attr:`known` covers (kept
        # there under the register code -1, which no register has)
        key = (-1, runtime.value_slot(name, w))
        hit = self.known.get(key)
        if hit is None:
            fp = self.value(f"load ptr, ptr {self.gep(OFF['rt'] + key[1])}")
            self.known[key] = (fp, "")
        else:
            fp = hit[0]
        return self.value(f"call {ret} {fp}({', '.join(f'{t} {a}' for t, a in zip(ops, args))})")

    def store_signed(self, v: str, w: int, nonneg_likely: bool = False) -> str:
        """The reference's write of a signed-layout result (intmath.store_signed).

        ``nonneg_likely`` (add/sub results): the rule as a branch that is predicted not to be
        taken, so a loop-carried register is not delayed by the rule's dependency chain;
        otherwise (a mul result is negative half the time) branch-free."""
        if w == 8:
            return v
        called = self.by_value("store_signed", w, v)
        if called is not None:
            return called
        if not nonneg_likely or w > SSA_MAX:
            return self.primitive("store_signed", w, [v])[0]
        neg = self.value(f"icmp slt i{w} {v}, 0")
        fix, done = self.label("ss.neg"), self.label("ss.done")
        here = self.block_label
        self.cbr(neg, fix, done, likely=False)
        self.begin(fix)
        kept = self.primitive("store_signed", w, [v])[0]
        there = self.block_label
        self.br(done)
        self.begin(done)
        return self.value(f"phi i{w} [ {v}, %{here} ], [ {kept}, %{there} ]")

    def signed_gt(self, x: str, y: str, w: int) -> str:
        """``x > y`` in the reference's defective signed ordering: (positive?, key) pairs
        compared lexicographically (see :meth:`signed_key`)."""
        called = self.by_value("signed_gt", w, x, y)
        if called is not None:
            return called
        px, kx = self.signed_key(x, w)
        py, ky = self.signed_key(y, w)
        first = self.value(f"and i1 {px}, {self.value(f'xor i1 {py}, true')}")
        same = self.eq1(px, py)
        cmp = self.value(f"and i1 {same}, {self.value(f'icmp ugt i{w} {kx}, {ky}')}")
        return self.value(f"or i1 {first}, {cmp}")

    def signed_key(self, x: str, w: int) -> tuple[str, str]:
        """(positive?, key) of the reference's defective signed ordering."""
        ty = int_type(w)
        pos = self.value(f"icmp sgt {ty} {x}, 0")
        return pos, self.select(pos, ty, x, self.store_signed(x, w))

    def shift_amount(self, a2: int, idx: int) -> tuple[str, str]:
        """The a8/a16 shift register as i32 + defined flag."""
        c = 0 if a2 == 0 else 1
        v, d = self.get(c, idx)
        return self.resize(v, REG_BITS[c], 32), d

    # -- the function -------------------------------------------------------------------------
    def generate(self) -> str:
        body: list[str] = []
        self.out = body
        # the body is the only part emitted in textual order (the prologue, which comes first,
        # is made after it): its values are numbered, the others' named
        self.numbered, self.vn = True, 0
        for start in sorted(self.cfg.blocks):
            blk = self.cfg.blocks[start]
            if blk.native:
                self.block(blk)
        self.numbered = False
        head: list[str] = []
        self.out = head
        self.prologue()
        tail: list[str] = []
        self.out = tail
        self.epilogue()
        assert self.pending_st0 is None, "st0 written after the last terminator"
        decls = "\n".join(sorted(self.decls))
        self.lines = len(head) + len(body) + len(tail)
        return (f"define i32 @{self.name}(ptr noalias nocapture %rf, i32 %pos) nounwind {{\n"
                + "\n".join(head + body + tail) + "\n}\n\n" + decls + "\n" + METADATA)

    @property
    def cost(self) -> int:
        """What compiling the generated function costs, in IR lines (after :meth:`generate`):
        see :data:`aluvm.limits.JIT_COMPILE_MAX_COST`."""
        return self.lines + 4 * self.wide_words

    def narrow(self) -> list:
        """The registers kept in allocas (loaded on entry, stored on exit)."""
        return [item for item in self.regs.items() if REG_BITS[item[0][0]] <= SSA_MAX]

    def prologue(self) -> None:
        self.begin("entry")
        for (c, i), (vp, dp) in sorted(self.regs.items()):
            if REG_BITS[c] > SSA_MAX:
                self.emit(f"{vp} = getelementptr inbounds i8, ptr %rf, i64 {layout.reg_offset(c, i)}")
                self.emit(f"{dp} = getelementptr inbounds i8, ptr %rf, i64 {layout.reg_def_offset(c, i)}")
            else:
                self.emit(f"{vp} = alloca i{REG_BITS[c]}")
                self.emit(f"{dp} = alloca i1")
        for w, n in sorted(self.scratch.items()):
            for k in range(n):
                self.emit(f"%rt{w}_{k} = alloca i{w}")
        for name, ty in (("st0p", "i1"), ("cy0p", "i32"), ("ca0p", "i64"), ("cp0p", "i32"),
                         ("dposp", "i32")):
            self.emit(f"%{name} = alloca {ty}")
        for (c, i), (vp, dp) in sorted(self.narrow()):
            w = REG_BITS[c]
            v = self.value(f"load i{w}, ptr {self.gep(layout.reg_offset(c, i))}, align 1")
            self.emit(f"store i{w} {v}, ptr {vp}")
            d = self.value(f"load i8, ptr {self.gep(layout.reg_def_offset(c, i))}")
            d = self.value(f"icmp ne i8 {d}, 0")
            self.emit(f"store i1 {d}, ptr {dp}")
        s = self.value(f"load i8, ptr {self.gep(OFF['st0'])}")
        self.emit(f"store i1 {self.value(f'icmp ne i8 {s}, 0')}, ptr %st0p")
        for name, ty in (("cy0", "i32"), ("ca0", "i64"), ("cp0", "i32")):
            v = self.value(f"load {ty}, ptr {self.gep(OFF[name])}")
            self.emit(f"store {ty} {v}, ptr %{name}p")
            if name == "ca0":
                ca0 = v
        h = self.value(f"load i8, ptr {self.gep(OFF['has_cl0'])}")
        nocl = self.value(f"icmp eq i8 {h}, 0")
        cl0 = self.value(f"load i64, ptr {self.gep(OFF['cl0'])}")
        # the complexity a block may reach: cl0, or (no limit) 2^64 - 1, where saturation
        # begins - a block that would saturate leaves to the interpreter, which is exact
        self.emit(f"%lim = select i1 {nocl}, i64 -1, i64 {cl0}")
        self.emit(f"%bp = load i32, ptr {self.gep(OFF['bp'])}")
        self.emit("store i32 %pos, ptr %dposp")
        # ca0 stays below the limit in native code (every block checks that it stays so): if
        # it is not already, the interpreter runs (as the first block's check would decide)
        self.exit_unless(self.value(f"icmp ult i64 {ca0}, %lim"), "dispatch", EXIT_FALLBACK,
                         "%pos", only_pred=False)
        d = self.value("load i32, ptr %dposp")
        cases = " ".join(f"i32 {p}, label %b{p}" for p in sorted(self.entries))
        self.emit(f"switch i32 {d}, label %nodisp [ {cases} ]")
        self.begin("nodisp")
        self.exit(EXIT_FALLBACK, d)

    def epilogue(self) -> None:
        self.begin("exit")
        charged = self.charged
        ins = ", ".join(f"[ {v}, %{label} ]" for v, label in self.exits)
        self.emit(f"%xcp = phi i64 {ins}")
        suffix = ".0" if charged else ""
        self.emit(f"%xcode{suffix} = trunc i64 {self.value('and i64 %xcp, 3')} to i32")
        self.emit(f"%xpos{suffix} = trunc i64 {self.value('lshr i64 %xcp, 2')} to i32")
        if charged:     # a stop that charges ca0 by exit_pos (see EXIT_STOP_CHARGE)
            self.emit(f"%xchg = icmp eq i32 %xcode.0, {EXIT_STOP_CHARGE}")
            add = self.resize(self.select("%xchg", "i32", "%xpos.0", "0"), 32, 64)
            ca = self.value("load i64, ptr %ca0p")
            self.emit(f"store i64 {self.value(f'add nuw i64 {ca}, {add}')}, ptr %ca0p")
            self.emit(f"%xcode = select i1 %xchg, i32 {EXIT_STOP}, i32 %xcode.0")
            self.emit("%xpos = select i1 %xchg, i32 0, i32 %xpos.0")
        for (c, i), (vp, dp) in sorted(self.narrow()):
            w = REG_BITS[c]
            v = self.value(f"load i{w}, ptr {vp}")
            self.emit(f"store i{w} {v}, ptr {self.gep(layout.reg_offset(c, i))}, align 1")
            d = self.value(f"zext i1 {self.value(f'load i1, ptr {dp}')} to i8")
            self.emit(f"store i8 {d}, ptr {self.gep(layout.reg_def_offset(c, i))}")
        st0 = self.st0()
        if charged:     # a test's stop does not write st0's slot: st0 is false there
            st0 = self.value(f"and i1 {self.not1('%xchg')}, {st0}")
        s = self.value(f"zext i1 {st0} to i8")
        self.emit(f"store i8 {s}, ptr {self.gep(OFF['st0'])}")
        for name, ty in (("cy0", "i32"), ("ca0", "i64"), ("cp0", "i32")):
            v = self.value(f"load {ty}, ptr %{name}p")
            self.emit(f"store {ty} {v}, ptr {self.gep(OFF[name])}")
        self.emit(f"store i32 %xpos, ptr {self.gep(OFF['exit_pos'])}")
        self.emit("ret i32 %xcode")

    # -- blocks -------------------------------------------------------------------------------
    def block(self, blk: Block) -> None:
        start = blk.start
        self.begin(f"b{start}")
        ca = self.value("load i64, ptr %ca0p")
        prefix = blk.prefix_costs()
        cost = prefix[-1] if blk.ctrl is None else min(prefix[-1] + blk.ctrl.cx, U64_MAX)
        # ca0 + cost < lim, i.e. ca0 < lim -sat cost (loop-invariant): the block cannot reach
        # the limit, and ca0 + cost cannot overflow
        if self.cold:    # (ca0 < lim holds: lim - ca0 cannot wrap)
            ok = self.value(f"icmp ugt i64 {self.value(f'sub nuw i64 %lim, {ca}')}, {cost}")
        else:
            room = self.intrinsic("llvm.usub.sat.i64", "i64", [("i64", "%lim"), ("i64", str(cost))])
            ok = self.value(f"icmp ult i64 {ca}, {room}")
        total = self.value(f"add nuw i64 {ca}, {cost}")
        # else the limit may be reached inside: the interpreter runs it, per instruction
        self.exit_unless(ok, f"b{start}.go", EXIT_FALLBACK, str(start))
        self.ca_start = ca
        ops = self.ops
        for li, pre in zip(blk.body, prefix):
            ins = li.ins
            form = ins.form
            self.cur, self.cur_prefix = li, pre
            self.args = dict(zip(form.args, ins.args))
            op = ops.get(form.key)
            if op is None:
                op = ops[form.key] = getattr(self, "op_" + form.key)
            op(li)
        if blk.term == "ctrl":
            assert blk.ctrl is not None   # a 'ctrl' block always carries its terminator (lift.py)
            li = blk.ctrl
            self.cur, self.cur_prefix = li, prefix[-1]
            self.args = dict(zip(li.ins.form.args, li.ins.args))
            getattr(self, "term_" + li.key)(li, total)
        else:
            self.emit(f"store i64 {total}, ptr %ca0p")
            self.goto(blk.target)

    def bail_if(self, cond: str) -> None:
        """Leave to the interpreter *before* the current instruction when ``cond`` holds (its
        panic or a corner case codegen does not model); ca0 charged up to it."""
        bail, cont = self.label("bail"), self.label("cont")
        self.cbr(cond, bail, cont)
        known, st0 = self.known, self.known_st0
        self.begin(bail)
        self.charge(self.ca_start, self.cur_prefix)
        self.exit(EXIT_FALLBACK, str(self.cur.pos))
        self.begin(cont)
        self.known, self.known_st0 = known, st0


__all__ = ["FunctionSkeleton", "SSA_MAX"]
