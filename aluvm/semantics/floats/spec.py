"""Spec-profile versions of the float instructions whose reference version can panic.

The ``spec`` profile is the reference op table with a few entries replaced (see
:mod:`aluvm.machine.interp`).  This module replaces exactly the float ops that can reach a reference
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

from typing import Callable

from aluvm.semantics.differs import EVERYWHERE, Differs
from aluvm.semantics.floats import core as floats
from aluvm.semantics.core import make_arith_f, make_cmp_f, make_cnv_af, make_cnv_f, make_cnv_fa

Op = Callable[..., None]

# Same register plumbing as the reference ops; only the value functions differ.
cnv_f = make_cnv_f(floats.cnv_ff_spec)      # P8 fixed (and the f80 zero-fraction print assert)
cnv_af = make_cnv_af(floats.cnv_af_spec)    # P7 fixed
cnv_fa = make_cnv_fa(floats.cnv_fa_spec)    # P9 fixed: bf16 like every other format
gt_f = make_cmp_f(floats.gt_spec)           # P10 fixed: f256 IEEE order
lt_f = make_cmp_f(floats.lt_spec)
# P11 (f512: undefined, st0 false) and P22 (f80 assertion cases: §1.4 value model)
add_f, sub_f, mul_f, div_f = (make_arith_f(k, floats.arith_spec)
                              for k in ("add", "sub", "mul", "div"))


SPEC_OVERRIDES: dict[str, Op] = {
    "cnv_f": cnv_f, "cnv_af": cnv_af, "cnv_fa": cnv_fa,
    "gt_f": gt_f, "lt_f": lt_f,
    "add_f": add_f, "sub_f": sub_f, "mul_f": mul_f, "div_f": div_f,
}
SPEC_DIFFERS: dict[str, tuple[Differs, ...]] = {k: EVERYWHERE for k in SPEC_OVERRIDES}

__all__ = ["SPEC_OVERRIDES", "cnv_f", "cnv_af", "cnv_fa", "gt_f", "lt_f",
           "add_f", "sub_f", "mul_f", "div_f"]
