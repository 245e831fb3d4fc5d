"""Hash functions used by the digest instructions (0x80-0x82, and BLAKE3 in the ``spec`` profile).

Each function takes ``bytes`` and returns the standard digest bytes, in the standard order.  The
register byte orders the reference applies (RIPEMD-160 reversed, the others as is) belong to
:mod:`aluvm.semantics.crypto`, not here.

RIPEMD-160 is taken from :mod:`hashlib` when the linked OpenSSL provides it (OpenSSL 3 moved it
to the "legacy" provider, which many builds do not load); otherwise a pure-Python implementation
of the algorithm (Dobbertin, Bosselaers, Preneel, 1996) is used.  Both are checked against the
official test vectors in ``tests/test_crypto.py``.
"""
from __future__ import annotations

import hashlib
import struct

__all__ = ["ripemd160", "ripemd160_pure", "sha256", "sha512", "blake3", "RIPEMD160_NATIVE"]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sha512(data: bytes) -> bytes:
    return hashlib.sha512(data).digest()


_blake3_impl = None


def blake3(data: bytes) -> bytes:
    """BLAKE3 with the default 32-byte output (``blake3`` PyPI package)."""
    global _blake3_impl
    if _blake3_impl is None:
        from blake3 import blake3 as impl  # declared dependency; imported on first use
        _blake3_impl = impl
    return _blake3_impl(data).digest()


# ---------------------------------------------------------------------------------------------
# RIPEMD-160, pure Python
# ---------------------------------------------------------------------------------------------

# Message-word selection for the left (_RL) and right (_RR) lines, 5 rounds of 16 steps.
_RL = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    7, 4, 13, 1, 10, 6, 15, 3, 12, 0, 9, 5, 2, 14, 11, 8,
    3, 10, 14, 4, 9, 15, 8, 1, 2, 7, 0, 6, 13, 11, 5, 12,
    1, 9, 11, 10, 0, 8, 12, 4, 13, 3, 7, 15, 14, 5, 6, 2,
    4, 0, 5, 9, 7, 12, 2, 10, 14, 1, 3, 8, 11, 6, 15, 13,
)
_RR = (
    5, 14, 7, 0, 9, 2, 11, 4, 13, 6, 15, 8, 1, 10, 3, 12,
    6, 11, 3, 7, 0, 13, 5, 10, 14, 15, 8, 12, 4, 9, 1, 2,
    15, 5, 1, 3, 7, 14, 6, 9, 11, 8, 12, 2, 10, 0, 4, 13,
    8, 6, 4, 1, 3, 11, 15, 0, 5, 12, 2, 13, 9, 7, 10, 14,
    12, 15, 10, 4, 1, 5, 8, 7, 6, 2, 13, 14, 0, 3, 9, 11,
)
# Rotation amounts.
_SL = (
    11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8,
    7, 6, 8, 13, 11, 9, 7, 15, 7, 12, 15, 9, 11, 7, 13, 12,
    11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5,
    11, 12, 14, 15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12,
    9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11, 8, 5, 6,
)
_SR = (
    8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6,
    9, 13, 15, 7, 12, 8, 9, 11, 7, 7, 12, 7, 6, 15, 13, 11,
    9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5,
    15, 5, 8, 11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8,
    8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15, 13, 11, 11,
)
_KL = (0x00000000, 0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xA953FD4E)
_KR = (0x50A28BE6, 0x5C4DD124, 0x6D703EF3, 0x7A6D76E9, 0x00000000)
_M32 = 0xFFFFFFFF
_H0 = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0)


def _f(rnd: int, x: int, y: int, z: int) -> int:
    if rnd == 0:
        return x ^ y ^ z
    if rnd == 1:
        return (x & y) | (~x & z)
    if rnd == 2:
        return (x | (~y & _M32)) ^ z
    if rnd == 3:
        return (x & z) | (y & ~z)
    return x ^ (y | (~z & _M32))


def _rol(v: int, n: int) -> int:
    return ((v << n) | (v >> (32 - n))) & _M32


def _compress(h: list[int], block: bytes) -> None:
    X = struct.unpack("<16I", block)
    al, bl, cl, dl, el = h
    ar, br, cr, dr, er = h
    for j in range(80):
        rnd = j >> 4
        t = _rol((al + _f(rnd, bl, cl, dl) + X[_RL[j]] + _KL[rnd]) & _M32, _SL[j]) + el
        al, el, dl, cl, bl = el, dl, _rol(cl, 10), bl, t & _M32
        t = _rol((ar + _f(4 - rnd, br, cr, dr) + X[_RR[j]] + _KR[rnd]) & _M32, _SR[j]) + er
        ar, er, dr, cr, br = er, dr, _rol(cr, 10), br, t & _M32
    t = (h[1] + cl + dr) & _M32
    h[1] = (h[2] + dl + er) & _M32
    h[2] = (h[3] + el + ar) & _M32
    h[3] = (h[4] + al + br) & _M32
    h[4] = (h[0] + bl + cr) & _M32
    h[0] = t


def ripemd160_pure(data: bytes) -> bytes:
    """RIPEMD-160 in pure Python (used when hashlib lacks it)."""
    data = bytes(data)
    h = list(_H0)
    bitlen = (8 * len(data)) & 0xFFFFFFFFFFFFFFFF
    padded = data + b"\x80" + b"\x00" * ((55 - len(data)) % 64) + struct.pack("<Q", bitlen)
    for off in range(0, len(padded), 64):
        _compress(h, padded[off:off + 64])
    return struct.pack("<5I", *h)


def _ripemd160_hashlib(data: bytes) -> bytes:
    return hashlib.new("ripemd160", data).digest()


def _native_available() -> bool:
    try:
        return _ripemd160_hashlib(b"") == bytes.fromhex("9c1185a5c5e9fc54612808977ee8f548b2258d31")
    except (ValueError, TypeError):
        return False


RIPEMD160_NATIVE = _native_available()
ripemd160 = _ripemd160_hashlib if RIPEMD160_NATIVE else ripemd160_pure
