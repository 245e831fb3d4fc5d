"""Batch inputs and outputs as JSON lines (and Arrow/Parquet inputs), converted in bulk.

An input line is ``{"regs": {name: hex}}`` with an optional ``"id"`` (a string or an integer);
register names and hex encoding are the shared vectors' (``regs`` absent or ``null``, or a
register given as ``null``: undefined).  The entry point, ``st0`` and ``cl0`` belong to the
validator: a line that carries them or any other field, names a register that does not exist,
gives a value of the wrong width or not in hex, or is not a JSON object, gets the output line
``{"error": "..."}`` (with its ``"id"`` when it had a valid one).

Input is cut into chunks of whole lines.  A chunk is parsed by pyarrow's JSON reader into
columns; the hex of fixed-width registers becomes numpy arrays in bulk.  Any chunk pyarrow
rejects or whose shape is unusual (unknown fields, non-string values, bad names...) is parsed
line by line with orjson instead, which finds the exact error of each line - both paths give
the same results and messages.  Output lines are assembled column-wise with pyarrow's string
kernels (``binary_join_element_wise``), never line by line in Python.

An output line: ``{"id"?, "st0", "cy0", "ca0", "regs": {name: hex}}`` with every defined
register (or those of ``--outputs``) in register order.  An input whose run did not end
normally (:attr:`BatchResult.outcomes`): where the reference panics or never terminates, its
line gets ``"panic": reason`` (a hang: ``"aborted": reason``) at the end (the shared vectors'
fields; the reason is the single run's Outcome reason); a host extension's error or an
internal error (a bug in aluvm) makes it an error line ``{"error": reason}``, counted as an
error, never as a verdict.

Columnar input (:func:`read_columnar`): a Parquet file or an Arrow IPC file/stream with one
column per register, named like ``a64[0]``: unsigned integers (a8..a64), binary / fixed-size
binary in the vector byte order, or hex strings; nulls are undefined; an optional ``id``
column.
"""
from __future__ import annotations

from aluvm.errors import InputError as _InputError

import io
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

import numpy as np
import orjson
import pyarrow as pa

from aluvm.tools.batch import BatchResult
from aluvm.tools.columns import (Column, RegKey, all_defined, columns_from_rows, hex_decode, hex_encode,
                                 narrow_from_vector, reg_key, vector_matrix)

#: lines per chunk (a chunk is parsed, run and formatted as one unit)
CHUNK_LINES = 1 << 16
VALIDATOR_FIELDS = ("entry", "st0", "cl0")


class InputError(_InputError):
    """One input line is malformed (its message becomes the line's ``error``)."""


@dataclass
class Parsed:
    """A chunk of inputs as columns; rows in ``errors`` are not inputs (their message)."""

    n: int
    columns: list[Column]
    ids: Optional[list] = None          # JSON-ready id per row (None: no id)
    errors: dict[int, str] = field(default_factory=dict)


# ---- reading ------------------------------------------------------------------------------

#: stands in for a line longer than :data:`aluvm.limits.REQUEST_LINE_MAX` (never held whole in
#: memory); its output line is an error
_TOO_LONG = b"\x00line-too-long\n"


def chunks(stream: Any, lines: int = CHUNK_LINES) -> Iterator[bytes]:
    """Chunks of whole lines of a binary stream, about ``lines`` lines each (read in blocks,
    cut at the last newline of each).  A line longer than the size limit is skipped to its end
    without being held and becomes the one line :data:`_TOO_LONG` (an error line)."""
    from aluvm.limits import REQUEST_LINE_MAX
    size = lines * 256
    rest = b""
    skipping = False
    while True:
        block = stream.read(size)
        if not block:
            break
        if skipping:
            nl = block.find(b"\n")
            if nl < 0:
                continue
            block, skipping = block[nl + 1:], False
        cut = block.rfind(b"\n")
        if cut < 0:
            rest += block
        else:       # (one copy of the block: the chunk is built from a view of it)
            yield b"".join((rest, memoryview(block)[:cut + 1]))
            rest = block[cut + 1:]
        if len(rest) > REQUEST_LINE_MAX:
            rest, skipping = b"", True
            yield _TOO_LONG
    if rest.strip():
        yield rest + b"\n"


