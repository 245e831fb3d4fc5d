"""Out-of-line helpers for wide-integer primitives.

LLVM expands a 1024-bit division, multiplication, variable shift or bit count inline, and the
expansion of one instruction can cost more compile time than a whole library.  Compiled
libraries therefore call these helpers for the widths in :data:`WIDE`.  The helpers are compiled
once per process (and cached on disk with the libraries' objects); compiled libraries reference
them by symbol name, resolved when their object is loaded.

Every helper takes its operands and results through pointers to ``iW`` values (little-endian,
the LLVM in-memory layout), so the calling convention never involves huge by-value integers.
"""
from __future__ import annotations

#: helper name -> (widths it exists for, result arity, operand types, IR body template)
#  Body templates use {w} for the width; operands are %x, %y (iW) or %s (i32).
_SPECS: dict[str, tuple[tuple[int, ...], str]] = {
    "udiv": ((128, 256, 512, 1024), "r0 = udiv iW %x, %y"),
    "sdivrem": ((128, 256, 512, 1024), "r0 = sdiv iW %x, %y\n  %r1 = srem iW %x, %y"),
    "mul": ((256, 512), "r0 = mul iW %x, %y"),
    "umulo": ((256, 512, 1024), "p = call {iW, i1} @llvm.umul.with.overflow.iW(iW %x, iW %y)\n"
                                "  %r0 = extractvalue {iW, i1} %p, 0\n  %o = extractvalue {iW, i1} %p, 1"),
    "smulo": ((1024,), "p = call {iW, i1} @llvm.smul.with.overflow.iW(iW %x, iW %y)\n"
                       "  %r0 = extractvalue {iW, i1} %p, 0\n  %o = extractvalue {iW, i1} %p, 1"),
    "ctlz": ((128, 256, 512, 1024), "r0 = call iW @llvm.ctlz.iW(iW %x, i1 false)"),
    "shl": ((256, 512, 1024), "r0 = shl iW %x, %sw"),
    "lshr": ((256, 512, 1024), "r0 = lshr iW %x, %sw"),
    "ashr": ((256, 512, 1024), "r0 = ashr iW %x, %sw"),
    "fshl": ((256, 512, 1024), "r0 = call iW @llvm.fshl.iW(iW %x, iW %x, iW %sw)"),
    "fshr": ((256, 512, 1024), "r0 = call iW @llvm.fshr.iW(iW %x, iW %x, iW %sw)"),
    "bitrev": ((256, 512, 1024), "r0 = call iW @llvm.bitreverse.iW(iW %x)"),
    # intmath.store_signed: keep the bytes of the minimal two's-complement form of a negative
    "ss": ((128, 256, 512, 1024), """neg = icmp slt iW %x, 0
  %inv = xor iW %x, -1
  %inv2 = select i1 %neg, iW %inv, iW 0
  %lz = call iW @llvm.ctlz.iW(iW %inv2, i1 false)
  %bl = sub iW WBITS, %lz
  %nb = add iW %bl, 8
  %nb2 = and iW %nb, -8
  %sh = sub iW WBITS, %nb2
  %mask = lshr iW -1, %sh
  %kept = and iW %x, %mask
  %r0 = select i1 %neg, iW %kept, iW %x"""),
}

#: operand kinds per helper: 'x'/'y' are iW pointers, 's' an i32 shift amount
_OPERANDS = {"udiv": "xy", "sdivrem": "xy", "mul": "xy", "umulo": "xy", "smulo": "xy", "ctlz": "x", "ss": "x",
             "shl": "xs", "lshr": "xs", "ashr": "xs", "fshl": "xs", "fshr": "xs", "bitrev": "x"}
_RESULTS = {"sdivrem": 2}

WIDE = {name: widths for name, (widths, _) in _SPECS.items()}


def symbol(name: str, w: int) -> str:
    return f"aluvm_rt_{name}_{w}"


def has(name: str, w: int) -> bool:
    return w in WIDE.get(name, ())


def signature(name: str) -> tuple[str, int]:
    """(operand kinds, number of iW results) of a helper."""
    return _OPERANDS[name], _RESULTS.get(name, 1)


def returns_flag(name: str) -> bool:
    return name in ("umulo", "smulo")


def _helper(name: str, w: int) -> str:
    ops, nres = signature(name)
    ty = f"i{w}"
    params = [f"ptr %out{k}" for k in range(nres)]
    loads = []
    for k in ops:
        if k == "s":
            params.append("i32 %s")
            loads.append(f"%sw = zext i32 %s to {ty}" if w > 32 else f"%sw = trunc i32 %s to {ty}")
        else:
            params.append(f"ptr %p{k}")
            loads.append(f"%{k} = load {ty}, ptr %p{k}, align 1")
    body = _SPECS[name][1].replace("iW", ty).replace("WBITS", str(w))
    stores = [f"store {ty} %r{k}, ptr %out{k}, align 1" for k in range(nres)]
    ret = "i1" if returns_flag(name) else "void"
    lines = [f"define {ret} @{symbol(name, w)}({', '.join(params)}) nounwind {{", *loads,
             "%" + body, *stores, "ret i1 %o" if ret == "i1" else "ret void", "}"]
    return "\n  ".join(lines[:-1]) + "\n}\n"


def runtime_ir() -> str:
    """The IR module of every helper."""
    return "\n".join(_helper(name, w) for name, widths in WIDE.items() for w in widths)


def symbols() -> list[str]:
    return [symbol(name, w) for name, widths in WIDE.items() for w in widths]
