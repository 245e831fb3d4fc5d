"""Byte-string instructions (opcodes 0x30-0x3F) on the sixteen ``s16`` registers.

Two op tables are exported:

* :data:`REFERENCE_OPS` reproduces rust-aluvm v0.11.0-beta.6 byte for byte, defects included
  (``shared/spec/semantics.md`` §7, panics P12-P16 of §10.1, defects 13-15 of §10.2).
* :data:`SPEC_OVERRIDES` replaces only the entries where the reference panics.  The replacement
  implements what the reference's own documentation says the instruction does; everywhere the
  reference does *not* panic the ``spec`` profile behaves exactly like ``reference``.

Every function is ``op(regs, *fields)`` with the fields in bytecode decode order (encoding.md
§2.4).  u8 S-register fields arrive already reduced mod 16 (S14).  Results written into A
registers are unsigned, so they are stored as plain ints (semantics §1.2 makes no difference
here); R registers hold the little-endian integer of their bytes.

Where the reference panics, :class:`~aluvm.errors.Panic` is raised *at the same point*: every
register write the reference performs before the panic is performed here too (only ``fill``,
P13, writes anything before panicking).
"""
from __future__ import annotations

from typing import Callable, Optional

from aluvm.errors import Panic
from aluvm.semantics.differs import AT_PANICS, Differs
from aluvm.machine.registers import A_BITS, R_BITS, S_MAX, Registers

Op = Callable[..., None]

A16 = 1             # family code of a16


def _ar(regs: Registers, code: int) -> tuple[list, int]:
    """A ``RegAR`` u4 field -> (register bank, width in bytes).  0..7 A, 8..15 R."""
    if code < 8:
        return regs.a[code], A_BITS[code] // 8
    return regs.r[code - 8], R_BITS[code - 8] // 8


# ---- put / mov / swp ------------------------------------------------------------------------

def put_s(regs: Registers, s: int, value: bytes, incomplete: bool) -> None:
    """``put s16[s],bytes``: store; st0 <- false only when the data was incomplete (§2.6)."""
    regs.s[s] = bytes(value)
    if incomplete:
        regs.st0 = False


def mov_s(regs: Registers, src: int, dst: int) -> None:
    """``mov``: read src, clear src, *then* write dst, so ``mov s,s`` keeps the value (§10.2-13)."""
    val = regs.s[src]
    regs.s[src] = None
    regs.s[dst] = val


def swp_s(regs: Registers, a: int, b: int) -> None:
    regs.s[a], regs.s[b] = regs.s[b], regs.s[a]


# ---- fill (§7.1) -------------------------------------------------------------------------------

def _fill(regs: Registers, s: int, o1: int, o2: int, v: int, flag: int, *, ordered: bool) -> None:
    a16, a8 = regs.a[A16], regs.a[0]
    start, end, val = a16[o1], a16[o2], a8[v]
    if start is None or end is None or val is None:
        regs.st0 = False
        return
    if ordered and start > end:
        start, end = end, start
    cur = regs.s[s]
    if cur is None:
        cur = b""
        regs.s[s] = cur          # the empty string sticks even if the fill then fails
    if flag == 1 and len(cur) <= end:   # `f`: off by one, a fill ending at len fails too
        regs.st0 = False
        return
    if end > len(cur):
        cur = cur + bytes(end - len(cur))
        regs.s[s] = cur          # visible even when the range then panics (P13)
    if start > end:
        raise Panic(f"fill: slice index starts at {start} but ends at {end} (reference P13)")
    regs.s[s] = cur[:start] + bytes((val,)) * (end - start) + cur[end:]


def fill(regs: Registers, s: int, o1: int, o2: int, v: int, flag: int) -> None:
    """``fill.{e,f} s, a16[o1], a16[o2], a8[v]``, semantics §7.1; o1 > o2 panics (P13) after
    the string has been created/extended to ``max(len, o2)``."""
    _fill(regs, s, o1, o2, v, flag, ordered=False)


def fill_spec(regs: Registers, s: int, o1: int, o2: int, v: int, flag: int) -> None:
    """Spec profile ``fill``: the documented "start offset is the least of the two ``a16``
    offsets, the end offset the greatest" (instr.rs ``Fill``), so a16[o1] > a16[o2] fills
    ``min..max`` instead of panicking.

    Decision: only the panicking case changes.  With o1 <= o2 this is the reference exactly
    (including the ``f`` off-by-one and the empty string left in an undefined register; the
    doc's different description of the two flags is *not* adopted, because the reference does
    not panic there).  With the offsets swapped, the ``f`` check uses the greater offset."""
    _fill(regs, s, o1, o2, v, flag, ordered=True)


