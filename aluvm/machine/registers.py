"""The AluVM register file.

Representation (chosen for interpreter speed; every instruction module relies on it):

* ``a[code][i]``: A registers, ``code`` 0..7 = a8..a1024.  An ``int`` in ``[0, 2**W)`` or ``None``.
* ``f[code][i]``: F registers, ``code`` 0..7 = f16b, f16, f32, f64, f80, f128, f256, f512.  The
  *stored* IEEE bit pattern as an ``int`` (already normalised the way the reference stores it, see
  :func:`aluvm.semantics.floats.store`) or ``None``.
* ``r[code][i]``: R registers, ``code`` 0..7 = r128..r8192.  The bytes read as a little-endian
  ``int`` (byte 0 least significant) or ``None``.
* ``s[i]``: the 16 byte-string registers, ``bytes`` (0..65535 long) or ``None``.
* control registers ``st0 cy0 ca0 cl0 cp0 cs0`` as in the reference.

Undefined is always ``None``, distinct from zero and from the empty string.
"""
from __future__ import annotations

import re
from typing import Optional

from aluvm.errors import RegisterError
from aluvm.library.ids import LibSite

A_BITS = (8, 16, 32, 64, 128, 256, 512, 1024)
A_NAMES = tuple(f"a{w}" for w in A_BITS)
F_NAMES = ("f16b", "f16", "f32", "f64", "f80", "f128", "f256", "f512")
F_BYTES = (2, 2, 4, 8, 10, 16, 32, 64)
R_BITS = (128, 160, 256, 512, 1024, 2048, 4096, 8192)
R_NAMES = tuple(f"r{w}" for w in R_BITS)
S_COUNT = 16
S_MAX = 0xFFFF                 # an s16 register holds at most 65535 bytes
CALL_STACK_SIZE = 1 << 16
#: cy0 stops counting (the jump fails) at this many jumps (spec §4.3)
JUMP_LIMIT = 0xFFFF
#: the deepest call stack (cp0) of the ``spec`` profile's working call stack (S5)
CALL_DEPTH = 0xFFFF
U64_MAX = (1 << 64) - 1

A_MASK = tuple((1 << w) - 1 for w in A_BITS)
R_MASK = tuple((1 << w) - 1 for w in R_BITS)
F_MASK = tuple((1 << (8 * n)) - 1 for n in F_BYTES)

_EMPTY_BANK: list = [None] * 32


