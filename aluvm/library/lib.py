"""AluVM libraries: segments, limits, library ids, strict serialization and library files.

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

import base64 as _stdlib_base64
import binascii
import hashlib
import os
import re
from typing import Any, Iterable, NamedTuple

from aluvm.library import baid64
from aluvm.errors import LibraryError

__all__ = [
    "CODE_SEGMENT_MAX_LEN",
    "DATA_SEGMENT_MAX_LEN",
    "LIBS_SEGMENT_MAX_COUNT",
    "LIBS_MAX_TOTAL",
    "ISAE_SEGMENT_MAX_COUNT",
    "ISA_ID_MIN_LEN",
    "ISA_ID_MAX_LEN",
    "ISA_ID_ALU",
    "ISA_ID_BPDIGEST",
    "ISA_ID_SECP256K",
    "ISA_ID_ED25519",
    "DEFAULT_ISAE",
    "LIB_ID_TAG",
    "LIB_ID_HRI",
    "ZERO_LIB_ID",
    "ARMOR_TITLE",
    "Lib",
    "LibSite",
    "parse_isae",
    "lib_id",
    "lib_id_display",
    "parse_lib_id",
    "to_armored",
    "from_armored",
    "load_file",
    "save_file",
    "info",
    "hex_field",
]

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

LIB_ID_TAG = b"urn:ubideco:aluvm:lib:v01#230304"
LIB_ID_HRI = "alu"
ZERO_LIB_ID = bytes(32)

ARMOR_TITLE = "ALUVM LIB"
_ARMOR_BEGIN = f"-----BEGIN {ARMOR_TITLE}-----"
_ARMOR_END = f"-----END {ARMOR_TITLE}-----"
_ARMOR_ID = "Id"
_ARMOR_ISAE = "ISA-Extensions"
_ARMOR_DEPENDENCY = "Dependency"
_ARMOR_CHECKSUM = "Check-SHA256"
_ARMOR_MAX_LEN = 0xFFFFFF  # U24 confinement of the armored payload

_TAG_HASH = hashlib.sha256(LIB_ID_TAG).digest()

# --------------------------------------------------------------------------------------------
# Message helpers


def _clean(text: str) -> str:
    """Make user text safe inside a one-line message: escape control and unprintable characters.

    Printable text is left untouched so that messages equal the reference's for ordinary input.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _oversize(len_: int, max_len: int) -> str:
    return f"operation results in collection size {len_} exceeding {max_len}, which is prohibited"


# --------------------------------------------------------------------------------------------
# ISA extension names and the ISAE segment (src/library/segs.rs)


