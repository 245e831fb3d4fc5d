"""Just enough of ELF to check a compiled object before it is loaded: its undefined symbols."""
from __future__ import annotations

import struct

_SHT_SYMTAB = 2


def undefined_symbols(obj: bytes) -> set[str]:
    """Undefined symbols of an ELF64 little-endian object file (empty for other formats)."""
    if obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
        return set()
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", obj, shoff + k * shentsize) for k in range(shnum)]
    out = set()
    for sh in sections:
        if sh[1] != _SHT_SYMTAB:
            continue
        _, _, _, _, off, size, link, _, _, entsize = sh
        stroff = sections[link][4]
        for k in range(1, size // entsize):
            name, _, _, shndx, _, _ = struct.unpack_from("<IBBHQQ", obj, off + k * entsize)
            if shndx == 0 and name:
                end = obj.index(b"\0", stroff + name)
                out.add(obj[stroff + name:end].decode())
    return out


__all__ = ["undefined_symbols"]
