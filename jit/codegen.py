"""Codegen: a lifted CFG -> LLVM IR (text), one function per library.

``i32 fn(ptr rf, i32 pos)`` runs from ``pos`` until execution stops (returns
:data:`~jit.layout.EXIT_STOP`, or :data:`~jit.layout.EXIT_END` at the end of the code) or the
interpreter must take over (returns
:data:`~jit.layout.EXIT_FALLBACK` with ``rf.exit_pos`` set).  On every exit the register file
``rf`` holds the exact machine state *before* the instruction at ``exit_pos``.

Registers live in allocas that SROA turns into SSA values (code with loops is optimised; code
without loops runs each instruction at most once and is compiled fast, unoptimised), so inside
a block and across loop back-edges every A register the library touches (value ``iW`` + defined
``i1``), ``st0``, ``cy0``, ``ca0`` and ``cp0`` are plain SSA values; they are loaded once on
entry and stored once on exit.

Complexity: each block first checks ``ca0 + cost(block) < cl0`` (or no ``cl0``); then the whole
block is charged at once (saturating) and cannot reach the limit.  If the block could cross the
limit, native code exits *before* the block and the interpreter runs it instruction by
instruction - the exact slow path (the run necessarily ends inside that block).  An exit in the
middle of a block (a panic case, a rare corner case left to the interpreter) charges exactly the
instructions before it.

What compiles is decided per instruction from the instruction table's semantic key and decoded
fields (:func:`supports`); everything else exits to the interpreter.
"""
from __future__ import annotations

from typing import Callable, Optional

from aluvm.semantics import core as ops_core
from aluvm.isa.codec import Instr
from aluvm.isa.table import NOP, RESERVED
from aluvm.machine.registers import A_BITS

from aluvm.jit import layout
from aluvm.jit import runtime
from aluvm.jit.layout import CS_WINDOW, EXIT_END, EXIT_FALLBACK, EXIT_STOP, OFF
from aluvm.jit.lift import CFG, CTRL_KEYS, Block, LInstr

JUMP_LIMIT = 0xFFFF
CALL_DEPTH = 0xFFFF
#: widest A register kept in an SSA value; wider ones are used in place in the register file
SSA_MAX = 64


# ---- what compiles ------------------------------------------------------------------------

def _a_reg(a: dict) -> bool:
    return a["reg"] < 8          # RegAR/RegAF code 0..7 = an A register


#: semantic key -> predicate on the decoded fields (None: always compiled)
SUPPORTED: dict[str, Optional[Callable[[dict], bool]]] = {
    "clr_a": None, "put_a": None, "putif_a": None,
    "mov_a": None, "dup_a": None, "swp_a": None, "cpy_a": None, "cnv_a": None,
    "gt_a": None, "lt_a": None, "eq_a": None, "ifz_a": None, "ifn_a": None,
    "st": None, "stinv": None,
    "add_a": None, "sub_a": None, "mul_a": None, "div_a": None,
    "neg": _a_reg, "abs": _a_reg, "rem": None, "stp": None,
    "and": _a_reg, "or": _a_reg, "xor": _a_reg, "not": _a_reg,
    "shl": _a_reg, "shr_a": None, "scl": _a_reg, "scr": _a_reg, "rev_a": None,
}
CONTROL = CTRL_KEYS - {"reserved"}


def make_supports(profile) -> Callable[[Instr], bool]:
    """The compile predicate for ``profile``: a data instruction compiles only while the
    profile's semantics for its key are the core ones codegen implements."""
    same = {k for k in SUPPORTED if profile.ops.get(k) is ops_core.OPS.get(k)}

    def supports(ins: Instr) -> bool:
        form = ins.form
        key = form.key
        if key in CONTROL:
            return True
        if form.special == RESERVED:
            return True
        if form.special == NOP:
            return key == "nop_spec"          # the reference's nop never advances: interpreter
        if key not in same:
            return False
        pred = SUPPORTED[key]
        return pred is None or pred(dict(zip(form.args, ins.args)))
    return supports


# ---- IR building --------------------------------------------------------------------------

def _ty(w: int) -> str:
    return f"i{w}"


