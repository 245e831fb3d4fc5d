"""Semantics of the instruction families on the numeric registers (A, F, R): put/clear, move,
compare, arithmetic, bitwise.

Each function is ``op(regs, *args)`` with ``args`` in the table's field order (see
:mod:`aluvm.isa`); it mutates the register file and returns ``None``.  Control flow lives in
:mod:`aluvm.machine.interp`, which owns the program counter.  Reference defects are reproduced on
purpose and cited by section of ``shared/spec/semantics.md``.
"""
from __future__ import annotations

import operator
from typing import Callable, Optional

from aluvm.semantics import floats
from aluvm.errors import Panic
from aluvm.semantics.differs import AT_PANICS, Differs, on
from aluvm.semantics.intmath import (add1024_sw, div_sw, mul1024_sw, reverse_bits, shr_signed,
                      signed_key, store_signed, sub1024_sw, sx, wrap_signed)
from aluvm.machine.registers import A_BITS, A_MASK, R_BITS, R_MASK, Registers

Op = Callable[..., None]
TWO1024 = 1 << 1024


def _ar(regs: Registers, code: int) -> tuple[list, int, bool]:
    """RegAR u4 -> (bank, width, is_r)."""
    if code < 8:
        return regs.a[code], A_BITS[code], False
    return regs.r[code - 8], R_BITS[code - 8], True


# ---- put / clear (§2, encoding §2.6) --------------------------------------------------------

def clr_a(regs: Registers, reg: int, idx: int) -> None:
    regs.a[reg][idx] = None


def clr_f(regs: Registers, reg: int, idx: int) -> None:
    regs.f[reg][idx] = None


def clr_r(regs: Registers, reg: int, idx: int) -> None:
    regs.r[reg][idx] = None


def _put(bank: list, idx: int, value: Optional[int], regs: Registers) -> None:
    bank[idx] = value
    if value is None:
        regs.st0 = False


def put_a(regs: Registers, reg: int, idx: int, value: Optional[int]) -> None:
    _put(regs.a[reg], idx, value, regs)


def put_f(regs: Registers, reg: int, idx: int, value: Optional[int]) -> None:
    _put(regs.f[reg], idx, None if value is None else floats.store(reg, value), regs)


def put_r(regs: Registers, reg: int, idx: int, value: Optional[int]) -> None:
    _put(regs.r[reg], idx, value, regs)


def _putif(bank: list, idx: int, value: Optional[int], regs: Registers) -> None:
    if bank[idx] is None:
        if value is None:
            regs.st0 = False
        else:
            bank[idx] = value
    elif value is not None:
        regs.st0 = False


def putif_a(regs: Registers, reg: int, idx: int, value: Optional[int]) -> None:
    _putif(regs.a[reg], idx, value, regs)


def putif_r(regs: Registers, reg: int, idx: int, value: Optional[int]) -> None:
    _putif(regs.r[reg], idx, value, regs)


# ---- move (§2, §2.1) ---------------------------------------------------------------------

def mov_a(regs: Registers, idx1: int, idx2: int, reg: int) -> None:
    bank = regs.a[reg]
    bank[idx2] = bank[idx1]
    bank[idx1] = None          # i == j clears the register (§2)


def dup_a(regs: Registers, idx1: int, idx2: int, reg: int) -> None:
    bank = regs.a[reg]
    bank[idx2] = bank[idx1]


def swp_a(regs: Registers, idx1: int, idx2: int, reg: int) -> None:
    bank = regs.a[reg]
    bank[idx1], bank[idx2] = bank[idx2], bank[idx1]


def _fread(regs: Registers, reg: int, idx: int) -> Optional[int]:
    v = regs.f[reg][idx]
    return None if v is None else floats.read(reg, v)


def mov_f(regs: Registers, idx1: int, idx2: int, reg: int) -> None:
    regs.f[reg][idx2] = _fread(regs, reg, idx1)
    regs.f[reg][idx1] = None


def dup_f(regs: Registers, idx1: int, idx2: int, reg: int) -> None:
    regs.f[reg][idx2] = _fread(regs, reg, idx1)