def _isa_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid ISA extension name (reference text), or None if it is valid."""
    try:
        raw = name.encode("utf-8")
    except UnicodeEncodeError:
        return f"string '{_clean(name)}' contains non-Unicode character(s)."
    if not raw:
        return "must contain at least one character."
    if not 0x41 <= raw[0] <= 0x5A:
        return f"string '{_clean(name)}' must not start with character '{_clean(name[0])}'."
    for pos in range(1, len(raw)):
        b = raw[pos]
        if not (0x41 <= b <= 0x5A or 0x30 <= b <= 0x39):
            # every byte before `pos` is ASCII, so the byte index is also the character index
            return (
                f"string '{_clean(name)}' contains invalid character '{_clean(name[pos])}'"
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
        raise LibraryError(f"ISA id {_clean(name)} has a wrong name, specifically {problem}")
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
# Library ids


def _as_bytes(value: Any, what: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise LibraryError(f"{what} must be bytes, not {type(value).__name__}")


def _lib_id_bytes(value: Any, what: str = "library id") -> bytes:
    if isinstance(value, str):
        return parse_lib_id(value)
    raw = _as_bytes(value, what)
    if len(raw) != 32:
        raise LibraryError(f"{what} must be 32 bytes, got {len(raw)}")
    return raw


def _normalize_libs(libs: Iterable[Any]) -> tuple[bytes, ...]:
    if isinstance(libs, (bytes, bytearray, memoryview, str)):
        raise LibraryError("libs must be a collection of 32-byte library ids")
    try:
        items = list(libs)
    except TypeError:
        raise LibraryError(f"libs must be a collection of library ids, not {type(libs).__name__}") from None
    ids = sorted({_lib_id_bytes(item, "libs segment entry") for item in items})
    if len(ids) > LIBS_SEGMENT_MAX_COUNT:
        raise LibraryError(
            "libs segment is invalid, specifically " + _oversize(len(ids), LIBS_SEGMENT_MAX_COUNT)
        )
    return tuple(ids)


def _hash_id(isae: bytes, code: bytes, data: bytes, libs: tuple[bytes, ...]) -> bytes:
    h = hashlib.sha256(_TAG_HASH + _TAG_HASH)
    h.update(bytes((len(isae) & 0xFF,)))  # truncating casts, as the reference
    h.update(isae)
    h.update((len(code) & 0xFFFF).to_bytes(2, "little"))
    h.update(code)
    h.update((len(data) & 0xFFFF).to_bytes(2, "little"))
    h.update(data)
    h.update(bytes((len(libs) & 0xFF,)))
    for lib in libs:
        h.update(lib)
    return h.digest()


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
    return _hash_id(isae_raw, _as_bytes(code, "code"), _as_bytes(data, "data"), _normalize_libs(libs))


def lib_id_display(id: bytes, prefix: bool = True, mnemonic: bool = True) -> str:
    """Baid64 text of a library id: ``alu:XXXXXXXX-XXXXXXX-...#word-word-word``.

    ``prefix=False`` is the reference's ``{:-}`` (no ``alu:``); ``mnemonic=False`` is ``{:#}``.
    """
    raw = _lib_id_bytes(id)
    return baid64.display(LIB_ID_HRI, raw, prefix=prefix, chunking=True, suffix=mnemonic)


def parse_lib_id(text: str) -> bytes:
    """Parse a library id from its baid64 text (``LibId::from_str``).

    The ``alu:`` prefix, the dashes and the ``#mnemonic`` are optional; a mnemonic that is
    present must match the checksum.  As in baid64 0.2.0, a 36-byte body with an embedded
    checksum is also accepted (that checksum is then the one checked).
    """
    try:
        return baid64.parse(LIB_ID_HRI, text, 32)
    except baid64.Baid64Error as exc:
        raise LibraryError(str(exc)) from None


class LibSite(NamedTuple):
    """A location in a library: ``{lib: LibId, pos: u16}``, shown as ``"{pos} @ {lib}"``."""

    lib: bytes
    pos: int

    def __str__(self) -> str:
        return f"{self.pos} @ {lib_id_display(self.lib)}"

    def serialize(self) -> bytes:
        """Strict encoding: the 32-byte id, then ``pos`` as u16 LE."""
        return bytes(self.lib) + (self.pos & 0xFFFF).to_bytes(2, "little")

    @classmethod
    def deserialize(cls, blob: bytes) -> "LibSite":
        raw = _as_bytes(blob, "library site")
        if len(raw) != 34:
            raise LibraryError(f"a serialized library site is 34 bytes, got {len(raw)}")
        return cls(raw[:32], int.from_bytes(raw[32:], "little"))


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
        code_b = _as_bytes(code, "code")
        data_b = _as_bytes(data, "data")
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
            cached = _hash_id(self.isae_string().encode("ascii"), self.code, self.data, self.libs)
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
                    f"invalid serialized library: ISA id {_clean(name)} has a wrong name,"
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


# --------------------------------------------------------------------------------------------
# ASCII armor (feature `ascii-armor` of the reference: crate ascii-armor 0.7.0 with its default
# base85 body; a base64 body is also accepted on reading)

_B85_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~"
_B85_VALUE = {c: i for i, c in enumerate(_B85_ALPHABET)}


def _b85encode(data: bytes) -> str:
    """RFC 1924 base85 as the crate ``base85`` 2.0.0 writes it (big-endian groups, a partial
    last group of n bytes gives n + 1 characters)."""
    out = []
    for i in range(0, len(data), 4):
        chunk = data[i : i + 4]
        v = int.from_bytes(chunk.ljust(4, b"\0"), "big")
        digits = []
        for _ in range(5):
            digits.append(_B85_ALPHABET[v % 85])
            v //= 85
        out.append("".join(reversed(digits))[: len(chunk) + 1])
    return "".join(out)


def _b85decode(text: str) -> bytes:
    """Inverse of :func:`_b85encode`, with the crate's rules: no whitespace, a lone trailing
    character is an error, a partial group is padded with digit value 126.  A group whose value
    does not fit 32 bits (the crate overflows there) is rejected."""
    out = bytearray()
    for i in range(0, len(text), 5):
        chunk = text[i : i + 5]
        vals = []
        for j, ch in enumerate(chunk):
            v = _B85_VALUE.get(ch)
            if v is None:
                raise ValueError(f"unexpected character {ch!r} at offset {i + j}")
            vals.append(v)
        if len(vals) == 1:
            raise ValueError("unexpected end of input")
        n_out = len(vals) - 1
        vals += [126] * (5 - len(vals))
        acc = 0
        for v in vals:
            acc = acc * 85 + v
        if acc > 0xFFFFFFFF:
            raise ValueError(f"group at offset {i} exceeds 32 bits")
        out += acc.to_bytes(4, "big")[:n_out]
    return bytes(out)


def to_armored(lib: Lib) -> str:
    """ASCII-armored text of a library, as the reference's ``to_ascii_armored_string``."""
    data = lib.serialize()
    lines = [_ARMOR_BEGIN, f"{_ARMOR_ID}: {lib_id_display(lib.id)}", f"{_ARMOR_ISAE}: {lib.isae_string()}"]
    for dep in lib.libs:
        lines.append(f"{_ARMOR_DEPENDENCY}: {lib_id_display(dep)}")
    lines.append(f"{_ARMOR_CHECKSUM}: {hashlib.sha256(data).hexdigest()}")
    lines.append("")
    body = _b85encode(data)
    while len(body) >= 80:
        lines.append(body[:80])
        body = body[80:]
    lines.append(body)
    lines.append("")
    lines.append(_ARMOR_END)
    return "\n".join(lines) + "\n"


