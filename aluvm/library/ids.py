"""Library ids: the tagged SHA-256 over a library's segments (encoding.md §3.3), its baid64 text
form (``alu:XXXXXXXX-XXXXXXX-...#word-word-word``), and library sites (a position in a library).
"""
from __future__ import annotations

import hashlib
from typing import Any, NamedTuple

from aluvm.errors import LibraryError
from aluvm.library import baid64

LIB_ID_TAG = b"urn:ubideco:aluvm:lib:v01#230304"
LIB_ID_HRI = "alu"
ZERO_LIB_ID = bytes(32)

_TAG_HASH = hashlib.sha256(LIB_ID_TAG).digest()


def as_bytes(value: Any, what: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise LibraryError(f"{what} must be bytes, not {type(value).__name__}")


def lib_id_bytes(value: Any, what: str = "library id") -> bytes:
    if isinstance(value, str):
        return parse_lib_id(value)
    raw = as_bytes(value, what)
    if len(raw) != 32:
        raise LibraryError(f"{what} must be 32 bytes, got {len(raw)}")
    return raw


def hash_id(isae: bytes, code: bytes, data: bytes, libs: tuple[bytes, ...]) -> bytes:
    h = hashlib.sha256(_TAG_HASH + _TAG_HASH)
    h.update(bytes((len(isae) & 0xFF,)))  # truncating casts, as the reference
    h.update(isae)
    h.update((len(code) & 0xFFFF).to_bytes(2, "little"))
    h.update(code)
    h.update((len(data) & 0xFFFF).to_bytes(2, "little"))
    h.update(data)
    h.update(bytes((len(libs) & 0xFF,)))
    for lib in libs:
        h.update(lib)
    return h.digest()


def lib_id_display(id: bytes, prefix: bool = True, mnemonic: bool = True) -> str:
    """Baid64 text of a library id: ``alu:XXXXXXXX-XXXXXXX-...#word-word-word``.

    ``prefix=False`` is the reference's ``{:-}`` (no ``alu:``); ``mnemonic=False`` is ``{:#}``.
    """
    raw = lib_id_bytes(id)
    return baid64.display(LIB_ID_HRI, raw, prefix=prefix, chunking=True, suffix=mnemonic)


def parse_lib_id(text: str) -> bytes:
    """Parse a library id from its baid64 text (``LibId::from_str``).

    The ``alu:`` prefix, the dashes and the ``#mnemonic`` are optional; a mnemonic that is
    present must match the checksum.  As in baid64 0.2.0, a 36-byte body with an embedded
    checksum is also accepted (that checksum is then the one checked).
    """
    try:
        return baid64.parse(LIB_ID_HRI, text, 32)
    except baid64.Baid64Error as exc:
        raise LibraryError(str(exc)) from None


class LibSite(NamedTuple):
    """A position in a library: ``{lib: LibId, pos: u16}``, shown as ``"{pos} @ {lib}"``.  The
    target of ``call``/``exec`` and an entry of the call stack ``cs0``."""

    lib: bytes
    pos: int

    def __str__(self) -> str:
        return f"{self.pos} @ {lib_id_display(self.lib)}"

    def serialize(self) -> bytes:
        """Strict encoding: the 32-byte id, then ``pos`` as u16 LE."""
        return bytes(self.lib) + (self.pos & 0xFFFF).to_bytes(2, "little")

    @classmethod
    def deserialize(cls, blob: bytes) -> "LibSite":
        raw = as_bytes(blob, "library site")
        if len(raw) != 34:
            raise LibraryError(f"a serialized library site is 34 bytes, got {len(raw)}")
        return cls(raw[:32], int.from_bytes(raw[32:], "little"))