def swp_f(regs: Registers, idx1: int, idx2: int, reg: int) -> None:
    a, b = _fread(regs, reg, idx1), _fread(regs, reg, idx2)
    regs.f[reg][idx1] = b
    regs.f[reg][idx2] = a


def mov_r(regs: Registers, idx1: int, idx2: int, reg: int) -> None:
    bank = regs.r[reg]
    bank[idx2] = bank[idx1]
    bank[idx1] = None


def dup_r(regs: Registers, idx1: int, idx2: int, reg: int) -> None:
    bank = regs.r[reg]
    bank[idx2] = bank[idx1]


def _reshape(regs: Registers, x: Optional[int], dst: list, idx: int, mask: int,
             signed_w: int = 0) -> None:
    """The reference's reshape into a narrower/wider register (§2.1): an undefined source
    clears the destination with st0 <- true; otherwise ``x mod 2^W`` (relabelled signed and
    stored with :func:`store_signed` when ``signed_w``), st0 <- the value fitted."""
    if x is None:
        dst[idx] = None
        regs.st0 = True
        return
    v = x & mask
    dst[idx] = store_signed(sx(v, signed_w), signed_w) if signed_w else v
    regs.st0 = x <= mask


def cpy_a(regs: Registers, reg1: int, idx1: int, reg2: int, idx2: int) -> None:
    _reshape(regs, regs.a[reg1][idx1], regs.a[reg2], idx2, A_MASK[reg2])


def cnv_a(regs: Registers, reg1: int, idx1: int, reg2: int, idx2: int) -> None:
    """No sign extension: the source is read unsigned and relabelled signed (§2.1)."""
    _reshape(regs, regs.a[reg1][idx1], regs.a[reg2], idx2, A_MASK[reg2], A_BITS[reg2])


def cpy_r(regs: Registers, reg1: int, idx1: int, reg2: int, idx2: int) -> None:
    _reshape(regs, regs.r[reg1][idx1], regs.r[reg2], idx2, R_MASK[reg2])


def spy(regs: Registers, reg1: int, idx1: int, reg2: int, idx2: int) -> None:
    a, r = regs.a[reg1][idx1], regs.r[reg2][idx2]
    amask, rmask = A_MASK[reg1], R_MASK[reg2]
    regs.st0 = (a is None or a <= rmask) and (r is None or r <= amask)
    regs.r[reg2][idx2] = None if a is None else a & rmask
    regs.a[reg1][idx1] = None if r is None else r & amask


def _areg(regs: Registers, reg: int, idx: int) -> Optional[int]:
    return regs.a[reg][idx]


def _make_cnv(name: str, read: Callable[[Registers, int, int], Optional[int]], dst_bank: str,
              convert: Callable[[int, int, int], tuple]) -> Op:
    """``cnv`` from the register ``read`` gives into bank ``dst_bank``: an undefined source
    clears the destination with st0 true, else ``convert(reg1, value, reg2) -> (value, st0)``."""
    def op(regs: Registers, reg1: int, idx1: int, reg2: int, idx2: int) -> None:
        x = read(regs, reg1, idx1)
        bank = getattr(regs, dst_bank)[reg2]
        if x is None:
            bank[idx2] = None
            regs.st0 = True
            return
        bank[idx2], regs.st0 = convert(reg1, x, reg2)
    op.__name__ = op.__qualname__ = name
    return op


def make_cnv_f(conv: Callable) -> Op:
    """``cnv fN[i],fM[j]`` with the value conversion ``conv(src, dst, bits) -> (bits, st0)``."""
    return _make_cnv("cnv_f", _fread, "f", lambda r1, x, r2: conv(r1, r2, x))


def make_cnv_af(conv: Callable) -> Op:
    """``cnv aN[i],fM[j]`` with ``conv(src_bits, value, dst) -> (bits, st0)``."""
    return _make_cnv("cnv_af", _areg, "f", lambda r1, x, r2: conv(A_BITS[r1], x, r2))


