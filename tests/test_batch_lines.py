"""The block formatter of output lines (aluvm.tools.lines) against an independent oracle
(orjson, line by line) and the general pyarrow path, on random results."""
from __future__ import annotations

import numpy as np
import orjson
import pytest

from aluvm.tools import jsonl, lines
from aluvm.tools.batch import BatchResult
from aluvm.tools.columns import Column, reg_key

NAMES = ["a8[3]", "a16[0]", "a16[7]", "a32[1]", "a64[0]", "a64[31]"]


def _oracle(res: BatchResult, ids: list | None = None, errors: dict | None = None) -> bytes:
    out = []
    keys = sorted(res.columns, key=lambda k: k.order)
    for i in range(res.n):
        obj: dict = {}
        if ids is not None and ids[i] is not None:
            obj["id"] = ids[i]
        if errors and i in errors:
            obj["error"] = errors[i]
        else:
            obj.update(st0=bool(res.st0[i]), cy0=int(res.cy0[i]), ca0=int(res.ca0[i]),
                       regs={k.name: int(res.columns[k].values[i]).to_bytes(k.width, "big").hex()
                             for k in keys if res.columns[k].defined[i]})
        out.append(orjson.dumps(obj) + b"\n")
    return b"".join(out)


def _result(rng: np.random.Generator, n: int, undefined: str, flag: bool = False) -> BatchResult:
    big = np.array([0, 1, 9, 10, 99, 100, 65535, 2 ** 63, 2 ** 64 - 1], np.uint64)
    ca0 = rng.integers(0, 2 ** 64, n, dtype=np.uint64) >> rng.integers(0, 64, n).astype(np.uint64)
    small = rng.random(n) < 0.3
    ca0[small] = rng.choice(big, int(small.sum()))
    ca0[: min(n, len(big))] = big[: min(n, len(big))]
    cy0 = rng.choice(np.array([0, 1] if flag else [0, 1, 7, 10, 123, 65535], np.uint16), n)
    st0 = rng.random(n) < 0.5
    cols = {}
    for name in rng.permutation(NAMES).tolist():
        key = reg_key(name)
        vals = rng.integers(0, 2 ** 64, n, dtype=np.uint64).astype(key.dtype)
        defined = np.ones(n, bool)
        if undefined == "some rows" and name == "a32[1]":
            defined = rng.random(n) < 0.5
        if undefined == "whole column" and name in ("a16[7]", "a64[0]"):
            defined = np.zeros(n, bool)
        vals[~defined] = 0
        cols[key] = Column(key, vals, defined)
    if undefined == "no registers":
        cols = {}
    return BatchResult(n, st0, cy0, ca0, cols)


@pytest.mark.parametrize("n", [1, 2, lines.BLOCK - 1, lines.BLOCK, 2 * lines.BLOCK + 3])
@pytest.mark.parametrize("undefined", ["none", "whole column", "no registers"])
@pytest.mark.parametrize("flag", [True, False], ids=["cy0-flag", "cy0-any"])
def test_block_lines_equal_the_oracle(n: int, undefined: str, flag: bool) -> None:
    res = _result(np.random.default_rng(n), n, undefined, flag)
    cols = [res.columns[k] for k in sorted(res.columns, key=lambda k: k.order)]
    fast = lines.fast_lines(res.st0, res.cy0, res.ca0, cols)
    assert fast is not None
    got = b"".join(fast)
    assert got == _oracle(res)
    assert got == jsonl._general_lines(res, cols, None, None)
    assert jsonl.format_lines(res) == got


def test_other_chunks_take_the_general_path() -> None:
    rng = np.random.default_rng(5)
    res = _result(rng, 300, "some rows")
    cols = [res.columns[k] for k in sorted(res.columns, key=lambda k: k.order)]
    assert lines.fast_lines(res.st0, res.cy0, res.ca0, cols) is None
    assert jsonl.format_lines(res) == _oracle(res)
    res = _result(rng, 300, "none")
    ids = [None if i % 3 else (f"x{i}" if i % 2 else i) for i in range(300)]
    errors = {4: "register a8[3]: value must be a hex string", 299: "not JSON: x"}
    assert jsonl.format_lines(res, ids, errors) == _oracle(res, ids, errors)


def test_threads_keep_their_own_blocks() -> None:
    from concurrent.futures import ThreadPoolExecutor
    results = [_result(np.random.default_rng(k), 3 * lines.BLOCK + k, "none", k % 2 == 0)
               for k in range(6)]
    with ThreadPoolExecutor(3) as pool:
        got = list(pool.map(lambda r: jsonl.format_lines(r), results * 3))
    assert got == [_oracle(r) for r in results] * 3


def _lines_of(parts: list) -> list[bytes]:
    return b"".join(bytes(p) for p in parts).split(b"\n")


