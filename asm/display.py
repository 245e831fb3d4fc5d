"""The reference's display text of decoded instructions (initial version: operands exact,
put values shown as hex; the assembler work refines value formatting)."""
from __future__ import annotations

from aluvm import isa
from aluvm.bytecode import Instr


def _site(ins: Instr) -> str:
    from aluvm.library import lib_id_display
    return f"{ins.args[0]} @ {lib_id_display(ins.value)}"  # type: ignore[arg-type]


def _step(ins: Instr) -> str:
    reg, idx, step = ins.args
    name = f"{isa.A_NAMES[reg]}[{idx}]"
    if step == 1:
        return f"inc     {name},"
    if step == -1:
        return f"dec     {name},"
    return f"{'add' if step > 0 else 'sub'}     {name},{abs(step)},"


def instr_text(ins: Instr) -> str:
    form = ins.form
    extra: dict[str, str] = {}
    if form.special == isa.PUT:
        extra["val"] = "~" if ins.value is None else f"0x{ins.value:X}"
    elif form.special == isa.PUT_S:
        extra["bytes"] = "" if ins.value is None else ins.value[0].hex()  # type: ignore[index]
    elif form.special == isa.CALL:
        extra["site"] = _site(ins)
    elif form.key == "stp":
        return _step(ins)
    return isa.render(form, ins.args, extra)
