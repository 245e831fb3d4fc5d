"""Pedersen commitments as RGB 0.11 computes them (secp256k1-zkp, via rgb-core).

rgb-core v0.11.0-beta.6 commits to a fungible amount with ``secp256k1_zkp``:

* the value generator of an asset is ``Generator::new_unblinded(tag)``, i.e. libsecp256k1-zkp's
  ``secp256k1_generator_generate``: ``H = SvdW(sha256("1st generation: " || tag)) +
  SvdW(sha256("2nd generation: " || tag))`` where SvdW is the Shallue-van de Woestijne map of
  Fouque-Tibouchi ("Indifferentiable Hashing to Barreto-Naehrig Curves", 2012) as that library
  instantiates it: ``c = sqrt(-3)`` (the root the library fixes), ``d = (c - 1) / 2``,
  candidates ``x1 = d - c t^2 / (1 + b + t^2)``, ``x2 = -(x1 + 1)``, ``x3 = 1 + (1 + b +
  t^2)^2 / (-3 t^2)``; the first whose ``x^3 + 7`` is a square wins, ``y`` is the library's
  square root ``(x^3 + 7)^((p+1)/4)``, negated when ``t`` is odd;
* ``commit(v, r) = r G + v H`` (``PedersenCommitment::new``), serialised in 33 bytes: the
  x coordinate (big-endian) after a tag byte ``0x08`` when ``y`` is a quadratic residue and
  ``0x09`` otherwise (``9 ^ is_quad(y)``); parsing takes the residue root and negates for 0x09;
* ``verify_commitments_sum_to_equal(a, b)`` (``secp256k1_pedersen_verify_tally``) holds when
  ``sum(a) - sum(b)`` is the point at infinity (empty sums are infinity).

The EC arithmetic is the project's own secp256k1 code (:mod:`aluvm.semantics.curves.secp256k1`,
gmpy2-backed Jacobian formulas); no well-kept Python library exposes secp256k1-zkp.  A host
that has the real library can pass its own ``commit`` callback to the RGB context instead.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Iterable, Optional

import gmpy2

from aluvm.errors import Panic
from aluvm.semantics.curves.secp256k1 import GX, GY, N, P, _INF, _jadd, _mul_affine, _to_affine

B = 7
#: sqrt(-3) mod p as libsecp256k1-zkp fixes it (the other root is p - C)
C = 0x0A2D2BA93507F1DF233770C2A797962CC61F6D15DA14ECD47D8D27AE1CD5F852
D = (C - 1) * pow(2, -1, P) % P

Affine = Optional[tuple[int, int]]   # None: the point at infinity


_SQRT_EXP = (P + 1) // 4


def _sqrt(a: int) -> Optional[int]:
    """The library's square root (a^((p+1)/4)), or None when ``a`` is not a square."""
    r = int(gmpy2.powmod(a, _SQRT_EXP, P))
    return r if r * r % P == a % P else None


def _is_square(a: int) -> bool:
    return gmpy2.legendre(a, P) >= 0


def svdw(t: int) -> tuple[int, int]:
    """libsecp256k1-zkp's ``shallue_van_de_woestijne`` map of a field element to the curve."""
    t2 = t * t % P
    wd = (1 + B + t2) % P
    x3d = (-3 * t2) % P
    j = wd * x3d % P
    jinv = int(gmpy2.powmod(j, P - 2, P))       # 0 when j = 0, as the library's fe_inv
    x1 = (D - C * t2 % P * x3d % P * jinv) % P
    x2 = (-(x1 + 1)) % P
    x3 = (1 + pow(wd, 3, P) * jinv) % P
    for x in (x1, x2):
        y = _sqrt(x * x * x + B)
        if y is not None:
            break
    else:
        x = x3
        y = _sqrt(x * x * x + B)
        assert y is not None   # one of the three is always on the curve
    if t & 1:
        y = (P - y) % P
    return x, y


def _add(a: Affine, b: Affine) -> Affine:
    ja = _INF if a is None else (a[0], a[1], 1)
    jb = _INF if b is None else (b[0], b[1], 1)
    res = _to_affine(_jadd(ja, jb))
    return None if res is None else (int(res[0]), int(res[1]))


def _mul(k: int, pt: Affine) -> Affine:
    k %= N
    if pt is None or k == 0:
        return None
    res = _to_affine(_mul_affine(k, *pt))
    return None if res is None else (int(res[0]), int(res[1]))


@lru_cache(maxsize=1024)
def generator(tag: bytes) -> tuple[int, int]:
    """``Generator::new_unblinded(tag)``: the asset's value generator H."""
    if len(tag) != 32:
        raise ValueError("an asset tag is 32 bytes")
    pts = []
    for prefix in (b"1st generation: ", b"2nd generation: "):
        t = int.from_bytes(hashlib.sha256(prefix + tag).digest(), "big") % P
        pts.append(svdw(t))
    h = _add(pts[0], pts[1])
    assert h is not None
    return h


def serialize(pt: tuple[int, int], base: int = 8) -> bytes:
    """33-byte serialisation: ``base ^ is_quad(y)`` then x (8 for commitments, 10 for
    generators)."""
    x, y = pt
    return bytes([base + (0 if _is_square(y) else 1)]) + x.to_bytes(32, "big")


@lru_cache(maxsize=4096)
def parse_commitment(data: bytes) -> tuple[int, int]:
    """``secp256k1_pedersen_commitment_parse``; ValueError on invalid data."""
    if len(data) != 33 or data[0] & 0xFE != 8:
        raise ValueError("a Pedersen commitment is 33 bytes starting with 0x08 or 0x09")
    x = int.from_bytes(data[1:], "big")
    if x >= P:
        raise ValueError("Pedersen commitment: x is not a field element")
    y2 = (x * x * x + B) % P
    y = _sqrt(y2)
    if y is None:
        raise ValueError("Pedersen commitment: x is not on the curve")
    if not _is_square(y):
        y = P - y
    if data[0] & 1:
        y = P - y
    return x, y


def commit(value: int, blinding: bytes, tag: bytes) -> bytes:
    """``PedersenCommitment::commit(RevealedValue{value, blinding, tag})``.

    Raises :class:`~aluvm.errors.Panic` where secp256k1-zkp refuses (a blinding factor not
    below the group order, or a commitment at infinity, e.g. value 0 with blinding 0): the
    Rust binding asserts there and rgb-core panics."""
    if not 0 <= value < 2**64:
        raise ValueError("an RGB fungible value is a u64")
    r = int.from_bytes(blinding, "big")
    if len(blinding) != 32:
        raise ValueError("a blinding factor is 32 bytes")
    if r >= N:
        raise Panic("Pedersen commitment: blinding factor overflows the group order")
    pt = _add(_mul(r, (GX, GY)), _mul(value, generator(tag)))
    if pt is None:
        raise Panic("Pedersen commitment at infinity (secp256k1-zkp refuses to create it)")
    return serialize(pt)


def sums_equal(positive: Iterable[bytes], negative: Iterable[bytes]) -> bool:
    """``verify_commitments_sum_to_equal``: sum(positive) == sum(negative)."""
    acc: Affine = None
    for c in negative:
        acc = _add(acc, parse_commitment(c))
    if acc is not None:
        acc = (acc[0], (P - acc[1]) % P)
    for c in positive:
        acc = _add(acc, parse_commitment(c))
    return acc is None
