"""Guard-page test mode for the native register file.

Compiled code addresses only the register file it is given (:mod:`aluvm.jit.layout`): register
indexes come from 3/5-bit instruction fields checked against the layout when code is generated,
and the only computed index, the call-stack window, is bounds-checked in the generated code.
This mode checks that claim at run time: each register file is placed in its own ``mmap`` with
an inaccessible (``PROT_NONE``) page right before it (``start``) or right after it (``end``), so
any read or write outside the structure faults (SIGSEGV) instead of touching other memory.

Enabled with ``ALUVM_JIT_GUARD=start|end`` or :func:`enable`; the fuzzers run their programs
in both placements (``make fuzz``, ``tests/test_fuzz.py``).  Off by default (an mmap per thread's
buffer costs nothing at run time, but the mode exists for testing).
"""
from __future__ import annotations

from aluvm.errors import InputError

import ctypes
import mmap
import os
from typing import Optional

from aluvm.jit import layout
from aluvm.jit.layout import RegFile

_PROT_NONE = 0
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)

#: None (off), "start" or "end": where the register file touches a guard page
MODE: Optional[str] = os.environ.get("ALUVM_JIT_GUARD") or None
if MODE not in (None, "start", "end"):
    raise InputError(f"ALUVM_JIT_GUARD must be 'start' or 'end', not {MODE!r}")


def enable(mode: Optional[str]) -> None:
    """Place this thread's next register files against a guard page (``None``: off)."""
    global MODE
    if mode not in (None, "start", "end"):
        raise InputError(f"guard mode must be 'start', 'end' or None, not {mode!r}")
    MODE = mode
    from aluvm.jit import compiled
    compiled._TLS.pool = []     # buffers made before the switch are not reused


def new_buffer(mode: str) -> tuple[memoryview, RegFile, int]:
    """A register file in an mmap with a PROT_NONE page touching its first or last byte."""
    page = mmap.PAGESIZE
    body = -(-layout.SIZE // page) * page
    region = mmap.mmap(-1, body + 2 * page, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    base = ctypes.addressof(ctypes.c_char.from_buffer(region))
    for at in (base, base + page + body):
        if _libc.mprotect(ctypes.c_void_p(at), page, _PROT_NONE) != 0:
            raise OSError(ctypes.get_errno(), "mprotect failed")
    offset = page if mode == "start" else page + body - layout.SIZE
    if offset % ctypes.alignment(RegFile):
        raise ValueError("the register file cannot touch the guard page with its alignment")
    view = memoryview(region)[offset:offset + layout.SIZE]
    rf = RegFile.from_buffer(view)
    return view, rf, ctypes.addressof(rf)


__all__ = ["MODE", "enable", "new_buffer"]
