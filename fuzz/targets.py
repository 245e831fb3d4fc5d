"""Fuzz targets: one function per surface, ``target(rng) -> str``.

A target returns a digest-able text of what it observed (for the determinism checks across runs,
processes and cache states) and raises :class:`Finding` when an invariant breaks:

* no exception escapes a public API but its documented error types (``crash``);
* the CLI never prints a traceback and never exits 3 on user input (``traceback``);
* the two tiers agree on every field of the result (``mismatch``);
* the same input gives the same output (``nondeterminism``).

Hangs are caught by the driver (a per-case time limit).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import random
from typing import Callable

from aluvm.errors import AluError, AsmError, LibraryError
from aluvm.isa.codec import decode
from aluvm.isa.table import RESERVED
from aluvm.library.armor import from_armored, to_armored
from aluvm.library.lib import DEFAULT_ISAE, Lib
from aluvm.machine.interp import PROFILES
from aluvm.tools import service

from fuzz import gen


class Finding(Exception):
    """An invariant broke: ``kind`` is crash, traceback, mismatch or nondeterminism."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def _profile(rng: random.Random) -> str:
    return rng.choice(("reference", "spec"))


def _only(allowed: tuple[type, ...], fn: Callable, what: str):
    try:
        return fn(), None
    except allowed as e:
        text = str(e)
        if "\n" in text or "internal" in text:
            raise Finding("crash", f"{what}: {type(e).__name__} not one clean line: {text[:300]}")
        return None, e
    except Exception as e:  # noqa: BLE001 - the point of the target
        raise Finding("crash", f"{what}: {type(e).__name__}: {e}"[:500]) from e


# ---- bytecode decoder ------------------------------------------------------------------------

def t_decoder(rng: random.Random) -> str:
    profile = _profile(rng)
    code = gen.program(rng, profile) if rng.random() < 0.6 else rng.randbytes(rng.randrange(64))
    data = rng.randbytes(rng.randrange(16))
    table = PROFILES[profile].table
    seen = []
    for pos in range(len(code) + 2):
        ins, _ = _only((), lambda: decode(code, pos, data, (), table), "decode")
        seen.append(None if ins is None else (ins.form.key, ins.size))
    out = []
    for op in ("disasm", "reencode"):
        reply = _only((), lambda: service.handle({"op": op, "code": code.hex(), "data": data.hex()},
                                                 profile), op)[0]
        if "internal_error" in reply:
            raise Finding("crash", f"{op}: {reply['internal_error']}")
        out.append(json.dumps(reply, sort_keys=True))
    return repr(seen) + "".join(out)


# ---- library files ---------------------------------------------------------------------------

def _lib(rng: random.Random) -> Lib:
    isae = rng.choice([DEFAULT_ISAE, "ALU", "ALU BPDIGEST", "ALU RGB", "ALU X1 X2 X3"])
    libs = [rng.randbytes(32) for _ in range(rng.choice([0, 0, 1, 3]))]
    return Lib.with_(isae, rng.randbytes(rng.randrange(40)), rng.randbytes(rng.randrange(20)), libs)


def t_library_binary(rng: random.Random) -> str:
    blob = gen.mutate(rng, _lib(rng).serialize()) if rng.random() < 0.9 else rng.randbytes(50)
    lib, err = _only((LibraryError,), lambda: Lib.deserialize(blob), "Lib.deserialize")
    if lib is None:
        return f"error {err}"
    if lib.serialize() != blob:
        raise Finding("crash", f"accepted a non-canonical library {blob.hex()[:200]}")
    return lib.id.hex()


def t_library_armored(rng: random.Random) -> str:
    text = to_armored(_lib(rng))
    bad = gen.mutate(rng, text.encode()).decode("utf-8", "replace")
    lib, err = _only((LibraryError,), lambda: from_armored(bad), "from_armored")
    return f"error {err}" if lib is None else lib.id.hex()


# ---- assembler -------------------------------------------------------------------------------

def t_assembler(rng: random.Random) -> str:
    from aluvm.asm import assemble, disassemble
    src = gen.asm_source(rng)
    profile = _profile(rng)
    lib, err = _only((AsmError,), lambda: assemble(src, profile=profile), "assemble")
    if lib is None:
        return f"error {err}"
    text = _only((), lambda: disassemble(lib, profile=profile), "disassemble")[0]
    again, err = _only((AsmError,), lambda: assemble(text, profile=profile), "re-assemble")
    if again is None or again.id != lib.id:
        raise Finding("mismatch", f"disassembly does not re-assemble: {src!r} -> {err}")
    return lib.id.hex()


