"""Building a library from instructions, the way the reference's ``Lib::assemble`` does.

The data segment is built with the reference's de-duplication (``write_unique``): every value is
looked up in the data written so far (any window, overlaps included) and appended only when
absent; an empty string is never searched and gets the current data length as its offset.  The
libs segment is the sorted set of ``call``/``exec`` targets.
"""
from __future__ import annotations

from typing import Sequence, cast

from aluvm.isa import table as isa
from aluvm.isa.codec import Instr, encode, encode_instr, put_width
from aluvm.errors import AluError
from aluvm.library.lib import CODE_SEGMENT_MAX_LEN, DATA_SEGMENT_MAX_LEN, DEFAULT_ISAE, Lib



class AssembleError(AluError):
    """The instructions cannot be laid out into a library."""


class DataWriter:
    """Accumulates a data segment with the reference's de-duplication."""

    def __init__(self) -> None:
        self.data = bytearray()

    def unique(self, blob: bytes) -> int:
        if not blob:
            return len(self.data)
        found = self.data.find(blob)   # (no copy: bytearray.find)
        if found >= 0:
            return found
        if len(self.data) + len(blob) > DATA_SEGMENT_MAX_LEN:
            raise AssembleError("data does not fit the data segment (65535 bytes)")
        off = len(self.data)
        self.data += blob
        return off


def reassemble(instrs: Sequence[Instr], reference: bool = True, isae: str = DEFAULT_ISAE) -> Lib:
    """Lay decoded instructions out again (their put values and call targets re-homed)."""
    libs = sorted({ins.value for ins in instrs if ins.form.special == isa.CALL})  # type: ignore
    if len(libs) > 255:
        raise AssembleError("more than 255 libraries referenced")
    index = {lib: i for i, lib in enumerate(libs)}
    writer = DataWriter()
    code = bytearray()
    for ins in instrs:
        code += _encode_one(ins, writer, index, reference)
        if len(code) > CODE_SEGMENT_MAX_LEN:
            raise AssembleError("code does not fit the code segment (65535 bytes)")
    return Lib.with_(isae, bytes(code), bytes(writer.data), libs)


def _encode_one(ins: Instr, writer: DataWriter, index: dict, reference: bool) -> bytes:
    form = ins.form
    if form.special == isa.PUT:
        if ins.value is None:
            raise AssembleError(f"{form.key}: the value is undefined (no number to put)")
        reg, idx, _ = ins.args
        blob = int(cast(int, ins.value)).to_bytes(put_width(form, reg), "little")
        return encode(form, (reg, idx, writer.unique(blob)))
    if form.special == isa.PUT_S:
        if ins.value is None:
            raise AssembleError("put s16: the data slice is out of range")
        blob = ins.value[0]  # type: ignore[index]
        if len(blob) >= 0xFFFF:
            raise AssembleError("byte string too long for the data segment")
        return encode(form, (ins.args[0], writer.unique(blob), len(blob)))
    if form.special == isa.CALL:
        return encode(form, (ins.args[0], index[ins.value]))
    return encode_instr(ins, reference=reference)