def chunk_views(stream: Any, lines: int = CHUNK_LINES) -> Iterator[Any]:
    """:func:`chunks` read with ``readinto`` into a few reused buffers: the chunks are
    memoryviews (not picklable; local use only).  A buffer is reused once nothing refers to
    its previous chunk any more (its views are gone), so no page of a new buffer is touched
    per chunk - each fresh 16 MB chunk cost ~4,000 page faults."""
    from aluvm.limits import REQUEST_LINE_MAX
    size = lines * 256
    pool: list[bytearray] = []
    rest = b""
    skipping = False
    while True:
        buf = _free_buffer(pool, size + REQUEST_LINE_MAX + 1)
        view = memoryview(buf)
        k = len(rest)
        view[:k] = rest
        got = stream.readinto(view[k:k + size])
        if not got:
            view.release()
            break
        start, end = 0, k + got
        if skipping:
            nl = buf.find(b"\n", 0, end)
            if nl < 0:
                view.release()
                continue
            start, skipping = nl + 1, False
        cut = buf.rfind(b"\n", start, end)
        if cut < 0:
            rest = bytes(view[start:end])
        else:
            rest = bytes(view[cut + 1:end])
            yield view[start:cut + 1]
        view.release()
        if len(rest) > REQUEST_LINE_MAX:
            rest, skipping = b"", True
            yield _TOO_LONG
    if rest.strip():
        yield rest + b"\n"


def _free_buffer(pool: list[Any], size: int) -> Any:
    """A buffer of the pool that no chunk view refers to (a new one when all are in use).

    Buffers are anonymous memory maps: their pages are zero-filled lazily by the kernel when
    first touched, so a ~20 MB buffer costs nothing for a one-line input (a ``bytearray`` is
    zero-filled up front, by ``memset`` when malloc serves it from its heap).  They are read
    into, never mapped from the input file: a file truncated while it is read is then a
    shorter read (and a "changed while read" error), where a map of it would die of SIGBUS."""
    import mmap
    import sys
    for buf in pool:
        if sys.getrefcount(buf) <= 3:       # the pool's list, the loop variable, the call
            return buf
    buf = mmap.mmap(-1, size)
    pool.append(buf)
    return buf


def _as_bytes(data: Any) -> bytes:
    return data if isinstance(data, bytes) else bytes(data)


def parse_chunk(data: Any) -> Parsed:
    """A chunk of JSON lines -> columns (same-shape path, else pyarrow, else line by line)."""
    from aluvm.limits import REQUEST_LINE_MAX
    same = same_shape(data)
    if same is not None:
        return same
    data = _as_bytes(data)
    try:
        data.decode("utf-8")    # pyarrow passes invalid UTF-8 through: the exact path rejects it
    except UnicodeDecodeError:
        return parse_lines(data)
    if len(data) > REQUEST_LINE_MAX and max(map(len, data.split(b"\n"))) > REQUEST_LINE_MAX:
        return parse_lines(data)    # a line over the limit is an error line
    import pyarrow.json as pj       # (imported when needed: start-up of the common path)
    try:
        table = pj.read_json(io.BytesIO(data), read_options=pj.ReadOptions(use_threads=False,
                                                                           block_size=1 << 26))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return parse_lines(data)
    if table.num_rows != data.count(b"\n") + (not data.endswith(b"\n")) \
            and table.num_rows != sum(1 for ln in data.split(b"\n") if ln.strip()):
        # pyarrow reads `{}{}` on one line as two rows: one input line is one output line
        return parse_lines(data)
    parsed = _from_table(table)
    return parsed if parsed is not None else parse_lines(data)


def _first_line_end(data: Any) -> int:
    """Index of the first newline of a bytes-like chunk (-1: none), without copying it."""
    if isinstance(data, bytes):
        return data.find(b"\n")
    at = 0
    step = 4096
    while at < len(data):
        nl = bytes(data[at:at + step]).find(b"\n")
        if nl >= 0:
            return at + nl
        at += step
        step *= 4
    return -1