# ---- len / cnt / eq ----------------------------------------------------------------------------

def len_s(regs: Registers, s: int, reg: int, idx: int) -> None:
    """``len s, aN[i]``: the length if it fits N bits, else (or s undefined) clear + st0 false."""
    val = regs.s[s]
    if val is None or len(val).bit_length() > A_BITS[reg]:
        regs.st0 = False
        regs.a[reg][idx] = None
        return
    regs.a[reg][idx] = len(val)


def cnt(regs: Registers, s: int, a8idx: int, a16idx: int) -> None:
    """``cnt s, a8[b], a16[d]``: occurrences of the byte a8[b] in s (always fits a16)."""
    byte = regs.a[0][a8idx]
    val = regs.s[s]
    if byte is None or val is None:
        regs.st0 = False
        regs.a[A16][a16idx] = None
        return
    regs.a[A16][a16idx] = val.count(byte)


def eq_s(regs: Registers, s1: int, s2: int) -> None:
    """``eq s1,s2``: st0 <- equal, where two undefined registers count as equal (§10.2-11)."""
    regs.st0 = regs.s[s1] == regs.s[s2]


# ---- con (§7.2) --------------------------------------------------------------------------------

def _con_walk(m: list, n: int) -> Optional[tuple[int, int]]:
    """The reference's iterator walk over the match mask ``m`` (§7.2), one element lost per
    phase.  Returns ``(begin, len)`` or ``None`` for FAIL."""
    size = len(m)
    i = 0
    while i < size and not m[i]:
        i += 1
    for _ in range(n):
        if i >= size:
            break                      # every further phase finds the iterator exhausted
        while i < size and not m[i]:
            i += 1
        if i < size:
            i += 1                     # the element that ended the scan is consumed
        while i < size and m[i]:
            i += 1
        if i < size:
            i += 1
    if i >= size:
        return None
    begin = i
    i += 1
    while i < size and m[i]:
        i += 1
    return begin, (i if i < size else size) - begin


def con(regs: Registers, s1: int, s2: int, no: int, off: int, ln: int) -> None:
    """``con s1,s2,a16[no],a16[off],a16[ln]``: the a16[no]-th run of equal bytes, walked the
    reference's way (§7.2).  Success writes a16[off] then a16[ln] (so ``off == ln`` keeps the
    length); failure clears both and sets st0 false."""
    a16 = regs.a[A16]
    x, y, n = regs.s[s1], regs.s[s2], a16[no]
    res = None
    if x is not None and y is not None and n is not None:
        res = _con_walk([p == q for p, q in zip(x, y)], n)
    if res is None:
        regs.st0 = False
        a16[off] = None
        a16[ln] = None
        return
    a16[off] = res[0]
    a16[ln] = res[1]


# ---- find --------------------------------------------------------------------------------------

def _count_overlapping(hay: bytes, needle: bytes) -> int:
    count, pos = 0, hay.find(needle)
    while pos >= 0:
        count += 1
        pos = hay.find(needle, pos + 1)
    return count


def find(regs: Registers, s1: int, s2: int) -> None:
    """``find a16[0],s1,s2``: overlapping occurrences of s2 in s1; an empty s2 panics (P12)."""
    hay, needle = regs.s[s1], regs.s[s2]
    if hay is None or needle is None:
        regs.st0 = False
        regs.a[A16][0] = None
        return
    if not needle:
        raise Panic("find: window size must be non-zero (reference P12)")
    regs.a[A16][0] = _count_overlapping(hay, needle)


def find_spec(regs: Registers, s1: int, s2: int) -> None:
    """Spec profile ``find``: an empty needle counts like any other needle length would.

    Decision: the documented "number of occurrences of one string within another" is counted
    over every start position ``0..=len(s1)-len(s2)``, the same formula the reference uses for
    non-empty needles; for an empty needle that is ``len(s1) + 1``.  When that does not fit
    a16 (s1 is 65535 bytes long) the result follows the ``len``/``cnt`` rule for a value that
    does not fit: a16[0] cleared, st0 false.  Non-empty needles: identical to the reference."""
    hay, needle = regs.s[s1], regs.s[s2]
    if hay is not None and needle is not None and not needle:
        count = len(hay) + 1
        if count > S_MAX:
            regs.st0 = False
            regs.a[A16][0] = None
        else:
            regs.a[A16][0] = count
        return
    find(regs, s1, s2)


