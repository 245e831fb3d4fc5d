"""Register columns: many inputs' values of one register, the container of batch validation.

A :class:`Column` holds one register for N inputs: ``values`` and a boolean ``defined``.

* a8, a16, a32, a64: ``values`` is a numpy unsigned array of the register's width
  (``uint8`` .. ``uint64``), 0 where undefined;
* a128 .. a1024, F and R registers: a numpy ``object`` array of Python ints, with the meaning
  :class:`~aluvm.machine.registers.Registers` gives them (an A value; an F register's stored
  IEEE bit pattern; an R register's bytes read little-endian), ``None`` where undefined;
* S registers: an ``object`` array of ``bytes`` (``None`` where undefined).

Input arrays may be numpy masked arrays: masked elements are undefined inputs.  The same
columns come out of a batch run, where :meth:`Column.masked` gives the masked-array view.
The vector format (hex of big-endian A/F bytes, little-endian R bytes, raw S bytes) converts in
bulk with :func:`hex_encode` / :func:`hex_decode`.
"""
from __future__ import annotations

from aluvm.errors import InputError

from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from operator import is_not
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from aluvm.machine.registers import (A_BITS, A_NAMES, F_NAMES, R_NAMES, S_MAX, parse_name,
                                     reg_bytes)

_FAM_ORDER = {"a": 0, "f": 1, "r": 2, "s": 3}


@dataclass(frozen=True, eq=False)
class RegKey:
    """A register: family, bank code, index, canonical name, and its sort position (the
    order of :meth:`Registers.defined`).  One object per register (:func:`reg_key`), so keys
    compare and hash by identity (fast on the per-input path)."""

    fam: str
    code: int
    idx: int
    name: str

    def __reduce__(self) -> tuple:
        return (reg_key, (self.name,))      # unpickles to the one key of that register

    @property
    def order(self) -> tuple[int, int, int]:
        return (_FAM_ORDER[self.fam], self.code, self.idx)

    @property
    def narrow(self) -> bool:
        """Held in a numpy unsigned array (a8..a64)."""
        return self.fam == "a" and self.code < 4

    @property
    def width(self) -> int:
        """Bytes of the vector format (S: the maximum)."""
        return S_MAX if self.fam == "s" else reg_bytes(self.fam, self.code)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(f"u{A_BITS[self.code] // 8}") if self.narrow else np.dtype(object)

    def from_vector(self, raw: bytes) -> Any:
        """Vector-format bytes -> the column value (raises ValueError on a wrong width)."""
        if self.fam == "s":
            if len(raw) > S_MAX:
                raise InputError(f"{self.name}: byte string longer than {S_MAX}")
            return bytes(raw)
        if len(raw) != self.width:
            raise InputError(f"{self.name}: expected {self.width} bytes, got {len(raw)}")
        if self.fam == "r":
            return int.from_bytes(raw, "little")
        val = int.from_bytes(raw, "big")
        if self.fam == "f":
            from aluvm.semantics import floats
            return floats.store(self.code, val)
        return val

    def to_vector(self, val: Any) -> bytes:
        if self.fam == "s":
            return bytes(val)
        return int(val).to_bytes(self.width, "little" if self.fam == "r" else "big")


_BANKS = {"a": A_NAMES, "f": F_NAMES, "r": R_NAMES, "s": ("s16",)}
#: every register's key: KEYS[fam][code][idx]
KEYS: dict[str, list[list[RegKey]]] = {
    fam: [[RegKey(fam, code, idx, f"{bank}[{idx}]") for idx in range(16 if fam == "s" else 32)]
          for code, bank in enumerate(banks)] for fam, banks in _BANKS.items()}


@lru_cache(maxsize=4096)
def reg_key(name: str) -> RegKey:
    """The register called ``name`` (vector naming); ValueError for a name that does not exist."""
    fam, code, idx = parse_name(name)
    return KEYS[fam][code][idx]