def _template(line: bytes) -> Optional[tuple[list[RegKey], list[tuple[int, int]]]]:
    """The registers of a line and where their hex values are, when the line is a plain input
    line: valid per :func:`parse_line` (orjson), no ``id``, no escapes, no null or S values -
    so that its strings are exactly ``"regs"`` then (name, value) pairs in text order."""
    try:
        ident, row = parse_line(line)
    except InputError:
        return None
    if ident is not None or b"\\" in line:
        return None
    quotes = np.flatnonzero(np.frombuffer(line, np.uint8) == ord('"'))
    if len(quotes) != 2 + 4 * len(row):
        return None         # null values, an "id": null, ... - not this path's shape
    spans = [(int(a) + 1, int(b)) for a, b in zip(quotes[::2], quotes[1::2])]
    if line[spans[0][0]:spans[0][1]] != b"regs":
        return None
    keys, slots = [], []
    for (na, nb), (va, vb), (name, raw) in zip(spans[1::2], spans[2::2], row.items()):
        key = reg_key(name)
        if line[na:nb] != name.encode() or key.fam == "s" or raw is None \
                or line[va:vb].lower() != raw.hex().encode() or vb - va != 2 * key.width:
            return None
        keys.append(key)
        slots.append((va, vb))
    return keys, slots


def same_shape(data: bytes) -> Optional[Parsed]:
    """A chunk whose lines all have the first line's shape -> columns, in bulk; None otherwise.

    Producers write one layout per file: same keys, same order, fixed-width hex.  When every
    line is byte-identical to the first one (parsed by orjson, :func:`_template`) except inside
    its hex values, and those are all hex digits, each line parses to the first line's
    registers with its own values - so the values are cut out of the chunk seen as an
    ``(n, line length)`` byte matrix and decoded column-wise (numpy, no per-line work).  Any
    other chunk (ids, nulls, S registers, varying layouts, any error) takes the general path.
    """
    from aluvm.limits import REQUEST_LINE_MAX
    width = _first_line_end(data) + 1
    if width <= 1 or width > REQUEST_LINE_MAX or len(data) % width:
        return None
    shape = _template(bytes(data[:width - 1]))
    if shape is None:
        return None
    keys, slots = shape
    n = len(data) // width
    m = np.frombuffer(data, np.uint8).reshape(n, width)
    if slots and all(k.narrow for k in keys):
        return _same_shape_blocks(data, m, keys, slots)
    values = np.zeros(width, bool)
    for a, b in slots:
        values[a:b] = True
    same = m == m[0]
    same |= values
    if not same.all():
        return None
    if not slots:
        return Parsed(n, [], None, {})
    raw, bad = hex_decode(np.take(m, np.flatnonzero(values), axis=1))
    if bad.any():
        return None
    cols: list[Column] = []
    at = 0
    ones = all_defined(n)          # (shared, read-only: writers copy)
    for key in keys:
        part = raw[:, at:at + key.width]
        at += key.width
        if key.narrow:
            cols.append(Column(key, narrow_from_vector(key, part), ones))
        else:
            blob, w = part.tobytes(), key.width
            vals = np.empty(n, object)
            vals[:] = [key.from_vector(blob[k * w:(k + 1) * w]) for k in range(n)]
            cols.append(Column(key, vals, ones))
    cols.sort(key=lambda c: c.key.order)
    return Parsed(n, cols, None, {})


