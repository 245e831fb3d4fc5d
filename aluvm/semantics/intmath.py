"""Integer helpers reproducing the reference's `Number` behaviour (semantics.md §1.2, §4).

Registers hold unsigned W-bit patterns.  The reference writes a *signed-layout* negative result
with only the bytes of its minimal two's-complement form (the upper bytes become 0x00); every
instruction that produces a signed result goes through :func:`store_signed`.
"""
from __future__ import annotations

from aluvm.errors import Panic

MIN1024 = 1 << 1023
M1024 = (1 << 1024) - 1


def sx(x: int, w: int) -> int:
    """Sign-extend a W-bit pattern."""
    return x - (1 << w) if x >> (w - 1) else x


def wrap_signed(v: int, w: int) -> int:
    """Reduce v into the W-bit two's-complement range."""
    v &= (1 << w) - 1
    return v - (1 << w) if v >> (w - 1) else v


def store_signed(v: int, w: int) -> int:
    """Bits the reference stores for a signed-layout value ``v`` (already in W-bit range)."""
    if v >= 0:
        return v
    nb = ((~v).bit_length() + 8) // 8      # ceil((bit_length(~v) + 1) / 8)
    return v & ((1 << (8 * nb)) - 1)


def signed_key(x: int, w: int) -> tuple[int, int]:
    """Sort key of the reference's defective signed comparison (§3.1)."""
    if 0 < x < (1 << (w - 1)):
        return (1, x)
    return (0, store_signed(sx(x, w), w))


# ---- a1024 signed corner cases (§4.1.1) ---------------------------------------------------

def add1024_sw(a: int, b: int) -> int | None:
    r = (a + b) & M1024
    if a != MIN1024 and b != MIN1024 and (a >> 1023) == (b >> 1023) and (r >> 1023) != (a >> 1023):
        return None
    return r


def sub1024_sw(a: int, b: int) -> int | None:
    return add1024_sw(a, (-b) & M1024)


def mul1024_sw(a: int, b: int) -> int | None:
    """Booth multiplication as the reference's bigint does it (wrong when ``a`` is MIN)."""
    hi, lo, prev = 0, b, 0
    sub = (-a) & M1024 if a != MIN1024 else MIN1024
    for _ in range(1024):
        t = lo & 1
        if t == 0 and prev == 1:
            hi = (hi + a) & M1024
        elif t == 1 and prev == 0:
            hi = (hi + sub) & M1024
        prev = t
        lo = (lo >> 1) | ((hi & 1) << 1023)
        hi = (hi >> 1) | (hi & MIN1024)
    if lo >> 1023:
        if hi != M1024:
            return None
    elif hi != 0:
        return None
    return lo


def div_sw(a: int, b: int, w: int) -> int | None:
    """``div.sw`` (Euclidean), including the reference's panic (P18) and a1024 quirks."""
    if w == 1024 and (a == MIN1024 or b == MIN1024):
        return _div1024_min(a, b)
    x, y = sx(a, w), sx(b, w)
    if y == 0:
        return None
    if x == 0:
        return 0
    if (x < 0) != (y < 0) and abs(x).bit_length() < abs(y).bit_length():
        raise Panic("div.sw: index out of bounds in bigint long division (reference P18)")
    q = (x - x % abs(y)) // y
    if not -(1 << (w - 1)) <= q < (1 << (w - 1)):
        return None
    return store_signed(q, w)


def _div1024_min(a: int, b: int) -> int | None:
    """a1024 ``div.sw`` with MIN = 2^1023 involved: the bigint's own long division (§4.2)."""
    if b == 0:
        return None
    if a == 0:
        return 0
    if a == MIN1024 and b == M1024:  # MIN / -1 overflows: checked before dividing
        return None
    return _bigint_div_euclid(a, b)


def _bits_required(v: int) -> int:
    """The bigint's significant-bit count of a magnitude.  The only magnitude with bit 1023 set
    is |MIN| = MIN itself, which it counts as 1023 bits: this reproduces the observed
    ``(MIN+1) / MIN = 1``, ``MAX / MIN = 0`` and ``-1 / MIN`` panicking."""
    return min((v & M1024).bit_length(), 1023)


def _lt_signed(a: int, b: int) -> bool:
    return sx(a, 1024) < sx(b, 1024)


def _shr_bigint(v: int, s: int) -> int:
    """The signed bigint's `>>`: logical shift, then bit 1023 re-set if it was negative."""
    neg = v >> 1023
    r = (v & M1024) >> s
    return r | MIN1024 if neg else r


def _bigint_div_euclid(a: int, b: int) -> int | None:
    """Port of the i1024 restoring long division as semantics.md §4.2 describes it."""
    neg_a, neg_b = a >> 1023, b >> 1023
    ma = (-a) & M1024 if neg_a else a
    mb = (-b) & M1024 if neg_b else b
    if neg_a == neg_b and _lt_signed(ma, mb):
        q, r = 0, a
    else:
        shift = _bits_required(ma) - _bits_required(mb)
        if shift < 0:
            raise Panic("div.sw a1024: index out of bounds in bigint long division")
        div = (mb << shift) & M1024
        q, rem = 0, ma
        while True:
            if not _lt_signed(rem, div):
                rem = (rem - div) & M1024
                q |= 1 << shift
            if shift == 0:
                break
            shift -= 1
            div = _shr_bigint(div, 1)
        if neg_a != neg_b:
            if q == MIN1024:
                raise Panic("div.sw a1024: attempt to negate the minimum value")
            q = (-q) & M1024
        r = rem
        if neg_a:
            if r == MIN1024:
                raise Panic("div.sw a1024: attempt to negate the minimum value")
            r = (-r) & M1024
    if r >> 1023:
        q = (q - 1) & M1024 if not neg_b else (q + 1) & M1024
    return store_signed(sx(q, 1024), 1024)


def shr_signed(x: int, s: int, w: int) -> int:
    """``shr.s`` through the reference's 1024-bit signed shift (§6)."""
    neg = x >> (w - 1)
    big = x | (((1 << 1024) - 1) ^ ((1 << w) - 1)) if neg else x
    if s >= 1024:
        res = 0
    else:
        y = big >> s
        if neg:
            y |= MIN1024
        res = y & ((1 << w) - 1)
    return store_signed(sx(res, w), w)


def reverse_bits(x: int, w: int) -> int:
    return int(format(x, f"0{w}b")[::-1], 2)