# ---- rev ---------------------------------------------------------------------------------------

def rev_s(regs: Registers, src: int, dst: int) -> None:
    val = regs.s[src]
    if val is None:
        regs.st0 = False
        regs.s[dst] = None
        return
    regs.s[dst] = val[::-1]


# ---- extr / inj (§7.3) -------------------------------------------------------------------------

def extr(regs: Registers, s: int, regar: int, idx: int, off: int) -> None:
    """``extr s, X[i], a16[o]``: bytes ``o..o+bytes(X)`` as a little-endian integer, clipped to
    the string end (st0 false, value zero-extended).  s or a16[o] undefined, or o >= len(s):
    X[i] cleared, st0 false."""
    bank, width = _ar(regs, regar)
    val = regs.s[s]
    o = regs.a[A16][off]
    if val is None or o is None or o >= len(val):
        regs.st0 = False
        bank[idx] = None
        return
    end = o + width
    if end > len(val):
        regs.st0 = False
        end = len(val)
    bank[idx] = int.from_bytes(val[o:end], "little")


def _inj_operands(regs: Registers, s: int, regar: int, idx: int, off: int
                  ) -> Optional[tuple[bytes, bytes, int]]:
    """(string, value bytes, offset), or None after the reference's failure path: the *value*
    register X[i] cleared, st0 false."""
    bank, width = _ar(regs, regar)
    val, x, o = regs.s[s], bank[idx], regs.a[A16][off]
    if val is None or x is None or o is None:
        regs.st0 = False
        bank[idx] = None
        return None
    return val, x.to_bytes(width, "little"), o


def inj(regs: Registers, s: int, regar: int, idx: int, off: int) -> None:
    """``inj s, X[i], a16[o]``: the reference shortens the string to ``o + bytes(X) - 1`` and
    then indexes one byte past it, so it panics whenever all three operands are defined
    (P14).  Otherwise X[i] (the value register) is cleared and st0 set false."""
    ops = _inj_operands(regs, s, regar, idx, off)
    if ops is None:
        return
    _, raw, o = ops
    end = min(o + len(raw) - 1, S_MAX)
    raise Panic(f"inj: range end index {end} out of range for slice of length {end} "
                "(reference P14)")


def inj_spec(regs: Registers, s: int, regar: int, idx: int, off: int) -> None:
    """Spec profile ``inj`` (instr.rs ``Inj`` doc): overwrite ``bytes(X)`` bytes of s at
    offset o with X[i] (little-endian, full register width).  If o is beyond the end, the gap
    is zero-filled; the length becomes ``max(len, o + bytes(X))``; st0 untouched.

    Decisions: the doc's limit "2^16 bytes" is read as the register capacity 65535, so
    ``o + bytes(X) > 65535`` sets s (the register the doc calls the destination: s is both
    source and destination) to undefined and st0 false, leaving X[i] alone.  An undefined
    operand keeps the reference's (non-panicking) behaviour: X[i] cleared, st0 false."""
    ops = _inj_operands(regs, s, regar, idx, off)
    if ops is None:
        return
    val, raw, o = ops
    end = o + len(raw)
    if end > S_MAX:
        regs.st0 = False
        regs.s[s] = None
        return
    if o > len(val):
        val = val + bytes(o - len(val))
    regs.s[s] = val[:o] + raw + val[end:]


# ---- join --------------------------------------------------------------------------------------

def _join_operands(regs: Registers, s1: int, s2: int, dst: int
                   ) -> Optional[tuple[bytes, bytes]]:
    x, y = regs.s[s1], regs.s[s2]
    if x is None or y is None or len(x) + len(y) > S_MAX:
        regs.st0 = False
        regs.s[dst] = None
        return None
    return x, y


def join(regs: Registers, s1: int, s2: int, dst: int) -> None:
    """``join s1,s2,s3``: the reference copies s2 into a zero-length slice, so it only works
    when s2 is empty (s3 <- s1) and panics otherwise (P15).  Undefined source or combined
    length > 65535: s3 cleared, st0 false."""
    ops = _join_operands(regs, s1, s2, dst)
    if ops is None:
        return
    x, y = ops
    if y:
        raise Panic(f"join: copy_from_slice: source slice length ({len(y)}) does not match "
                    "destination slice length (0) (reference P15)")
    regs.s[dst] = x