def _same_shape_blocks(data: Any, m: np.ndarray, keys: list[RegKey], slots: list[tuple[int, int]]
                       ) -> Optional[Parsed]:
    """:func:`same_shape` for a84..a64 registers, in blocks of rows that stay in the L2
    cache: each block is compared with the first line, and each run of evenly spaced
    registers of one width (``a16[0]`` .. ``a16[4]``) is decoded from a strided view of it
    (same hex table, so the same verdicts as :func:`hex_decode`)."""
    from aluvm.tools.columns import _PAIR_VALUE
    from aluvm.tools.lines import BLOCK, _runs
    n, width = m.shape
    fixed = np.ones(width, bool)
    for a, b in slots:
        fixed[a:b] = False
    mask = np.where(fixed, 0xFF, 0).astype(np.uint8)
    template = m[0] & mask                  # (bytes inside values masked away)
    # ... and compared in 8-byte words: 8 lines are a whole number of words
    mask64, template64 = np.tile(mask, 8).view(np.uint64), np.tile(template, 8).view(np.uint64)
    outs = [np.empty(n, k.dtype) for k in keys]
    runs = _runs([(a, k.width) for (a, _), k in zip(slots, keys)])
    for s in range(0, n, BLOCK):
        blk = m[s:s + BLOCK]
        b = len(blk)
        g = b - b % 8
        words = blk[:g].reshape(g // 8, 8 * width).view(np.uint64)
        if not ((words & mask64) == template64).all() or \
                not ((blk[g:] & mask) == template).all():
            return None
        for at, w, step, j, k in runs:
            v = np.take(_PAIR_VALUE, _strided_words(data, s * width + at, (b, k, 2 * w),
                                                    width, step).view("<u2"))
            if v.max() > 255:
                return None
            vals = v.astype(np.uint8).view(f">u{w}").reshape(b, k)
            for i in range(k):
                outs[j + i][s:s + b] = vals[:, i]
    ones = all_defined(n)          # (shared, read-only: writers copy)
    cols = [Column(key, vals, ones) for key, vals in zip(keys, outs)]
    cols.sort(key=lambda c: c.key.order)
    return Parsed(n, cols, None, {})


def _strided_words(buf: Any, offset: int, shape: tuple[int, int, int], row: int, step: int
                   ) -> np.ndarray:
    """A contiguous copy of the ``(rows, k, c)`` bytes at ``offset + i*row + j*step + x`` of
    ``buf``, copied in words of up to 8 bytes (numpy's byte-wise strided copy with short inner
    runs costs twice as much)."""
    b, k, c = shape
    ws = 8 if c % 8 == 0 else 4 if c % 4 == 0 else 2 if c % 2 == 0 else 1
    words = np.ndarray((b, k, c // ws), dtype=f"<u{ws}", buffer=buf, offset=offset,
                       strides=(row, step, ws))
    return np.ascontiguousarray(words).view(np.uint8).reshape(b, k, c)


def _from_table(table: pa.Table) -> Optional[Parsed]:
    """Columns of a pyarrow-parsed chunk, or None when the chunk needs the line-by-line path."""
    import pyarrow.compute as pc
    n = table.num_rows
    names = set(table.column_names)
    if names - {"regs", "id"}:
        return None
    ids = None
    if "id" in names:
        col = table.column("id")
        if pa.types.is_integer(col.type):
            ids = col.to_pylist()
        elif pa.types.is_string(col.type) or pa.types.is_null(col.type):
            ids = col.to_pylist()
        else:
            return None
    cols: list[Column] = []
    errors: dict[int, str] = {}
    if "regs" in names:
        regs = table.column("regs").combine_chunks()
        if pa.types.is_null(regs.type):
            regs = None
        elif not pa.types.is_struct(regs.type):
            return None
        if regs is not None:
            fields: list[tuple[RegKey, int]] = []
            for k in range(regs.type.num_fields):
                f = regs.type.field(k)
                if not (pa.types.is_string(f.type) or pa.types.is_null(f.type)):
                    return None
                try:
                    key = reg_key(f.name)
                except ValueError:
                    return None
                if key.name != f.name:
                    return None
                fields.append((key, k))
            # in register order: a row's error is its first bad register's (as parse_line's)
            for key, k in sorted(fields, key=lambda kf: kf[0].order):
                arr = regs.field(k)
                if regs.null_count:
                    arr = pc.if_else(regs.is_valid(), arr, pa.nulls(n, arr.type))
                if pa.types.is_null(arr.type):
                    continue
                cols.append(_hex_column(key, arr, errors))
    cols.sort(key=lambda c: c.key.order)
    return Parsed(n, cols, ids, errors)


def _bad_hex(key: RegKey) -> str:
    return f"register {key.name}: value must be a hex string"


def _hex_column(key: RegKey, arr: pa.Array, errors: dict[int, str]) -> Column:
    """A string column of hex -> a register column; bad rows go to ``errors``."""
    n = len(arr)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    valid = np.ones(n, bool) if arr.null_count == 0 else \
        arr.is_valid().to_numpy(zero_copy_only=False)
    if key.fam == "s":
        return _python_column(key, arr.to_pylist(), errors)
    w = key.width
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], np.int32)[arr.offset:arr.offset + n + 1]
    lengths = np.diff(offsets)
    data = np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    good = valid & (lengths == 2 * w)
    for row in np.flatnonzero(valid & ~good).tolist():
        ln = int(lengths[row])
        text = data[offsets[row]:offsets[row + 1]].tobytes()
        errors.setdefault(row, _bad_hex(key) if ln % 2 or not _is_hex(text) else
                          f"register {key.name}: expected {w} bytes, got {ln // 2}")
    if good.all() and offsets[-1] - offsets[0] == n * 2 * w:
        chars = data[offsets[0]:offsets[-1]].reshape(n, 2 * w)
    else:
        idx = offsets[:-1][good][:, None] + np.arange(2 * w)
        chars = np.zeros((n, 2 * w), np.uint8) + ord("0")
        chars[good] = data[idx]
    raw, bad = hex_decode(chars)
    bad &= good
    for row in np.flatnonzero(bad).tolist():
        errors.setdefault(row, _bad_hex(key))
    defined = good & ~bad
    if key.narrow:
        vals = narrow_from_vector(key, raw)
        if not defined.all():
            vals[~defined] = 0
        return Column(key, vals, defined)
    blob = raw.tobytes()
    items: list[Any] = [key.from_vector(blob[k * w:(k + 1) * w]) if d else None
                        for k, d in enumerate(defined.tolist())]
    out = np.empty(n, object)
    out[:] = items
    return Column(key, out, defined)