def make_cnv_fa(conv: Callable) -> Op:
    """``cnv fN[i],aM[j]`` with ``conv(src, bits, dst_bits) -> (value, st0)``."""
    return _make_cnv("cnv_fa", _fread, "a", lambda r1, x, r2: conv(r1, x, A_BITS[r2]))


cnv_f = make_cnv_f(floats.cnv_ff)
cnv_af = make_cnv_af(floats.cnv_af)
cnv_fa = make_cnv_fa(floats.cnv_fa)


# ---- compare (§3) -------------------------------------------------------------------------

def _int_order(a: int, b: int, signed: int, w: int) -> int:
    if signed:
        ka, kb = signed_key(a, w), signed_key(b, w)
        return (ka > kb) - (ka < kb)
    return (a > b) - (a < b)


def gt_a(regs: Registers, flag: int, idx1: int, idx2: int, reg: int) -> None:
    a, b = regs.a[reg][idx1], regs.a[reg][idx2]
    regs.st0 = a is not None and b is not None and _int_order(a, b, flag, A_BITS[reg]) > 0


def lt_a(regs: Registers, flag: int, idx1: int, idx2: int, reg: int) -> None:
    a, b = regs.a[reg][idx1], regs.a[reg][idx2]
    regs.st0 = a is not None and b is not None and _int_order(a, b, flag, A_BITS[reg]) < 0


def _fpair(regs: Registers, reg: int, idx1: int, idx2: int) -> tuple[Optional[int], Optional[int]]:
    return _fread(regs, reg, idx1), _fread(regs, reg, idx2)


def make_cmp_f(order: Callable) -> Op:
    """``gt/lt fN`` with ``order(fc, flag, a, b) -> bool``; any undefined operand -> false."""
    def cmp_f(regs: Registers, flag: int, idx1: int, idx2: int, reg: int) -> None:
        a, b = _fpair(regs, reg, idx1, idx2)
        regs.st0 = a is not None and b is not None and order(reg, flag, a, b)
    return cmp_f


gt_f, lt_f = make_cmp_f(floats.gt), make_cmp_f(floats.lt)


def _wide_r_check(reg: int, a: int, b: int) -> None:
    if reg >= 5 and (a >= TWO1024 or b >= TWO1024):
        raise Panic("attempt to convert Number into type with lower bit dimension (wide R, P20/P21)")


def gt_r(regs: Registers, idx1: int, idx2: int, reg: int) -> None:
    a, b = regs.r[reg][idx1], regs.r[reg][idx2]
    if a is None or b is None:
        regs.st0 = False
        return
    _wide_r_check(reg, a, b)
    regs.st0 = a > b


def lt_r(regs: Registers, idx1: int, idx2: int, reg: int) -> None:
    a, b = regs.r[reg][idx1], regs.r[reg][idx2]
    if a is None or b is None:
        regs.st0 = False
        return
    _wide_r_check(reg, a, b)
    regs.st0 = a < b


def eq_a(regs: Registers, flag: int, idx1: int, idx2: int, reg: int) -> None:
    a, b = regs.a[reg][idx1], regs.a[reg][idx2]
    regs.st0 = a == b if a is not None and b is not None else flag == 1


def eq_f(regs: Registers, flag: int, idx1: int, idx2: int, reg: int) -> None:
    a, b = _fpair(regs, reg, idx1, idx2)
    regs.st0 = a is not None and b is not None and floats.eq(reg, flag, a, b)


def eq_r(regs: Registers, flag: int, idx1: int, idx2: int, reg: int) -> None:
    a, b = regs.r[reg][idx1], regs.r[reg][idx2]
    regs.st0 = a == b if a is not None and b is not None else flag == 1


def ifz_a(regs: Registers, reg: int, idx: int) -> None:
    regs.st0 = regs.a[reg][idx] == 0


def ifz_r(regs: Registers, reg: int, idx: int) -> None:
    regs.st0 = regs.r[reg][idx] == 0


def ifn_a(regs: Registers, reg: int, idx: int) -> None:
    regs.st0 = regs.a[reg][idx] is None


def ifn_r(regs: Registers, reg: int, idx: int) -> None:
    regs.st0 = regs.r[reg][idx] is None