def join_spec(regs: Registers, s1: int, s2: int, dst: int) -> None:
    """Spec profile ``join`` (instr.rs ``Join`` doc): s3 <- s1 ++ s2; the failure cases are the
    reference's (combined length > 65535 or an undefined source: s3 cleared, st0 false)."""
    ops = _join_operands(regs, s1, s2, dst)
    if ops is None:
        return
    regs.s[dst] = ops[0] + ops[1]


# ---- splt / ins / del: `todo!` in the reference (P16, S9) --------------------------------------

_TODO = "not yet implemented: #(6) complete bytestring opcode implementation (reference P16)"


def splt(regs: Registers, flag: int, off: int, src: int, dst1: int, dst2: int) -> None:
    raise Panic("splt: " + _TODO)


def ins(regs: Registers, flag: int, off: int, src: int, dst: int) -> None:
    raise Panic("ins: " + _TODO)


def del_(regs: Registers, flag: int, reg1: int, off1: int, reg2: int, off2: int,
         flag1: int, flag2: int, src: int, dst: int) -> None:
    raise Panic("del: " + _TODO)


# SplitFlag codes (encoding.md §2.5) and the doc case numbers (1)..(8) they match.
SPLIT_N, SPLIT_NN, SPLIT_NZ, SPLIT_EE, SPLIT_CN, SPLIT_CZ, SPLIT_ZN, SPLIT_ZZ = range(8)


def splt_spec(regs: Registers, flag: int, off: int, src: int, dst1: int, dst2: int) -> None:
    """Spec profile ``splt.F src, a16[off], dst1, dst2`` (instr.rs ``Splt`` + ``SplitFlag``).

    With ``o = a16[off]`` and ``L = len(src)`` the result is ``(first, second)``:

    * ``0 < o < L`` (every flag): ``(src[:o], src[o:])``, st0 untouched.
    * ``o == 0`` (checked first, also when L == 0):
      ``n`` (1): (None, None) | ``nn`` (2): (None, src if L else None) |
      ``nz`` (3): (None, src if L else "") -- st0 false for these three |
      ``ee`` (4): ("", src if L else ""), st0 untouched.
    * ``o == L > 0``: ``n``: (None, None) | ``cn``/``zn`` (5,7): (src, None) |
      ``cz``/``zz`` (6,8): (src, ""), st0 untouched.
    * ``o > L``, st0 always false: ``n``: (None, None) | ``cn`` (5): (src, None) |
      ``cz`` (6): (src, "") | ``zn`` (7): (src zero-extended to o, None) |
      ``zz`` (8): (src zero-extended to o, "").

    st0 rule (doc): false if either destination becomes undefined or o > L, else untouched.

    Decisions where the docs are silent or disagree:

    * A flag is only given behaviour in the rows of the doc table that list it.  In a row that
      does not list it (``nn nz ee`` when o >= L > 0; ``cn cz zn zz`` when o == 0) it behaves
      like the default flag ``n`` (case 1): both undefined, st0 false.
    * "zero-ext" (table, cases 7/8) wins over the ``ZeroNone``/``ZeroZero`` flag comments that
      say "zero-length string": the first result is src followed by ``o - L`` zero bytes
      (length o, always <= 65535).  The table is the more detailed text and it contrasts
      "short" (cut) with "zero-ext"; at ``o == L`` both readings give src anyway.
    * src or a16[off] undefined: both destinations undefined, st0 false (the general
      undefined-operand rule, consistent with the st0 rule above).
    * Both results are computed from src first, then dst1 is written, then dst2 (so with
      dst1 == dst2 the second result wins; src may be either destination).
    """
    val, o = regs.s[src], regs.a[A16][off]
    first: Optional[bytes]
    second: Optional[bytes]
    fail = False
    if val is None or o is None:
        first = second = None
    else:
        n = len(val)
        if 0 < o < n:
            first, second = val[:o], val[o:]
        elif o == 0:
            if flag == SPLIT_NN:
                first, second = None, (val if n else None)
            elif flag == SPLIT_NZ:
                first, second = None, (val if n else b"")
            elif flag == SPLIT_EE:
                first, second = b"", (val if n else b"")
            else:
                first = second = None
        elif o == n:
            if flag in (SPLIT_CN, SPLIT_ZN):
                first, second = val, None
            elif flag in (SPLIT_CZ, SPLIT_ZZ):
                first, second = val, b""
            else:
                first = second = None
        else:                                    # o > L: st0 always false
            fail = True
            if flag in (SPLIT_CN, SPLIT_CZ):
                first = val
            elif flag in (SPLIT_ZN, SPLIT_ZZ):
                first = val + bytes(o - n)
            else:
                first = None
            if first is None:
                second = None
            else:
                second = b"" if flag in (SPLIT_CZ, SPLIT_ZZ) else None
    if fail or first is None or second is None:
        regs.st0 = False
    regs.s[dst1] = first
    regs.s[dst2] = second