def _is_hex(text: bytes) -> bool:
    """As the line-by-line path decides: ``bytes.fromhex`` accepts it without skipping blanks."""
    try:
        return len(bytes.fromhex(text.decode("ascii"))) * 2 == len(text)
    except (UnicodeDecodeError, ValueError):
        return False


def _python_column(key: RegKey, values: list, errors: dict[int, str]) -> Column:
    items: list[Any] = []
    for row, v in enumerate(values):
        if v is None:
            items.append(None)
            continue
        problem = _value_problem(key, v)    # as parse_line decides (fromhex skips blanks)
        if problem is not None:
            errors.setdefault(row, problem)
            items.append(None)
            continue
        items.append(key.from_vector(bytes.fromhex(v)))
    out = np.empty(len(items), object)
    out[:] = items
    return Column(key, out, np.array([v is not None for v in items], bool))


def parse_line(line: bytes) -> tuple[Any, dict[str, Optional[bytes]]]:
    """One input line -> (id or None, ``{name: vector bytes or None}``); InputError says why
    the line is not an input."""
    from aluvm.limits import REQUEST_LINE_MAX
    if len(line) > REQUEST_LINE_MAX or line.startswith(_TOO_LONG[:-1]):
        raise InputError(f"line longer than {REQUEST_LINE_MAX} bytes")
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"line is not UTF-8 ({e.reason} at byte {e.start})") from None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        raise InputError(f"not JSON: {e}") from None
    if not isinstance(obj, dict):
        raise InputError("input must be a JSON object")
    ident = obj.get("id")
    if ident is not None and (not isinstance(ident, (str, int)) or isinstance(ident, bool)):
        raise InputError("'id' must be a string or an integer")
    for k in obj:
        if k in VALIDATOR_FIELDS:
            raise _with_id(f"'{k}' belongs to the validator, not to the input", ident)
        if k not in ("regs", "id"):
            raise _with_id(f"unknown field {k!r}", ident)
    regs = obj.get("regs")
    if regs is None:
        regs = {}
    if not isinstance(regs, dict):
        raise _with_id("'regs' must be an object", ident)
    out: dict[str, Optional[bytes]] = {}
    # a bad value is reported for the first such register in register order (not line order):
    # the columnar paths see a chunk's registers in the order they first appear in the chunk,
    # and they sort them - so a line's error never depends on its neighbours
    bad: list[tuple[Any, str]] = []
    for name, val in regs.items():
        try:
            key = reg_key(name)
        except ValueError as e:
            raise _with_id(str(e), ident) from None
        if key.name != name:
            raise _with_id(f"bad register name {name!r}", ident)
        if val is None:
            continue
        problem = _value_problem(key, val)
        if problem is not None:
            bad.append((key.order, problem))
            continue
        out[name] = bytes.fromhex(val)
    if bad:
        raise _with_id(min(bad)[1], ident)
    return ident, out


