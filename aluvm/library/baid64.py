"""Baid64: the text form of 32-byte identifiers used by the reference (crate baid64 0.2.0).

Text form of a payload under a human-readable identifier (HRI) such as ``alu``::

    alu:CVMMOfAU-TcdNpQN-j3PjHIP-ecjwKRD-u66LZq9-bA6Taag#jordan-jacob-jerome
    ^^^ prefix  ^^^^^^^^ 8 chars, then groups of 7       ^^^^^^^^^^^^^^^^^^^ mnemonic

* The body is base64 with the alphabet ``A-Z a-z 0-9 ! $`` and no padding.
* The checksum is ``c = SHA256(SHA256(hri) || payload)``; its four bytes are
  ``[c0, c1, c1, c2]`` (byte 1 repeated, as the crate does).
* The mnemonic is the mnemonicode encoding of those four bytes (three words).

Parsing (:func:`parse`) follows the crate step by step:

1. if the text contains ``:``, everything before the *last* ``:`` must equal the HRI;
2. if the rest contains ``#``, what follows the *first* ``#`` is decoded as mnemonicode and must
   give exactly 4 bytes: that is the expected checksum;
3. all ``-`` are removed and the rest is strict base64 (no padding, canonical trailing bits);
4. it must decode to the payload length, or to the payload length + 4, in which case the last four
   bytes are an embedded checksum that replaces the mnemonic one;
5. a checksum, if one was given, must match.
"""
from __future__ import annotations

from aluvm.errors import InputError

import hashlib

from aluvm.library.mnemonic import MnemonicError
from aluvm.library.mnemonic import decode as mnemonic_decode
from aluvm.library.mnemonic import encode as mnemonic_encode

__all__ = ["ALPHABET", "Baid64Error", "checksum", "mnemonic", "encode_body", "display", "parse"]

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!$"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


class Baid64Error(InputError):
    """The text is not a valid baid64 identifier."""


def checksum(hri: str, payload: bytes) -> bytes:
    """The four checksum bytes ``[c0, c1, c1, c2]`` of ``payload`` under ``hri``."""
    key = hashlib.sha256(hri.encode("ascii")).digest()
    c = hashlib.sha256(key + bytes(payload)).digest()
    return bytes((c[0], c[1], c[1], c[2]))


def mnemonic(hri: str, payload: bytes) -> str:
    """The checksum mnemonic, e.g. ``plasma-tunnel-mama``."""
    return mnemonic_encode(checksum(hri, payload))


def _b64encode(data: bytes) -> str:
    out = []
    n_full = len(data) // 3 * 3
    for i in range(0, n_full, 3):
        v = int.from_bytes(data[i : i + 3], "big")
        out.append(ALPHABET[v >> 18] + ALPHABET[(v >> 12) & 63] + ALPHABET[(v >> 6) & 63] + ALPHABET[v & 63])
    rest = data[n_full:]
    if len(rest) == 1:
        v = rest[0] << 4
        out.append(ALPHABET[v >> 6] + ALPHABET[v & 63])
    elif len(rest) == 2:
        v = int.from_bytes(rest, "big") << 2
        out.append(ALPHABET[v >> 12] + ALPHABET[(v >> 6) & 63] + ALPHABET[v & 63])
    return "".join(out)


def _b64decode(text: str) -> bytes:
    """Strict unpadded decoding (as base64 0.22 ``NO_PAD``: no padding, canonical last symbol)."""
    for i, ch in enumerate(text):
        if ch not in _VALUE:
            shown = ch if ch.isprintable() else repr(ch)[1:-1]
            raise Baid64Error(f"invalid base64 symbol '{shown}' at offset {i}")
    n = len(text)
    if n % 4 == 1:
        raise Baid64Error(f"invalid base64 length {n}")
    out = bytearray()
    n_full = n // 4 * 4
    for i in range(0, n_full, 4):
        v = (_VALUE[text[i]] << 18) | (_VALUE[text[i + 1]] << 12) | (_VALUE[text[i + 2]] << 6) | _VALUE[text[i + 3]]
        out += v.to_bytes(3, "big")
    rest = text[n_full:]
    if len(rest) == 2:
        v = (_VALUE[rest[0]] << 6) | _VALUE[rest[1]]
        if v & 0xF:
            raise Baid64Error(f"invalid base64 last symbol '{rest[1]}' (non-zero trailing bits)")
        out.append(v >> 4)
    elif len(rest) == 3:
        v = (_VALUE[rest[0]] << 12) | (_VALUE[rest[1]] << 6) | _VALUE[rest[2]]
        if v & 0x3:
            raise Baid64Error(f"invalid base64 last symbol '{rest[2]}' (non-zero trailing bits)")
        out += (v >> 2).to_bytes(2, "big")
    return bytes(out)


def encode_body(payload: bytes, chunking: bool = True) -> str:
    """The base64 body, chunked as 8 characters then groups of 7 joined by ``-``."""
    s = _b64encode(bytes(payload))
    if not chunking:
        return s
    return "-".join([s[:8]] + [s[i : i + 7] for i in range(8, len(s), 7)])


def display(
    hri: str,
    payload: bytes,
    *,
    prefix: bool = True,
    chunking: bool = True,
    suffix: bool = True,
    embed_checksum: bool = False,
) -> str:
    """Render ``payload`` (``hri:body#mnemonic``, parts selected by the flags)."""
    payload = bytes(payload)
    ck = checksum(hri, payload)
    body = encode_body(payload + ck if embed_checksum else payload, chunking)
    text = f"{hri}:{body}" if prefix else body
    if suffix:
        text += "#" + mnemonic_encode(ck)
    return text


def _quote(text: str, limit: int = 120) -> str:
    """Quote user input for a one-line error message."""
    r = repr(text)
    if len(r) > limit:
        r = r[: limit - 4] + "...'"
    return r


def parse(hri: str, text: str, length: int = 32) -> bytes:
    """Parse a baid64 identifier under ``hri``; return the ``length``-byte payload."""
    if not isinstance(text, str):
        raise Baid64Error(f"identifier must be text, not {type(text).__name__}")
    orig = text
    s = text
    expected_ck: bytes | None = None
    if ":" in s:
        found, s = s.rsplit(":", 1)
        if found != hri:
            raise Baid64Error(f"invalid human-readable prefix in {_quote(orig)} ('{hri}' is expected)")
    if "#" in s:
        s, sfx = s.split("#", 1)
        try:
            mnemo = mnemonic_decode(sfx)
        except MnemonicError as exc:
            raise Baid64Error(f"invalid checksum mnemonic in {_quote(orig)}: {exc}") from None
        if len(mnemo) != 4:
            raise Baid64Error(f"invalid length of checksum mnemonic in {_quote(orig)}")
        expected_ck = mnemo
    s = s.replace("-", "")
    try:
        data = _b64decode(s)
    except Baid64Error as exc:
        raise Baid64Error(f"invalid identifier {_quote(orig)}: {exc}") from None
    if len(data) not in (length, length + 4):
        raise Baid64Error(f"invalid length of identifier {_quote(orig)}")
    payload = data[:length]
    if len(data) == length + 4:
        expected_ck = data[length:]
    actual = checksum(hri, payload)
    if expected_ck is not None and expected_ck != actual:
        raise Baid64Error(
            f"invalid checksum in {_quote(orig)}: expected {int.from_bytes(actual, 'little'):#x}"
            f" ({mnemonic_encode(actual)}), found {int.from_bytes(expected_ck, 'little'):#x}"
        )
    return payload