def key_of(fam: str, code: int, idx: int) -> RegKey:
    return KEYS[fam][code][idx]


class Column:
    """One register over N inputs (see the module docstring)."""

    __slots__ = ("key", "values", "defined")

    def __init__(self, key: RegKey, values: np.ndarray, defined: np.ndarray) -> None:
        self.key, self.values, self.defined = key, values, defined

    @classmethod
    def undefined(cls, key: RegKey, n: int) -> "Column":
        vals = np.zeros(n, key.dtype) if key.narrow else np.full(n, None, object)
        return cls(key, vals, np.zeros(n, bool))

    def __len__(self) -> int:
        return len(self.defined)

    def __reduce__(self) -> tuple:
        """Pickled without its ``defined`` array when every value is defined (what travels
        to Ray workers is then the values only)."""
        if self.defined.all():
            return (_defined_column, (self.key, self.values))
        return (Column, (self.key, self.values, self.defined))

    def masked(self) -> np.ma.MaskedArray:
        return np.ma.masked_array(self.values, mask=~self.defined)

    def take(self, idx: Any) -> "Column":
        return Column(self.key, self.values[idx], self.defined[idx])

    def le_matrix(self) -> np.ndarray:
        """A registers as an ``(n, bytes)`` little-endian byte matrix (the kernel's layout)."""
        w = self.key.width
        if self.key.narrow:
            return np.ascontiguousarray(self.values.astype(f"<u{w}", copy=False))
        blob = b"".join((0 if v is None else v).to_bytes(w, "little") for v in self.values)
        return np.frombuffer(blob, np.uint8).reshape(len(self), w).copy()

    @classmethod
    def from_le_matrix(cls, key: RegKey, m: np.ndarray, defined: np.ndarray) -> "Column":
        if key.narrow:
            return cls(key, m.view(key.dtype).reshape(-1), defined)
        blob, w = m.tobytes(), key.width
        vals = np.array([int.from_bytes(blob[k * w:(k + 1) * w], "little") if d else None
                         for k, d in enumerate(defined.tolist())] + [None], object)[:-1]
        return cls(key, vals, defined)


def _defined_column(key: RegKey, values: np.ndarray) -> Column:
    return Column(key, values, all_defined(len(values)))


def concat(parts: Sequence[Column]) -> Column:
    return Column(parts[0].key, np.concatenate([p.values for p in parts]),
                  np.concatenate([p.defined for p in parts]))


def _object_array(items: list) -> np.ndarray:
    out = np.empty(len(items), object)
    out[:] = items
    return out


