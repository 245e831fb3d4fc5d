"""AluVM libraries: segments, limits and strict serialization (ids: :mod:`.ids`, ASCII armor:
:mod:`.armor`, files: :mod:`.files`).

Behaviour follows rust-aluvm v0.11.0-beta.6 (``src/library/``), see the project spec
``encoding.md`` §3:

* A library has four segments: ISAE (a sorted set of 0..64 ISA extension names, each 2..8
  characters, ``[A-Z][A-Z0-9]*``), code (0..65535 bytes), data (0..65535 bytes) and libs (a sorted
  set of 0..255 32-byte library ids).
* Its id is a tagged SHA-256 over the ISAE string and the three other segments (§3.3).
* An id is shown in baid64 form: ``alu:XXXXXXXX-XXXXXXX-...-XXXXXXX#word-word-word``.
* A library is serialized in strict encoding (§3.5); a library file holds that serialization,
  either as raw bytes or ASCII-armored (``-----BEGIN ALUVM LIB-----``).

Every malformed input raises :class:`~aluvm.errors.LibraryError` with a one-line message.  The
messages of :meth:`Lib.with_` repeat the reference's error texts (including its quirk of reporting
an oversized data segment with the length of the *code* segment).
"""
from __future__ import annotations

from typing import Any, Iterable

from aluvm.errors import LibraryError, one_line
from aluvm.library.ids import ZERO_LIB_ID, as_bytes, hash_id, lib_id_bytes, lib_id_display


# --------------------------------------------------------------------------------------------
# Constants (src/library/constants.rs)

CODE_SEGMENT_MAX_LEN = 0xFFFF
DATA_SEGMENT_MAX_LEN = 0xFFFF
LIBS_SEGMENT_MAX_COUNT = 0xFF
LIBS_MAX_TOTAL = 1024  # declared by the reference, enforced nowhere
ISAE_SEGMENT_MAX_COUNT = 64
ISA_ID_MIN_LEN = 2
ISA_ID_MAX_LEN = 8

ISA_ID_ALU = "ALU"
ISA_ID_BPDIGEST = "BPDIGEST"
ISA_ID_SECP256K = "SECP256K"
ISA_ID_ED25519 = "ED25519"
ISA_ID_ALURE = "ALURE"
ISA_ID_SIMD = "SIMD"
ISA_ID_INET2 = "INET4"  # sic: the reference's constant ISA_ID_INET2 holds "INET4"
ISA_ID_WEB4 = "WEB4"
ISA_ID_BITCOIN = "BITCOIN"
ISA_ID_BP = "BP"
ISA_ID_RGB = "RGB"
ISA_ID_LNP = "LNP"
ISA_ID_REBICA = "REBICA"

DEFAULT_ISAE = "ALU BPDIGEST ED25519 SECP256K"
"""ISAE string of the reference build with features ``secp256k1`` and ``curve25519``."""




# --------------------------------------------------------------------------------------------
# Message helpers


def _oversize(len_: int, max_len: int) -> str:
    return f"operation results in collection size {len_} exceeding {max_len}, which is prohibited"



# --------------------------------------------------------------------------------------------
# ISA extension names and the ISAE segment (src/library/segs.rs)