class Registers:
    """Mutable register file shared by both tiers (the JIT marshals it in and out)."""

    __slots__ = ("a", "f", "r", "s", "st0", "cy0", "ca0", "cl0", "cp0", "cs0", "host")

    def __init__(self) -> None:
        # written out: a fresh register file per input is on the batch hot path
        e = _EMPTY_BANK
        self.a: list[list[Optional[int]]] = [e.copy(), e.copy(), e.copy(), e.copy(),
                                             e.copy(), e.copy(), e.copy(), e.copy()]
        self.f: list[list[Optional[int]]] = [e.copy(), e.copy(), e.copy(), e.copy(),
                                             e.copy(), e.copy(), e.copy(), e.copy()]
        self.r: list[list[Optional[int]]] = [e.copy(), e.copy(), e.copy(), e.copy(),
                                             e.copy(), e.copy(), e.copy(), e.copy()]
        self.s: list[Optional[bytes]] = [None] * S_COUNT
        self.st0: bool = True
        self.cy0: int = 0
        self.ca0: int = 0
        self.cl0: Optional[int] = None
        self.cp0: int = 0
        # Sparse call stack: only slots ever written are kept (the reference has 65536 slots,
        # all LibSite::default() initially).
        self.cs0: dict[int, LibSite] = {}
        #: the run's host context (not a register): what host extension ops read, e.g. the
        #: state an RGB operation is validated against; one per run, never shared state
        self.host: object = None

    def copy(self) -> "Registers":
        other = Registers()
        other.a = [list(x) for x in self.a]
        other.f = [list(x) for x in self.f]
        other.r = [list(x) for x in self.r]
        other.s = list(self.s)
        other.st0, other.cy0, other.ca0, other.cl0, other.cp0 = (
            self.st0, self.cy0, self.ca0, self.cl0, self.cp0)
        other.cs0 = dict(self.cs0)
        other.host = self.host
        return other

    # ---- named access (CLI, JSON, tests) -------------------------------------------------

    def set_named(self, name: str, raw: Optional[bytes]) -> None:
        """Set a register from its vector-format bytes (see :func:`parse_name`)."""
        fam, code, idx = parse_name(name)
        if raw is None:
            self._slot(fam, code)[idx] = None
            return
        if fam == "s":
            if len(raw) > S_MAX:
                raise RegisterError(f"{name}: byte string longer than {S_MAX}")
            self.s[idx] = bytes(raw)
            return
        width = reg_bytes(fam, code)
        if len(raw) != width:
            raise RegisterError(f"{name}: expected {width} bytes, got {len(raw)}")
        if fam == "a":
            self.a[code][idx] = int.from_bytes(raw, "big")
        elif fam == "f":
            self.f[code][idx] = _stored(code, int.from_bytes(raw, "big"))
        else:
            self.r[code][idx] = int.from_bytes(raw, "little")

    def get_named(self, name: str) -> Optional[bytes]:
        fam, code, idx = parse_name(name)
        val = self._slot(fam, code)[idx]
        if val is None or fam == "s":
            return val
        width = reg_bytes(fam, code)
        return val.to_bytes(width, "little" if fam == "r" else "big")

    def defined(self) -> dict[str, bytes]:
        """Every defined register in vector format (name -> bytes), in a stable order."""
        out: dict[str, bytes] = {}
        for fam, names in (("a", A_NAMES), ("f", F_NAMES), ("r", R_NAMES)):
            bank = getattr(self, fam)
            for code, regname in enumerate(names):
                for idx, val in enumerate(bank[code]):
                    if val is not None:
                        name = f"{regname}[{idx}]"
                        out[name] = self.get_named(name)  # type: ignore[assignment]
        for idx, sval in enumerate(self.s):
            if sval is not None:
                out[f"s16[{idx}]"] = sval
        return out

    def check(self) -> None:
        """Raise :class:`RegisterError` unless every register holds a value its register can
        hold (the banks are plain lists that a caller may fill with anything; a run trusts
        them).  Called by the public :func:`aluvm.run` and :meth:`Machine.run` before running."""
        for fam, banks, masks, names in (("a", self.a, A_MASK, A_NAMES),
                                         ("r", self.r, R_MASK, R_NAMES),
                                         ("f", self.f, F_MASK, F_NAMES)):
            if len(banks) != 8:
                raise RegisterError(f"{fam} registers: expected 8 banks")
            for code, bank in enumerate(banks):
                if bank.__class__ is not list or len(bank) != 32:
                    raise RegisterError(f"{names[code]}: expected a list of 32 slots")
                if bank.count(None) == 32:
                    continue
                mask = masks[code]
                for idx, v in enumerate(bank):
                    if v is not None and (v.__class__ is not int or not 0 <= v <= mask
                                          or (fam == "f" and _stored(code, v) != v)):
                        raise RegisterError(f"{names[code]}[{idx}] = {v!r}: not an unsigned "
                                            f"{mask.bit_length()}-bit integer or None"
                                            + (" in stored form" if fam == "f" else ""))
        s = self.s
        if s.__class__ is not list or len(s) != S_COUNT:
            raise RegisterError("s16: expected a list of 16 slots")
        for idx, b in enumerate(s):
            if b is not None and (b.__class__ is not bytes or len(b) > S_MAX):
                raise RegisterError(f"s16[{idx}]: not bytes of at most {S_MAX} bytes or None")
        if self.st0.__class__ is not bool:
            raise RegisterError(f"st0 = {self.st0!r}: not a bool")
        for name, v, hi in (("cy0", self.cy0, 0xFFFF), ("ca0", self.ca0, U64_MAX),
                            ("cp0", self.cp0, CALL_STACK_SIZE - 1)):
            if v.__class__ is not int or not 0 <= v <= hi:
                raise RegisterError(f"{name} = {v!r}: not an integer in [0, {hi}]")
        cl0 = self.cl0
        if cl0 is not None and (cl0.__class__ is not int or not 0 <= cl0 <= U64_MAX):
            raise RegisterError(f"cl0 = {cl0!r}: not None or an integer in [0, {U64_MAX}]")
        if self.cs0.__class__ is not dict or len(self.cs0) > CALL_STACK_SIZE:
            raise RegisterError("cs0: expected a dict of at most 65536 call-stack slots")
        for slot, site in self.cs0.items():
            if (slot.__class__ is not int or not 0 <= slot < CALL_STACK_SIZE
                    or site.__class__ is not LibSite or site.lib.__class__ is not bytes
                    or len(site.lib) != 32 or site.pos.__class__ is not int
                    or not 0 <= site.pos <= 0xFFFF):
                raise RegisterError(f"cs0[{slot!r}] = {site!r}: not a u16 slot holding a "
                                    "LibSite(32-byte id, u16 pos)")

    def _slot(self, fam: str, code: int) -> list:
        if fam == "s":
            return self.s
        return getattr(self, fam)[code]


def _stored(code: int, bits: int) -> int:
    # (imported here: the float semantics load gmpy2, which a run on A registers never needs)
    from aluvm.semantics.floats.formats import store
    return store(code, bits)


_NAME_RE = re.compile(r"^(a|f|r|s)(16b|\d+)\[(\d+)\]$")
_A_CODES = {n: i for i, n in enumerate(A_NAMES)}
_F_CODES = {n: i for i, n in enumerate(F_NAMES)}
_R_CODES = {n: i for i, n in enumerate(R_NAMES)}


def parse_name(name: str) -> tuple[str, int, int]:
    """``'a64[3]'`` -> ``('a', 3, 3)``; ``'s16[2]'`` -> ``('s', 0, 2)``.  Raises ValueError."""
    m = _NAME_RE.match(name.strip())
    if not m:
        raise RegisterError(f"bad register name {name!r}")
    fam, idx = m.group(1), int(m.group(3))
    full = fam + m.group(2)
    if fam == "s":
        if full != "s16" or idx >= S_COUNT:
            raise RegisterError(f"bad register name {name!r}")
        return "s", 0, idx
    table = {"a": _A_CODES, "f": _F_CODES, "r": _R_CODES}[fam]
    if full not in table or idx >= 32:
        raise RegisterError(f"bad register name {name!r}")
    return fam, table[full], idx


def reg_bytes(fam: str, code: int) -> int:
    """Storage width in bytes of a register (f80 is 10)."""
    if fam == "a":
        return A_BITS[code] // 8
    if fam == "f":
        return F_BYTES[code]
    if fam == "r":
        return R_BITS[code] // 8
    raise ValueError(fam)