# ---- exec requests ---------------------------------------------------------------------------

def _answer(line: bytes, profile: str, runner) -> str:
    try:
        req = service.parse_line(line)
    except service.RequestError as e:
        return json.dumps({"ok": False, "error": str(e)})
    except Exception as e:  # noqa: BLE001
        raise Finding("crash", f"parse_line: {type(e).__name__}: {e}"[:500]) from e
    reply = _only((), lambda: service.handle(req, profile, runner), "handle")[0]
    if "internal_error" in reply:
        raise Finding("crash", f"internal error on {line[:200]!r}: {reply['internal_error']}")
    if reply.get("ok") is not True and not reply.get("error"):
        raise Finding("crash", f"a failed reply without an error: {reply}")
    return json.dumps(reply, sort_keys=True)


def t_exec_requests(rng: random.Random) -> str:
    profile = _profile(rng)
    line = gen.request_line(rng, profile)
    first = _answer(line, profile, service.interp_runner)
    if _answer(line, profile, service.interp_runner) != first:
        raise Finding("nondeterminism", f"two answers to {line[:300]!r}")
    return first


# ---- both tiers ------------------------------------------------------------------------------

def _tiers(code: bytes, data: bytes, regs, entry: int, profile: str) -> str:
    lib = Lib.with_(DEFAULT_ISAE, code, data)
    return _tiers_lib(lib, regs, entry, profile)


def _tiers_lib(lib: Lib, regs, entry: int, profile: str) -> str:
    from aluvm.jit.engine import jit_runner
    code, data = lib.code, lib.data
    a, b, c = regs.copy(), regs.copy(), regs.copy()
    sa = service.state_dict(a, service.interp_runner(lib, a, entry, profile), lib)
    sb = service.state_dict(b, jit_runner(lib, b, entry, profile), lib)
    for s in (sa, sb):
        if "internal_error" in s:
            raise Finding("crash", f"{s['internal_error']} code={code.hex()}")
    if sa != sb:
        diff = {k: (sa.get(k), sb.get(k)) for k in sorted(set(sa) | set(sb)) if sa.get(k) != sb.get(k)}
        raise Finding("mismatch", f"{profile} entry={entry} code={code.hex()[:400]} "
                                  f"data={data.hex()[:80]} diff={str(diff)[:600]}")
    sc = service.state_dict(c, service.interp_runner(lib, c, entry, profile), lib)
    if sc != sa:
        raise Finding("nondeterminism", f"interp twice differs: code={code.hex()[:400]}")
    return json.dumps(sa, sort_keys=True)


#: register files per generated program in the tiers target (a program compiles once)
RUNS_PER_PROGRAM = 8


def t_tiers(rng: random.Random) -> str:
    """One structured random program, run from ``RUNS_PER_PROGRAM`` random register files (cl0
    crossed inside blocks, cy0 near its limit, cp0 near the call-stack limit) in both tiers."""
    profile = _profile(rng)
    if rng.random() < 0.05:
        code, entry = gen.end_of_code_program(rng, profile)
    else:
        code, entry = gen.program(rng, profile), 0
    lib = Lib.with_(DEFAULT_ISAE, code, rng.randbytes(rng.choice([0, 8, 40])))
    return "".join(_tiers_lib(lib, gen.registers(rng), entry, profile)
                   for _ in range(RUNS_PER_PROGRAM))


# ---- the command line ------------------------------------------------------------------------

_ARGS = ["run", "jit", "compare", "disasm", "info", "asm", "exec", "conform", "batch", "--code",
         "--data", "--reg", "--cl0", "--entry", "--st0", "--profile", "--json", "--raw", "-o",
         "--tier", "-", "00", "ff", "zz", "200261020000", "a64[0]=5", "f32[1]=1.5", "s16[0]=00",
         "a8[0]=300", "true", "spec", "reference", "jit", "-1", "70000", "0x10", "--inputs",
         "/nonexistent/x", "--version", "--quiet", "-j", "3", "examples/counter.aluasm"]


def t_cli(rng: random.Random) -> str:
    argv = [rng.choice(_ARGS) for _ in range(rng.randrange(0, 7))]
    if "-o" in argv or "asm" in argv:   # never write files from the fuzzer
        argv = [a for a in argv if a not in ("-o", "asm")]
    stdin = gen.request_line(rng, "reference") + b"\n"
    import sys
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        code, out, text = _cli_checked(argv)
    finally:
        sys.stdin = saved
    return f"{code} {out} {text}"


