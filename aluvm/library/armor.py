"""ASCII armor of a library (feature ``ascii-armor`` of the reference: crate ascii-armor 0.7.0
with its default base85 body; a base64 body is also accepted on reading).
"""
from __future__ import annotations

import base64 as _stdlib_base64
import binascii
import hashlib
import re

from aluvm.errors import LibraryError, one_line
from aluvm.library.ids import lib_id_display, parse_lib_id
from aluvm.library.lib import Lib

ARMOR_TITLE = "ALUVM LIB"
_ARMOR_BEGIN = f"-----BEGIN {ARMOR_TITLE}-----"
_ARMOR_END = f"-----END {ARMOR_TITLE}-----"
_ARMOR_ID = "Id"
_ARMOR_ISAE = "ISA-Extensions"
_ARMOR_DEPENDENCY = "Dependency"
_ARMOR_CHECKSUM = "Check-SHA256"
_ARMOR_MAX_LEN = 0xFFFFFF  # U24 confinement of the armored payload

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
            raise LibraryError(f"armored header has invalid format ({one_line(line)!r})")
        title, rest = line.split(":", 1)
        pieces = rest.strip().split(";")
        values = [v.strip() for v in pieces[0].strip().split(",")]
        params = pieces[1:]
        if params and "=" not in line:
            raise LibraryError(f"armored header '{one_line(title)}' has invalid parameter '{one_line(params[0])}'")
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
        raise LibraryError(f"ASCII armor contains unparsable checksum {one_line(checksum)!r}")
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
            f"ASCII armor Id header {one_line(ids[0])} does not match the library id {lib_id_display(lib.id)}"
        )
    isaes = [vs for t, vs in headers if t == _ARMOR_ISAE]
    if isaes and (len(isaes) != 1 or ",".join(isaes[0]) != lib.isae_string()):
        raise LibraryError("ASCII armor ISA-Extensions header does not match the library")
    deps = sorted(parse_lib_id(v) for t, vs in headers if t == _ARMOR_DEPENDENCY for v in vs)
    if tuple(deps) != lib.libs:
        raise LibraryError("ASCII armor Dependency headers do not match the libs segment")