def st(regs: Registers, flag: int, reg: int, idx: int) -> None:
    s = 1 if regs.st0 else 0
    bank = regs.a[reg]
    x = bank[idx]
    if x is None or flag == 0:
        bank[idx] = s
    elif flag == 1:
        if reg > 0:
            raise Panic("st.a: adding numbers with different layout (reference P2)")
        if x + s <= 0xFF:
            bank[idx] = x + s
    elif flag == 2:
        bank[idx] = x & s
    else:
        bank[idx] = x | s


def stinv(regs: Registers) -> None:
    regs.st0 = not regs.st0


# ---- integer arithmetic (§4) ---------------------------------------------------------------

def _arith_a(kind: str) -> Op:
    def op(regs: Registers, flags: int, src1: int, src2: int, reg: int) -> None:
        bank = regs.a[reg]
        a, b = bank[src1], bank[src2]
        r = None if a is None or b is None else _INT_OPS[kind](a, b, flags, reg)
        bank[src2] = r
        regs.st0 = r is not None
    op.__name__ = f"{kind}_a"
    op.__doc__ = f"``{kind}`` on A registers: ``src2 <- src1 {kind} src2``; st0 <- defined."
    return op


def _sw1024_store(r: Optional[int]) -> Optional[int]:
    return None if r is None else store_signed(sx(r, 1024), 1024)


def _add(a: int, b: int, flags: int, reg: int) -> Optional[int]:
    if flags:
        w = A_BITS[reg]
        if w == 1024:
            return _sw1024_store(add1024_sw(a, b))
        return store_signed(wrap_signed(a + b, w), w)
    r = a + b
    return r if r <= A_MASK[reg] else None


def _sub(a: int, b: int, flags: int, reg: int) -> Optional[int]:
    if flags:
        w = A_BITS[reg]
        if w == 1024:
            return _sw1024_store(sub1024_sw(a, b))
        return store_signed(wrap_signed(sx(a, w) - sx(b, w), w), w)
    return a - b if a >= b else None


def _mul(a: int, b: int, flags: int, reg: int) -> Optional[int]:
    if flags:
        w = A_BITS[reg]
        if w == 1024:
            return _sw1024_store(mul1024_sw(a, b))
        return store_signed(wrap_signed(sx(a, w) * sx(b, w), w), w)
    r = a * b
    return r if r <= A_MASK[reg] else None


