"""secp256k1 point operations with the exact failure rules of the reference VM.

The reference (rust-aluvm v0.11.0-beta.6 with feature ``secp256k1``) runs its four curve
instructions through libsecp256k1.  This module offers the same four operations on plain values:

* :func:`gen` ``(k) -> k*G``
* :func:`mul` ``(scalar, P) -> scalar*P``
* :func:`add` ``(P, Q) -> P+Q``
* :func:`neg` ``(P) -> -P``

A point is 64 bytes ``X || Y``, each coordinate 32 bytes big-endian (an uncompressed SEC1 key
without its ``0x04`` prefix).  Scalars are Python ints.  Every function returns the resulting
64-byte point, or ``None`` where the reference leaves the destination register undefined:

* a scalar that is 0 or ``>= n`` (both for ``gen`` and ``mul``);
* a point with ``x >= p`` or ``y >= p``, or not on ``y^2 = x^3 + 7`` (this covers the all-zero
  register: there is no point at infinity in this encoding);
* a sum equal to the point at infinity (``P + (-P)``).  Doubling (``P + P``) works.

Two interchangeable backends compute these:

* ``"coincurve"``: libsecp256k1 through the ``coincurve`` package, i.e. the very library the
  reference uses.  Fastest; the default when importable.
* ``"gmpy2"``: pure Python on ``gmpy2`` integers in Jacobian
  coordinates, with a fixed-base comb table for ``gen`` and width-5 wNAF for ``mul``.

Both produce identical results (checked by ``tests/test_crypto.py``; measured speeds are in
``bench/bench_crypto.py``).  Each is a :class:`Backend` object in :data:`BACKENDS`; the module-level
functions are those of :data:`DEFAULT` (chosen once, at import) and are never rebound.  A caller
that wants the other one asks for it: ``BACKENDS["gmpy2"].mul(k, point)``.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional

from gmpy2 import invert as _invert, mpz as _mpz

P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
GX = 0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798
GY = 0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8

Point = bytes  # 64 bytes: X (32, big-endian) || Y (32, big-endian)

_Pm = _mpz(P)
_ONE = _mpz(1)


def _inv(a):
    """Inverse mod P of a non-zero element."""
    return _invert(a, _Pm)


# ---------------------------------------------------------------------------------------------
# Encoding and validation (shared by both backends)
# ---------------------------------------------------------------------------------------------

def decode(point: bytes) -> Optional[tuple[int, int]]:
    """``X || Y`` -> affine ``(x, y)`` if it is a valid curve point, else ``None``."""
    if len(point) != 64:
        return None
    x = int.from_bytes(point[:32], "big")
    y = int.from_bytes(point[32:], "big")
    if x >= P or y >= P:
        return None
    if (y * y - x * x * x - 7) % P:
        return None
    return x, y


def encode(x: int, y: int) -> bytes:
    return int(x).to_bytes(32, "big") + int(y).to_bytes(32, "big")


def is_valid(point: bytes) -> bool:
    return decode(point) is not None


def _neg_common(point: bytes) -> Optional[Point]:
    xy = decode(point)
    if xy is None:
        return None
    x, y = xy
    return encode(x, P - y)  # y != 0: the group has odd order, so no point has y = 0


# ---------------------------------------------------------------------------------------------
# Pure backend (gmpy2, Jacobian coordinates)
# ---------------------------------------------------------------------------------------------
# Jacobian point (X, Y, Z) stands for affine (X/Z^2, Y/Z^3); Z == 0 is infinity.

_INF = (_mpz(1), _mpz(1), _mpz(0))


def _jdouble(pt):
    X1, Y1, Z1 = pt
    if not Z1 or not Y1:
        return _INF
    p = _Pm
    YY = Y1 * Y1 % p
    S = 4 * X1 * YY % p
    M = 3 * X1 * X1 % p          # a = 0
    X3 = (M * M - 2 * S) % p
    Y3 = (M * (S - X3) - 8 * YY * YY) % p
    Z3 = 2 * Y1 * Z1 % p
    return (X3, Y3, Z3)


def _jadd_affine(pt, x2, y2):
    """Jacobian + affine (Z2 = 1)."""
    return _jadd(pt, (x2, y2, _ONE))


def _jadd(pt, qt):
    """Jacobian + Jacobian; a ``Z2`` of 1 (an affine point) skips its four products."""
    X1, Y1, Z1 = pt
    X2, Y2, Z2 = qt
    if not Z1:
        return qt
    if not Z2:
        return pt
    p = _Pm
    Z1Z1 = Z1 * Z1 % p
    if Z2 == 1:
        U1, S1 = X1, Y1
    else:
        Z2Z2 = Z2 * Z2 % p
        U1 = X1 * Z2Z2 % p
        S1 = Y1 * Z2 * Z2Z2 % p
    U2 = X2 * Z1Z1 % p
    S2 = Y2 * Z1 * Z1Z1 % p
    H = (U2 - U1) % p
    R = (S2 - S1) % p
    if not H:
        if not R:
            return _jdouble(pt)
        return _INF
    HH = H * H % p
    HHH = H * HH % p
    V = U1 * HH % p
    X3 = (R * R - HHH - 2 * V) % p
    Y3 = (R * (V - X3) - S1 * HHH) % p
    Z3 = Z1 * H % p if Z2 == 1 else Z1 * Z2 * H % p
    return (X3, Y3, Z3)


def _to_affine(pt) -> Optional[tuple[int, int]]:
    X, Y, Z = pt
    if not Z:
        return None
    zi = _inv(Z)
    zi2 = zi * zi % _Pm
    return X * zi2 % _Pm, Y * zi2 * zi % _Pm


def _batch_affine(points):
    """Convert non-infinite Jacobian points to affine with a single inversion."""
    p = _Pm
    acc = []
    run = _mpz(1)
    for (_, _, Z) in points:
        acc.append(run)
        run = run * Z % p
    inv = _inv(run)
    out = [None] * len(points)
    for i in range(len(points) - 1, -1, -1):
        X, Y, Z = points[i]
        zi = inv * acc[i] % p
        inv = inv * Z % p
        zi2 = zi * zi % p
        out[i] = (X * zi2 % p, Y * zi2 * zi % p)
    return out


_COMB_BITS = 6
_COMB: Optional[list] = None  # _COMB[i][j-1] = j * 2^(6 i) * G, affine


def _comb_table() -> list:
    global _COMB
    if _COMB is None:
        w = _COMB_BITS
        rows = (256 + w - 1) // w
        jac = []
        base = (_mpz(GX), _mpz(GY), _mpz(1))
        for _ in range(rows):
            row = [base]
            for _j in range(2, 1 << w):
                row.append(_jadd(row[-1], base))
            jac.append(row)
            base = _jadd(row[-1], base)  # 2^w * base
        flat = _batch_affine([pt for row in jac for pt in row])
        per = (1 << w) - 1
        _COMB = [flat[i * per:(i + 1) * per] for i in range(rows)]
    return _COMB


def _gen_gmpy2(k: int) -> Optional[Point]:
    if not 0 < k < N:
        return None
    table = _comb_table()
    w = _COMB_BITS
    mask = (1 << w) - 1
    acc = _INF
    i = 0
    while k:
        d = k & mask
        if d:
            x, y = table[i][d - 1]
            acc = _jadd_affine(acc, x, y)
        k >>= w
        i += 1
    xy = _to_affine(acc)
    return None if xy is None else encode(*xy)


def _wnaf(k: int, w: int) -> list[int]:
    digits = []
    half = 1 << (w - 1)
    full = 1 << w
    while k:
        if k & 1:
            d = k & (full - 1)
            if d >= half:
                d -= full
            k -= d
        else:
            d = 0
        digits.append(d)
        k >>= 1
    return digits


def _mul_affine(k: int, x: int, y: int):
    """k * (x, y) as a Jacobian point (k >= 1)."""
    w = 5
    base = (_mpz(x), _mpz(y), _mpz(1))
    twice = _jdouble(base)
    odd = [base]
    for _ in range((1 << (w - 2)) - 1):
        odd.append(_jadd(odd[-1], twice))
    # all odd multiples m*P with m < 2^(w-1) < n are finite
    table = _batch_affine(odd)
    acc = _INF
    for d in reversed(_wnaf(k, w)):
        acc = _jdouble(acc)
        if d > 0:
            tx, ty = table[d >> 1]
            acc = _jadd_affine(acc, tx, ty)
        elif d < 0:
            tx, ty = table[(-d) >> 1]
            acc = _jadd_affine(acc, tx, P - ty)
    return acc


def _mul_gmpy2(scalar: int, point: bytes) -> Optional[Point]:
    xy = decode(point)
    if xy is None or not 0 < scalar < N:
        return None
    res = _to_affine(_mul_affine(scalar, *xy))
    return None if res is None else encode(*res)


def _add_gmpy2(p1: bytes, p2: bytes) -> Optional[Point]:
    a = decode(p1)
    if a is None:
        return None
    b = decode(p2)
    if b is None:
        return None
    x1, y1 = a
    x2, y2 = b
    p = _Pm
    if x1 == x2:
        if y1 != y2:
            return None  # P + (-P) = infinity
        lam = 3 * _mpz(x1) * x1 * _inv(_mpz(2 * y1 % P)) % p
    else:
        lam = (_mpz(y2) - y1) * _inv(_mpz((x2 - x1) % P)) % p
    x3 = (lam * lam - x1 - x2) % p
    y3 = (lam * (x1 - x3) - y1) % p
    return encode(x3, y3)


# ---------------------------------------------------------------------------------------------
# coincurve backend (libsecp256k1)
# ---------------------------------------------------------------------------------------------

try:  # pragma: no cover - depends on the environment
    import coincurve as _cc
    try:
        from coincurve._libsecp256k1 import ffi as _ffi, lib as _lib
        from coincurve.context import GLOBAL_CONTEXT as _GCTX
        _CTX = _GCTX.ctx
    except Exception:  # private API moved: use only the public one
        _ffi = _lib = _CTX = None
except ImportError:  # pragma: no cover
    _cc = None  # type: ignore[assignment]  # optional dependency: None marks it absent
    _ffi = _lib = _CTX = None

HAVE_COINCURVE = _cc is not None


def _serialize(pk) -> Point:
    """secp256k1_pubkey* -> 64-byte X || Y."""
    out = _ffi.new("unsigned char[65]")
    outlen = _ffi.new("size_t *", 65)
    _lib.secp256k1_ec_pubkey_serialize(_CTX, out, outlen, pk, _lib.SECP256K1_EC_UNCOMPRESSED)
    return bytes(_ffi.buffer(out, 65))[1:]


def _parse(point: bytes):
    """64-byte X || Y -> secp256k1_pubkey* or None (libsecp256k1's own validity check)."""
    if len(point) != 64:
        return None
    pk = _ffi.new("secp256k1_pubkey *")
    if not _lib.secp256k1_ec_pubkey_parse(_CTX, pk, b"\x04" + point, 65):
        return None
    return pk


def _gen_cc(k: int) -> Optional[Point]:
    if not 0 < k < N:
        return None
    if _lib is None:
        return _cc.PublicKey.from_secret(k.to_bytes(32, "big")).format(compressed=False)[1:]
    pk = _ffi.new("secp256k1_pubkey *")
    if not _lib.secp256k1_ec_pubkey_create(_CTX, pk, k.to_bytes(32, "big")):
        return None  # pragma: no cover (k already range-checked)
    return _serialize(pk)


def _mul_cc(scalar: int, point: bytes) -> Optional[Point]:
    if _lib is None:
        try:
            pk = _cc.PublicKey(b"\x04" + point)
        except ValueError:
            return None
        if not 0 < scalar < N:
            return None
        return pk.multiply(scalar.to_bytes(32, "big")).format(compressed=False)[1:]
    pk = _parse(point)
    if pk is None or not 0 < scalar < N:
        return None
    if not _lib.secp256k1_ec_pubkey_tweak_mul(_CTX, pk, scalar.to_bytes(32, "big")):
        return None  # pragma: no cover
    return _serialize(pk)


def _add_cc(p1: bytes, p2: bytes) -> Optional[Point]:
    if _lib is None:
        try:
            a = _cc.PublicKey(b"\x04" + p1)
            b = _cc.PublicKey(b"\x04" + p2)
            return _cc.PublicKey.combine_keys([a, b]).format(compressed=False)[1:]
        except ValueError:
            return None
    a = _parse(p1)
    if a is None:
        return None
    b = _parse(p2)
    if b is None:
        return None
    out = _ffi.new("secp256k1_pubkey *")
    if not _lib.secp256k1_ec_pubkey_combine(_CTX, out, [a, b], 2):
        return None  # sum at infinity
    return _serialize(out)


# ---------------------------------------------------------------------------------------------
# Backend selection
# ---------------------------------------------------------------------------------------------

class Backend(NamedTuple):
    """One implementation of the four point operations."""

    name: str
    gen: Callable[[int], Optional[Point]]
    mul: Callable[[int, bytes], Optional[Point]]
    add: Callable[[bytes, bytes], Optional[Point]]
    neg: Callable[[bytes], Optional[Point]]


BACKENDS: dict[str, Backend] = {
    "gmpy2": Backend("gmpy2", _gen_gmpy2, _mul_gmpy2, _add_gmpy2, _neg_common),
}
if HAVE_COINCURVE:
    BACKENDS["coincurve"] = Backend("coincurve", _gen_cc, _mul_cc, _add_cc, _neg_common)

# Measured with bench/bench_crypto.py (ops/s, coincurve vs gmpy2): gen ~80k vs ~19k, mul ~47k vs
# ~3.4k, add ~290k vs ~240k.  Results are identical (tests/test_crypto.py and all 1500 secp
# vectors with either backend), so coincurve is the default whenever it is installed.
DEFAULT_BACKEND = "coincurve" if HAVE_COINCURVE else "gmpy2"
DEFAULT: Backend = BACKENDS[DEFAULT_BACKEND]

#: the default backend's operations
gen, mul, add, neg = DEFAULT.gen, DEFAULT.mul, DEFAULT.add, DEFAULT.neg

__all__ = ["P", "N", "GX", "GY", "gen", "mul", "add", "neg", "decode", "encode", "is_valid",
           "Backend", "BACKENDS", "DEFAULT", "DEFAULT_BACKEND", "HAVE_COINCURVE"]