def _value_problem(key: RegKey, val: Any) -> Optional[str]:
    """Why ``val`` is not a vector-format value of register ``key`` (None: it is one)."""
    if not isinstance(val, str):
        return _bad_hex(key)
    try:
        raw = bytes.fromhex(val)
    except ValueError:
        return _bad_hex(key)
    if len(val) != 2 * len(raw):        # fromhex skips whitespace
        return _bad_hex(key)
    try:
        key.from_vector(raw)
    except ValueError as e:
        return f"register {e}"
    return None


def _with_id(msg: str, ident: Any) -> InputError:
    e = InputError(msg)
    e.id = ident  # type: ignore[attr-defined]
    return e


def parse_lines(data: bytes) -> Parsed:
    """The exact path: every line through orjson and :func:`parse_line`."""
    rows: list[dict[str, Optional[bytes]]] = []
    ids: list[Any] = []
    errors: dict[int, str] = {}
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            ident, row = parse_line(line)
        except InputError as e:
            errors[len(rows)] = str(e)
            ident, row = getattr(e, "id", None), {}
        rows.append(row)
        ids.append(ident)
    cols = columns_from_rows(rows)
    return Parsed(len(rows), cols, ids if any(i is not None for i in ids) else None, errors)


# ---- columnar input -----------------------------------------------------------------------

def read_columnar(path: str, rows: int = CHUNK_LINES) -> Iterator[Parsed]:
    """A Parquet or Arrow IPC file -> chunks of columns.  Raises ValueError (bad usage) for a
    column that is not a register or of an unusable type, InputError for a file that is not
    one (truncated, corrupt, another format): pyarrow's ArrowInvalid is a ValueError, which
    the CLI reports as a bug."""
    batches = _record_batches(path, rows)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as e:
            raise columnar_error(path, e) from None
        yield parse_record_batch(batch)


def columnar_error(path: str, e: BaseException) -> Exception:
    """What pyarrow raised reading ``path``, as one clear line (exit 2 in the CLI)."""
    if isinstance(e, OSError) and not isinstance(e, pa.ArrowException) and e.errno is not None:
        return e                    # (a plain OS error names the file already)
    kind = "Parquet" if path.lower().endswith((".parquet", ".pq")) else "Arrow IPC"
    return _InputError(f"{path}: not a readable {kind} file ({' '.join(str(e).split())})")


def parse_record_batch(batch: Any) -> Parsed:
    """One Arrow record batch (register columns, an optional ``id``) -> its inputs."""
    n = batch.num_rows
    cols: list[Column] = []
    ids = None
    errors: dict[int, str] = {}
    named = []
    for name, arr in zip(batch.schema.names, batch.columns):
        if pa.types.is_dictionary(arr.type):        # (pandas categoricals, for one)
            arr = arr.dictionary_decode()
        if name == "id":
            ids = _id_list(arr)
            continue
        named.append((reg_key(name), arr))
    for key, arr in sorted(named, key=lambda ka: ka[0].order):   # errors in register order
        cols.append(_arrow_column(key, arr, errors))
    cols.sort(key=lambda c: c.key.order)
    return Parsed(n, cols, ids, errors)


def _id_list(arr: pa.Array) -> list[Any]:
    """An ``id`` column's values: strings or integers, as on a JSON line (any other type -
    floats, bytes, lists, structs - is a usage error, as ``"id": 1.5`` is an error line; bytes
    could not even be written out)."""
    t = arr.type
    if not (pa.types.is_integer(t) or pa.types.is_string(t) or pa.types.is_large_string(t)):
        raise InputError(f"column id: type {t} cannot hold ids (strings or integers)")
    return arr.to_pylist()


def _record_batches(path: str, rows: int) -> Iterator[pa.RecordBatch]:
    import pyarrow.ipc as ipc
    lower = path.lower()
    if lower.endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq
        yield from pq.ParquetFile(path).iter_batches(batch_size=rows)
        return
    with pa.memory_map(path) as src:
        try:
            reader: Any = ipc.open_file(src)
            batches = (reader.get_batch(k) for k in range(reader.num_record_batches))
        except pa.ArrowInvalid:
            src.seek(0)
            batches = iter(ipc.open_stream(src))
        for b in batches:
            for start in range(0, b.num_rows, rows):
                yield b.slice(start, rows)


