"""Integer primitives of the code generator: defined once, inlined or called out of line.

LLVM expands a 1024-bit division, multiplication, variable shift or bit count inline, and the
expansion of one instruction can cost more compile time than a whole library.  Each primitive
below is therefore one IR template that codegen either *inlines* (narrow widths) or *calls*
(the widths in its ``wide`` set) as a helper function compiled once per process (and cached on
disk with the libraries' objects).  Compiled libraries reference helpers by symbol name,
resolved when their object is loaded.

Templates are in terms of ``iW`` / ``WBITS`` (the width), the operands ``%x``, ``%y`` (``iW``)
and ``%sw`` (an ``iW`` amount made from the i32 ``%s``), and define the results ``%r0`` (and
``%r1``) and, for overflow checks, the flag ``%o``.  Out-of-line helpers take operands and
results through pointers (little-endian ``iW`` in memory), so no huge integer is ever passed by
value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from aluvm.jit.layout import RT_SLOTS

ALL = (8, 16, 32, 64, 128, 256, 512, 1024)
W128 = (128, 256, 512, 1024)
W256 = (256, 512, 1024)


@dataclass(frozen=True)
class Prim:
    operands: str           # 'x', 'xy' or 'xs'
    body: str
    wide: tuple[int, ...]   # widths called out of line
    results: int = 1
    flag: bool = False      # also yields the i1 %o


_OVF = ("  %r0 = extractvalue {iW, i1} %p, 0\n  %o = extractvalue {iW, i1} %p, 1")

PRIMS: dict[str, Prim] = {
    "udiv": Prim("xy", "%r0 = udiv iW %x, %y", W128),
    "sdivrem": Prim("xy", "%r0 = sdiv iW %x, %y\n  %r1 = srem iW %x, %y", W128, results=2),
    "mul": Prim("xy", "%r0 = mul iW %x, %y", W256),
    "umulo": Prim("xy", "%p = call {iW, i1} @llvm.umul.with.overflow.iW(iW %x, iW %y)\n" + _OVF,
                  W256, flag=True),
    "smulo": Prim("xy", "%p = call {iW, i1} @llvm.smul.with.overflow.iW(iW %x, iW %y)\n" + _OVF,
                  (1024,), flag=True),
    "ctlz": Prim("x", "%r0 = call iW @llvm.ctlz.iW(iW %x, i1 false)", W128),
    "shl": Prim("xs", "%r0 = shl iW %x, %sw", W256),
    "lshr": Prim("xs", "%r0 = lshr iW %x, %sw", W256),
    "ashr": Prim("xs", "%r0 = ashr iW %x, %sw", W256),
    "fshl": Prim("xs", "%r0 = call iW @llvm.fshl.iW(iW %x, iW %x, iW %sw)", W256),
    "fshr": Prim("xs", "%r0 = call iW @llvm.fshr.iW(iW %x, iW %x, iW %sw)", W256),
    "bitrev": Prim("x", "%r0 = call iW @llvm.bitreverse.iW(iW %x)", W256),
    # intmath.store_signed: a negative keeps only the bytes of its minimal two's complement
    "store_signed": Prim("x", """%neg = icmp slt iW %x, 0
  %inv = xor iW %x, -1
  %inv2 = select i1 %neg, iW %inv, iW 0
  %lz = call iW @llvm.ctlz.iW(iW %inv2, i1 false)
  %bl = sub iW WBITS, %lz
  %nb = add iW %bl, 8
  %nb2 = and iW %nb, -8
  %sh = sub iW WBITS, %nb2
  %mask = lshr iW -1, %sh
  %kept = and iW %x, %mask
  %r0 = select i1 %neg, iW %kept, iW %x""", W128),
}


def symbol(name: str, w: int) -> str:
    return f"aluvm_rt_{name}_{w}"


def out_of_line(name: str, w: int) -> bool:
    return w in PRIMS[name].wide


def _amount(w: int) -> str:
    if w == 32:
        return "%sw = add i32 %s, 0"
    return f"%sw = {'zext' if w > 32 else 'trunc'} i32 %s to i{w}"


def body(name: str, w: int) -> list[str]:
    """The template of ``name`` at width ``w`` (including the shift-amount conversion)."""
    p = PRIMS[name]
    lines = [_amount(w)] if "s" in p.operands else []
    text = p.body.replace("iW", f"i{w}").replace("WBITS", str(w))
    return lines + [ln.strip() for ln in text.split("\n")]


_DEF = re.compile(r"^(%[\w.]+) = ")
_NAME = re.compile(r"%[A-Za-z_][\w.]*")


_PARSED: dict[tuple[str, int], list[tuple[str, list[str]]]] = {}


def _parsed(name: str, w: int) -> list[tuple[str, list[str]]]:
    """The template of ``name`` at ``w`` as (defined local, right-hand side split around its
    ``%names``) per line, parsed once."""
    hit = _PARSED.get((name, w))
    if hit is None:
        hit = []
        for line in body(name, w):
            m = _DEF.match(line)
            assert m is not None    # every template line is a definition (fixed templates)
            rhs = line[m.end():]
            parts, at = [], 0
            for t in _NAME.finditer(rhs):
                parts += [rhs[at:t.start()], t.group(0)]
                at = t.end()
            parts.append(rhs[at:])
            hit.append((m.group(1), parts))
        _PARSED[(name, w)] = hit
    return hit


def inline(name: str, w: int, args: dict[str, str], fresh: Callable[[], str],
           emit: Callable[[str], None]) -> list[str]:
    """Emit ``name`` inline: template locals get fresh names, ``%x %y %s`` become ``args``.
    Returns the results (``%r0``, ``%r1``, then the flag ``%o``)."""
    rename = dict(args)
    for local, parts in _parsed(name, w):
        target = fresh()
        emit(f"{target} = " + "".join(rename.get(t, t) for t in parts))
        rename[local] = target
    p = PRIMS[name]
    outs = [rename[f"%r{k}"] for k in range(p.results)]
    return outs + ([rename["%o"]] if p.flag else [])


def _helper(name: str, w: int) -> str:
    p = PRIMS[name]
    ty = f"i{w}"
    params = [f"ptr %out{k}" for k in range(p.results)]
    lines = []
    for k in p.operands:
        if k == "s":
            params.append("i32 %s")
        else:
            params.append(f"ptr %p{k}")
            lines.append(f"%{k} = load {ty}, ptr %p{k}, align 1")
    lines += body(name, w)
    lines += [f"store {ty} %r{k}, ptr %out{k}, align 1" for k in range(p.results)]
    lines.append("ret i1 %o" if p.flag else "ret void")
    ret = "i1" if p.flag else "void"
    return (f"define {ret} @{symbol(name, w)}({', '.join(params)}) nounwind {{\n  "
            + "\n  ".join(lines) + "\n}\n")


#: Rules cold (unoptimised) code calls by value at narrow widths instead of inlining them:
#: their expansion is long (and partly not fast-selected: ``ctlz``), so one inline copy costs
#: more compile time than the instructions around it.  name -> (widths, operand types, result
#: type), types as ``W`` (the width), ``i1`` or ``i32``.  Their bodies are the code
#: generator's own inline code (:mod:`aluvm.jit.helpers`), compiled once per process.
BY_VALUE: dict[str, tuple[tuple[int, ...], tuple[str, ...], str]] = {
    "store_signed": ((16, 32, 64), ("W",), "W"),
    "signed_gt": ((8, 16, 32, 64), ("W", "W"), "i1"),
    "shr_signed": ((8, 16, 32, 64), ("W", "i32"), "W"),
}
#: the by-value helpers in the order of their register-file slots (``RegFile.rt``)
VALUE_SLOTS: tuple[tuple[str, int], ...] = tuple((n, w) for n, s in BY_VALUE.items() for w in s[0])
assert len(VALUE_SLOTS) <= RT_SLOTS


def value_types(name: str, w: int) -> tuple[list[str], str]:
    """The operand types and result type of a by-value helper at width ``w``."""
    _, ops, ret = BY_VALUE[name]
    ty = lambda t: f"i{w}" if t == "W" else t      # noqa: E731
    return [ty(t) for t in ops], ty(ret)


def value_symbol(name: str, w: int) -> str:
    return f"aluvm_rt_{name}_v{w}"


def value_slot(name: str, w: int) -> int:
    """The byte offset of the helper's address within ``RegFile.rt``."""
    return 8 * VALUE_SLOTS.index((name, w))


def declaration(name: str, w: int) -> str:
    p = PRIMS[name]
    params = ["ptr"] * p.results + ["i32" if k == "s" else "ptr" for k in p.operands]
    return f"declare {'i1' if p.flag else 'void'} @{symbol(name, w)}({', '.join(params)}) nounwind"


def runtime_ir() -> str:
    """The IR of every out-of-line primitive (the by-value helpers come from
    :func:`aluvm.jit.helpers.helpers_ir`)."""
    return "\n".join(_helper(name, w) for name, p in PRIMS.items() for w in p.wide)


def symbols() -> list[str]:
    return ([symbol(name, w) for name, p in PRIMS.items() for w in p.wide]
            + [value_symbol(name, w) for name, w in VALUE_SLOTS])


__all__ = ["PRIMS", "BY_VALUE", "inline", "out_of_line", "symbol", "value_symbol", "declaration",
           "value_slot", "value_types", "VALUE_SLOTS", "runtime_ir", "symbols"]