def _div(a: int, b: int, flags: int, reg: int) -> Optional[int]:
    w = A_BITS[reg]
    if flags:
        return div_sw(a, b, w)
    if b == 0:
        return None
    return store_signed(sx(a // b, w), w)   # unsigned quotient relabelled signed (§4.2)


_INT_OPS = {"add": _add, "sub": _sub, "mul": _mul, "div": _div}
add_a, sub_a, mul_a, div_a = (_arith_a(k) for k in ("add", "sub", "mul", "div"))


def _bind_arith_a(kind: str) -> Callable[..., Optional[Callable[[Registers], None]]]:
    """Decode-time specialisation of ``add/sub/mul`` on a8..a512: one closure per instruction
    with the width, mask and flags bound, the same results as :func:`_arith_a` in one frame.

    ``sw``: the result is the wrapped W-bit pattern ``r``; when negative (top bit set) the
    signed store rule keeps the bytes of its minimal two's complement (``~v`` is ``r ^ mask``).
    ``uc``: defined iff the exact result is in ``0..mask``."""
    fn = {"add": operator.add, "sub": operator.sub, "mul": operator.mul}[kind]

    def bind(flags: int, src1: int, src2: int, reg: int) -> Optional[Callable[[Registers], None]]:
        w = A_BITS[reg]
        if w == 1024:
            return None                 # the bigint's own corner cases: the generic op
        mask, smax = A_MASK[reg], A_MASK[reg] >> 1     # smax: the largest non-negative value

        def arith_sw(regs: Registers) -> None:
            bank = regs.a[reg]
            a, b = bank[src1], bank[src2]
            if a is None or b is None:
                bank[src2] = None
                regs.st0 = False
                return
            r = fn(a, b) & mask
            if r > smax:
                r &= (1 << (((r ^ mask).bit_length() + 8) & ~7)) - 1
            bank[src2] = r
            regs.st0 = True

        def add_sw(regs: Registers) -> None:
            """``arith_sw`` with the addition inlined (the commonest loop instruction; a call
            of ``operator.add`` costs ~15 % of it)."""
            bank = regs.a[reg]
            a, b = bank[src1], bank[src2]
            if a is None or b is None:
                bank[src2] = None
                regs.st0 = False
                return
            r = (a + b) & mask
            if r > smax:
                r &= (1 << (((r ^ mask).bit_length() + 8) & ~7)) - 1
            bank[src2] = r
            regs.st0 = True

        def arith_uc(regs: Registers) -> None:
            bank = regs.a[reg]
            a, b = bank[src1], bank[src2]
            r = None if a is None or b is None else fn(a, b)
            if r is not None and not 0 <= r <= mask:
                r = None
            bank[src2] = r
            regs.st0 = r is not None
        if not flags:
            return arith_uc
        return add_sw if kind == "add" else arith_sw
    return bind


#: op -> ``bind(*decoded args) -> closure | None``: the interpreter's decode-time fast paths
#: (keyed by the op itself, so a profile that overrides an op never gets another's fast path)
SPECIALISED: dict[Op, Callable[..., Optional[Callable[[Registers], None]]]] = {
    add_a: _bind_arith_a("add"), sub_a: _bind_arith_a("sub"), mul_a: _bind_arith_a("mul"),
}


def make_arith_f(kind: str, arith: Callable = floats.arith) -> Op:
    """F-register ``kind`` with ``arith(kind, fc, rnd, a, b) -> bits | None``."""
    def op(regs: Registers, rnd: int, src1: int, src2: int, reg: int) -> None:
        a, b = _fread(regs, reg, src1), _fread(regs, reg, src2)
        r = None if a is None or b is None else arith(kind, reg, rnd, a, b)
        regs.f[reg][src2] = r
        regs.st0 = r is not None
    op.__name__ = f"{kind}_f"
    op.__doc__ = f"``{kind}`` on F registers with a rounding flag: ``src2 <- src1 {kind} src2``."
    return op


add_f, sub_f, mul_f, div_f = (make_arith_f(k) for k in ("add", "sub", "mul", "div"))


def stp(regs: Registers, reg: int, idx: int, step: int) -> None:
    """Reference (release build): panics on a defined register (P1)."""
    if regs.a[reg][idx] is None:
        regs.st0 = False
        return
    raise Panic("stp: adding numbers with different layout (reference P1)")


def stp_spec(regs: Registers, reg: int, idx: int, step: int) -> None:
    """Spec profile: ``x ± |step|`` unsigned checked, as the reference's debug build intends."""
    bank = regs.a[reg]
    x = bank[idx]
    r = None if x is None else x + step
    if r is not None and not 0 <= r <= A_MASK[reg]:
        r = None
    bank[idx] = r
    if r is None:
        regs.st0 = False


def neg(regs: Registers, reg: int, idx: int) -> None:
    if reg < 8:
        regs.a[reg][idx] = None            # neg on A always fails (§4.5)
        regs.st0 = False
        return
    fc = reg - 8
    x = _fread(regs, fc, idx)
    r = None if x is None else floats.neg(fc, x)
    regs.f[fc][idx] = r
    regs.st0 = r is not None


def abs_(regs: Registers, reg: int, idx: int) -> None:
    if reg < 8:
        regs.st0 = regs.a[reg][idx] is not None
        return
    fc = reg - 8
    x = _fread(regs, fc, idx)
    r = None if x is None else floats.abs_(fc, x)
    regs.f[fc][idx] = r
    regs.st0 = r is not None


def rem(regs: Registers, reg1: int, idx1: int, reg2: int, idx2: int) -> None:
    a, b = regs.a[reg1][idx1], regs.a[reg2][idx2]
    if a is None or b is None or b == 0:
        regs.a[reg2][idx2] = None
        regs.st0 = False
        return
    if reg1 >= 5:
        raise Panic("rem: not yet implemented for wide integers (reference P4)")
    if reg2 >= 5:
        raise Panic("rem: index out of bounds converting the divisor to i128 (reference P5)")
    x, y = sx(a, A_BITS[reg1]), sx(b, A_BITS[reg2])
    if x == -(1 << 127) and y == -1:
        raise Panic("rem: attempt to calculate the remainder with overflow (reference P6)")
    r = abs(x) % abs(y)
    if x < 0:
        r = -r
    regs.a[reg2][idx2] = store_signed(r, A_BITS[reg2])
    regs.st0 = True


# ---- bitwise (§6) -------------------------------------------------------------------------

def _logic(kind: str) -> Op:
    fn = {"and": int.__and__, "or": int.__or__, "xor": int.__xor__}[kind]

    def op(regs: Registers, reg: int, src1: int, src2: int, dst: int) -> None:
        bank, _, is_r = _ar(regs, reg)
        a, b = bank[src1], bank[src2]
        if a is None or b is None:
            bank[dst] = None
            return
        if is_r:
            _wide_r_check(reg - 8, a, b)
        bank[dst] = fn(a, b)
    op.__name__ = kind
    return op


and_, or_, xor_ = _logic("and"), _logic("or"), _logic("xor")


def not_(regs: Registers, reg: int, idx: int) -> None:
    bank, w, _ = _ar(regs, reg)
    x = bank[idx]
    if x is not None:
        bank[idx] = x ^ ((1 << w) - 1)


def _shift_amount(regs: Registers, a2: int, shift: int) -> Optional[int]:
    return regs.a[a2][shift]


def _msb_or_panic(regs: Registers, reg: int, x: Optional[int], w: int) -> bool:
    if x is None:
        if reg > 0:
            raise Panic("index out of bounds reading the top byte of an undefined wide A register (P3)")
        return False
    return bool(x >> (w - 1))


def shl(regs: Registers, a2: int, shift: int, reg: int, idx: int) -> None:
    bank, w, is_r = _ar(regs, reg)
    s: Optional[int]  # annotation only (no runtime cost)
    x = bank[idx]
    if is_r:
        s = _shift_amount(regs, a2, shift) or 0
        if x is not None:
            bank[idx] = (x << s) & ((1 << w) - 1) if s < w else 0
            regs.st0 = bool(x >> (w - 1))
        return
    regs.st0 = _msb_or_panic(regs, reg, x, w)
    s = _shift_amount(regs, a2, shift)
    bank[idx] = None if x is None or s is None else ((x << s) & A_MASK[reg] if s < w else 0)


def shr_a(regs: Registers, a2: int, shift: int, sign: int, reg: int, idx: int) -> None:
    bank, w = regs.a[reg], A_BITS[reg]
    x, s = bank[idx], _shift_amount(regs, a2, shift)
    if x is None or s is None:
        bank[idx] = None
        return
    regs.st0 = bool(x & 1)
    bank[idx] = shr_signed(x, s, w) if sign else x >> s


def shr_r(regs: Registers, a2: int, shift: int, reg: int, idx: int) -> None:
    bank = regs.r[reg]
    x = bank[idx]
    if x is None:
        return
    s = _shift_amount(regs, a2, shift) or 0
    bank[idx] = x >> s
    regs.st0 = bool(x & 1)


def _rot(x: int, s: int, w: int, left: bool) -> int:
    s %= w
    if not left:
        s = (w - s) % w
    return ((x << s) | (x >> (w - s))) & ((1 << w) - 1) if s else x


def scl(regs: Registers, a2: int, shift: int, reg: int, idx: int) -> None:
    bank, w, is_r = _ar(regs, reg)
    s: Optional[int]  # annotation only (no runtime cost)
    x = bank[idx]
    if is_r:
        s = _shift_amount(regs, a2, shift) or 0
        if x is not None:
            bank[idx] = _rot(x, s, w, True)
            regs.st0 = bool(x >> (w - 1))
        return
    regs.st0 = _msb_or_panic(regs, reg, x, w)
    s = _shift_amount(regs, a2, shift)
    bank[idx] = None if x is None or s is None else _rot(x, s, w, True)


def scr(regs: Registers, a2: int, shift: int, reg: int, idx: int) -> None:
    bank, w, is_r = _ar(regs, reg)
    s: Optional[int]  # annotation only (no runtime cost)
    x = bank[idx]
    if is_r:
        s = _shift_amount(regs, a2, shift) or 0
        if x is not None:
            bank[idx] = _rot(x, s, w, False)
            regs.st0 = bool(x & 1)
        return
    regs.st0 = x is not None and bool(x & 1)
    s = _shift_amount(regs, a2, shift)
    bank[idx] = None if x is None or s is None else _rot(x, s, w, False)


def rev_a(regs: Registers, reg: int, idx: int) -> None:
    x = regs.a[reg][idx]
    if x is not None:
        regs.a[reg][idx] = reverse_bits(x, A_BITS[reg])


def rev_r(regs: Registers, reg: int, idx: int) -> None:
    x = regs.r[reg][idx]
    if x is not None:
        regs.r[reg][idx] = reverse_bits(x, R_BITS[reg])


def nop(regs: Registers) -> None:
    """The ``spec`` profile's ``nop`` advances and does nothing (S2 fixed); the reference's
    ``nop`` is a control instruction that never advances (see the interpreter)."""


OPS: dict[str, Op] = {
    "clr_a": clr_a, "clr_f": clr_f, "clr_r": clr_r,
    "put_a": put_a, "put_f": put_f, "put_r": put_r, "putif_a": putif_a, "putif_r": putif_r,
    "mov_a": mov_a, "dup_a": dup_a, "swp_a": swp_a, "mov_f": mov_f, "dup_f": dup_f,
    "swp_f": swp_f, "mov_r": mov_r, "dup_r": dup_r,
    "cpy_a": cpy_a, "cnv_a": cnv_a, "cnv_f": cnv_f, "cpy_r": cpy_r, "spy": spy,
    "cnv_af": cnv_af, "cnv_fa": cnv_fa,
    "gt_a": gt_a, "lt_a": lt_a, "gt_f": gt_f, "lt_f": lt_f, "gt_r": gt_r, "lt_r": lt_r,
    "eq_a": eq_a, "eq_f": eq_f, "eq_r": eq_r, "ifz_a": ifz_a, "ifz_r": ifz_r,
    "ifn_a": ifn_a, "ifn_r": ifn_r, "st": st, "stinv": stinv,
    "add_a": add_a, "sub_a": sub_a, "mul_a": mul_a, "div_a": div_a,
    "add_f": add_f, "sub_f": sub_f, "mul_f": mul_f, "div_f": div_f,
    "stp": stp, "neg": neg, "abs": abs_, "rem": rem,
    "and": and_, "or": or_, "xor": xor_, "not": not_, "shl": shl, "shr_a": shr_a,
    "shr_r": shr_r, "scl": scl, "scr": scr, "rev_a": rev_a, "rev_r": rev_r,
    "nop_spec": nop,
}

# ---- spec profile: the reference's panics replaced by their documented behaviour ----------

def st_spec(regs: Registers, flag: int, reg: int, idx: int) -> None:
    """``st.a`` on any width: ``x + st0`` unsigned checked, keeping x on overflow (P2 fixed)."""
    bank = regs.a[reg]
    x = bank[idx]
    if x is not None and flag == 1:
        if x + (1 if regs.st0 else 0) <= A_MASK[reg]:
            bank[idx] = x + (1 if regs.st0 else 0)
        return
    st(regs, flag, reg, idx)


def rem_spec(regs: Registers, reg1: int, idx1: int, reg2: int, idx2: int) -> None:
    """``rem`` across any widths (P4-P6 fixed): the reference's sign-extending remainder."""
    a, b = regs.a[reg1][idx1], regs.a[reg2][idx2]
    if a is None or b is None or b == 0:
        regs.a[reg2][idx2] = None
        regs.st0 = False
        return
    x, y = sx(a, A_BITS[reg1]), sx(b, A_BITS[reg2])
    r = abs(x) % abs(y)
    regs.a[reg2][idx2] = store_signed(-r if x < 0 else r, A_BITS[reg2])
    regs.st0 = True


def _div_spec(a: int, b: int, flags: int, reg: int) -> Optional[int]:
    if not flags:
        return _div(a, b, flags, reg)
    w = A_BITS[reg]
    x, y = sx(a, w), sx(b, w)
    if y == 0:
        return None
    q = (x - x % abs(y)) // y          # Euclidean, no P18/P19 panic
    if not -(1 << (w - 1)) <= q < (1 << (w - 1)):
        return None
    return store_signed(q, w)


def div_a_spec(regs: Registers, flags: int, src1: int, src2: int, reg: int) -> None:
    bank = regs.a[reg]
    a, b = bank[src1], bank[src2]
    r = None if a is None or b is None else _div_spec(a, b, flags, reg)
    bank[src2] = r
    regs.st0 = r is not None


def _logic_spec(kind: str) -> Op:
    fn = {"and": int.__and__, "or": int.__or__, "xor": int.__xor__}[kind]

    def op(regs: Registers, reg: int, src1: int, src2: int, dst: int) -> None:
        bank = _ar(regs, reg)[0]
        a, b = bank[src1], bank[src2]
        bank[dst] = None if a is None or b is None else fn(a, b)
    op.__name__ = f"{kind}_spec"
    op.__doc__ = f"``{kind}`` on every width, r2048..r8192 included (P20 fixed)."
    return op


def gt_r_spec(regs: Registers, idx1: int, idx2: int, reg: int) -> None:
    a, b = regs.r[reg][idx1], regs.r[reg][idx2]
    regs.st0 = a is not None and b is not None and a > b


def lt_r_spec(regs: Registers, idx1: int, idx2: int, reg: int) -> None:
    a, b = regs.r[reg][idx1], regs.r[reg][idx2]
    regs.st0 = a is not None and b is not None and a < b


def _undefined_wide_safe(fn: Op) -> Op:
    """shl/scl with an undefined wide A value: st0 <- false instead of panicking (P3 fixed)."""
    def op(regs: Registers, a2: int, shift: int, reg: int, idx: int) -> None:
        if reg < 8 and regs.a[reg][idx] is None:
            regs.st0 = False
            return
        fn(regs, a2, shift, reg, idx)
    op.__name__ = f"{fn.__name__}_spec"
    return op


SPEC_OVERRIDES: dict[str, Op] = {
    "stp": stp_spec, "st": st_spec, "rem": rem_spec, "div_a": div_a_spec,
    "and": _logic_spec("and"), "or": _logic_spec("or"), "xor": _logic_spec("xor"),
    "gt_r": gt_r_spec, "lt_r": lt_r_spec,
    "shl": _undefined_wide_safe(shl), "scl": _undefined_wide_safe(scl),
}

_R_CODES = range(8, 16)           # RegAR codes of the R registers
#: where each override differs from the reference (see :mod:`aluvm.semantics.differs`)
SPEC_DIFFERS: dict[str, tuple[Differs, ...]] = {
    "stp": AT_PANICS,                                   # a defined register (P1)
    "st": AT_PANICS,                                    # st.add into a16..a1024 (P2)
    "rem": AT_PANICS,                                   # P4-P6
    # div.sw: the reference's panics (P18/P19); a1024 with MIN also without a panic
    "div_a": (on(flags={1, 2, 3}, reg={7}), on(True, flags={1, 2, 3})),
    "and": (on(True, reg=_R_CODES),), "or": (on(True, reg=_R_CODES),),   # r2048+ (P20)
    "xor": (on(True, reg=_R_CODES),),
    "gt_r": AT_PANICS, "lt_r": AT_PANICS,                 # r2048+ over 2^1024 (P20/P21)
    "shl": AT_PANICS, "scl": AT_PANICS,                 # an undefined a16..a1024 (P3)
}