def _cli_checked(argv: list[str]) -> tuple[int, str, str]:
    """Run the CLI in process and check its contract (no traceback, exit 0-2, a user error is
    one line on stderr): exit code, stdout text, stderr text."""
    from aluvm.tools import cli
    out, err = _stdout(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(argv)
    except Exception as e:  # noqa: BLE001
        raise Finding("traceback", f"aluvm {' '.join(argv)}: {type(e).__name__}: {e}"[:500]) from e
    text = err.getvalue()
    if code not in (0, 1, 2) or "Traceback" in text:
        raise Finding("traceback", f"aluvm {' '.join(argv)} -> exit {code}: {text[:300]}")
    if code == 2 and text.count("\n") != 1:
        raise Finding("traceback", f"aluvm {' '.join(argv)}: not one line: {text[:300]}")
    return code, _text(out), text


def _stdout() -> io.TextIOWrapper:
    """A captured standard output with a binary ``buffer`` as the real one has (``batch`` and
    ``asm -o -`` write bytes to it; a StringIO has none: make fuzz's one false finding)."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)


def _text(out: io.TextIOWrapper) -> str:
    out.flush()
    return out.buffer.getvalue().decode("utf-8", "replace")  # type: ignore[attr-defined]


TARGETS: dict[str, Callable[[random.Random], str]] = {
    "decoder": t_decoder,
    "library-binary": t_library_binary,
    "library-armored": t_library_armored,
    "assembler": t_assembler,
    "exec-requests": t_exec_requests,
    "tiers": t_tiers,
    "cli": t_cli,
}

__all__ = ["Finding", "TARGETS"]
_ = AluError


# ---- batch input lines -----------------------------------------------------------------------

def _batch_out(lib: Lib, tier: str, profile: str, data: bytes, lines: int,
               cl0: "int | None" = None) -> bytes:
    from aluvm.tools.batch import Batch
    from aluvm.tools.jsonl import chunks
    from aluvm.tools.pipeline import run_stream
    out = io.BytesIO()
    batch = Batch(lib, tier=tier, threads=1, profile=profile, cl0=cl0)
    _only((), lambda: run_stream(batch, chunks(io.BytesIO(data), lines), out, 1),
          f"batch --tier {tier}")
    return out.getvalue()


def t_batch_lines(rng: random.Random) -> str:
    """A chunk of batch input lines: one output line per input, error lines for bad ones, the
    same bytes from both tiers and from any chunking (pyarrow and per-line parsers agree)."""
    profile = _profile(rng)
    lib = Lib.with_(DEFAULT_ISAE, gen.program(rng, profile), rng.randbytes(rng.choice([0, 8])))
    lines = [gen.batch_line(rng) for _ in range(rng.randrange(1, 10))]
    data = b"\n".join(lines) + b"\n"
    # batch runs start at cy0 = 0: a complexity limit keeps random loops short
    cl0 = rng.choice([0, 1, 10, 200, 3000])
    interp = _batch_out(lib, "interp", profile, data, 1024, cl0)
    # another chunking (a chunk is a parse-run-format job of ~2 ms: 1 to 3 lines per chunk);
    # the JIT tier compiles a kernel per library (~0.5 s): one case in ten compares it
    split = ("interp", rng.choice([1, 2, 3]))
    others = (split, ("jit", 1024)) if rng.random() < 0.1 else (split,)
    for tier, chunk in others:
        other = _batch_out(lib, tier, profile, data, chunk, cl0)
        if other != interp:
            raise Finding("mismatch", f"batch {tier} chunk {chunk} differs: profile={profile} "
                                      f"code={lib.code.hex()[:300]} input={data[:600]!r}")
    outs = interp.splitlines()
    if len(outs) != sum(1 for ln in lines if ln.strip()):
        raise Finding("crash", f"{len(outs)} output lines for {len(lines)} inputs: {data[:600]!r}")
    for o in outs:
        try:
            json.loads(o)
        except ValueError:
            raise Finding("crash", f"output line is not JSON: {o[:300]!r}") from None
    return interp.decode("utf-8", "replace")


TARGETS["batch-lines"] = t_batch_lines


def _cut_lines(parts: "list[bytes]") -> "list[bytes]":
    return b"".join(parts).split(b"\n")


def t_batch_cuts(rng: random.Random) -> str:
    """How ``aluvm batch`` cuts an input into chunks of lines: reused read buffers
    (``chunk_views``, a file or a pipe) and plain reads (``chunks``) give the same lines, over-long lines (the limit lowered here) as the same error marker,
    from any start position, with or without a final newline, CRLF, NUL and non-UTF-8 bytes."""
    import tempfile
    from aluvm import limits
    from aluvm.tools import jsonl
    limit = rng.choice([64, 300, 1000])
    pieces = []
    for _ in range(rng.randrange(0, 40)):
        size = rng.choice([0, 1, 2, rng.randrange(limit - 2, limit + 3), rng.randrange(3 * limit),
                           rng.randrange(40)])
        body = bytes(rng.choice(b"ab{}\" :,\r\x00\xff") for _ in range(size)).replace(b"\n", b"")
        pieces.append(body)
    data = b"\n".join(pieces) + rng.choice([b"", b"\n", b"\n\n", b" "])
    start = rng.randrange(len(data) + 1) if rng.random() < 0.3 else 0
    lines = rng.choice([1, 2, 3, 8])
    saved = limits.REQUEST_LINE_MAX
    limits.REQUEST_LINE_MAX = limit
    try:
        src = io.BytesIO(data)
        src.seek(start)
        plain = [bytes(c) for c in jsonl.chunks(src, lines)]
        src.seek(start)
        views = [bytes(c) for c in jsonl.chunk_views(src, lines)]
        with tempfile.TemporaryFile() as fh:
            fh.write(data)
            fh.flush()
            fh.seek(start)
            files = [bytes(c) for c in jsonl.chunk_views(fh, lines)]
    finally:
        limits.REQUEST_LINE_MAX = saved
    for name, got in (("chunk_views", views), ("chunk_views of a file", files)):
        if _cut_lines(got) != _cut_lines(plain):
            raise Finding("mismatch", f"{name} lines differ from chunks: limit={limit} "
                                      f"lines={lines} start={start} data={data[:600]!r}")
        for c in got:
            if not c.endswith(b"\n"):
                raise Finding("mismatch", f"{name}: a chunk without a final newline: {c[:200]!r}")
    return hashlib.sha256(b"".join(plain)).hexdigest()


TARGETS["batch-cuts"] = t_batch_cuts


_SHAPE_REGS = ["a8[0]", "a16[0]", "a16[4]", "a32[1]", "a64[0]", "a64[3]", "a128[0]", "a256[1]",
               "a16[31]"]
_SHAPE_BYTES = b'0123456789abcdefABCDEF"\\ g:,{}\x00\xff\xc3\n'


def _parsed_rows(p) -> tuple:
    """What a parsed chunk means for the output: per row its error or its defined registers."""
    cols = [(c.key.name, c.key.narrow, c.values.tolist(), c.defined.tolist()) for c in p.columns]
    rows = []
    for i in range(p.n):
        if i in p.errors:
            rows.append(("error", p.errors[i]))
            continue
        rows.append(tuple((name, int(v[i]) if narrow else v[i]) for name, narrow, v, d in cols
                          if d[i]))
    return p.n, p.ids, rows


def t_batch_shapes(rng: random.Random) -> str:
    """A chunk of lines of one layout (what producers write), a few bytes changed anywhere:
    the bulk parsers (same-shape byte matrix, in 8-byte words, at unaligned addresses as in a
    memory map; pyarrow) read exactly what the line-by-line parser (orjson) reads."""
    from aluvm.tools.columns import reg_key
    from aluvm.tools.jsonl import parse_chunk, parse_lines
    names = rng.sample(_SHAPE_REGS, rng.randrange(1, 6))
    sep = rng.choice([", ", ",", " , "])
    hexd = "0123456789abcdef"

    def line() -> bytes:
        return ("{\"regs\":{" + sep.join(
            f'"{n}":"' + "".join(rng.choice(hexd) for _ in range(2 * reg_key(n).width)) + '"'
            for n in names) + "}}").encode()
    n = rng.choice([1, 2, 7, 8, 9, 16, 100, 1000, 2049])
    lines = [line() for _ in range(n)]
    for _ in range(rng.choice([0, 0, 1, 2, 5])):
        k = rng.randrange(n)
        b = bytearray(lines[k])
        b[rng.randrange(len(b))] = rng.choice(_SHAPE_BYTES)
        lines[k] = bytes(b)
    data = b"\n".join(lines) + b"\n"
    view: object = data
    if rng.random() < 0.3:          # (a view starting anywhere, as memory-map chunks do)
        pad = rng.randrange(1, 8)
        view = memoryview(bytearray(b"x" * pad) + data)[pad:]
    fast, slow = _parsed_rows(parse_chunk(view)), _parsed_rows(parse_lines(data))
    if fast != slow:
        raise Finding("mismatch", f"bulk and line parsers differ: {data[:600]!r}")
    return hashlib.sha256(repr(slow).encode()).hexdigest()


TARGETS["batch-shapes"] = t_batch_shapes


# ---- host extension contexts -----------------------------------------------------------------

_CTX_DIR: list[str] = []


def _context_file(blob: bytes) -> str:
    """A per-process scratch file holding ``blob`` (the CLI reads contexts from files)."""
    import os
    import tempfile
    if not _CTX_DIR:
        _CTX_DIR.append(tempfile.mkdtemp(prefix="aluvm-fuzz-ctx-"))
    path = os.path.join(_CTX_DIR[0], "context.json")
    with open(path, "wb") as fh:
        fh.write(blob)
    return path


_RGB_ISAE = "ALU BPDIGEST RGB"


def _rgb_forms(prof) -> list:
    """RGB's op forms, the count and load ops four times (the sum checks mostly fail a run)."""
    table = prof.table_for(_RGB_ISAE.split())
    ops = [f for forms in table for f in forms if 0xC0 <= f.opcode <= 0xD2 and f.special != RESERVED]
    return [f for f in ops for _ in range(1 if f.opcode >= 0xD0 else 4)]


def _host_run(lib: Lib, regs, prof, ctx, tier: str) -> dict:
    import aluvm
    from aluvm.host.rgb import prepare
    prepare(regs, ctx)
    out = _only((), lambda: aluvm.run(lib, regs, profile=prof, tier=tier, host=ctx), f"run --tier {tier}")[0]
    return service.state_dict(regs, out, lib)


def t_ext_contexts(rng: random.Random) -> str:
    """An RGB host context (JSON, mostly well-formed, sometimes byte-mutated) and a program of
    RGB contract ops over it: the context loader raises only ContextError (one line); a loaded
    context runs the program in both tiers with the same result (a host op's own error is the
    ``host`` outcome in both), twice the same; the CLI (``run --ext rgb --context FILE``) never
    prints a traceback nor exits 3, and one line on exit 2."""
    from aluvm.host.rgb import ContextError, load_context, profile as rgb_profile
    base = _profile(rng)
    prof = rgb_profile(base)
    doc = gen.rgb_context(rng)
    blob = json.dumps(doc).encode()
    if rng.random() < 0.2:
        blob = gen.mutate(rng, blob)
        try:
            doc = json.loads(blob)
        except ValueError:
            doc = None
    observed = []
    ctx = None
    if doc is not None:
        ctx, err = _only((ContextError,), lambda: load_context(doc), "load_context")
        observed.append(f"context error {err}" if ctx is None else "context ok")
    tys = [4000, 4001, 2000, 10]
    if ctx is not None:   # mostly the types the context has
        tys = sorted({*ctx.prev_state, *ctx.owned_state, *ctx.global_state, *ctx.metadata}) or tys
    code = gen.host_program(rng, base, _rgb_forms(prof), tys)
    lib = Lib.with_(_RGB_ISAE, code, rng.randbytes(rng.choice([0, 8])))
    if ctx is not None or rng.random() < 0.2:
        for _ in range(2):
            regs = gen.registers(rng)
            if rng.random() < 0.8:   # RGB's ops cost up to 1024: no complexity limit mostly
                regs.cl0 = None
            for i in range(4):   # the state indices RGB's load ops read (a16, a8 for ldg)
                if rng.random() < 0.8:
                    regs.a[1][i] = rng.randrange(3)
                    regs.a[0][i] = rng.randrange(3)
            a, b, c = (_host_run(lib, r, prof, ctx, t) for r, t in
                       ((regs.copy(), "interp"), (regs.copy(), "jit"), (regs.copy(), "interp")))
            for st in (a, b):
                if "internal_error" in st:
                    raise Finding("crash", f"{st['internal_error']} code={code.hex()} ctx={blob[:300]!r}")
            if a != b:
                diff = {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}
                raise Finding("mismatch", f"rgb {base} code={code.hex()} ctx={blob[:400]!r} diff={str(diff)[:500]}")
            if a != c:
                raise Finding("nondeterminism", f"rgb interp twice differs: code={code.hex()} ctx={blob[:300]!r}")
            observed.append(json.dumps(a, sort_keys=True))
    if rng.random() < 0.25:
        observed.append(_cli_context(["run", "--code", code.hex(), "--ext", "rgb", "--profile", base,
                                      "--context", _context_file(blob), "--json"]))
    return "\n".join(observed)


def _cli_context(argv: list[str]) -> str:
    code, out, text = _cli_checked(argv)
    # the scratch file's name differs between processes: keep it out of the digest
    return f"{code} {out} {text.replace(argv[argv.index('--context') + 1], 'FILE')}"


TARGETS["ext-contexts"] = t_ext_contexts
