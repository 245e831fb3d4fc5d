"""Spec-profile versions of the float instructions whose reference version can panic.

The ``spec`` profile is the reference op table with a few entries replaced (see
:mod:`aluvm.interp`).  This module replaces exactly the float ops that can reach a reference
panic (semantics.md §10.1):

=========  =====================  ==========================================================
key        opcode                 reference panic fixed here
=========  =====================  ==========================================================
cnv_af     0x16 ``cnv`` A->F      P7 (``todo!`` for every defined source)
cnv_f      0x13 ``cnv`` F->F      P8 (±inf, f256, f512) and the f80 zero-fraction print assert
cnv_fa     0x17 ``cnv`` F->A      P9 (bf16 source)
gt_f/lt_f  0x18 ``gt.e/lt.e``     P10 (f256)
add_f ...  0x20-0x23 on F         P11 (f512), P22 (f80 add/sub assertions) and the f80
                                  divider's zero-fraction assertion
=========  =====================  ==========================================================

Every function has the signature of its reference op (:mod:`aluvm.ops_core`) and the same
register plumbing (reads through ``get_n``: NaN -> undefined, -0 -> +0; an undefined source
clears the destination with the reference's st0 rule).  Only the value function differs: each
``floats.*_spec`` function calls the reference value function first and replaces nothing but a
:class:`~aluvm.errors.Panic`, so wherever the reference finishes, spec == reference.  The chosen
rules are documented on those functions:

* :func:`aluvm.floats.cnv_af_spec` — integer rounded to nearest-even, st0 <- exact, overflow
  undefined (bf16: +inf), f512 destination = integer ``cpy`` into 512 bits;
* :func:`aluvm.floats.cnv_ff_spec` — ±inf -> ±inf, f256 by exact RNE conversion, f512 source as
  an integer -> float conversion, f512 destination as float -> integer into 512 bits;
* :func:`aluvm.floats.cnv_fa_spec` — bf16 like the other formats (toward zero, saturating i256);
* :func:`aluvm.floats.gt_spec` / :func:`aluvm.floats.lt_spec` — f256 IEEE ordering;
* :func:`aluvm.floats.arith_spec` — f512 undefined (st0 false), f80 assertion cases by the §1.4
  value model.
"""
from __future__ import annotations

from typing import Callable, Optional

from . import floats
from .registers import A_BITS, Registers

Op = Callable[..., None]


def _fread(regs: Registers, reg: int, idx: int) -> Optional[int]:
    v = regs.f[reg][idx]
    return None if v is None else floats.read(reg, v)


def cnv_f(regs: Registers, reg1: int, idx1: int, reg2: int, idx2: int) -> None:
    """``cnv fN[i],fM[j]`` (P8 fixed, see :func:`aluvm.floats.cnv_ff_spec`).

    An undefined (or NaN) source clears the destination with st0 <- true, as in the reference.
    """
    x = _fread(regs, reg1, idx1)
    if x is None:
        regs.f[reg2][idx2] = None
        regs.st0 = True
        return
    val, st0 = floats.cnv_ff_spec(reg1, reg2, x)
    regs.f[reg2][idx2] = val
    regs.st0 = st0


def cnv_af(regs: Registers, reg1: int, idx1: int, reg2: int, idx2: int) -> None:
    """``cnv aN[i],fM[j]`` (P7 fixed, see :func:`aluvm.floats.cnv_af_spec`).

    e.g. a8 3 -> f32 gives ``0x40400000`` with st0 true; a1024 2^1023 -> f64 is exact;
    a1024 2^1024-1 -> f64 overflows: undefined, st0 false.
    """
    x = regs.a[reg1][idx1]
    if x is None:
        regs.f[reg2][idx2] = None
        regs.st0 = True
        return
    val, st0 = floats.cnv_af_spec(A_BITS[reg1], x, reg2)
    regs.f[reg2][idx2] = val
    regs.st0 = st0


def cnv_fa(regs: Registers, reg1: int, idx1: int, reg2: int, idx2: int) -> None:
    """``cnv fN[i],aM[j]`` (P9 fixed: bf16 like every other format, see
    :func:`aluvm.floats.cnv_fa_spec`)."""
    x = _fread(regs, reg1, idx1)
    if x is None:
        regs.a[reg2][idx2] = None
        regs.st0 = True
        return
    val, st0 = floats.cnv_fa_spec(reg1, x, A_BITS[reg2])
    regs.a[reg2][idx2] = val
    regs.st0 = st0


def gt_f(regs: Registers, flag: int, idx1: int, idx2: int, reg: int) -> None:
    """``gt.{e,r} fN`` (P10 fixed: f256 ``gt.e`` is the IEEE order); any undefined -> false."""
    a, b = _fread(regs, reg, idx1), _fread(regs, reg, idx2)
    regs.st0 = a is not None and b is not None and floats.gt_spec(reg, flag, a, b)


def lt_f(regs: Registers, flag: int, idx1: int, idx2: int, reg: int) -> None:
    """``lt.{e,r} fN`` (P10 fixed: f256 ``lt.e`` is the IEEE order); any undefined -> false."""
    a, b = _fread(regs, reg, idx1), _fread(regs, reg, idx2)
    regs.st0 = a is not None and b is not None and floats.lt_spec(reg, flag, a, b)


def _arith_f(kind: str) -> Op:
    def op(regs: Registers, rnd: int, src1: int, src2: int, reg: int) -> None:
        a, b = _fread(regs, reg, src1), _fread(regs, reg, src2)
        r = None if a is None or b is None else floats.arith_spec(kind, reg, rnd, a, b)
        regs.f[reg][src2] = r
        regs.st0 = r is not None
    op.__name__ = f"{kind}_f_spec"
    op.__qualname__ = op.__name__
    op.__doc__ = (f"``{kind}`` on F registers, ``src2 <- src1 {kind} src2``, st0 <- defined. "
                  "f512: always undefined, st0 false (P11 fixed: f512 has no float semantics); "
                  "f80 where the soft-float library asserts (P22): the §1.4 value model; "
                  "see :func:`aluvm.floats.arith_spec`.")
    return op


add_f, sub_f, mul_f, div_f = (_arith_f(k) for k in ("add", "sub", "mul", "div"))


SPEC_OVERRIDES: dict[str, Op] = {
    "cnv_f": cnv_f, "cnv_af": cnv_af, "cnv_fa": cnv_fa,
    "gt_f": gt_f, "lt_f": lt_f,
    "add_f": add_f, "sub_f": sub_f, "mul_f": mul_f, "div_f": div_f,
}

__all__ = ["SPEC_OVERRIDES", "cnv_f", "cnv_af", "cnv_fa", "gt_f", "lt_f",
           "add_f", "sub_f", "mul_f", "div_f"]
