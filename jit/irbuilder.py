"""A small typed builder of LLVM IR text: fresh names, labels, instructions.

Values are SSA names (``%t12``) or constants, passed around as strings; every method that
computes something returns the name of its result.  The builder knows nothing about AluVM.
"""
from __future__ import annotations

from typing import Optional


#: branch-weight metadata of :meth:`IRBuilder.cbr` (appended to every module, see METADATA)
LIKELY, UNLIKELY = "!0", "!1"
METADATA = '!0 = !{!"branch_weights", i32 2000, i32 1}\n!1 = !{!"branch_weights", i32 1, i32 2000}\n'


def int_type(w: int) -> str:
    """The LLVM integer type of width ``w``."""
    return f"i{w}"


class IRBuilder:
    """Appends the lines of one function's body to :attr:`out`; collects declarations."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.n = 0
        #: values are numbered (``%0, %1, ...``: LLVM parses them faster than names) while this
        #: is set - which requires them to be defined in textual order, from ``%0``, within the
        #: function; else named ``%t<n>``
        self.numbered = False
        self.vn = 0
        self.decls: set[str] = set()
        self.block_label = "entry"      # the basic block being emitted (for phi operands)

    def fresh(self) -> str:
        """A new SSA name (define it next, see :attr:`numbered`)."""
        if self.numbered:
            self.vn += 1
            return f"%{self.vn - 1}"
        self.n += 1
        return f"%t{self.n}"

    def label(self, hint: str = "l") -> str:
        """A new basic-block label (``hint`` + a number)."""
        self.n += 1
        return f"{hint}{self.n}"

    def emit(self, line: str) -> None:
        """Append one instruction line as is."""
        self.out.append("  " + line)

    def begin(self, label: str) -> None:
        """Start the basic block ``label``."""
        self.out.append(f"{label}:")
        self.block_label = label

    def value(self, text: str) -> str:
        """Emit ``%new = text``; returns ``%new`` (``and i1 x, true`` is just ``x``).  (The
        hottest method of code generation: inlined by hand.)"""
        if text.endswith(", true") and text.startswith("and i1 "):
            return text[7:-6]
        if self.numbered:
            self.vn += 1
            r = f"%{self.vn - 1}"
        else:
            self.n += 1
            r = f"%t{self.n}"
        self.out.append(f"  {r} = {text}")
        return r

    def intrinsic(self, name: str, ret: str, args: list[tuple[str, str]]) -> str:
        """Call the LLVM intrinsic ``name`` (declared once) with ``(type, value)`` args."""
        self.decls.add(f"declare {ret} @{name}({', '.join(a for a, _ in args)})")
        return self.value(f"call {ret} @{name}({', '.join(f'{a} {v}' for a, v in args)})")

    def br(self, label: str) -> None:
        """Unconditional branch."""
        self.emit(f"br label %{label}")

    def cbr(self, cond: str, yes: str, no: str, likely: Optional[bool] = None) -> None:
        """Conditional branch on the i1 ``cond``; ``likely``: ``cond`` is (un)likely to hold,
        as branch weights (``!prof``) that keep LLVM from turning the branch into a select."""
        prof = "" if likely is None else f", !prof {LIKELY if likely else UNLIKELY}"
        self.emit(f"br i1 {cond}, label %{yes}, label %{no}{prof}")

    def select(self, cond: str, ty: str, a: str, b: str) -> str:
        """``cond ? a : b`` of type ``ty`` (on ``i1``: as logic, which the fast instruction
        selector handles - an ``i1`` select sends the whole block to the slow one)."""
        if ty == "i1":
            return self.select1(cond, a, b)
        if a == b:
            return a
        return self.value(f"select i1 {cond}, {ty} {a}, {ty} {b}")

    def not1(self, v: str) -> str:
        """``!v`` of an ``i1``."""
        if v in ("true", "false"):
            return "false" if v == "true" else "true"
        return self.value(f"xor i1 {v}, true")

    def select1(self, c: str, a: str, b: str) -> str:
        """``c ? a : b`` on ``i1`` values, as logic."""
        if a == b:
            return a
        if a == "true":
            return b if c == "false" else self.value(f"or i1 {c}, {b}") if b != "false" else c
        if a == "false":
            return self.value(f"and i1 {self.not1(c)}, {b}") if b != "true" else self.not1(c)
        if b == "true":
            return self.value(f"or i1 {self.not1(c)}, {a}")
        if b == "false":
            return self.value(f"and i1 {c}, {a}")
        # b ^ ((a ^ b) & c)
        diff = self.value(f"xor i1 {a}, {b}")
        return self.value(f"xor i1 {b}, {self.value(f'and i1 {diff}, {c}')}")

    def eq1(self, a: str, b: str) -> str:
        """``a == b`` on ``i1`` values (an ``i1`` compare is not fast-selected either)."""
        return self.not1(self.value(f"xor i1 {a}, {b}"))

    def umin(self, ty: str, a: str, b: str) -> str:
        """Unsigned minimum as compare + select (the intrinsic is not fast-selected; the
        optimiser forms it again)."""
        return self.select(self.value(f"icmp ult {ty} {a}, {b}"), ty, a, b)

    def umax(self, ty: str, a: str, b: str) -> str:
        """Unsigned maximum as compare + select."""
        return self.select(self.value(f"icmp ugt {ty} {a}, {b}"), ty, a, b)

    def resize(self, v: str, w1: int, w2: int, signed: bool = False) -> str:
        """``v`` from ``iw1`` to ``iw2``: truncate, or zero/sign-extend."""
        if w1 == w2:
            return v
        if w1 < w2:
            return self.value(f"{'sext' if signed else 'zext'} i{w1} {v} to i{w2}")
        return self.value(f"trunc i{w1} {v} to i{w2}")

    def gep(self, off: int) -> str:
        """A pointer ``off`` bytes into the register file ``%rf``."""
        return self.value(f"getelementptr inbounds i8, ptr %rf, i64 {off}")


__all__ = ["IRBuilder", "int_type", "LIKELY", "UNLIKELY", "METADATA"]