# InsertFlag codes (encoding.md §2.5).
INS_L, INS_O, INS_F, INS_E, INS_A, INS_X, INS_C, INS_S = range(8)
# Per flag: what an offset beyond the destination's end does, and what an over-long result does.
_INS_POLICY = {
    INS_L: ("append", "fail"),
    INS_O: ("fail", "fail"),
    INS_F: ("fail", "fail"),
    INS_E: ("extend", "fail"),
    INS_A: ("append", "fail"),
    INS_X: ("extend", "shorten"),
    INS_C: ("append", "cut"),
    INS_S: ("append", "shorten"),
}


def ins_spec(regs: Registers, flag: int, off: int, src: int, dst: int) -> None:
    """Spec profile ``ins.F a16[off], src, dst`` (instr.rs ``Ins`` + ``InsertFlag``): insert the
    bytes of src into dst at offset ``o = a16[off]``, shifting dst's tail right.

    Normal case (``o <= len(dst)`` and ``len(src) + len(dst) <= 65535``):
    ``dst <- dst[:o] + src + dst[o:]``, st0 untouched.  Otherwise st0 <- false ("in all of
    these cases") and the flag decides.  The doc table is read as two independent policies
    per flag:

    ============ ===================================== =====================================
    flag         offset beyond dst (o > len(dst))      result longer than 65535
    ============ ===================================== =====================================
    ``l`` 0      append at len(dst) (note "6-8")       dst <- None (case 6)
    ``o`` 1      dst <- None (case 1)                  dst <- None
    ``f`` 2      dst <- None (case 4)                  dst <- None
    ``e`` 3      zero-fill dst up to o (case 2)        dst <- None
    ``a`` 4      append at len(dst) (case 3)           dst <- None
    ``x`` 5      zero-fill dst up to o (case 5)        keep only the first bytes of src that
                                                       fit (case 5 "cut source")
    ``c`` 6      append at len(dst) (note "6-8")       cut the result to 65535 (case 7)
    ``s`` 7      append at len(dst) (note "6-8")       shorten src to fit (case 8)
    ============ ===================================== =====================================

    Decisions where the docs are ambiguous:

    * The limit "2^16" is the register capacity, 65535 bytes.  The doc's section test
      "src_len + dst_len + offset" counts the old string twice; the length that matters is the
      length of the string actually built (``o + len(src)`` after zero-filling,
      ``len(dst) + len(src)`` after appending), which is what this code checks.  This makes
      ``e``/``x`` (and ``o``/``f``) complementary the way the doc pairs them.
    * "Use src_len instead of offset" (cases 3 and 6-8) is taken to mean ``dst_len``: the only
      reading that avoids inserting beyond the end again.  The "(6-8)" note fixes how ``l c
      s`` treat a beyond offset; that treatment is applied whether or not the result fits.
    * Rows the doc does not list for a flag get the default flag's ``l`` answer "fail"
      (dst <- None): over-long results for ``o f e a``, and a beyond offset for ``o f``, which
      makes ``o`` and ``f`` behave the same (the doc gives no way to tell them apart).  ``x``
      applies its "cut source" to an in-range over-long insert too; for an insert at the end
      cutting the source and cutting the result are the same thing.
    * ``o == len(dst)`` is an ordinary append, not a beyond offset.
    * src, dst or a16[off] undefined: dst <- None, st0 false.  ``src == dst`` inserts the
      string into itself.
    """
    ins_val, cur, o = regs.s[src], regs.s[dst], regs.a[A16][off]
    if ins_val is None or cur is None or o is None:
        regs.st0 = False
        regs.s[dst] = None
        return
    beyond_policy, long_policy = _INS_POLICY[flag]
    d, n = len(cur), len(ins_val)
    exceptional = False
    if o > d:
        exceptional = True
        if beyond_policy == "fail":
            regs.st0 = False
            regs.s[dst] = None
            return
        if beyond_policy == "extend":
            cur = cur + bytes(o - d)
        else:
            o = d
        d = len(cur)
    result: Optional[bytes]
    if d + n <= S_MAX:
        result = cur[:o] + ins_val + cur[o:]
    else:
        exceptional = True
        if long_policy == "fail":
            result = None
        elif long_policy == "cut":
            result = (cur[:o] + ins_val + cur[o:])[:S_MAX]
        else:  # shorten: keep only as much of src as fits (never negative: d <= 65535)
            result = cur[:o] + ins_val[:S_MAX - d] + cur[o:]
    if exceptional:
        regs.st0 = False
    regs.s[dst] = result


