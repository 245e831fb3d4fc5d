"""``aluvm batch``: JSON lines in and out, bad lines as error lines, summary, exit codes,
columnar input; the bulk (pyarrow) and line-by-line (orjson) parsers agree."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT

V20 = "18016101180062012000630119012101201023011819240118004101191143012803211a23012a0321"
GOOD = ('{"regs":{"a64[0]":"0000000000000005","a64[1]":"0000000000000009","a64[2]":'
        '"0000000000000001","a64[3]":"0000000000000002","a64[4]":"0000000000000000",'
        '"a16[0]":"0007","a16[1]":"0007","a16[2]":"0001","a16[3]":"0002","a16[4]":"0004",'
        '"a32[0]":"00000003","a32[1]":"00000001","a32[2]":"00000006","a32[3]":"00000006"}}')

BAD_LINES = [
    ('{"regs":{},"entry":70000}', "'entry' belongs to the validator"),
    ('{"entry":"0"}', "'entry' belongs to the validator"),
    ('{"st0":false}', "'st0' belongs to the validator"),
    ('{"cl0":5}', "'cl0' belongs to the validator"),
    ('{"regs":{},"colour":1}', "unknown field 'colour'"),
    ('not json', "not JSON"),
    ('[1,2]', "input must be a JSON object"),
    ('{"regs":{"a65[0]":"00"}}', "bad register name"),
    ('{"regs":{"a64[0]":"00"}}', "a64[0]: expected 8 bytes, got 1"),
    ('{"regs":{"a16[0]":"zz00"}}', "a16[0]: value must be a hex string"),
    ('{"regs":{"a16[0]":5}}', "a16[0]: value must be a hex string"),
    ('{"regs":[1]}', "'regs' must be an object"),
    ('{"regs":{},"id":[1]}', "'id' must be a string or an integer"),
]


@pytest.fixture(autouse=True, scope="module")
def _cache_dir(test_jit_cache):
    yield


def batch(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """``aluvm batch`` in a process of its own (end to end, stdin and stdout)."""
    return subprocess.run([sys.executable, "-m", "aluvm.tools.cli", "batch", *args],
                          input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120)


def batch_here(capsys, *args: str) -> tuple[int, str, str]:
    """``aluvm batch`` in this process (same code path, no interpreter start-up)."""
    from aluvm.tools.cli import main
    code = main(["batch", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def lines_of(text: str) -> list[dict]:
    return [json.loads(x) for x in text.splitlines()]


@pytest.mark.parametrize("tier", ["jit", "interp"])
def test_bad_lines_become_error_lines(tier: str, tmp_path: Path, capsys) -> None:
    stdin = "\n".join([GOOD] + [b for b, _ in BAD_LINES] + ['{"regs":{},"id":"last"}']) + "\n"
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(stdin)
    code, _, err = batch_here(capsys, "--code", V20, str(src), "--tier", tier, "--out", str(dst))
    assert code == 0, err
    out = lines_of(dst.read_text())
    assert len(out) == len(BAD_LINES) + 2
    assert out[0]["st0"] is True and out[0]["ca0"] == 29 and out[0]["regs"]["a64[2]"] == "000000000000000c"
    for (line, msg), got in zip(BAD_LINES, out[1:]):
        assert set(got) == {"error"} and msg in got["error"], (line, got)
    assert out[-1] == {"id": "last", "st0": False, "cy0": 0, "ca0": 3, "regs": {}}
    summary = err.strip().splitlines()[-1]
    assert f"{len(BAD_LINES) + 2} inputs, 1 valid, 1 invalid, {len(BAD_LINES)} errors" in summary
    assert "runs/s" in summary
    code, _, _ = batch_here(capsys, "--code", V20, str(src), "--tier", tier, "--fail-on-invalid",
                            "--quiet")
    assert code == 1


def test_end_to_end_stdin_stdout() -> None:
    """A real process: stdin to stdout, exit status by --fail-on-invalid."""
    r = batch("--code", V20, "-", "--fail-on-invalid", stdin=GOOD + "\n" + GOOD + "\n")
    assert r.returncode == 0 and "2 inputs, 2 valid, 0 invalid, 0 errors" in r.stderr, r.stderr
    assert [x["st0"] for x in lines_of(r.stdout)] == [True, True]
    r = batch("--code", V20, "-", "--fail-on-invalid", stdin=GOOD + "\n{\n")
    assert r.returncode == 1 and "1 errors" in r.stderr
    assert lines_of(r.stdout)[1]["error"].startswith("not JSON")


@pytest.mark.parametrize("args", [
    ("--code", V20),                                        # no inputs
    ("--code", V20, "a.jsonl", "b.jsonl"),
    ("/nonexistent/x.alu", "/nonexistent/in.jsonl"),
    ("--code", V20, "/nonexistent/in.jsonl"),
    ("--code", "zz", "-"),
    ("--code", V20, "-", "--entry", "70000"),
    ("--code", V20, "-", "--outputs", "a64[99]"),
    ("--code", V20, "-", "--threads", "0"),
    ("--code", V20, "-", "--ray-address", "1.2.3.4:1"),
])
def test_bad_usage_exits_2(args: tuple, capsys) -> None:
    code, _, err = batch_here(capsys, *[a if a != "-" else "/nonexistent/in.jsonl" for a in args])
    assert code == 2, err
    assert err.startswith("aluvm: error:") and len(err.strip().splitlines()) == 1


def test_fast_and_line_parsers_agree(tmp_path: Path) -> None:
    """A chunk pyarrow reads in bulk and the same lines through orjson give the same output."""
    from aluvm import DEFAULT_ISAE, Lib
    from aluvm.tools.batch import Batch
    from aluvm.tools.jsonl import format_lines, parse_chunk, parse_lines
    rng = np.random.default_rng(3)
    lines = []
    for k in range(3000):
        regs = {f"a16[{i}]": f"{int(rng.integers(0, 6)):04x}" for i in range(5)
                if rng.random() > 0.05}
        regs.update({f"a64[{i}]": f"{int(rng.integers(0, 9)):016x}" for i in range(5)})
        if k % 97 == 0:
            regs["a64[1]"] = "12"                       # wrong width: an error line
        if k % 89 == 0:
            regs["a16[2]"] = "00g0"                     # not hex
        if k % 50 == 0:
            regs["a128[3]"] = f"{k:032x}"
            regs["s16[1]"] = "00ff" * (k % 5)
        lines.append(json.dumps({"id": k, "regs": regs}))
    data = ("\n".join(lines) + "\n").encode()
    fast, slow = parse_chunk(data), parse_lines(data)
    assert fast.n == slow.n == 3000 and fast.errors == slow.errors and fast.ids == slow.ids
    assert len(fast.errors) > 40
    b = Batch(Lib.with_(DEFAULT_ISAE, bytes.fromhex(V20)), threads=1)
    out_fast = format_lines(b.run_columns(fast.n, fast.columns), fast.ids, fast.errors)
    out_slow = format_lines(b.run_columns(slow.n, slow.columns), slow.ids, slow.errors)
    assert out_fast == out_slow
    parsed = [json.loads(x) for x in out_fast.splitlines()]
    assert [p["id"] for p in parsed] == list(range(3000))
    row = parsed[50]
    assert row["regs"]["a128[3]"] == f"{50:032x}" and row["regs"]["s16[1]"] == ""
    assert "a16[0]" in parsed[1]["regs"] or "a16[0]" not in json.loads(lines[1])["regs"]


def test_tiers_outputs_and_files_agree(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(8)
    names = [f"a16[{i}]" for i in range(5)] + [f"a32[{i}]" for i in range(4)] + \
        [f"a64[{i}]" for i in range(5)]
    rows = []
    for k in range(2000):
        regs = {}
        for n in names:
            w = int(n[1:n.index("[")]) // 4
            regs[n] = f"{int(rng.integers(0, 4)):0{w}x}"
        rows.append({"regs": regs})
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    outs = {}
    for tier in ("jit", "interp"):
        dst = tmp_path / f"out-{tier}.jsonl"
        code, _, err = batch_here(capsys, "--code", V20, str(src), "--out", str(dst), "--tier",
                                  tier, "--threads", "2")
        assert code == 0, err
        outs[tier] = dst.read_text()
    assert outs["jit"] == outs["interp"]
    # the same inputs as Parquet: one column per register, unsigned integers
    import pyarrow as pa
    import pyarrow.parquet as pq
    table = pa.table({n: pa.array([int(r["regs"][n], 16) for r in rows],
                                  pa.uint16() if n.startswith("a16") else
                                  pa.uint32() if n.startswith("a32") else pa.uint64())
                      for n in names})
    pq.write_table(table, tmp_path / "in.parquet")
    code, _, err = batch_here(capsys, "--code", V20, str(tmp_path / "in.parquet"), "--out",
                              str(tmp_path / "p.jsonl"))
    assert code == 0, err
    assert (tmp_path / "p.jsonl").read_text() == outs["jit"]
    # --outputs keeps just those registers
    code, _, err = batch_here(capsys, "--code", V20, str(src), "--outputs", "a64[2],a16[3]",
                              "--out", str(tmp_path / "o.jsonl"))
    got = lines_of((tmp_path / "o.jsonl").read_text())
    assert all(set(g["regs"]) <= {"a64[2]", "a16[3]"} for g in got)
    full = lines_of(outs["jit"])
    assert [g["regs"].get("a64[2]") for g in got] == [f["regs"].get("a64[2]") for f in full]


def _same_layout_lines(k: int, sep: tuple[str, str] = (",", ":")) -> list[str]:
    rng = np.random.default_rng(k)
    names = ["a16[0]", "a16[1]", "a32[0]", "a64[2]", "a128[1]", "r160[0]", "f32[1]"]
    widths = {"a16[0]": 2, "a16[1]": 2, "a32[0]": 4, "a64[2]": 8, "a128[1]": 16,
              "r160[0]": 20, "f32[1]": 4}
    return [json.dumps({"regs": {n: bytes(rng.integers(0, 256, widths[n], dtype=np.uint8)).hex()
                                 for n in names}}, separators=sep) for _ in range(k)]


@pytest.mark.parametrize("change", [None, "space", "upper", "not-hex", "duplicate", "null",
                                    "escape", "extra", "id"])
def test_same_shape_path_equals_the_exact_path(change: str | None) -> None:
    """Chunks whose lines share one layout are decoded in bulk (same_shape); any line that
    breaks the layout sends the chunk to the general path - the results never differ from
    orjson line by line."""
    from aluvm import DEFAULT_ISAE, Lib
    from aluvm.tools.batch import Batch
    from aluvm.tools.jsonl import format_lines, parse_chunk, parse_lines, same_shape
    lines = _same_layout_lines(500)
    odd = lines[137]
    if change == "space":
        lines[137] = odd.replace(':"', ': "', 1)
    elif change == "upper":
        at = odd.index('"a64[2]":"') + 10
        lines[137] = odd[:at] + odd[at:at + 16].upper() + odd[at + 16:]
    elif change == "not-hex":
        at = odd.index('"a32[0]":"') + 10
        lines[137] = odd[:at] + "0g" + odd[at + 2:]
    elif change == "duplicate":
        lines[137] = odd.replace('"a16[1]"', '"a16[0]"', 1)
    elif change == "null":
        at = odd.index('"a16[1]":"') + 9
        lines[137] = odd[:at] + "null  " + odd[at + 6:]
    elif change == "escape":
        lines[137] = odd.replace('"a16[0]"', '"a16\\u005b0]"', 1)
    elif change == "extra":
        lines[137] = odd.replace('"a64[2]"', '"a64[7]"', 1)
    elif change == "id":
        lines = [line[:-1] + ',"id":7}' for line in lines]
    data = ("\n".join(lines) + "\n").encode()
    fast, slow = parse_chunk(data), parse_lines(data)
    assert (same_shape(data) is not None) == (change in (None, "upper")), change
    assert fast.n == slow.n == 500 and fast.errors == slow.errors and fast.ids == slow.ids
    b = Batch(Lib.with_(DEFAULT_ISAE, bytes.fromhex(V20)), threads=1)
    assert format_lines(b.run_columns(fast.n, fast.columns), fast.ids, fast.errors) == \
        format_lines(b.run_columns(slow.n, slow.columns), slow.ids, slow.errors)
    spaced = ("\n".join(_same_layout_lines(300, (", ", ": "))) + "\n").encode()
    assert same_shape(spaced) is not None      # json.dumps' default layout is one layout too


def test_inputs_from_a_pipe(tmp_path: Path) -> None:
    """A named pipe, ``/dev/stdin`` on a pipe and ``/dev/null`` are inputs like any file (they
    were refused as "no such file": a shell's ``<(...)`` is such a pipe); a directory is a
    one-line usage error that says so."""
    import os
    import threading
    text = GOOD + "\n" + '{"regs":{},"id":"x"}' + "\n"
    ref = batch("--code", V20, "-", stdin=text)
    assert ref.returncode == 0 and len(lines_of(ref.stdout)) == 2, ref.stderr
    fifo = tmp_path / "in.jsonl"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "w") as fh:
            fh.write(text)
    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        r = batch("--code", V20, str(fifo))
    finally:
        if writer.is_alive():           # (the command never opened it: unblock the writer)
            with open(fifo, "rb") as fh:
                fh.read()
        writer.join(10)
    assert r.returncode == 0 and r.stdout == ref.stdout, r.stderr
    r = batch("--code", V20, "/dev/stdin", stdin=text)
    assert r.returncode == 0 and r.stdout == ref.stdout, r.stderr
    r = batch("--code", V20, "/dev/null")
    assert r.returncode == 0 and r.stdout == "" and "0 inputs" in r.stderr, r.stderr
    r = batch("--code", V20, str(tmp_path))
    assert r.returncode == 2 and r.stderr.strip() == f"aluvm: error: {tmp_path}: is a directory"


def test_unreadable_columnar_files_exit_2(tmp_path: Path, capsys) -> None:
    """A Parquet / Arrow IPC file that is empty, truncated, corrupt or another format is a
    one-line usage error (pyarrow's ArrowInvalid was reported as an internal error, exit 3)."""
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as pq
    table = pa.table({"a64[0]": pa.array([5, 6], pa.uint64())})
    pq.write_table(table, tmp_path / "ok.parquet")
    feather.write_feather(table, tmp_path / "ok.arrow")
    good_pq, good_ipc = (tmp_path / "ok.parquet").read_bytes(), (tmp_path / "ok.arrow").read_bytes()
    cases = {"empty.parquet": b"", "half.parquet": good_pq[:len(good_pq) // 2],
             "half.arrow": good_ipc[:len(good_ipc) // 2], "text.arrow": GOOD.encode() + b"\n",
             "text.parquet": GOOD.encode() + b"\n"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    _corrupt_page_parquet(tmp_path / "page.parquet")
    for name in [*cases, "page.parquet"]:
        path = tmp_path / name
        code, out, err = batch_here(capsys, "--code", V20, str(path), "--quiet")
        kind = "Parquet" if name.endswith(".parquet") else "Arrow IPC"
        assert code == 2, (name, err)
        assert err.startswith(f"aluvm: error: {path}: not a readable {kind} file ("), (name, err)
        assert len(err.strip().splitlines()) == 1


def _corrupt_page_parquet(path: Path) -> None:
    """A Parquet file with a valid footer and garbage in the middle of its data pages."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"a64[0]": pa.array(np.arange(100_000, dtype=np.uint64))}), path,
                   row_group_size=20_000, compression="snappy")
    data = bytearray(path.read_bytes())
    data[len(data) // 2:len(data) // 2 + 200] = b"\xff" * 200
    path.write_bytes(bytes(data))


def test_columnar_id_column_types(tmp_path: Path, capsys) -> None:
    """A columnar ``id`` column holds strings or integers, as on a JSON line: any other type is
    a one-line usage error (binary ids were an internal error; floats, lists, structs passed
    through where a JSON line gets an error).  Dictionary-encoded columns (pandas
    categoricals) are read as their values."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    a64 = pa.array(["0000000000000005"] * 3)
    for name, ids in {"binary": pa.array([b"a", b"\xff", None]),
                      "double": pa.array([1.5, 2.0, None]),
                      "list<element: int64>": pa.array([[1], [], None]),
                      "bool": pa.array([True, False, None])}.items():
        path = tmp_path / "ids.parquet"
        pq.write_table(pa.table({"id": ids, "a64[0]": a64}), path)
        code, out, err = batch_here(capsys, "--code", V20, str(path))
        assert code == 2 and out == "", err
        assert err == f"aluvm: error: column id: type {name} cannot hold ids (strings or integers)\n"
    path = tmp_path / "dict.parquet"
    pq.write_table(pa.table({"id": pa.array(["x", "y", None]).dictionary_encode(),
                             "a64[0]": a64.dictionary_encode(),
                             "a64[1]": pa.array([1, 2, 3], pa.uint64())}), path)
    code, out, err = batch_here(capsys, "--code", V20, str(path))
    assert code == 0, err
    got = lines_of(out)
    assert [g.get("id") for g in got] == ["x", "y", None]
    assert [g["regs"]["a64[1]"] for g in got] == [f"{k:016x}" for k in (1, 2, 3)]
    assert all(g["regs"]["a64[0]"] == "0000000000000005" for g in got)


@pytest.mark.parametrize("columnar,truncate", [(False, False), (False, True), (True, False)])
def test_input_changed_while_read_is_an_error(tmp_path: Path, capsys, monkeypatch,
                                              columnar: bool, truncate: bool) -> None:
    """An input file appended to, rewritten or truncated during the run is a one-line error,
    exit 2: reads in blocks (Ray's byte ranges, a Parquet reader) may have missed inputs or
    mixed old and new ones - it was exit 0 with whatever was read."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from aluvm.tools import pipeline
    src = tmp_path / ("in.parquet" if columnar else "in.jsonl")
    if columnar:
        pq.write_table(pa.table({"a64[0]": pa.array([5, 6], pa.uint64())}), src)
    else:
        src.write_text(GOOD + "\n" + GOOD + "\n")
    code, out, err = batch_here(capsys, "--code", V20, str(src))
    assert code == 0 and len(out.splitlines()) == 2, err
    real = pipeline.run_stream

    def appending(*args, **kw):             # (another process writing to it meanwhile)
        if columnar:
            pq.write_table(pa.table({"a64[0]": pa.array([5, 6, 7], pa.uint64())}), src)
        elif truncate:
            with open(src, "r+b") as fh:
                fh.truncate(5)
        else:
            with open(src, "ab") as fh:
                fh.write((GOOD + "\n").encode())
        return real(*args, **kw)
    monkeypatch.setattr(pipeline, "run_stream", appending)
    code, out, err = batch_here(capsys, "--code", V20, str(src))
    assert code == 2
    assert err == (f"aluvm: error: {src}: the file changed while it was read: its output may "
                   f"miss inputs or hold a mix of old and new ones\n")