def _isa_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid ISA extension name (reference text), or None if it is valid."""
    try:
        raw = name.encode("utf-8")
    except UnicodeEncodeError:
        return f"string '{one_line(name)}' contains non-Unicode character(s)."
    if not raw:
        return "must contain at least one character."
    if not 0x41 <= raw[0] <= 0x5A:
        return f"string '{one_line(name)}' must not start with character '{one_line(name[0])}'."
    for pos in range(1, len(raw)):
        b = raw[pos]
        if not (0x41 <= b <= 0x5A or 0x30 <= b <= 0x39):
            # every byte before `pos` is ASCII, so the byte index is also the character index
            return (
                f"string '{one_line(name)}' contains invalid character '{one_line(name[pos])}'"
                f" at position {pos}."
            )
    if not ISA_ID_MIN_LEN <= len(raw) <= ISA_ID_MAX_LEN:
        return "string has invalid length."
    return None


def _check_isa_name(name: Any) -> str:
    if not isinstance(name, str):
        raise LibraryError(f"ISA id must be a string, not {type(name).__name__}")
    problem = _isa_name_problem(name)
    if problem is not None:
        raise LibraryError(f"ISA id {one_line(name)} has a wrong name, specifically {problem}")
    return name


def parse_isae(isae: str) -> tuple[str, ...]:
    """Parse an ISAE string as ``IsaSeg::from_str`` does: split on single spaces, validate each
    name, collapse duplicates, sort.  The empty string is rejected (the empty name is invalid)."""
    if not isinstance(isae, str):
        raise LibraryError(f"ISAE must be a string, not {type(isae).__name__}")
    seg: set[str] = set()
    for name in isae.split(" "):
        _check_isa_name(name)
        if len(seg) >= ISAE_SEGMENT_MAX_COUNT:
            # the reference refuses to push into a full set even when the name is a duplicate
            raise LibraryError(
                "ISA segment is invalid, specifically "
                + _oversize(len(seg) + 1, ISAE_SEGMENT_MAX_COUNT)
            )
        seg.add(name)
    return tuple(sorted(seg))


# --------------------------------------------------------------------------------------------
# Library ids of segments

def _normalize_libs(libs: Iterable[Any]) -> tuple[bytes, ...]:
    if isinstance(libs, (bytes, bytearray, memoryview, str)):
        raise LibraryError("libs must be a collection of 32-byte library ids")
    try:
        items = list(libs)
    except TypeError:
        raise LibraryError(f"libs must be a collection of library ids, not {type(libs).__name__}") from None
    ids = sorted({lib_id_bytes(item, "libs segment entry") for item in items})
    if len(ids) > LIBS_SEGMENT_MAX_COUNT:
        raise LibraryError(
            "libs segment is invalid, specifically " + _oversize(len(ids), LIBS_SEGMENT_MAX_COUNT)
        )
    return tuple(ids)


def lib_id(isae: str, code: bytes, data: bytes = b"", libs: Iterable[Any] = ()) -> bytes:
    """``LibId::with``: the id of a library with these segments.

    ``isae`` is hashed verbatim (like the reference, which hashes whatever string it is given);
    a :class:`Lib` always passes its normalized, sorted ISAE string.  ``libs`` is a set and is
    hashed in ascending order.  Length prefixes are truncating casts (u8 / u16 / u16 / u8).
    """
    if not isinstance(isae, str):
        raise LibraryError(f"ISAE must be a string, not {type(isae).__name__}")
    try:
        isae_raw = isae.encode("utf-8")
    except UnicodeEncodeError:
        raise LibraryError("ISAE string is not valid Unicode") from None
    return hash_id(isae_raw, as_bytes(code, "code"), as_bytes(data, "data"), _normalize_libs(libs))



# --------------------------------------------------------------------------------------------
# The library


class Lib:
    """An immutable AluVM library.  Equality, ordering and hashing go by the library id, as in
    the reference."""

    __slots__ = ("isae", "code", "data", "libs", "_id")

    isae: tuple[str, ...]
    code: bytes
    data: bytes
    libs: tuple[bytes, ...]
    _id: bytes | None   # the cached id (None until computed)

    def __init__(
        self,
        isae: Iterable[str] = tuple(DEFAULT_ISAE.split(" ")),
        code: bytes = b"",
        data: bytes = b"",
        libs: Iterable[Any] = (),
    ) -> None:
        """Build a library from segment values; ``isae`` is a collection of names (use
        :meth:`with_` for an ISAE string).  Every limit is checked."""
        if isinstance(isae, str):
            names = parse_isae(isae)
        else:
            try:
                items = list(isae)
            except TypeError:
                raise LibraryError(f"ISAE must be a collection of names, not {type(isae).__name__}") from None
            seg: set[str] = set()
            for name in items:
                _check_isa_name(name)
                seg.add(name)
            if len(seg) > ISAE_SEGMENT_MAX_COUNT:
                raise LibraryError(
                    "ISA segment is invalid, specifically " + _oversize(len(seg), ISAE_SEGMENT_MAX_COUNT)
                )
            names = tuple(sorted(seg))
        code_b = as_bytes(code, "code")
        data_b = as_bytes(data, "data")
        if len(code_b) > CODE_SEGMENT_MAX_LEN:
            raise LibraryError(
                f"the size of the CODE segment is {len(code_b)}, which exceeds `CODE_SEGMENT_MAX_LEN`"
            )
        if len(data_b) > DATA_SEGMENT_MAX_LEN:
            # reference quirk (S13): the message carries the length of the *code* segment
            raise LibraryError(
                f"the size of the DATA segment is {len(code_b)}, which exceeds `DATA_SEGMENT_MAX_LEN`"
            )
        libs_t = _normalize_libs(libs)
        object.__setattr__(self, "isae", names)
        object.__setattr__(self, "code", code_b)
        object.__setattr__(self, "data", data_b)
        object.__setattr__(self, "libs", libs_t)
        object.__setattr__(self, "_id", None)

    @classmethod
    def with_(cls, isae: str, code: bytes, data: bytes = b"", libs: Iterable[Any] = ()) -> "Lib":
        """``Lib::with``: parse the ISAE string and check every segment limit."""
        if not isinstance(isae, str):
            raise LibraryError(f"ISAE must be a string, not {type(isae).__name__}")
        return cls(parse_isae(isae), code, data, libs)

    # immutability ----------------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Lib is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Lib is immutable")

    def __copy__(self) -> "Lib":
        return self

    def __deepcopy__(self, memo: dict) -> "Lib":
        return self

    def __reduce__(self):  # pickling
        return (Lib, (self.isae, self.code, self.data, self.libs))

    # identity --------------------------------------------------------------------------------

    def isae_string(self) -> str:
        """The ISAE segment as text: names in byte order joined by single spaces."""
        return " ".join(self.isae)

    @property
    def id(self) -> bytes:
        """The 32-byte library id (computed once)."""
        cached = self._id
        if cached is None:
            cached = hash_id(self.isae_string().encode("ascii"), self.code, self.data, self.libs)
            object.__setattr__(self, "_id", cached)
        return cached

    def id_display(self, prefix: bool = True, mnemonic: bool = True) -> str:
        return lib_id_display(self.id, prefix, mnemonic)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Lib):
            return NotImplemented
        return self.id == other.id

    def __lt__(self, other: "Lib") -> bool:
        if not isinstance(other, Lib):
            return NotImplemented
        return self.id < other.id

    def __le__(self, other: "Lib") -> bool:
        if not isinstance(other, Lib):
            return NotImplemented
        return self.id <= other.id

    def __gt__(self, other: "Lib") -> bool:
        if not isinstance(other, Lib):
            return NotImplemented
        return self.id > other.id

    def __ge__(self, other: "Lib") -> bool:
        if not isinstance(other, Lib):
            return NotImplemented
        return self.id >= other.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return (
            f"Lib(isae={self.isae_string()!r}, code={self.code.hex()!r}, data={self.data.hex()!r},"
            f" libs={len(self.libs)}, id={self.id_display()!r})"
        )

    # libs segment ----------------------------------------------------------------------------

    def lib_at(self, index: int) -> bytes:
        """The id at ``index`` of the libs segment; the all-zero id when out of range (this is
        what the reference decoder yields for a ``call``/``exec`` with a bad index)."""
        if 0 <= index < len(self.libs):
            return self.libs[index]
        return ZERO_LIB_ID

    def lib_index(self, id: bytes) -> int | None:
        """Position of a library id in the libs segment, or None (``LibSeg::index``)."""
        try:
            return self.libs.index(bytes(id))
        except ValueError:
            return None

    # strict encoding -------------------------------------------------------------------------

    def serialize(self) -> bytes:
        """Strict encoding (stl ``AluVM@0.1.0`` type ``Lib``): isae, code, data, libs."""
        out = bytearray()
        out.append(len(self.isae))
        for name in self.isae:
            raw = name.encode("ascii")
            out.append(len(raw))
            out += raw
        out += len(self.code).to_bytes(2, "little") + self.code
        out += len(self.data).to_bytes(2, "little") + self.data
        out.append(len(self.libs))
        for lib in self.libs:
            out += lib
        return bytes(out)

    @classmethod
    def deserialize(cls, blob: bytes) -> "Lib":
        """Strict decoding: rejects truncated input, trailing bytes, invalid or unsorted or
        repeated ISA names, more than 64 names, and unsorted or repeated lib ids."""
        if not isinstance(blob, (bytes, bytearray, memoryview)):
            raise LibraryError(f"serialized library must be bytes, not {type(blob).__name__}")
        raw = bytes(blob)
        pos = 0

        def take(n: int, what: str) -> bytes:
            nonlocal pos
            if pos + n > len(raw):
                raise LibraryError(
                    f"invalid serialized library: unexpected end of data in {what}"
                    f" (offset {pos}, need {n} byte(s), have {len(raw) - pos})"
                )
            chunk = raw[pos : pos + n]
            pos += n
            return chunk

        count = take(1, "ISAE count")[0]
        if count > ISAE_SEGMENT_MAX_COUNT:
            raise LibraryError(
                "invalid serialized library: ISA segment is invalid, specifically "
                + _oversize(count, ISAE_SEGMENT_MAX_COUNT)
            )
        names: list[str] = []
        for i in range(count):
            n = take(1, f"ISA name #{i} length")[0]
            name_raw = take(n, f"ISA name #{i}")
            name = name_raw.decode("latin-1")
            problem = None
            if not name_raw.isascii():
                problem = "string contains non-ASCII character(s)."
            else:
                problem = _isa_name_problem(name)
            if problem is not None:
                raise LibraryError(
                    f"invalid serialized library: ISA id {one_line(name)} has a wrong name,"
                    f" specifically {problem}"
                )
            if names and names[-1] > name:
                raise LibraryError("invalid serialized library: ISA names are not in ascending order")
            if names and names[-1] == name:
                raise LibraryError(f"invalid serialized library: ISA name {name} is repeated")
            names.append(name)
        code_len = int.from_bytes(take(2, "code length"), "little")
        code = take(code_len, "code segment")
        data_len = int.from_bytes(take(2, "data length"), "little")
        data = take(data_len, "data segment")
        lib_count = take(1, "libs count")[0]
        libs: list[bytes] = []
        for i in range(lib_count):
            lib = take(32, f"lib id #{i}")
            if libs and libs[-1] > lib:
                raise LibraryError("invalid serialized library: lib ids are not in ascending order")
            if libs and libs[-1] == lib:
                raise LibraryError(f"invalid serialized library: lib id {lib.hex()} is repeated")
            libs.append(lib)
        if pos != len(raw):
            raise LibraryError(
                f"invalid serialized library: {len(raw) - pos} trailing byte(s) after the libs segment"
            )
        return cls(names, code, data, libs)


__all__ = [
    "CODE_SEGMENT_MAX_LEN", "DATA_SEGMENT_MAX_LEN", "LIBS_SEGMENT_MAX_COUNT", "LIBS_MAX_TOTAL",
    "ISAE_SEGMENT_MAX_COUNT", "ISA_ID_MIN_LEN", "ISA_ID_MAX_LEN", "ISA_ID_ALU", "ISA_ID_BPDIGEST",
    "ISA_ID_SECP256K", "ISA_ID_ED25519", "DEFAULT_ISAE", "Lib", "parse_isae", "lib_id",
]