class FnGen:
    """Builds the IR text of one function."""

    def __init__(self, cfg: CFG, prog, name: str) -> None:
        self.cfg = cfg
        self.prog = prog
        self.name = name
        self.fixed = prog.profile.fixed_control
        self.out: list[str] = []
        self.n = 0
        self.regs: dict[tuple[int, int], tuple[str, str]] = {}
        self.decls: set[str] = set()
        self.entries = cfg.entries
        self.scratch: dict[int, int] = {}     # width -> scratch slots used for helper calls

    # -- primitives ---------------------------------------------------------------------------
    def t(self) -> str:
        self.n += 1
        return f"%t{self.n}"

    def lbl(self, hint: str = "l") -> str:
        self.n += 1
        return f"{hint}{self.n}"

    def e(self, line: str) -> None:
        self.out.append("  " + line)

    def start(self, label: str) -> None:
        self.out.append(f"{label}:")

    def op(self, text: str) -> str:
        r = self.t()
        self.e(f"{r} = {text}")
        return r

    def intr(self, name: str, ret: str, args: list[tuple[str, str]]) -> str:
        self.decls.add(f"declare {ret} @{name}({', '.join(a for a, _ in args)})")
        return self.op(f"call {ret} @{name}({', '.join(f'{a} {v}' for a, v in args)})")

    def br(self, label: str) -> None:
        self.e(f"br label %{label}")

    def cbr(self, cond: str, yes: str, no: str) -> None:
        self.e(f"br i1 {cond}, label %{yes}, label %{no}")

    def sel(self, cond: str, ty: str, a: str, b: str) -> str:
        return self.op(f"select i1 {cond}, {ty} {a}, {ty} {b}")

    def conv(self, v: str, w1: int, w2: int, signed: bool = False) -> str:
        if w1 == w2:
            return v
        if w1 < w2:
            return self.op(f"{'sext' if signed else 'zext'} i{w1} {v} to i{w2}")
        return self.op(f"trunc i{w1} {v} to i{w2}")

    # -- machine state ------------------------------------------------------------------------
    def slot(self, c: int, i: int) -> tuple[str, str]:
        """Pointers to the value and defined flag of an A register: allocas (SSA after SROA)
        for a8..a64, the register file itself for a128..a1024 (wide values kept in SSA across
        a whole function overwhelm the register allocator)."""
        key = (c, i)
        s = self.regs.get(key)
        if s is None:
            layout.a_offset(c, i)   # bounds check: raises outside the register file
            s = self.regs[key] = (f"%a{c}_{i}", f"%d{c}_{i}")
        return s

    def get(self, c: int, i: int) -> tuple[str, str]:
        vp, dp = self.slot(c, i)
        w = A_BITS[c]
        if w > SSA_MAX:
            d = self.op(f"icmp ne i8 {self.op(f'load i8, ptr {dp}')}, 0")
            return self.op(f"load i{w}, ptr {vp}, align 1"), d
        return self.op(f"load i{w}, ptr {vp}"), self.op(f"load i1, ptr {dp}")

    def put(self, c: int, i: int, v: Optional[str], d: str) -> None:
        vp, dp = self.slot(c, i)
        w = A_BITS[c]
        if w > SSA_MAX:
            if v is not None:
                self.e(f"store i{w} {v}, ptr {vp}, align 1")
            self.e(f"store i8 {self.op(f'zext i1 {d} to i8')}, ptr {dp}")
            return
        if v is not None:
            self.e(f"store i{w} {v}, ptr {vp}")
        self.e(f"store i1 {d}, ptr {dp}")

    def st0(self) -> str:
        return self.op("load i1, ptr %st0p")

    def set_st0(self, v: str) -> None:
        self.e(f"store i1 {v}, ptr %st0p")

    def exit(self, code: int, pos: str) -> None:
        self.e(f"store i32 {pos}, ptr %xposp")
        self.e(f"store i32 {code}, ptr %xcodep")
        self.br("exit")

    def charge(self, ca: str, amount: int) -> None:
        v = ca if amount == 0 else self.intr("llvm.uadd.sat.i64", "i64", [("i64", ca), ("i64", str(amount))])
        self.e(f"store i64 {v}, ptr %ca0p")

    def goto(self, pos: int) -> None:
        """Continue at ``pos``: a native block, the end of the code, or the interpreter."""
        if pos in self.entries:
            self.br(f"b{pos}")
        elif pos >= self.cfg.limit:
            self.exit(EXIT_END, str(pos))
        else:
            self.exit(EXIT_FALLBACK, str(pos))

    # -- integer helpers ----------------------------------------------------------------------
    def prim(self, name: str, w: int, xs: list[str], s: Optional[str] = None) -> list[str]:
        """A :mod:`jit.runtime` primitive at width ``w``: inline, or a call to its helper."""
        if not runtime.out_of_line(name, w):
            amap = dict(zip(("%x", "%y"), xs))
            if s is not None:
                amap["%s"] = s
            return runtime.inline(name, w, amap, self.t, self.e)
        p = runtime.PRIMS[name]
        ty = _ty(w)
        slots = [f"%rt{w}_{k}" for k in range(p.results + len(xs))]
        self.scratch[w] = max(self.scratch.get(w, 0), len(slots))
        args = [f"ptr {q}" for q in slots[:p.results]]
        it = iter(slots[p.results:])
        for v in xs:
            slot = next(it)
            self.e(f"store {ty} {v}, ptr {slot}")
            args.append(f"ptr {slot}")
        if "s" in p.operands:
            args.append(f"i32 {s}")
        self.decls.add(runtime.declaration(name, w))
        call = f"call {'i1' if p.flag else 'void'} @{runtime.symbol(name, w)}({', '.join(args)})"
        flag = [self.op(call)] if p.flag else []
        if not p.flag:
            self.e(call)
        return [self.op(f"load {ty}, ptr {q}") for q in slots[:p.results]] + flag

    def store_signed(self, v: str, w: int) -> str:
        """The reference's write of a signed-layout result (intmath.store_signed)."""
        return v if w == 8 else self.prim("ss", w, [v])[0]

    def signed_key(self, x: str, w: int) -> tuple[str, str]:
        """(positive?, key) of the reference's defective signed ordering."""
        ty = _ty(w)
        pos = self.op(f"icmp sgt {ty} {x}, 0")
        return pos, self.sel(pos, ty, x, self.store_signed(x, w))

    def shift_amount(self, a2: int, idx: int) -> tuple[str, str]:
        """The a8/a16 shift register as i32 + defined flag."""
        c = 0 if a2 == 0 else 1
        v, d = self.get(c, idx)
        return self.conv(v, A_BITS[c], 32), d

    # -- the function -------------------------------------------------------------------------
    def generate(self) -> str:
        body: list[str] = []
        self.out = body
        for start in sorted(self.cfg.blocks):
            blk = self.cfg.blocks[start]
            if blk.native:
                self.block(blk)
        head: list[str] = []
        self.out = head
        self.prologue()
        tail: list[str] = []
        self.out = tail
        self.epilogue()
        decls = "\n".join(sorted(self.decls))
        return (f"define i32 @{self.name}(ptr noalias nocapture %rf, i32 %pos) nounwind {{\n"
                + "\n".join(head + body + tail) + "\n}\n\n" + decls + "\n")

    def narrow(self) -> list:
        """The registers kept in allocas (loaded on entry, stored on exit)."""
        return [item for item in self.regs.items() if A_BITS[item[0][0]] <= SSA_MAX]

    def gep(self, off: int) -> str:
        return self.op(f"getelementptr inbounds i8, ptr %rf, i64 {off}")

    def prologue(self) -> None:
        self.start("entry")
        for (c, i), (vp, dp) in sorted(self.regs.items()):
            if A_BITS[c] > SSA_MAX:
                self.e(f"{vp} = getelementptr inbounds i8, ptr %rf, i64 {layout.a_offset(c, i)}")
                self.e(f"{dp} = getelementptr inbounds i8, ptr %rf, i64 {layout.def_offset(c, i)}")
            else:
                self.e(f"{vp} = alloca i{A_BITS[c]}")
                self.e(f"{dp} = alloca i1")
        for w, n in sorted(self.scratch.items()):
            for k in range(n):
                self.e(f"%rt{w}_{k} = alloca i{w}")
        for name, ty in (("st0p", "i1"), ("cy0p", "i32"), ("ca0p", "i64"), ("cp0p", "i32"),
                         ("xposp", "i32"), ("xcodep", "i32"), ("dposp", "i32")):
            self.e(f"%{name} = alloca {ty}")
        for (c, i), (vp, dp) in sorted(self.narrow()):
            w = A_BITS[c]
            v = self.op(f"load i{w}, ptr {self.gep(layout.a_offset(c, i))}, align 1")
            self.e(f"store i{w} {v}, ptr {vp}")
            d = self.op(f"load i8, ptr {self.gep(layout.def_offset(c, i))}")
            d = self.op(f"icmp ne i8 {d}, 0")
            self.e(f"store i1 {d}, ptr {dp}")
        s = self.op(f"load i8, ptr {self.gep(OFF['st0'])}")
        self.e(f"store i1 {self.op(f'icmp ne i8 {s}, 0')}, ptr %st0p")
        for name, ty in (("cy0", "i32"), ("ca0", "i64"), ("cp0", "i32")):
            v = self.op(f"load {ty}, ptr {self.gep(OFF[name])}")
            self.e(f"store {ty} {v}, ptr %{name}p")
        h = self.op(f"load i8, ptr {self.gep(OFF['has_cl0'])}")
        self.e(f"%nocl = icmp eq i8 {h}, 0")
        self.e(f"%cl0 = load i64, ptr {self.gep(OFF['cl0'])}")
        self.e(f"%bp = load i32, ptr {self.gep(OFF['bp'])}")
        self.e("store i32 0, ptr %xcodep")
        self.e("store i32 %pos, ptr %xposp")
        self.e("store i32 %pos, ptr %dposp")
        self.br("dispatch")
        self.start("dispatch")
        d = self.op("load i32, ptr %dposp")
        cases = " ".join(f"i32 {p}, label %b{p}" for p in sorted(self.entries))
        self.e(f"switch i32 {d}, label %nodisp [ {cases} ]")
        self.start("nodisp")
        self.exit(EXIT_FALLBACK, d)

    def epilogue(self) -> None:
        self.start("exit")
        for (c, i), (vp, dp) in sorted(self.narrow()):
            w = A_BITS[c]
            v = self.op(f"load i{w}, ptr {vp}")
            self.e(f"store i{w} {v}, ptr {self.gep(layout.a_offset(c, i))}, align 1")
            d = self.op(f"zext i1 {self.op(f'load i1, ptr {dp}')} to i8")
            self.e(f"store i8 {d}, ptr {self.gep(layout.def_offset(c, i))}")
        s = self.op(f"zext i1 {self.st0()} to i8")
        self.e(f"store i8 {s}, ptr {self.gep(OFF['st0'])}")
        for name, ty in (("cy0", "i32"), ("ca0", "i64"), ("cp0", "i32")):
            v = self.op(f"load {ty}, ptr %{name}p")
            self.e(f"store {ty} {v}, ptr {self.gep(OFF[name])}")
        x = self.op("load i32, ptr %xposp")
        self.e(f"store i32 {x}, ptr {self.gep(OFF['exit_pos'])}")
        r = self.op("load i32, ptr %xcodep")
        self.e(f"ret i32 {r}")

    # -- blocks -------------------------------------------------------------------------------
    def block(self, blk: Block) -> None:
        start = blk.start
        self.start(f"b{start}")
        ca = self.op("load i64, ptr %ca0p")
        cost = blk.cost
        total = self.intr("llvm.uadd.sat.i64", "i64", [("i64", ca), ("i64", str(cost))])
        fits = self.op(f"icmp ult i64 {total}, %cl0")
        ok = self.op(f"or i1 %nocl, {fits}")
        go, slow = f"b{start}.go", f"b{start}.slow"
        self.cbr(ok, go, slow)
        self.start(slow)           # the limit may be reached inside: interpreter, per instruction
        self.exit(EXIT_FALLBACK, str(start))
        self.start(go)
        prefix = blk.prefix_costs()
        self.ca_start = ca
        for k, li in enumerate(blk.body):
            self.cur, self.cur_prefix = li, prefix[k]
            self.args = dict(zip(li.ins.form.args, li.ins.args))
            getattr(self, "op_" + li.key)(li)
        if blk.term == "ctrl":
            assert blk.ctrl is not None   # a 'ctrl' block always carries its terminator (lift.py)
            li = blk.ctrl
            self.cur, self.cur_prefix = li, prefix[-1]
            self.args = dict(zip(li.ins.form.args, li.ins.args))
            key = "reserved" if li.ins.form.special == RESERVED else li.key
            getattr(self, "term_" + key)(li, total)
        else:
            self.e(f"store i64 {total}, ptr %ca0p")
            self.goto(blk.target)

    def bail_if(self, cond: str) -> None:
        """Leave to the interpreter *before* the current instruction when ``cond`` holds (its
        panic or a corner case codegen does not model); ca0 charged up to it."""
        bail, cont = self.lbl("bail"), self.lbl("cont")
        self.cbr(cond, bail, cont)
        self.start(bail)
        self.charge(self.ca_start, self.cur_prefix)
        self.exit(EXIT_FALLBACK, str(self.cur.pos))
        self.start(cont)

    # -- terminators --------------------------------------------------------------------------
    def term_fail(self, li: LInstr, total: str) -> None:
        self.set_st0("false")
        self.e(f"store i64 {total}, ptr %ca0p")
        self.exit(EXIT_STOP, "0")

    def term_reserved(self, li: LInstr, total: str) -> None:
        self.term_fail(li, total)

    def term_test(self, li: LInstr, total: str) -> None:
        self.e(f"store i64 {total}, ptr %ca0p")
        on, off = self.lbl("test.on"), self.lbl("test.off")
        self.cbr(self.st0(), on, off)
        self.start(off)
        self.exit(EXIT_STOP, "0")
        self.start(on)
        self.goto(li.nxt)

    def jump_edge(self) -> None:
        """cy0 += 1, or st0 = false and stop at the limit (ca0 already charged)."""
        cy = self.op("load i32, ptr %cy0p")
        over = self.op(f"icmp uge i32 {cy}, {JUMP_LIMIT}")
        stop, cont = self.lbl("jlim"), self.lbl("jok")
        self.cbr(over, stop, cont)
        self.start(stop)
        self.set_st0("false")
        self.exit(EXIT_STOP, "0")
        self.start(cont)
        self.e(f"store i32 {self.op(f'add i32 {cy}, 1')}, ptr %cy0p")

    def term_jmp(self, li: LInstr, total: str) -> None:
        self.e(f"store i64 {total}, ptr %ca0p")
        self.jump_edge()
        self.goto(li.ins.args[0])

    def term_jif(self, li: LInstr, total: str) -> None:
        self.e(f"store i64 {total}, ptr %ca0p")
        on, off = self.lbl("jif.on"), self.lbl("jif.off")
        self.cbr(self.st0(), on, off)
        self.start(off)
        self.goto(li.nxt)
        self.start(on)
        self.jump_edge()
        self.goto(li.ins.args[0])

    def cs_ptr(self, field: str, ty: str, k: str) -> str:
        base = self.gep(OFF[field])
        return self.op(f"getelementptr inbounds {ty}, ptr {base}, i32 {k}")

    def term_routine(self, li: LInstr, total: str) -> None:
        cp = self.op("load i32, ptr %cp0p")
        k = self.op(f"sub i32 {cp}, %bp")
        self.bail_if(self.op(f"icmp uge i32 {k}, {CS_WINDOW}"))   # window full (or cp0 < bp)
        self.e(f"store i64 {total}, ptr %ca0p")
        self.jump_edge()
        site = li.nxt if self.fixed else li.pos   # reference pushes the routine's own site (S6)
        self.e(f"store i16 {site}, ptr {self.cs_ptr('cs_pos', 'i16', k)}")
        self.e(f"store i8 1, ptr {self.cs_ptr('cs_state', 'i8', k)}")
        self.bump_cs_hi(k)
        if self.fixed:
            full = self.op(f"icmp uge i32 {cp}, {CALL_DEPTH}")
            stop, cont = self.lbl("cpfull"), self.lbl("cpok")
            self.cbr(full, stop, cont)
            self.start(stop)
            self.set_st0("false")
            self.exit(EXIT_STOP, "0")
            self.start(cont)
            self.e(f"store i32 {self.op(f'add i32 {cp}, 1')}, ptr %cp0p")
        self.goto(li.ins.args[0])

    def bump_cs_hi(self, k: str) -> None:
        hp = self.gep(OFF["cs_hi"])
        hi = self.op(f"load i32, ptr {hp}")
        k1 = self.op(f"add i32 {k}, 1")
        self.e(f"store i32 {self.intr('llvm.umax.i32', 'i32', [('i32', hi), ('i32', k1)])}, ptr {hp}")

    def term_ret(self, li: LInstr, total: str) -> None:
        cp = self.op("load i32, ptr %cp0p")
        empty, some = self.lbl("ret.empty"), self.lbl("ret.some")
        self.cbr(self.op(f"icmp eq i32 {cp}, 0"), empty, some)
        self.start(empty)
        self.e(f"store i64 {total}, ptr %ca0p")
        self.exit(EXIT_STOP, "0")
        self.start(some)
        k = self.op(f"sub i32 {cp}, %bp")
        # native only for frames pushed by this activation (0 < k <= window); else interpreter
        inwin = self.op(f"icmp ult i32 {self.op(f'sub i32 {k}, 1')}, {CS_WINDOW}")
        self.bail_if(self.op(f"xor i1 {inwin}, true"))
        self.e(f"store i64 {total}, ptr %ca0p")
        self.e(f"store i8 2, ptr {self.cs_ptr('cs_state', 'i8', k)}")
        self.bump_cs_hi(k)
        k1 = self.op(f"sub i32 {k}, 1")
        self.e(f"store i32 {self.op(f'sub i32 {cp}, 1')}, ptr %cp0p")
        tgt = self.op(f"load i16, ptr {self.cs_ptr('cs_pos', 'i16', k1)}")
        self.e(f"store i32 {self.conv(tgt, 16, 32)}, ptr %dposp")
        self.br("dispatch")

    # -- put / clear --------------------------------------------------------------------------
    def op_clr_a(self, li: LInstr) -> None:
        a = self.args
        self.put(a["reg"], a["idx"], None, "false")

    def op_put_a(self, li: LInstr) -> None:
        a, value = self.args, li.ins.value
        if value is None:
            self.put(a["reg"], a["idx"], None, "false")
            self.set_st0("false")
        else:
            self.put(a["reg"], a["idx"], str(value), "true")

    def op_putif_a(self, li: LInstr) -> None:
        a, value = self.args, li.ins.value
        c, i = a["reg"], a["idx"]
        v, d = self.get(c, i)
        st = self.st0()
        if value is None:              # undefined register: st0 = false; defined: nothing
            self.set_st0(self.op(f"and i1 {st}, {d}"))
            return
        ty = _ty(A_BITS[c])
        self.put(c, i, self.sel(d, ty, v, str(value)), "true")
        self.set_st0(self.op(f"and i1 {st}, {self.op(f'xor i1 {d}, true')}"))

    # -- move ---------------------------------------------------------------------------------
    def op_mov_a(self, li: LInstr) -> None:
        a = self.args
        c = a["reg"]
        v, d = self.get(c, a["idx1"])
        self.put(c, a["idx2"], v, d)
        self.put(c, a["idx1"], None, "false")

    def op_dup_a(self, li: LInstr) -> None:
        a = self.args
        v, d = self.get(a["reg"], a["idx1"])
        self.put(a["reg"], a["idx2"], v, d)

    def op_swp_a(self, li: LInstr) -> None:
        a = self.args
        c = a["reg"]
        v1, d1 = self.get(c, a["idx1"])
        v2, d2 = self.get(c, a["idx2"])
        self.put(c, a["idx1"], v2, d2)
        self.put(c, a["idx2"], v1, d1)

    def _reshape(self, signed: bool) -> None:
        a = self.args
        c1, c2 = a["reg1"], a["reg2"]
        w1, w2 = A_BITS[c1], A_BITS[c2]
        x, d = self.get(c1, a["idx1"])
        y = self.conv(x, w1, w2)
        if signed:
            y = self.store_signed(y, w2)
        fits = "true" if w1 <= w2 else self.op(f"icmp eq i{w1} {self.op(f'lshr i{w1} {x}, {w2}')}, 0")
        self.put(c2, a["idx2"], y, d)
        self.set_st0(self.sel(d, "i1", fits, "true"))

    def op_cpy_a(self, li: LInstr) -> None:
        self._reshape(False)

    def op_cnv_a(self, li: LInstr) -> None:
        self._reshape(True)

    # -- compare ------------------------------------------------------------------------------
    def _order(self, gt: bool) -> None:
        a = self.args
        c = a["reg"]
        w, ty = A_BITS[c], _ty(A_BITS[c])
        x, dx = self.get(c, a["idx1"])
        y, dy = self.get(c, a["idx2"])
        if a["flag"]:
            px, kx = self.signed_key(x, w)
            py, ky = self.signed_key(y, w)
            if not gt:
                px, kx, py, ky = py, ky, px, kx
            # (px, kx) > (py, ky) lexicographically
            first = self.op(f"and i1 {px}, {self.op(f'xor i1 {py}, true')}")
            same = self.op(f"icmp eq i1 {px}, {py}")
            cmp = self.op(f"and i1 {same}, {self.op(f'icmp ugt {ty} {kx}, {ky}')}")
            r = self.op(f"or i1 {first}, {cmp}")
        else:
            r = self.op(f"icmp {'ugt' if gt else 'ult'} {ty} {x}, {y}")
        both = self.op(f"and i1 {dx}, {dy}")
        self.set_st0(self.op(f"and i1 {both}, {r}"))

    def op_gt_a(self, li: LInstr) -> None:
        self._order(True)

    def op_lt_a(self, li: LInstr) -> None:
        self._order(False)

    def op_eq_a(self, li: LInstr) -> None:
        a = self.args
        c = a["reg"]
        x, dx = self.get(c, a["idx1"])
        y, dy = self.get(c, a["idx2"])
        both = self.op(f"and i1 {dx}, {dy}")
        eq = self.op(f"icmp eq i{A_BITS[c]} {x}, {y}")
        self.set_st0(self.sel(both, "i1", eq, "true" if a["flag"] == 1 else "false"))

    def op_ifz_a(self, li: LInstr) -> None:
        a = self.args
        x, d = self.get(a["reg"], a["idx"])
        z = self.op(f"icmp eq i{A_BITS[a['reg']]} {x}, 0")
        self.set_st0(self.op(f"and i1 {d}, {z}"))

    def op_ifn_a(self, li: LInstr) -> None:
        a = self.args
        _, d = self.get(a["reg"], a["idx"])
        self.set_st0(self.op(f"xor i1 {d}, true"))

    def op_st(self, li: LInstr) -> None:
        a = self.args
        flag, c, i = a["flag"], a["reg"], a["idx"]
        w = A_BITS[c]
        ty = _ty(w)
        s = self.conv(self.st0(), 1, w)
        if flag == 0:
            self.put(c, i, s, "true")
            return
        x, d = self.get(c, i)
        if flag == 1:
            if c > 0:   # add with a 1-byte status into a wider register: reference panics (P2)
                self.bail_if(d)
                self.put(c, i, s, "true")
                return
            room = self.op(f"icmp ult i8 {x}, 255")
            y = self.sel(room, "i8", self.op(f"add i8 {x}, {s}"), x)
        else:
            y = self.op(f"{'and' if flag == 2 else 'or'} {ty} {x}, {s}")
        self.put(c, i, self.sel(d, ty, y, s), "true")

    def op_stinv(self, li: LInstr) -> None:
        self.set_st0(self.op(f"xor i1 {self.st0()}, true"))

    # -- arithmetic ---------------------------------------------------------------------------
    def _arith(self, compute: Callable[[str, str, int], tuple[str, str]]) -> None:
        """``src2 <- src1 op src2``; st0 <- result defined."""
        a = self.args
        c = a["reg"]
        w = A_BITS[c]
        x, dx = self.get(c, a["src1"])
        y, dy = self.get(c, a["src2"])
        both = self.op(f"and i1 {dx}, {dy}")
        self.both = both    # corner-case exits are only taken when both operands are defined
        v, ok = compute(x, y, w)
        d = self.op(f"and i1 {both}, {ok}")
        self.put(c, a["src2"], v, d)
        self.set_st0(d)

    def _sw1024_overflow(self, x: str, y: str, r: str) -> str:
        """add1024_sw: overflow unless an operand is MIN (the bigint misses that case)."""
        ty = "i1024"
        xmin = self.op(f"icmp eq {ty} {x}, {1 << 1023}")
        ymin = self.op(f"icmp eq {ty} {y}, {1 << 1023}")
        sx = self.op(f"icmp slt {ty} {x}, 0")
        sy = self.op(f"icmp slt {ty} {y}, 0")
        sr = self.op(f"icmp slt {ty} {r}, 0")
        same = self.op(f"icmp eq i1 {sx}, {sy}")
        flip = self.op(f"icmp ne i1 {sr}, {sx}")
        ovf = self.op(f"and i1 {same}, {flip}")
        anymin = self.op(f"or i1 {xmin}, {ymin}")
        return self.op(f"and i1 {ovf}, {self.op(f'xor i1 {anymin}, true')}")

    def op_add_a(self, li: LInstr) -> None:
        def compute(x: str, y: str, w: int) -> tuple[str, str]:
            ty = _ty(w)
            if not self.args["flags"]:
                r = self.intr(f"llvm.uadd.with.overflow.{ty}", f"{{{ty}, i1}}", [(ty, x), (ty, y)])
                v = self.op(f"extractvalue {{{ty}, i1}} {r}, 0")
                o = self.op(f"extractvalue {{{ty}, i1}} {r}, 1")
                return v, self.op(f"xor i1 {o}, true")
            r = self.op(f"add {ty} {x}, {y}")
            if w == 1024:
                ok = self.op(f"xor i1 {self._sw1024_overflow(x, y, r)}, true")
                return self.store_signed(r, w), ok
            return self.store_signed(r, w), "true"
        self._arith(compute)

    def op_sub_a(self, li: LInstr) -> None:
        def compute(x: str, y: str, w: int) -> tuple[str, str]:
            ty = _ty(w)
            r = self.op(f"sub {ty} {x}, {y}")
            if not self.args["flags"]:
                return r, self.op(f"icmp uge {ty} {x}, {y}")
            if w == 1024:
                ny = self.op(f"sub {ty} 0, {y}")
                ok = self.op(f"xor i1 {self._sw1024_overflow(x, ny, r)}, true")
                return self.store_signed(r, w), ok
            return self.store_signed(r, w), "true"
        self._arith(compute)

    def op_mul_a(self, li: LInstr) -> None:
        def compute(x: str, y: str, w: int) -> tuple[str, str]:
            ty = _ty(w)
            if not self.args["flags"]:
                v, o = self.prim("umulo", w, [x, y])
                return v, self.op(f"xor i1 {o}, true")
            if w == 1024:
                # the bigint's Booth multiplication is exact unless src1 is 2^1023 (interpreter)
                self.bail_if(self.op(f"and i1 {self.both}, {self.op(f'icmp eq {ty} {x}, {1 << 1023}')}"))
                v, o = self.prim("smulo", w, [x, y])
                return self.store_signed(v, w), self.op(f"xor i1 {o}, true")
            return self.store_signed(self.prim("mul", w, [x, y])[0], w), "true"
        self._arith(compute)

    def op_div_a(self, li: LInstr) -> None:
        def compute(x: str, y: str, w: int) -> tuple[str, str]:
            ty = _ty(w)
            ynz = self.op(f"icmp ne {ty} {y}, 0")
            # divide by a safe divisor; the result is discarded when y == 0
            ys = self.sel(ynz, ty, y, "1")
            if not self.args["flags"]:
                return self.store_signed(self.prim("udiv", w, [x, ys])[0], w), ynz
            mn = str(1 << (w - 1))
            xz = self.op(f"icmp eq {ty} {x}, 0")
            live = self.op(f"and i1 {self.both}, {ynz}")
            live = self.op(f"and i1 {live}, {self.op(f'xor i1 {xz}, true')}")
            if w == 1024:   # 2^1023 involved: the bigint's own long division (interpreter)
                xm = self.op(f"icmp eq {ty} {x}, {mn}")
                ym = self.op(f"icmp eq {ty} {y}, {mn}")
                self.bail_if(self.op(f"and i1 {self.both}, {self.op(f'or i1 {xm}, {ym}')}"))
            xn = self.op(f"icmp slt {ty} {x}, 0")
            yn = self.op(f"icmp slt {ty} {y}, 0")
            ax = self.sel(xn, ty, self.op(f"sub {ty} 0, {x}"), x)
            ay = self.sel(yn, ty, self.op(f"sub {ty} 0, {y}"), y)
            lzx, lzy = self.prim("ctlz", w, [ax])[0], self.prim("ctlz", w, [ay])[0]
            shorter = self.op(f"icmp ugt {ty} {lzx}, {lzy}")
            opp = self.op(f"icmp ne i1 {xn}, {yn}")
            # P18: opposite signs and |x| has fewer bits than |y|: the reference panics
            self.bail_if(self.op(f"and i1 {live}, {self.op(f'and i1 {opp}, {shorter}')}"))
            ovf = self.op(f"and i1 {self.op(f'icmp eq {ty} {x}, {mn}')}, "
                          f"{self.op(f'icmp eq {ty} {y}, -1')}")
            ysafe = self.sel(ovf, ty, "1", ys)
            q0, r0 = self.prim("sdivrem", w, [x, ysafe])
            rneg = self.op(f"icmp slt {ty} {r0}, 0")
            adj = self.sel(yn, ty, "1", "-1")
            q = self.sel(rneg, ty, self.op(f"add {ty} {q0}, {adj}"), q0)
            q = self.sel(xz, ty, "0", q)
            ok = self.op(f"and i1 {ynz}, {self.op(f'xor i1 {ovf}, true')}")
            return self.store_signed(q, w), ok
        self._arith(compute)

    def op_rem(self, li: LInstr) -> None:
        """``aM[j] <- aN[i] rem aM[j]`` through i128 (sign-extended operands, Rust ``%``)."""
        a = self.args
        c1, c2 = a["reg1"], a["reg2"]
        w1, w2 = A_BITS[c1], A_BITS[c2]
        x, dx = self.get(c1, a["idx1"])
        y, dy = self.get(c2, a["idx2"])
        live = self.op(f"and i1 {self.op(f'and i1 {dx}, {dy}')}, {self.op(f'icmp ne i{w2} {y}, 0')}")
        if c1 >= 5 or c2 >= 5:          # todo!() / i128 conversion out of bounds (P4, P5)
            self.bail_if(live)
            self.put(c2, a["idx2"], None, "false")
            self.set_st0("false")
            return
        wide = 128 if max(w1, w2) == 128 else 64
        xs, ys = self.conv(x, w1, wide, True), self.conv(y, w2, wide, True)
        if wide == 128:                 # -2^127 rem -1 overflows (P6)
            mn = self.op(f"icmp eq i128 {xs}, {1 << 127}")
            m1 = self.op(f"icmp eq i128 {ys}, -1")
            self.bail_if(self.op(f"and i1 {live}, {self.op(f'and i1 {mn}, {m1}')}"))
        # a divisor of 0 or -1 (-1: the remainder is 0, and i64 MIN % -1 would trap)
        trivial = self.op(f"icmp ule i{wide} {self.op(f'add i{wide} {ys}, 1')}, 1")
        ysafe = self.sel(trivial, f"i{wide}", "1", ys)
        r = self.prim("sdivrem", wide, [xs, ysafe])[1]
        r = self.store_signed(self.conv(r, wide, w2), w2)
        self.put(c2, a["idx2"], r, live)
        self.set_st0(live)

    def op_stp(self, li: LInstr) -> None:
        """Reference release build: undefined -> st0 = false; defined -> panics (P1)."""
        a = self.args
        _, d = self.get(a["reg"], a["idx"])
        self.bail_if(d)
        self.set_st0("false")

    def op_neg(self, li: LInstr) -> None:
        a = self.args
        self.put(a["reg"], a["idx"], None, "false")     # neg on A always fails (§4.5)
        self.set_st0("false")

    def op_abs(self, li: LInstr) -> None:
        a = self.args
        _, d = self.get(a["reg"], a["idx"])
        self.set_st0(d)

    # -- bitwise ------------------------------------------------------------------------------
    def _logic(self, kind: str) -> None:
        a = self.args
        c = a["reg"]
        x, dx = self.get(c, a["src1"])
        y, dy = self.get(c, a["src2"])
        r = self.op(f"{kind} i{A_BITS[c]} {x}, {y}")
        self.put(c, a["dst"], r, self.op(f"and i1 {dx}, {dy}"))

    def op_and(self, li: LInstr) -> None:
        self._logic("and")

    def op_or(self, li: LInstr) -> None:
        self._logic("or")

    def op_xor(self, li: LInstr) -> None:
        self._logic("xor")

    def op_not(self, li: LInstr) -> None:
        a = self.args
        c = a["reg"]
        x, d = self.get(c, a["idx"])
        self.put(c, a["idx"], self.op(f"xor i{A_BITS[c]} {x}, -1"), d)

    def _msb_or_panic(self, c: int, x: str, d: str) -> None:
        """st0 <- top bit; an undefined register wider than a8 panics (P3)."""
        w = A_BITS[c]
        if c > 0:
            self.bail_if(self.op(f"xor i1 {d}, true"))
        top = self.op(f"icmp slt i{w} {x}, 0")
        self.set_st0(self.op(f"and i1 {d}, {top}"))

    def _shift_common(self) -> tuple[int, int, str, str, str, str]:
        a = self.args
        c = a["reg"]
        x, d = self.get(c, a["idx"])
        s, ds = self.shift_amount(a["a2"], a["shift"])
        return c, A_BITS[c], x, d, s, ds

    def op_shl(self, li: LInstr) -> None:
        c, w, x, d, s, ds = self._shift_common()
        self._msb_or_panic(c, x, d)
        ty = _ty(w)
        inr = self.op(f"icmp ult i32 {s}, {w}")
        amt = self.sel(inr, "i32", s, "0")
        r = self.sel(inr, ty, self.prim("shl", w, [x], amt)[0], "0")
        self.put(c, self.args["idx"], r, self.op(f"and i1 {d}, {ds}"))

    def op_shr_a(self, li: LInstr) -> None:
        c, w, x, d, s, ds = self._shift_common()
        ty = _ty(w)
        both = self.op(f"and i1 {d}, {ds}")
        st = self.st0()
        self.set_st0(self.sel(both, "i1", self.conv(x, w, 1), st))
        if self.args["sign"]:
            r = self.shr_signed(x, s, w)
        else:
            inr = self.op(f"icmp ult i32 {s}, {w}")
            amt = self.sel(inr, "i32", s, "0")
            r = self.sel(inr, ty, self.prim("lshr", w, [x], amt)[0], "0")
        self.put(c, self.args["idx"], r, both)

    def shr_signed(self, x: str, s: str, w: int) -> str:
        """intmath.shr_signed: the 1024-bit signed bigint's shift of the sign-extended value."""
        ty = _ty(w)
        big = self.op(f"icmp uge i32 {s}, 1024")
        if w == 1024:
            y = self.prim("lshr", w, [x], self.sel(big, "i32", "0", s))[0]
            neg = self.op(f"icmp slt {ty} {x}, 0")
            y = self.sel(neg, ty, self.op(f"or {ty} {y}, {1 << 1023}"), y)
        else:
            amt = self.intr("llvm.umin.i32", "i32", [("i32", s), ("i32", str(w - 1))])
            y = self.prim("ashr", w, [x], amt)[0]
            # bits that the 1024-bit shift pulls in from beyond bit 1023 are zero (t >= 1: a
            # shift by 1024+ gives 0 anyway, below)
            t = self.op(f"sub i32 1024, {self.intr('llvm.umin.i32', 'i32', [('i32', s), ('i32', '1023')])}")
            cut = self.op(f"icmp ult i32 {t}, {w}")
            sh = self.sel(cut, "i32", self.op(f"sub i32 {w}, {t}"), "0")
            y = self.op(f"and {ty} {y}, {self.prim('lshr', w, ['-1'], sh)[0]}")
        y = self.sel(big, ty, "0", y)
        return self.store_signed(y, w)

    def _rot(self, left: bool) -> None:
        c, w, x, d, s, ds = self._shift_common()
        if left:
            self._msb_or_panic(c, x, d)
        else:
            self.set_st0(self.op(f"and i1 {d}, {self.conv(x, w, 1)}"))
        r = self.prim("fshl" if left else "fshr", w, [x], self.op(f"and i32 {s}, {w - 1}"))[0]
        self.put(c, self.args["idx"], r, self.op(f"and i1 {d}, {ds}"))

    def op_scl(self, li: LInstr) -> None:
        self._rot(True)

    def op_scr(self, li: LInstr) -> None:
        self._rot(False)

    def op_rev_a(self, li: LInstr) -> None:
        a = self.args
        c = a["reg"]
        x, d = self.get(c, a["idx"])
        self.put(c, a["idx"], self.prim("bitrev", A_BITS[c], [x])[0], d)

    def op_nop_spec(self, li: LInstr) -> None:
        pass


def generate(cfg: CFG, prog, name: str) -> tuple[str, list[tuple[int, int]]]:
    """IR text of the function ``name`` and the A registers it keeps natively."""
    g = FnGen(cfg, prog, name)
    ir = g.generate()
    return ir, sorted(g.regs)


__all__ = ["generate", "make_supports", "SUPPORTED"]