def column_from_array(name: str, data: Any, n: Optional[int] = None) -> Column:
    """One input column from a numpy (masked) array or a sequence (``None`` = undefined).

    a8..a64 take unsigned (or any integer) arrays whose values fit the register; wider
    registers take sequences of Python ints (A, F bit patterns, R little-endian) or, for S,
    of ``bytes``.  Raises ValueError / TypeError for values that do not fit.
    """
    key = reg_key(name)
    mask = None
    if isinstance(data, np.ndarray) and data.ndim != 1:
        raise TypeError(f"{key.name}: expected one value per input (a 1-D array), "
                        f"got shape {data.shape}")
    if isinstance(data, (str, bytes, int)) or not hasattr(data, "__iter__"):
        raise TypeError(f"{key.name}: expected one value per input (an array or a sequence), "
                        f"got {type(data).__name__}")
    if isinstance(data, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(data)
        data = data.data
    if key.narrow:
        col = _narrow_column(key, data, mask)
    else:
        items = list(data)
        if mask is not None:
            items = [None if m else v for v, m in zip(items, mask.tolist())]
        if not _plain_strings(key, items):
            items = [_check_wide(key, v) for v in items]
        col = Column(key, _object_array(items),
                     np.fromiter(map(is_not, items, repeat(None)), bool, len(items)))
    if n is not None and len(col) != n:
        raise InputError(f"{key.name}: {len(col)} values, expected {n} (one per input)")
    return col


_ONES: list[np.ndarray] = [np.ones(0, bool)]


def all_defined(n: int) -> np.ndarray:
    """A read-only all-true ``defined`` array of length ``n`` (one shared buffer: a column
    without a mask costs no allocation; writers copy first)."""
    buf = _ONES[0]
    if len(buf) < n:
        buf = np.ones(max(n, 2 * len(buf)), bool)
        buf.flags.writeable = False
        _ONES[0] = buf
    return buf[:n]


def _narrow_column(key: RegKey, data: Any, mask: Optional[np.ndarray]) -> Column:
    bits = A_BITS[key.code]
    if isinstance(data, np.ndarray) and data.ndim == 1 and data.dtype.kind in "ui":
        arr = data
    else:           # a sequence (None = undefined) or an object array
        if isinstance(data, np.ndarray) and data.dtype.kind not in "O":
            # (floats, booleans, strings: int() would truncate 1.5 to 1 or read "5" - a
            # silently different input)
            raise TypeError(f"{key.name}: expected unsigned integers, got {data.dtype} values")
        items = list(data)
        undef = np.array([v is None for v in items], bool)
        mask = undef if mask is None else (mask | undef)
        if not all(v is None or (isinstance(v, (int, np.integer))
                                 and not isinstance(v, (bool, np.bool_))) for v in items):
            raise TypeError(f"{key.name}: expected unsigned integers")
        arr = np.array([0 if v is None else int(v) for v in items], dtype=object)
    defined = all_defined(len(arr)) if mask is None else ~np.asarray(mask, bool)
    if arr.dtype != key.dtype:
        live = arr[defined]
        if len(live) and (live.min() < 0 or live.max() >= 1 << bits):
            raise InputError(f"{key.name}: values must fit in {bits} unsigned bits")
        arr = np.where(defined, arr, 0).astype(key.dtype)
    elif not defined.all():
        arr = np.where(defined, arr, 0).astype(key.dtype)
    return Column(key, np.ascontiguousarray(arr), defined)


def _plain_strings(key: RegKey, items: list) -> bool:
    """S register inputs that are all ``bytes`` (or ``None``) short enough: valid as they
    are (checked with C-level passes; anything else goes through :func:`_check_wide`)."""
    if key.fam != "s" or not set(map(type, items)) <= {bytes, type(None)}:
        return False
    return max(map(len, filter(None, items)), default=0) <= S_MAX


def _check_wide(key: RegKey, v: Any) -> Any:
    if v is None:
        return None
    if key.fam == "s":
        if not isinstance(v, (bytes, bytearray, memoryview)):
            raise TypeError(f"{key.name}: expected bytes")
        return key.from_vector(bytes(v))
    if isinstance(v, (bytes, bytearray)):
        return key.from_vector(bytes(v))
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        v = int(v)
        bits = 8 * key.width
        if not 0 <= v < 1 << bits:
            raise InputError(f"{key.name}: value does not fit in {bits} bits")
        if key.fam == "f":
            from aluvm.semantics import floats
            return floats.store(key.code, v)
        return v
    raise TypeError(f"{key.name}: expected an int or vector-format bytes, got {type(v).__name__}")


def columns_from_mapping(inputs: Mapping[str, Any]) -> tuple[int, list[Column]]:
    """``{name: array}`` -> (number of inputs, columns in register order)."""
    cols: dict[RegKey, Column] = {}
    n: Optional[int] = None
    for name, data in inputs.items():
        col = column_from_array(name, data, n)
        n = len(col)
        if col.key in cols:
            raise InputError(f"register {col.key.name} given twice")
        cols[col.key] = col
    return (n or 0), sorted(cols.values(), key=lambda c: c.key.order)


def columns_from_rows(rows: Sequence[Mapping[str, Optional[bytes]]]) -> list[Column]:
    """Rows of ``{name: vector bytes or None}`` -> columns (registers missing from a row are
    undefined there).  Raises ValueError on a bad name or width."""
    n = len(rows)
    found: dict[RegKey, list] = {}
    for k, row in enumerate(rows):
        for name, raw in row.items():
            key = reg_key(name)
            vals = found.get(key)
            if vals is None:
                vals = found[key] = [None] * n
            vals[k] = None if raw is None else key.from_vector(raw)
    cols = []
    for key, vals in found.items():
        defined = np.array([v is not None for v in vals], bool)
        if key.narrow:
            arr = np.array([0 if v is None else v for v in vals], dtype=np.uint64 if key.code == 3
                           else np.int64).astype(key.dtype)
            cols.append(Column(key, arr, defined))
        else:
            cols.append(Column(key, _object_array(vals), defined))
    return sorted(cols, key=lambda c: c.key.order)


# ---- vector-format hex in bulk -------------------------------------------------------------

_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", np.uint8)
_HEX_VALUE = np.full(256, 255, np.uint8)
for _k, _ch in enumerate(b"0123456789abcdef"):
    _HEX_VALUE[_ch] = _k
for _k, _ch in enumerate(b"ABCDEF"):
    _HEX_VALUE[_ch] = 10 + _k


# two hex digits <-> one byte through 16-bit tables: one gather per byte (little-endian
# uint16 = the first digit in the low byte)
_PAIR_TEXT = (_HEX_DIGITS[np.arange(256) >> 4].astype(np.uint16)
              | (_HEX_DIGITS[np.arange(256) & 15].astype(np.uint16) << 8))
_pairs = np.arange(65536)
_hi, _lo = _HEX_VALUE[_pairs & 0xFF].astype(np.uint16), _HEX_VALUE[_pairs >> 8].astype(np.uint16)
_PAIR_VALUE = np.where((_hi < 16) & (_lo < 16), (_hi << 4) | _lo, 0xFFFF).astype(np.uint16)
del _pairs, _hi, _lo


def hex_encode(m: np.ndarray) -> np.ndarray:
    """``(n, W)`` bytes -> ``(n, 2W)`` lower-case hex digits (uint8)."""
    return np.take(_PAIR_TEXT, m).view(np.uint8).reshape(m.shape[0], 2 * m.shape[1])


def hex_decode(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(n, 2W)`` hex digits -> (``(n, W)`` bytes, rows that are not all hex digits)."""
    v = np.take(_PAIR_VALUE, np.ascontiguousarray(m).view("<u2"))
    if v.size and v.max() <= 255:           # (the common case: one reduction, no per-row)
        return v.astype(np.uint8), np.zeros(len(v), bool)
    bad = np.asarray((v > 255).any(axis=1))
    return v.astype(np.uint8), bad


def vector_matrix(col: Column) -> np.ndarray:
    """A fixed-width column in the vector byte order as ``(n, W)`` bytes (0 where undefined)."""
    key, n = col.key, len(col)
    if key.narrow:
        w = key.width
        return col.values.astype(f">u{w}").view(np.uint8).reshape(n, w)
    w, little = key.width, key.fam == "r"
    blob = b"".join((0 if v is None else v).to_bytes(w, "little" if little else "big")
                    for v in col.values)
    return np.frombuffer(blob, np.uint8).reshape(n, key.width)


def narrow_from_vector(key: RegKey, m: np.ndarray) -> np.ndarray:
    """``(n, W)`` big-endian bytes of an a8..a64 register -> its unsigned values."""
    w = key.width
    return np.ascontiguousarray(m).view(f">u{w}").reshape(-1).astype(key.dtype)


__all__ = ["Column", "RegKey", "reg_key", "key_of", "column_from_array", "columns_from_mapping",
           "columns_from_rows", "concat", "hex_encode", "hex_decode", "vector_matrix",
           "narrow_from_vector"]
