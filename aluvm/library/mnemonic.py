"""Mnemonicode: binary data as a sequence of English words.

This is the encoding that the Rust crate ``mnemonic`` 1.1.1 implements and that baid64 0.2.0
uses for the ``#word-word-word`` checksum suffix of a library id.

Encoding, per 4-byte block read as a little-endian u32 ``x``:

* a full block gives three words ``x % 1626``, ``x / 1626 % 1626``, ``x / 1626**2 % 1626``;
* a trailing block of 1 or 2 bytes gives 1 or 2 words the same way;
* a trailing block of 3 bytes gives three words, the third taken from the seven extra
  "24-bit remainder" words (indexes 1626..1632).

The default text format is ``x-x-x--``: words of a block joined by ``-``, blocks by ``--``.

Decoding follows the crate: the text is split on every byte that is not an ASCII letter
(empty pieces ignored), each piece must be a lower-case word of the list, and the same
consistency checks are made (a third word that would push a block past 32 bits is an
invalid encoding).
"""
from __future__ import annotations

from aluvm.errors import InputError

import os
import re

__all__ = ["MnemonicError", "WORDS", "BASE", "encode", "decode", "words_required"]

BASE = 1626
"""Cubic root of 2**32, rounded up: the size of the base word list."""

_REMAINDER_WORDS = 7


class MnemonicError(InputError):
    """The text is not a valid mnemonicode encoding."""


def _load_words() -> tuple[str, ...]:
    try:        # (the file beside this module; importlib.resources costs ~5 ms of start-up)
        with open(os.path.join(os.path.dirname(__file__), "mnemonic_words.txt"),
                  encoding="ascii") as fh:
            text = fh.read()
    except OSError:                     # (a package that is not plain files, e.g. zipped)
        from importlib import resources
        text = resources.files(__package__).joinpath("mnemonic_words.txt").read_text("ascii")
    words = tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )
    if len(words) != BASE + _REMAINDER_WORDS or len(set(words)) != len(words):
        raise RuntimeError("aluvm/mnemonic_words.txt is damaged: expected 1633 distinct words")
    return words


WORDS: tuple[str, ...] = _load_words()
_INDEX: dict[bytes, int] = {w.encode("ascii"): i for i, w in enumerate(WORDS)}
_SPLIT = re.compile(rb"[^A-Za-z]+")

DEFAULT_FORMAT = "x-x-x--"


def words_required(n_bytes: int) -> int:
    """Number of words that encode ``n_bytes`` bytes."""
    return (n_bytes + 1) * 3 // 4


def _word(src: bytes, n: int) -> str:
    offset = n // 3 * 4
    x = int.from_bytes(src[offset : offset + 4], "little")
    extra = 0
    k = n % 3
    if k == 2:
        if len(src) - offset == 3:
            extra = BASE
        x //= BASE * BASE
    elif k == 1:
        x //= BASE
    return WORDS[x % BASE + extra]


def encode(data: bytes, fmt: str = DEFAULT_FORMAT) -> str:
    """Encode ``data`` with a format template (letters stand for words, anything else is copied).

    >>> encode(bytes([101, 2, 240, 6, 108, 11, 20, 97]))
    'digital-apollo-aroma--rival-artist-rebel'
    """
    data = bytes(data)
    total = words_required(len(data))
    if total and not any(c.isascii() and c.isalpha() for c in fmt):
        raise ValueError("mnemonic format template has no word placeholder")
    out: list[str] = []
    n = 0
    i = 0
    while n < total:
        while i < len(fmt) and not (fmt[i].isascii() and fmt[i].isalpha()):
            out.append(fmt[i])
            i += 1
        if i == len(fmt):
            i = 0
            continue
        while i < len(fmt) and fmt[i].isascii() and fmt[i].isalpha():
            i += 1
        out.append(_word(data, n))
        n += 1
    return "".join(out)


def decode(text: str | bytes) -> bytes:
    """Decode mnemonicode text into bytes; raise :class:`MnemonicError` if it is not valid.

    >>> decode("digital-apollo-aroma--rival-artist-rebel")
    b'e\\x02\\xf0\\x06l\\x0b\\x14a'
    """
    if isinstance(text, str):
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise MnemonicError("mnemonic is not valid Unicode text") from exc
    elif isinstance(text, (bytes, bytearray, memoryview)):
        raw = bytes(text)
    else:
        raise MnemonicError(f"mnemonic must be text, not {type(text).__name__}")

    out = bytearray()
    offset = 0  # number of bytes decoded so far
    x = 0
    for piece in _SPLIT.split(raw):
        if not piece:
            continue
        index = _INDEX.get(piece)
        if index is None:
            raise MnemonicError("unrecognized mnemonic word")
        pos = offset % 4
        if index >= BASE and pos != 2:
            raise MnemonicError("unexpected 24-bit remainder word")
        if pos == 3:
            raise MnemonicError("unexpected data past 24-bit remainder")
        if pos == 2 and index >= BASE:
            x += (index - BASE) * BASE * BASE
            offset += 1
        elif pos == 2:
            if index >= 1625 or (index == 1624 and x > 1312671):
                raise MnemonicError("invalid mnemonic encoding")
            x += index * BASE * BASE  # < 2**32 thanks to the check above
            offset += 2
        elif pos == 1:
            x += index * BASE
            offset += 1
        else:
            x = index
            offset += 1
        if offset % 4 == 0:
            out += x.to_bytes(4, "little")
            x = 0
    remainder = offset % 4
    if remainder:
        if (remainder == 2 and x > 0xFFFF) or (remainder == 1 and x > 0xFF):
            raise MnemonicError("unexpected mnemonic remainder (possibly truncated)")
        out += x.to_bytes(4, "little")[:remainder]
    return bytes(out)
