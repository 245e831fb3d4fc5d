"""Bit-exact semantics of the AluVM float registers (f16b ... f512).

Everything here is a pure function over integer bit patterns: an F register holds the IEEE bit
pattern of its format as a plain ``int`` and the interpreter hands the value functions values it
has already passed through :func:`read`.  rust-aluvm v0.11.0-beta.6 delegates floats to two
libraries, and the modules follow that split:

* :mod:`.formats` - the format table, how the reference stores and reads each format;
* :mod:`.reference` - the instructions' value functions (arithmetic, neg/abs, comparisons,
  ``cnv``), each format sent to the engine the reference uses for it:
* :mod:`.bf16` - bfloat16 by the ``half`` crate's rules (f32 round trip, no status);
* :mod:`.ieee` - f16/f32/f64/f128/f256, correctly rounded (MPFR, host-FPU fast paths) with the
  soft-float library's status rules;
* :mod:`.apfloat` - a port of that library's own significand algorithms (x87 f80, whose
  unnormalised significands only the library's algorithms reproduce);
* :mod:`.decimal_text` - printing and parsing decimal text (``cnv`` between formats goes through
  text; the disassembler prints put values with the same code);
* :mod:`.spec` - the ``spec`` profile's rules where the reference panics.
"""
from aluvm.semantics.floats.formats import FORMAT_NAMES, read, store
from aluvm.semantics.floats.reference import abs_, arith, cnv_af, cnv_fa, cnv_ff, eq, gt, lt, neg

__all__ = ["FORMAT_NAMES", "store", "read", "arith", "neg", "abs_", "gt", "lt", "eq",
           "cnv_ff", "cnv_fa", "cnv_af"]
