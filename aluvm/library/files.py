"""Library files: the strict serialization, raw or ASCII-armored."""
from __future__ import annotations

import os

from aluvm.errors import LibraryError
from aluvm.library.armor import from_armored, to_armored
from aluvm.library.lib import Lib

def load_file(path: str | os.PathLike) -> Lib:
    """Read a library file: the strict serialization, raw or ASCII-armored (detected by the
    ``-----BEGIN`` line; a raw library can never start with ``-`` followed by ``-``)."""
    from aluvm.limits import LIBRARY_FILE_MAX
    try:
        with open(path, "rb") as fh:
            blob = fh.read(LIBRARY_FILE_MAX + 1)
    except OSError as exc:
        raise LibraryError(f"cannot read library file {os.fspath(path)!r}: {exc.strerror or exc}") from None
    if len(blob) > LIBRARY_FILE_MAX:
        raise LibraryError(f"library file {os.fspath(path)!r} is larger than {LIBRARY_FILE_MAX} "
                           "bytes (no valid library is)")
    head = blob.lstrip(b"\xef\xbb\xbf")
    if head.startswith(b"-----BEGIN "):
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            raise LibraryError("armored library file is not valid UTF-8 text") from None
        return from_armored(text)
    return Lib.deserialize(blob)


def save_file(lib: Lib, path: str | os.PathLike, armored: bool = False) -> None:
    """Write a library file: the raw strict serialization, or the ASCII-armored text."""
    if not isinstance(lib, Lib):
        raise LibraryError(f"save_file expects a Lib, not {type(lib).__name__}")
    payload = to_armored(lib).encode("ascii") if armored else lib.serialize()
    try:
        with open(path, "wb") as fh:
            fh.write(payload)
    except OSError as exc:
        raise LibraryError(f"cannot write library file {os.fspath(path)!r}: {exc.strerror or exc}") from None