def _rust_lines(text: str) -> list[str]:
    """``str::lines``: split on ``\\n``, dropping a ``\\r`` right before it; no final empty line."""
    parts = text.split("\n")
    last = parts.pop()
    lines = [p[:-1] if p.endswith("\r") else p for p in parts]
    if last:
        lines.append(last)
    return lines


_HEX64 = re.compile(r"[0-9A-Fa-f]{64}")


def from_armored(text: str, check_headers: bool = False) -> Lib:
    """Read an ASCII-armored library (``Lib::from_ascii_armored_str``).

    As in the reference, the ``Id``, ``ISA-Extensions`` and ``Dependency`` headers are not
    checked unless ``check_headers`` is true; ``Check-SHA256``, when present, is.
    """
    if not isinstance(text, str):
        raise LibraryError(f"armored library must be text, not {type(text).__name__}")
    lines = _rust_lines(text)
    if len(lines) < 2 or lines[0] != _ARMOR_BEGIN or lines[-1] != _ARMOR_END:
        raise LibraryError(
            f"the provided text is not an ASCII-armored library (expected '{_ARMOR_BEGIN}'"
            f" ... '{_ARMOR_END}')"
        )
    inner = lines[1:-1]
    checksum: str | None = None
    headers: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(inner):
        line = inner[i]
        i += 1
        if line == "":
            break
        if ":" not in line:
            raise LibraryError(f"armored header has invalid format ({_clean(line)!r})")
        title, rest = line.split(":", 1)
        pieces = rest.strip().split(";")
        values = [v.strip() for v in pieces[0].strip().split(",")]
        params = pieces[1:]
        if params and "=" not in line:
            raise LibraryError(f"armored header '{_clean(title)}' has invalid parameter '{_clean(params[0])}'")
        if title == _ARMOR_CHECKSUM:
            if params:
                raise LibraryError("armored checksum header must not contain additional parameters")
            if len(values) != 1:
                raise LibraryError("multiple checksums in the armored checksum header")
            checksum = values[0]
        else:
            headers.append((title, values))
    body = "".join(inner[i:])
    data: bytes | None = None
    errors: list[str] = []
    candidates: list[bytes] = []
    try:
        candidates.append(_b85decode(body))
    except ValueError as exc:
        errors.append(f"ASCII armor data has invalid Base85 encoding ({exc})")
    try:
        b64 = _stdlib_base64.b64decode(body, validate=True)
        if _stdlib_base64.b64encode(b64).decode("ascii") == body:
            candidates.append(b64)
    except (binascii.Error, ValueError):
        pass
    if checksum is not None and not _HEX64.fullmatch(checksum):
        raise LibraryError(f"ASCII armor contains unparsable checksum {_clean(checksum)!r}")
    lib: Lib | None = None
    for cand in candidates:
        if checksum is not None and hashlib.sha256(cand).digest() != bytes.fromhex(checksum):
            errors.append("ASCII armor checksum doesn't match the actual data")
            continue
        if len(cand) > _ARMOR_MAX_LEN:
            errors.append("the armored data exceed the maximum possible library size")
            continue
        try:
            lib = Lib.deserialize(cand)
            data = cand
            break
        except LibraryError as exc:
            errors.append(str(exc))
    if lib is None or data is None:
        raise LibraryError(errors[0] if errors else "ASCII armor has no decodable data")
    if check_headers:
        _check_armor_headers(lib, headers)
    return lib