# DeleteFlag codes (encoding.md §2.5).
DEL_N, DEL_Z, DEL_C, DEL_E = range(4)


def del_spec(regs: Registers, flag: int, reg1: int, off1: int, reg2: int, off2: int,
             flag1: int, flag2: int, src: int, dst: int) -> None:
    """Spec profile ``del.F src, dst, aX[off1], aY[off2], flag1, flag2`` (instr.rs ``Del`` +
    ``DeleteFlag``).  reg1/reg2 pick a8 (0) or a16 (1).

    ``start = min(v1, v2)``, ``end = max(v1, v2)`` (the doc: least / greatest offset),
    ``L = len(src)``:

    * ``end <= L``: ``dst <- src[:start] + src[end:]`` (bytes deleted, the rest shifted left).
    * ``start > L``: ``n`` (1): None | ``z`` (2): zero-length string.
    * ``end > L >= start``: ``n`` (1): None | ``c`` (3): ``src[start:L]`` |
      ``e`` (4): ``src[start:L]`` followed by zeros up to length ``end - start``.
    * st0 <- false iff (``start > L`` and flag1) or (``end > L >= start`` and flag2); in all
      other cases st0 is untouched -- even when dst becomes undefined, as the doc says.

    Decisions where the docs are ambiguous:

    * Cases (3) and (4) are implemented literally (the destination *is* the fragment
      ``start..L``, padded for ``e``), although for an in-range range the instruction deletes
      rather than extracts; the doc offers no deletion-style reading of (4) ("extend up to
      end - start"), so no reinterpretation is attempted.
    * "the string in the destination register" in the doc's overview is read as the source
      string: every case is stated in terms of ``src_len``.
    * A flag in a row the doc does not list for it (``z`` when only the end is beyond, ``c``/
      ``e`` when the start is beyond) behaves like ``n``: dst <- None.
    * src or an offset register undefined: dst <- None, st0 false (general undefined rule;
      the doc's st0 flags only cover the two offset cases).
    """
    v1 = regs.a[reg1 & 1][off1]
    v2 = regs.a[reg2 & 1][off2]
    val = regs.s[src]
    if val is None or v1 is None or v2 is None:
        regs.st0 = False
        regs.s[dst] = None
        return
    start, end = min(v1, v2), max(v1, v2)
    n = len(val)
    result: Optional[bytes]
    if end <= n:
        result = val[:start] + val[end:]
    elif start > n:
        result = b"" if flag == DEL_Z else None
        if flag1:
            regs.st0 = False
    else:
        if flag == DEL_C:
            result = val[start:]
        elif flag == DEL_E:
            result = val[start:] + bytes(end - n)
        else:
            result = None
        if flag2:
            regs.st0 = False
    regs.s[dst] = result


# ---- op tables ---------------------------------------------------------------------------------

REFERENCE_OPS: dict[str, Op] = {
    "put_s": put_s,
    "mov_s": mov_s,
    "swp_s": swp_s,
    "fill": fill,
    "len_s": len_s,
    "cnt": cnt,
    "eq_s": eq_s,
    "con": con,
    "find": find,
    "extr": extr,
    "inj": inj,
    "join": join,
    "splt": splt,
    "ins": ins,
    "del_": del_,
    "rev_s": rev_s,
}

SPEC_OVERRIDES: dict[str, Op] = {
    "fill": fill_spec,
    "find": find_spec,
    "inj": inj_spec,
    "join": join_spec,
    "splt": splt_spec,
    "ins": ins_spec,
    "del_": del_spec,
}
#: each replacement differs only where the reference panics
SPEC_DIFFERS: dict[str, tuple[Differs, ...]] = {k: AT_PANICS for k in SPEC_OVERRIDES}