@pytest.mark.parametrize("lines_per_chunk", [1, 3, 64])
def test_chunk_views_cut_like_chunks(lines_per_chunk: int, monkeypatch, tmp_path) -> None:
    import io
    import aluvm.limits
    monkeypatch.setattr(aluvm.limits, "REQUEST_LINE_MAX", 300)
    rng = np.random.default_rng(lines_per_chunk)
    text = b"".join(b"x" * int(rng.choice([0, 5, 200, 290, 301, 900])) + b"\n" for _ in range(400))
    text += b"tail without newline"
    want = list(jsonl.chunks(io.BytesIO(text), lines_per_chunk))
    held = []          # every view kept alive: no buffer may be reused under it
    for view in jsonl.chunk_views(io.BytesIO(text), lines_per_chunk):
        held.append(view)
    assert [bytes(v) for v in held] == want
    assert _lines_of(held) == _lines_of(want)
    # dropping each view before the next: buffers are reused, contents still right
    assert [bytes(v) for v in jsonl.chunk_views(io.BytesIO(text), lines_per_chunk)] == want
    # a regular file, from the stream's place: the same chunks, read (never a map of the file)
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"skipped\n" + text)
    with open(path, "rb") as fh:
        fh.readline()
        held = list(jsonl.chunk_views(fh, lines_per_chunk))
    assert [bytes(v) for v in held] == want
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with open(empty, "rb") as fh:
        assert list(jsonl.chunk_views(fh, lines_per_chunk)) == []


def test_file_truncated_while_read_is_a_shorter_read(tmp_path) -> None:
    """The input file is read into buffers, never memory-mapped: truncated between two chunks
    (another process rotating it) it reads as ending there - a map of it would have killed
    the process with SIGBUS on the next page.  (The CLI then says the file changed.)"""
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(b"%06d\n" % k for k in range(200_000)))
    with open(path, "rb") as fh:
        it = jsonl.chunk_views(fh, 1000)
        first = bytes(next(it))
        with open(path, "r+b") as other:
            other.truncate(len(first) + 10)
        rest = [bytes(c) for c in it]
    assert first.startswith(b"000000\n") and first.endswith(b"\n")
    assert len(first) + sum(map(len, rest)) <= len(first) + 10 + 1


def _layout_lines(n: int, names: list[str], seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        regs = ",".join(f'"{name}":"{rng.bytes(reg_key(name).width).hex()}"' for name in names)
        out.append('{"regs":{' + regs + "}}")
    return out


def _same_columns(a: jsonl.Parsed, b: jsonl.Parsed) -> None:
    assert a.n == b.n and a.errors == b.errors and a.ids == b.ids
    assert [c.key.name for c in a.columns] == [c.key.name for c in b.columns]
    rows = [i for i in range(a.n) if i not in a.errors]     # (an error row's values: unused)
    for x, y in zip(a.columns, b.columns):
        assert x.values.dtype == y.values.dtype
        assert x.values[rows].tolist() == y.values[rows].tolist()
        assert x.defined[rows].tolist() == y.defined[rows].tolist()


@pytest.mark.parametrize("at", [0, 137, lines.BLOCK + 5, 2 * lines.BLOCK + 7, 2 * lines.BLOCK + 9])
@pytest.mark.parametrize("change", [None, "upper", "not-hex", "other-text"])
def test_same_shape_blocks_equal_the_exact_path(at: int, change: str | None) -> None:
    names = ["a64[3]", "a8[0]", "a16[0]", "a16[1]", "a16[2]", "a32[7]", "a32[8]", "a64[10]",
             "a64[11]", "a16[9]"]
    text = _layout_lines(2 * lines.BLOCK + 10, names, at)
    line = text[at]
    v = line.index('"a32[8]":"') + 10
    if change == "upper":
        text[at] = line[:v] + line[v:v + 8].upper().replace("0", "A") + line[v + 8:]
    elif change == "not-hex":
        text[at] = line[:v + 3] + "x" + line[v + 4:]
    elif change == "other-text":
        text[at] = line.replace('"a16[1]"', '"a16[3]"')
    data = ("\n".join(text) + "\n").encode()
    fast = jsonl.same_shape(data)
    assert (fast is not None) == (change in (None, "upper"))
    _same_columns(jsonl.parse_chunk(data), jsonl.parse_lines(data))
    _same_columns(jsonl.parse_chunk(memoryview(data)), jsonl.parse_lines(data))
    for lead in (1, 3, 7):      # (chunks of a memory map start at any address)
        shifted = memoryview(bytearray(b"x" * lead + data))[lead:]
        assert (jsonl.same_shape(shifted) is not None) == (fast is not None)
        _same_columns(jsonl.parse_chunk(shifted), jsonl.parse_lines(data))


def test_same_shape_wide_registers_equal_the_exact_path() -> None:
    data = ("\n".join(_layout_lines(3000, ["a16[0]", "a128[1]", "a64[2]"], 3)) + "\n").encode()
    assert jsonl.same_shape(data) is not None
    _same_columns(jsonl.parse_chunk(data), jsonl.parse_lines(data))