def _arrow_column(key: RegKey, arr: pa.Array, errors: dict[int, str]) -> Column:
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _hex_column(key, arr.cast(pa.string()), errors)
    if pa.types.is_integer(t) and key.narrow:
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
        vals = arr.fill_null(0).to_numpy(zero_copy_only=False)
        bits = 8 * key.width
        if len(vals) and (vals.min() < 0 or int(vals.max()) >= 1 << bits):
            raise InputError(f"column {key.name}: values do not fit in {bits} bits")
        return Column(key, vals.astype(key.dtype), valid)
    if pa.types.is_binary(t) or pa.types.is_fixed_size_binary(t) or pa.types.is_large_binary(t):
        items = []
        for row, v in enumerate(arr.to_pylist()):
            try:
                items.append(None if v is None else key.from_vector(v))
            except ValueError as e:
                errors.setdefault(row, f"register {e}")
                items.append(None)
        out = np.empty(len(items), object)
        out[:] = items
        col = Column(key, out, np.array([v is not None for v in items], bool))
        if key.narrow:
            col = Column(key, np.array([v or 0 for v in items], dtype=np.uint64).astype(key.dtype),
                         col.defined)
        return col
    raise InputError(f"column {key.name}: type {t} cannot hold this register")


# ---- writing ------------------------------------------------------------------------------

def _fixed_strings(prefix: bytes, body: np.ndarray, suffix: bytes,
                   valid: Optional[np.ndarray]) -> pa.Array:
    """Equal-length strings ``prefix + row + suffix`` as one pyarrow array (no per-row work)."""
    n, w = body.shape
    width = len(prefix) + w + len(suffix)
    m = np.empty((n, width), np.uint8)
    m[:, :len(prefix)] = np.frombuffer(prefix, np.uint8)
    m[:, len(prefix):len(prefix) + w] = body
    if suffix:
        m[:, len(prefix) + w:] = np.frombuffer(suffix, np.uint8)
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    validity = None
    nulls = 0
    if valid is not None and not valid.all():
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
        nulls = int(n - valid.sum())
    return pa.Array.from_buffers(pa.string(), n, [validity, pa.py_buffer(offsets),
                                                  pa.py_buffer(m)], null_count=nulls)


def _reg_piece(col: Column) -> pa.Array:
    key = col.key
    prefix = f',"{key.name}":"'.encode()
    if key.fam != "s":
        return _fixed_strings(prefix, hex_encode(vector_matrix(col)), b'"', col.defined)
    items = [None if not d else f',"{key.name}":"{v.hex()}"'
             for v, d in zip(col.values.tolist(), col.defined.tolist())]
    return pa.array(items, pa.string())


def _id_piece(ids: list) -> pa.Array:
    return pa.array([b'"id":' + orjson.dumps(i) + b"," if i is not None else b"" for i in ids],
                    pa.binary()).cast(pa.string())


def _dense_regs(cols: list[Column]) -> Optional[pa.Array]:
    """The ``regs`` bodies when every row defines the same registers of fixed width (the
    common case): one byte matrix, each register's hex written into its columns in bulk."""
    if not cols or any(c.key.fam == "s" for c in cols):
        return None
    present = [c for c in cols if c.defined.any()]
    if any(not c.defined.all() for c in present):
        return None
    if not present:
        return pa.array([""] * len(cols[0]), pa.string())
    n = len(present[0])
    template, slots = b"", []
    for c in present:
        head = ('"' if not template else ',"') + f'{c.key.name}":"'
        template += head.encode()
        slots.append((len(template), c))
        template += b"0" * (2 * c.key.width) + b'"'
    width = len(template)
    m = np.empty((n, width), np.uint8)
    m[:] = np.frombuffer(template, np.uint8)
    for at, c in slots:
        m[:, at:at + 2 * c.key.width] = hex_encode(vector_matrix(c))
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(m)])