def _check_armor_headers(lib: Lib, headers: list[tuple[str, list[str]]]) -> None:
    ids = [v for t, vs in headers if t == _ARMOR_ID for v in vs]
    if len(ids) != 1:
        raise LibraryError("ASCII armor must have exactly one Id header")
    if parse_lib_id(ids[0]) != lib.id:
        raise LibraryError(
            f"ASCII armor Id header {_clean(ids[0])} does not match the library id {lib_id_display(lib.id)}"
        )
    isaes = [vs for t, vs in headers if t == _ARMOR_ISAE]
    if isaes and (len(isaes) != 1 or ",".join(isaes[0]) != lib.isae_string()):
        raise LibraryError("ASCII armor ISA-Extensions header does not match the library")
    deps = sorted(parse_lib_id(v) for t, vs in headers if t == _ARMOR_DEPENDENCY for v in vs)
    if tuple(deps) != lib.libs:
        raise LibraryError("ASCII armor Dependency headers do not match the libs segment")


# --------------------------------------------------------------------------------------------
# Library files


def load_file(path: str | os.PathLike) -> Lib:
    """Read a library file: the strict serialization, raw or ASCII-armored (detected by the
    ``-----BEGIN`` line; a raw library can never start with ``-`` followed by ``-``)."""
    try:
        with open(path, "rb") as fh:
            blob = fh.read()
    except OSError as exc:
        raise LibraryError(f"cannot read library file {os.fspath(path)!r}: {exc.strerror or exc}") from None
    head = blob.lstrip(b"\xef\xbb\xbf")
    if head.startswith(b"-----BEGIN "):
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            raise LibraryError("armored library file is not valid UTF-8 text") from None
        return from_armored(text)
    return Lib.deserialize(blob)


def save_file(lib: Lib, path: str | os.PathLike, armored: bool = False) -> None:
    """Write a library file: the raw strict serialization, or the ASCII-armored text."""
    if not isinstance(lib, Lib):
        raise LibraryError(f"save_file expects a Lib, not {type(lib).__name__}")
    payload = to_armored(lib).encode("ascii") if armored else lib.serialize()
    try:
        with open(path, "wb") as fh:
            fh.write(payload)
    except OSError as exc:
        raise LibraryError(f"cannot write library file {os.fspath(path)!r}: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------------------------
# The vectors' `info` request


def hex_field(request: dict, key: str) -> bytes:
    """A hex-string field of a JSON request (absent or null = empty); LibraryError if malformed."""
    value = request.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise LibraryError(f"{key} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise LibraryError(f"{key} is not valid hex") from None


def info(request: dict) -> dict:
    """The ``info`` op of the vectors: build ``Lib::with(isae, code, data, libs)`` and report
    its id.  ``isae`` defaults to :data:`DEFAULT_ISAE`; optional ``libs`` is a list of hex ids."""
    try:
        if not isinstance(request, dict):
            raise LibraryError("request must be an object")
        code = hex_field(request, "code")
        data = hex_field(request, "data")
        isae = request.get("isae")
        if isae is None:
            isae = DEFAULT_ISAE
        libs_hex = request.get("libs") or []
        if not isinstance(libs_hex, list) or not all(isinstance(x, str) for x in libs_hex):
            raise LibraryError("libs must be a list of hex strings")
        libs = []
        for x in libs_hex:
            try:
                libs.append(bytes.fromhex(x))
            except ValueError:
                raise LibraryError("libs entry is not valid hex") from None
        lib = Lib.with_(isae, code, data, libs)
    except LibraryError as exc:
        return {"ok": False, "error": str(exc)}
    return {
        "ok": True,
        "lib_id": lib.id.hex(),
        "lib_id_display": lib_id_display(lib.id),
        "isae": lib.isae_string(),
        "default_isae": DEFAULT_ISAE,
    }
