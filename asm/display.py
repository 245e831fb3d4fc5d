"""Display text of decoded instructions.

:func:`instr_text` is the reference's own ``Display`` (the ``--raw`` disassembly and the vectors'
``disasm`` op): the instruction table's templates rendered by :func:`aluvm.isa.render`, with the
values that the fields alone cannot give (put values, call sites, ``stp``) formatted here the
way rust-aluvm v0.11.0-beta.6 formats them (:mod:`asm.numfmt`).  That includes the reference's
malformed ``ins`` text (S19) and its non-round-trippable value forms (f80 printed without the
integer bit, f256/f512 not printed at all).

:func:`value_text` gives the assembler-exact form of a put value used by the disassembler when
the reference's text would not assemble back to the same bits.
"""
from __future__ import annotations

from typing import Optional

from aluvm.isa import table as isa
from aluvm.isa.codec import Instr
from aluvm.machine.registers import A_BITS, F_BYTES, R_BITS

from aluvm.asm import numfmt


def lib_text(lib: bytes) -> str:
    from aluvm.library.ids import lib_id_display
    return lib_id_display(lib)


def put_value_display(form: isa.Form, reg: int, value: Optional[int]) -> str:
    """The reference's text of a put's value (``~`` when undefined)."""
    if value is None:
        return "~"
    if form.key == "put_f":
        return numfmt.float_display(reg, value)
    nbytes = A_BITS[reg] // 8 if form.key in ("put_a", "putif_a") else R_BITS[reg] // 8
    return numfmt.int_display(value, nbytes)


def step_text(ins: Instr, exact: bool = False) -> str:
    """``stp`` is shown as ``inc``/``dec``/``add``/``sub`` (reference ``Step`` display).

    The reference prints the amount only when ``i8::abs(step) > 1``; in its release build the
    absolute value of -128 wraps to -128, so that step shows as a bare ``sub     aN[i],``.
    ``exact`` gives the text that assembles back instead (``sub     aN[i],128,``)."""
    reg, idx, step = ins.args
    name = f"{isa.A_NAMES[reg]}[{idx}]"
    if step == 1:
        mn = "inc"
    elif step == -1:
        mn = "dec"
    else:
        mn = "sub" if step < 0 else "add"
    shown = abs(step) if exact or step != -128 else -128     # i8::abs wraps for -128
    amount = f"{shown}," if shown > 1 else ""
    return f"{mn}     {name},{amount}"


def instr_text(ins: Instr) -> str:
    """The reference's display text of one decoded instruction."""
    form = ins.form
    extra: dict[str, str] = {}
    if form.special == isa.PUT:
        extra["val"] = put_value_display(form, ins.args[0], ins.value)  # type: ignore[arg-type]
    elif form.special == isa.PUT_S:
        # (a value of None is a slice the reference panics on; nothing to show)
        extra["bytes"] = "~" if ins.value is None else numfmt.bytes_display(ins.value[0])  # type: ignore[index]
    elif form.special == isa.CALL:
        extra["site"] = f"{ins.args[0]} @ {lib_text(ins.value)}"  # type: ignore[arg-type]
    elif form.key == "stp":
        return step_text(ins)
    return isa.render(form, ins.args, extra)


def float_exact_text(fc: int, bits: int) -> str:
    """Text of a float register value that assembles back to exactly ``bits``: the decimal
    (reference style) when it does, else the raw bit pattern as hex."""
    text = numfmt.float_value_text(fc, bits)
    if text is not None and numfmt.float_literal_bits(fc, text) == bits:
        return text
    return f"0x{bits:0{F_BYTES[fc] * 2}x}"


def bytes_exact_text(blob: bytes) -> str:
    """Text of a byte string that assembles back to exactly ``blob``."""
    shown = numfmt.bytes_display(blob)
    if not shown.startswith('"'):
        return shown if blob else '""'
    # Quoted: the reference's escapes are ambiguous; keep it only for plain printable text.
    if all(0x20 <= b < 0x7F and b not in (0x22, 0x5C) for b in blob):
        return shown
    return "0x" + blob.hex()