def format_lines(res: BatchResult, ids: Optional[list] = None,
                 errors: Optional[dict[int, str]] = None) -> bytes:
    """JSON output lines of a chunk, in input order."""
    parts = format_parts(res, ids, errors)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def format_parts(res: BatchResult, ids: Optional[list] = None,
                 errors: Optional[dict[int, str]] = None) -> list:
    """:func:`format_lines` as consecutive bytes-like parts (written in order without joining
    them: one copy of the output less)."""
    if res.n == 0:
        return [b""]
    cols = [res.columns[k] for k in sorted(res.columns, key=lambda k: k.order)]
    if res.outcomes:
        errors = all_errors(res, errors)
    if ids is None and not errors and not res.outcomes:
        from aluvm.tools.lines import fast_lines
        fast = fast_lines(res.st0, res.cy0, res.ca0, cols)
        if fast is not None:
            return fast
    return [_general_lines(res, cols, ids, errors)]


def _general_lines(res: BatchResult, cols: list[Column], ids: Optional[list],
                   errors: Optional[dict[int, str]]) -> bytes:
    """Any chunk: lines assembled column-wise with pyarrow's string kernels."""
    import pyarrow.compute as pc
    n = res.n
    regs: Any = pa.scalar("")
    dense = _dense_regs(cols)
    if dense is not None:
        regs = dense
    elif cols:
        # each piece starts with its comma; undefined registers are nulls joined as "" (the
        # join's "skip" mode drops rows where every piece is null), then the first comma goes
        joined = pc.binary_join_element_wise(*[_reg_piece(c) for c in cols], pa.scalar(""),
                                             "", null_handling="replace", null_replacement="")
        regs = pc.utf8_slice_codeunits(joined, 1)
    head = pc.if_else(pa.array(res.st0), '"st0":true,"cy0":', '"st0":false,"cy0":')
    pieces = [pa.scalar("{")]
    if ids is not None:
        pieces.append(_id_piece(ids))
    pieces += [head, pc.cast(pa.array(res.cy0), pa.string()), pa.scalar(',"ca0":'),
               pc.cast(pa.array(res.ca0), pa.string()), pa.scalar(',"regs":{'), regs,
               pa.scalar("}}\n")]
    lines = pc.binary_join_element_wise(*pieces, "")
    # (rows whose run panicked or hung: their line with the vectors' "panic" or "aborted"
    # field; error rows: the
    # error line; both sparse)
    errors = errors or {}
    new = {r: lines[r].as_py()[:-2] + (',"aborted":' if kind == "hang" else ',"panic":')
           + orjson.dumps(reason).decode() + "}\n"
           for r, (kind, reason) in res.outcomes.items()
           if kind in PANIC_KINDS and r not in errors}
    for r in errors:
        new[r] = orjson.dumps({**({"id": ids[r]} if ids is not None and ids[r] is not None
                                  else {}), "error": errors[r]}).decode() + "\n"
    if new:
        rows = sorted(new)
        mask = np.zeros(n, bool)
        mask[rows] = True
        lines = pc.replace_with_mask(lines, pa.array(mask),
                                     pa.array([new[r] for r in rows], pa.string()))
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    offsets = np.frombuffer(lines.buffers()[1], np.int32)[lines.offset:lines.offset + n + 1]
    return memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]].tobytes()


#: outcome kinds that are the reference's behaviour (a "panic" / "aborted" field on the verdict
#: line); the others (host, internal) are errors
PANIC_KINDS = ("panic", "hang")


def all_errors(res: BatchResult, errors: Optional[dict[int, str]]) -> dict[int, str]:
    """The chunk's error rows: its input errors, and the rows whose run ended in a host
    extension's or an internal error (their Outcome reason)."""
    out = {r: reason for r, (kind, reason) in res.outcomes.items() if kind not in PANIC_KINDS}
    out.update(errors or {})
    return out


def counts(res: BatchResult, errors: dict[int, str]) -> tuple[int, int, int]:
    """(valid, invalid, errors) of a chunk."""
    if res.outcomes:
        errors = all_errors(res, errors)
    ok = res.st0.copy()
    if errors:
        ok[sorted(errors)] = False
    valid = int(ok.sum())
    return valid, res.n - valid - len(errors), len(errors)


__all__ = ["InputError", "Parsed", "chunks", "chunk_views", "parse_chunk", "parse_lines", "parse_line", "same_shape",
           "read_columnar", "format_lines", "format_parts", "counts", "CHUNK_LINES"]
