"""Generated marshallers: the register file in and out of the native buffer.

For each compiled unit, straight-line ``sync_in(regs, buf)`` / ``sync_out(regs, buf)`` functions
are generated (Python source, compiled once per unit) that move every A register the unit keeps
natively plus the control registers with one ``struct`` call each way: no per-register loop and
no per-register call on the hot path of entering and leaving native code.
"""
from __future__ import annotations

import struct
from typing import Any

from aluvm.jit import layout

_CTRL_FIELDS = (("st0", "B"), ("has_cl0", "B"), ("cy0", "I"), ("cp0", "I"), ("bp", "I"),
                ("ca0", "Q"), ("cl0", "Q"), ("exit_pos", "I"), ("cs_hi", "I"))
_CTRL_IN = {"st0": "regs.st0", "has_cl0": "cl0 is not None", "cy0": "regs.cy0", "cp0": "cp0",
            "bp": "cp0", "ca0": "regs.ca0", "cl0": "cl0 or 0", "exit_pos": "0", "cs_hi": "0"}
_NARROW = {1: "B", 2: "H", 4: "I", 8: "Q"}


def _bank(code: int) -> str:
    """The ``sync_*`` expression of the bank of register ``code`` (R: ``r``, F: ``f``)."""
    return f"r[{code - 8}]" if code < layout.F_CODE else f"f[{code - layout.F_CODE}]"


def marshaller(regset: tuple) -> tuple[Any, Any]:
    """Straight-line ``sync_in(regs, buf)`` / ``sync_out(regs, buf) -> (pos, bp, cs_hi)`` for
    one unit: every A register it keeps natively plus the control registers move with one
    ``struct`` call each way (the gaps between them are not read by native code); R and F
    registers (codes 8..23, at the far end of the register file) one slice each."""
    aset = tuple(r for r in regset if r[0] < 8)
    rset = tuple(r for r in regset if r[0] >= 8)
    fields: list[tuple[int, str, str, tuple]] = []  # (offset, struct code, value-in expr, name)
    for c, i, off, n, doff in aset:
        r = f"r{c}_{i}"
        wide = n > 8
        fields.append((off, f"{n}s" if wide else _NARROW[n],
                       f"(b'\\0' * {n} if {r} is None else {r}.to_bytes({n}, 'little'))" if wide
                       else f"({r} or 0)", ("v", c, i, wide)))
        fields.append((doff, "B", f"{r} is not None", ("d", c, i, wide)))
    for name, code in _CTRL_FIELDS:
        fields.append((layout.OFF[name], code, _CTRL_IN[name], ("c", name)))
    fields.sort(key=lambda f: f[0])
    base = fields[0][0]
    fmt, at = "<", base
    for off, code, _, _ in fields:
        fmt += "x" * (off - at) + code
        at = off + struct.calcsize("<" + code)
    regs_used = [(c, i) for c, i, *_ in aset]
    load = [f"    r{c}_{i} = a[{c}][{i}]" for c, i in regs_used]
    src_in = ["def sync_in(regs, buf):", "    a = regs.a", *load,
              "    cl0 = regs.cl0", "    cp0 = regs.cp0",
              f"    S.pack_into(buf, {base}, {', '.join(f[2] for f in fields)})"]
    if rset:
        src_in += ["    r = regs.r", "    f = regs.f"]
    for c, i, off, n, doff in rset:
        src_in += [f"    v = {_bank(c)}[{i}]", f"    buf[{doff}] = v is not None",
                   "    if v is not None:", f"        buf[{off}:{off + n}] = v.to_bytes({n}, 'little')"]
    index = {f[3]: k for k, f in enumerate(fields)}
    src_out = ["def sync_out(regs, buf):", f"    t = S.unpack_from(buf, {base})", "    a = regs.a"]
    for c, i, *_, n, _d in aset:
        v, d = index[("v", c, i, n > 8)], index[("d", c, i, n > 8)]
        val = f"int.from_bytes(t[{v}], 'little')" if n > 8 else f"t[{v}]"
        src_out.append(f"    a[{c}][{i}] = {val} if t[{d}] else None")
    if rset:
        src_out += ["    r = regs.r", "    f = regs.f"]
    for c, i, off, n, doff in rset:
        src_out.append(f"    {_bank(c)}[{i}] = int.from_bytes(buf[{off}:{off + n}], 'little') "
                       f"if buf[{doff}] else None")
    ctrl = {name: index[("c", name)] for name, _ in _CTRL_FIELDS}
    src_out += [f"    regs.st0 = t[{ctrl['st0']}] != 0", f"    regs.cy0 = t[{ctrl['cy0']}]",
                f"    regs.cp0 = t[{ctrl['cp0']}]", f"    regs.ca0 = t[{ctrl['ca0']}]",
                f"    return t[{ctrl['exit_pos']}], t[{ctrl['bp']}], t[{ctrl['cs_hi']}]"]
    ns: dict[str, Any] = {}
    exec("\n".join(src_in) + "\n\n" + "\n".join(src_out), {"S": struct.Struct(fmt)}, ns)
    return ns["sync_in"], ns["sync_out"]


__all__ = ["marshaller"]
