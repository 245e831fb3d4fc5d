"""The ``aluvm`` command line.

Exit status: 0 done (a run's own result is in its output), 1 differences found (``compare``,
``conform``), 2 bad input or usage (one line on stderr), 3 an internal error of this package (one
line on stderr; a bug).  No traceback reaches the user; a closed output pipe ends quietly.
``-`` means stdin (or stdout for ``-o``) wherever a file is read or written.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn, Optional, Sequence, Union

from aluvm import limits
from aluvm.errors import AluError, InputError
from aluvm.machine.registers import Registers
from aluvm.tools.hosting import add_host_args

EXIT_DIFFERENT = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class CliError(Exception):
    """A user-facing error: printed as one line, exit 2."""


# ---- loading programs -------------------------------------------------------------------

def load_lib(args: argparse.Namespace):
    """A Lib from ``LIB`` (library file or .aluasm) or ``--code/--data``."""
    from aluvm.library.files import load_file
    from aluvm.library.lib import Lib
    from aluvm.machine.features import default_isae
    profile = getattr(args, "profile", "reference")
    code_hex = getattr(args, "code", None)
    if code_hex is not None:
        _entry_label(args, None)
        try:
            code = bytes.fromhex(code_hex)
            data = bytes.fromhex(getattr(args, "data", None) or "")
        except ValueError:
            raise CliError("--code/--data must be hex") from None
        # the ISAE the reference writes for this machine (its features and host extensions)
        return Lib.with_(default_isae(profile), code, data)
    path = getattr(args, "lib", None)
    if not path:
        raise CliError("give a library file, an .aluasm file or --code HEX")
    profile = getattr(args, "profile", "reference")
    if path == "-":
        _entry_label(args, None)
        return _lib_from_bytes(_read_stdin(limits.ASM_SOURCE_MAX, "standard input"), profile)
    p = Path(path)
    if not p.exists():
        raise CliError(f"{path}: no such file")
    if p.suffix == ".aluasm":
        from aluvm.asm.assembler import assemble_program, read_source
        if p.stat().st_size > limits.ASM_SOURCE_MAX:
            raise CliError(f"{path}: source larger than {limits.ASM_SOURCE_MAX} bytes")
        prog = assemble_program(read_source(p), str(p), profile=profile)
        _entry_label(args, prog.labels)
        return prog.lib
    _entry_label(args, None)
    return load_file(p)


def _entry_label(args: argparse.Namespace, labels: Optional[dict]) -> None:
    """Resolve ``--entry LABEL`` (an .aluasm source's label) to its offset."""
    entry = getattr(args, "entry", None)
    if not isinstance(entry, str):
        return
    if labels is None:
        raise CliError(f"--entry {entry}: a label needs an .aluasm source (give an offset)")
    if entry not in labels:
        raise CliError(f"--entry {entry}: no such label (labels: {', '.join(sorted(labels)) or 'none'})")
    args.entry = labels[entry]


def _entry(text: str) -> "int | str":
    """``--entry``: an offset (u16) or a label of the .aluasm source."""
    if text.isidentifier():
        return text
    return _ranged(0, 0xFFFF, "--entry")(text)


def _read_stdin(limit: int, what: str) -> bytes:
    blob = sys.stdin.buffer.read(limit + 1)
    if len(blob) > limit:
        raise CliError(f"{what}: more than {limit} bytes")
    return blob


def _lib_from_bytes(blob: bytes, profile: str):
    """A library read from stdin: armored or binary library, else AluAsm source."""
    from aluvm.errors import LibraryError
    from aluvm.library.armor import from_armored
    from aluvm.library.lib import Lib
    head = blob.lstrip(b"\xef\xbb\xbf")
    if head.startswith(b"-----BEGIN "):
        try:
            return from_armored(head.decode("utf-8"))
        except UnicodeDecodeError:
            raise CliError("armored library on stdin is not valid UTF-8 text") from None
    try:
        return Lib.deserialize(blob)
    except LibraryError as e:
        try:
            text = blob.decode("utf-8")
        except UnicodeDecodeError:
            raise e from None
        from aluvm.asm import assemble
        return assemble(text, "<stdin>", profile=profile)


def build_registers(args: argparse.Namespace) -> Registers:
    regs = Registers()
    for item in getattr(args, "reg", None) or []:
        name, sep, val = item.partition("=")
        if not sep:
            raise CliError(f"--reg {item!r}: expected NAME=VALUE, e.g. a64[0]=0x05")
        try:
            set_register(regs, name.strip(), val.strip())
        except ValueError as e:
            raise CliError(f"--reg {item!r}: {e}") from None
    if getattr(args, "cl0", None) is not None:
        regs.cl0 = args.cl0
    if getattr(args, "st0", None) is not None:
        regs.st0 = args.st0 == "true"
    return regs


def set_register(regs: Registers, name: str, text: str) -> None:
    """Set a register from human text, with the meaning the same literal has in ``put``: an
    integer (0x.., 0b.., decimal); for F registers a decimal/special literal is the float value
    and a 0x/0b literal its bit pattern; for s16 hex bytes."""
    from aluvm.machine.registers import parse_name, reg_bytes
    fam, code, _ = parse_name(name)
    if fam == "s":
        regs.set_named(name, bytes.fromhex(text[2:] if text.startswith("0x") else text))
        return
    if fam == "f":
        from aluvm.asm.assembler import float_bits
        regs.set_named(name, float_bits(code, text).to_bytes(reg_bytes(fam, code), "big"))
        return
    value = int(text, 0)
    width = reg_bytes(fam, code)
    if not 0 <= value < 1 << (8 * width):
        raise InputError(f"value does not fit {name}")
    raw = value.to_bytes(width, "little" if fam == "r" else "big")
    regs.set_named(name, raw)


# ---- output -------------------------------------------------------------------------------

def print_state(state: dict[str, Any], as_json: bool, extra: Optional[dict] = None) -> None:
    if as_json:
        out = dict(state)
        if extra:
            out.update(extra)
        print(json.dumps(out, sort_keys=True))
        return
    print(f"st0  {str(state['st0']).lower()}    ({state.get('reason', '')})")
    print(f"cy0  {state['cy0']}")
    print(f"ca0  {state['ca0']}" + (f" / cl0 {state['cl0']}" if state.get("cl0") is not None else ""))
    print(f"cp0  {state['cp0']}")
    for name, val in state["regs"].items():
        print(f"{name:<12} 0x{val}" if not name.startswith("s16") else f"{name:<12} {val!r}")
    if extra:
        for k, v in extra.items():
            print(f"{k}: {v}")


# ---- subcommands --------------------------------------------------------------------------

def _runner(tier: str):
    from aluvm.tools.service import interp_runner
    if tier == "interp":
        return interp_runner
    if tier == "jit":
        from aluvm.jit.engine import jit_runner
        return jit_runner
    raise CliError(f"unknown tier {tier!r}")


def _execute(args: argparse.Namespace, tier: str) -> dict[str, Any]:
    from aluvm.machine.interp import get_profile
    from aluvm.tools.service import state_dict
    from aluvm.tools.hosting import prepare
    lib = load_lib(args)
    regs = build_registers(args)
    prepare(regs, getattr(args, "host_context", None), getattr(args, "host_exts", ()))
    get_profile(args.profile)
    outcome = _runner(tier)(lib, regs, args.entry, args.profile)
    return state_dict(regs, outcome, lib)


def _execute_traced(args: argparse.Namespace, tier: str, keep: bool = False):
    """A traced run in ``tier``; records go to stderr as they happen (unless ``keep``, which
    collects them instead).  Returns the final state and the trace run."""
    from aluvm.machine.interp import get_profile
    from aluvm.tools.service import state_dict
    from aluvm.tools.trace import step_line, traced_run
    lib = load_lib(args)
    regs = build_registers(args)
    get_profile(args.profile)
    fmt = args.trace_format

    def emit(step) -> None:
        print(step_line(step, fmt), file=sys.stderr)
    run = traced_run(lib, regs, args.entry, args.profile, tier,
                     sink=None if keep else emit, keep=keep)
    if run.truncated and not keep:
        from aluvm.limits import TRACE_LINES_MAX
        print(f"aluvm: trace truncated after {TRACE_LINES_MAX} records; the run went on "
              "untraced to its end (the final state is complete)", file=sys.stderr)
    return state_dict(regs, run.outcome, lib), run


def _run_status(state: dict[str, Any]) -> int:
    """A run that ended in an internal error printed its state; say so and exit 3."""
    if "internal_error" in state:
        print(f"aluvm: internal error: {state['internal_error']}", file=sys.stderr)
        return EXIT_INTERNAL
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    if args.trace:
        state, _ = _execute_traced(args, "interp")
    else:
        state = _execute(args, "interp")
    print_state(state, args.json)
    return _run_status(state)


def cmd_jit(args: argparse.Namespace) -> int:
    """``--trace`` runs the JIT tier one instruction per native call (see
    :mod:`aluvm.tools.jitstep`); ``--stats`` then says so and counts the steps."""
    if args.trace:
        state, run = _execute_traced(args, "jit")
        print_state(state, args.json, run.stats if args.stats else None)
        return 0
    from aluvm.jit.engine import last_stats
    if args.emit:       # print what the JIT makes of the library instead of running it
        from aluvm.jit.engine import emit
        from aluvm.machine.interp import Program, get_profile
        lib = load_lib(args)
        prog = Program(lib.code, lib.data, lib.libs, lib.id, get_profile(args.profile), lib.isae)
        print(emit(prog, args.emit, {0, args.entry}), end="")
        return 0
    state = _execute(args, "jit")
    print_state(state, args.json, last_stats() if args.stats else None)
    return _run_status(state)


def cmd_compare(args: argparse.Namespace) -> int:
    """Final states of both tiers; with ``--trace`` also both traces, and the first
    instruction at which they part."""
    a = _execute(args, "interp")
    b = _execute(args, "jit")
    diffs = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    report: dict[str, Any] = {"identical": not diffs, "differences": {
        k: {"interp": a.get(k), "jit": b.get(k)} for k in diffs}}
    first = None
    if args.trace:
        from aluvm.tools.trace import first_difference
        _, ta = _execute_traced(args, "interp", keep=True)
        _, tb = _execute_traced(args, "jit", keep=True)
        first = first_difference(ta.steps, tb.steps)
        report["trace"] = {"identical": first is None, "steps": [len(ta.steps), len(tb.steps)],
                           "truncated": [ta.truncated, tb.truncated],
                           "first_difference": first.to_json() if first else None,
                           "jit_path": tb.stats}
        report["identical"] = not diffs and first is None
    if args.json:
        print(json.dumps(report, sort_keys=True))
    else:
        for k in diffs:
            print(f"{k}: interp={a.get(k)!r} jit={b.get(k)!r}")
        if first is not None:
            print(first.describe())
        if report["identical"]:
            shown = f" (traces of {len(ta.steps)} steps" if args.trace else ""
            if args.trace:
                shown += ("; later steps not recorded)" if ta.truncated else ")")
            print("identical" + shown)
    if not report["identical"]:
        return EXIT_DIFFERENT
    return max(_run_status(a), _run_status(b))


def cmd_debug(args: argparse.Namespace) -> int:
    """An interactive step debugger (see :mod:`aluvm.tools.debugger`)."""
    from aluvm.machine.interp import get_profile
    from aluvm.tools.debugger import Debugger, Session, labels_for
    from aluvm.tools.hosting import prepare
    lib = load_lib(args)
    regs = build_registers(args)
    prepare(regs, getattr(args, "host_context", None), getattr(args, "host_exts", ()))
    get_profile(args.profile)
    source = args.source or (args.lib if args.lib and args.lib.endswith(".aluasm") else None)
    try:
        labels = labels_for(source, lib, args.profile)
    except ValueError as e:
        raise CliError(str(e)) from None
    session = Session(lib, regs, args.entry, args.profile, labels)
    Debugger(session, as_json=args.json).cmdloop()
    return 0


def cmd_fmt(args: argparse.Namespace) -> int:
    """Rewrite .aluasm files in canonical layout; ``--check``: only report (exit 1 if any
    would change); ``--stdout``: print instead of writing."""
    from aluvm.tools.fmt import FormatError, format_file
    changed = []
    for name in args.files:
        if not Path(name).exists():
            raise CliError(f"{name}: no such file")
        try:
            text, differs = format_file(name, args.profile, write=not (args.check or args.stdout))
        except FormatError as e:
            raise CliError(str(e)) from None
        if args.stdout:
            print(text, end="")
        if differs:
            changed.append(name)
    if args.check:
        for name in changed:
            print(f"{name}: not in canonical layout")
        return 1 if changed else 0
    if not args.stdout:
        for name in changed:
            print(f"{name}: formatted", file=sys.stderr)
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    """Control-flow graph, dead code, certain failures, JIT coverage and counter bounds."""
    from aluvm.machine.interp import get_profile
    from aluvm.tools.analyze import analyze, to_dot, to_text
    from aluvm.tools.debugger import labels_for
    lib = load_lib(args)
    get_profile(args.profile)
    source = args.lib if args.lib and args.lib.endswith(".aluasm") else None
    labels = labels_for(source, lib, args.profile) if source else {}
    a = analyze(lib, args.entry, args.profile, cl0=args.cl0)
    if args.json:
        out = a.to_json()
        out["labels"] = labels
        print(json.dumps(out, sort_keys=True))
    elif args.dot:
        print(to_dot(a, labels), end="")
    else:
        print(to_text(a, labels), end="")
    return 0


def cmd_disasm(args: argparse.Namespace) -> int:
    lib = load_lib(args)
    from aluvm.asm import disassemble
    print(disassemble(lib, raw=args.raw, profile=args.profile), end="")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from aluvm.library.ids import lib_id_display
    lib = load_lib(args)
    info = {"id": lib_id_display(lib.id), "id_hex": lib.id.hex(), "isae": lib.isae_string(),
            "code_len": len(lib.code), "data_len": len(lib.data),
            "libs": [lib_id_display(x) for x in lib.libs]}
    if args.json:
        print(json.dumps(info, sort_keys=True))
    else:
        for k, v in info.items():
            print(f"{k:<9} {v}")
    return 0


def asm_output(source: str, output: Optional[str]) -> str:
    """Where ``aluvm asm`` writes: ``-o`` (``-`` = stdout), else the source with ``.alu``;
    never the source itself."""
    if output is None:
        if source == "-":
            return "-"
        output = str(Path(source).with_suffix(".alu"))
        if output == source:
            raise CliError(f"{source}: the output would overwrite the source; give -o FILE")
    if output != "-" and source != "-" and Path(output).exists() and (
            os.path.samefile(output, source)):
        raise CliError(f"{output}: the output would overwrite the source; give another -o")
    return output


def cmd_asm(args: argparse.Namespace) -> int:
    from aluvm.asm import assemble, assemble_file
    from aluvm.library.files import save_file
    out = asm_output(args.file, args.output)
    if args.file == "-":
        blob = _read_stdin(limits.ASM_SOURCE_MAX, "standard input")
        try:
            text = blob.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CliError(f"<stdin>: not UTF-8 text ({e.reason} at byte {e.start})") from None
        lib = assemble(text, "<stdin>", profile=args.profile)
    else:
        if not Path(args.file).exists():
            raise CliError(f"{args.file}: no such file")
        lib = assemble_file(Path(args.file), profile=args.profile)
    if out == "-":
        sys.stdout.buffer.write(lib.serialize())
        sys.stdout.flush()
        return 0
    save_file(lib, out)
    print(f"{out}: {len(lib.code)} code bytes, {len(lib.data)} data bytes")
    return 0


def _open_input(path: Optional[str]):
    """A binary stream of input lines (``-``/None: stdin)."""
    if path in (None, "-"):
        return sys.stdin.buffer
    p = Path(path)
    if not p.exists():
        raise CliError(f"{path}: no such file")
    return p.open("rb")


def _answer(reply: dict[str, Any]) -> None:
    print(json.dumps(reply, sort_keys=True), flush=True)


def cmd_exec(args: argparse.Namespace) -> int:
    from aluvm.machine.interp import get_profile
    from aluvm.tools.service import RequestError, handle, json_lines
    from aluvm.tools.hosting import with_host
    get_profile(args.profile)
    runner = with_host(_runner(args.tier), args.host_context, args.host_exts)
    internal = False
    with _open_input(args.file) as fh:
        for req in json_lines(fh):
            if isinstance(req, RequestError):
                _answer({"ok": False, "error": str(req)})
                continue
            reply = handle(req, args.profile, runner)
            internal = internal or "internal_error" in reply
            _answer(reply)
    return EXIT_INTERNAL if internal else 0


def cmd_batch(args: argparse.Namespace) -> int:
    """One library over many inputs: JSON lines (or a Parquet/Arrow file) in, JSON lines out,
    a one-line summary on stderr."""
    paths = list(args.paths)
    if args.code is None and len(paths) != 2:
        raise CliError("usage: aluvm batch (LIB | --code HEX [--data HEX]) INPUTS [--out FILE]")
    if args.code is not None and len(paths) != 1:
        raise CliError("with --code give exactly one INPUTS file ('-' for stdin)")
    if args.code is None:
        args.lib = paths.pop(0)
    inputs = paths[0]
    if args.ray_address and args.engine != "ray":
        raise CliError("--ray-address needs --engine ray")
    if "numpy" not in sys.modules:
        # numpy's OpenBLAS would start a thread per core at import that spins for work (~0.1 s
        # of CPU per run measured on 2 cores, taken from the batch threads); batches do no
        # linear algebra.  (A user's own setting wins.)
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _keep_freed_memory()
    lib = load_lib(args)
    from aluvm.tools.batch import Batch
    outputs = None
    if args.outputs is not None:
        from aluvm.tools.columns import reg_key
        outputs = [n.strip() for n in args.outputs.split(",") if n.strip()]
        for name in outputs:
            reg_key(name)           # ValueError -> one line, exit 2
    batch = Batch(lib, tier=args.tier, threads=1, entry=args.entry, profile=args.profile,
                  cl0=args.cl0, outputs=outputs, engine=args.engine, ray_address=args.ray_address,
                  host=args.host_context)
    if args.engine == "ray":
        from aluvm.tools.batch_ray import connect
        connect(args.ray_address, args.threads)
    summary = _batch_stream(batch, inputs, args)
    print(f"aluvm batch: {summary.line()}", file=sys.stderr)
    _freeze_heap()              # (again: what the run imported, for the exit)
    if args.fail_on_invalid and (summary.invalid or summary.errors):
        return 1
    return 0


def _batch_stream(batch: Any, inputs: str, args: argparse.Namespace) -> Any:
    if inputs != "-":
        _check_input(inputs)
    # everything is checked: the output file is opened now, on a thread of its own, while the
    # rest of the pipeline is imported here (dropping an old 300 MB output frees its page
    # cache: ~70 ms of system time that start-up, on one core, leaves the other core for)
    to_file = not args.quiet and args.out not in (None, "-")
    same = to_file and inputs != "-" and Path(args.out).exists() and \
        os.path.samefile(inputs, args.out)
    opening = _Opening(args.out, replace=not same) if to_file else None
    try:
        if same and opening is not None:
            opening.result()    # (as ever: the input is read after the output truncated it)
        return _batch_run(batch, inputs, args, opening, same)
    finally:
        if opening is not None:
            opening.close()


def _check_input(path: str) -> None:
    """An input path must exist and not be a directory; a named pipe, ``/dev/stdin`` or a
    process substitution (``<(...)``) is read as a stream like ``-``."""
    import stat
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except OSError as e:
        raise CliError(f"{path}: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise CliError(f"{path}: is a directory")


def _keep_freed_memory() -> None:
    """glibc's malloc: serve allocations up to 32 MB from the heap and keep up to 512 MB of
    freed heap.  numpy's temporaries of a 2,048-row block are hundreds of KB, above malloc's
    default mmap threshold: each was a fresh mapping, so every page of it faulted on first
    touch (measured: 63k -> 18k minor faults per million lines, ~0.1 s less system time).
    The command's memory peak is unchanged; other C libraries ignore this."""
    import ctypes
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):     # (not glibc; no CDLL(None) on Windows)
        return
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    mallopt(M_MMAP_THRESHOLD, 32 << 20)
    mallopt(M_TRIM_THRESHOLD, 512 << 20)


def _replace_output(path: str, mode: str = "wb") -> Any:
    """``open(path, "wb")``, except that an existing non-empty regular file of this user with
    a single link (not a symlink) is replaced by a new file with the same permission bits
    rather than truncated.  ext4 (``auto_da_alloc``) treats truncate-and-rewrite as a file
    replacement and writes the whole new content out to disk when it is closed: closing a
    rewritten 300 MB output took 0.11-0.14 s, a new file's close none (its pages are written
    back in the background, as any new file's).  Anything else - and any failure on the way -
    is opened as before."""
    import stat
    try:
        st = os.lstat(path)
        mine = st.st_uid == os.getuid()
    except (OSError, AttributeError):       # (no such file; no getuid: not POSIX)
        return open(path, mode)
    if not (stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_size > 0 and mine):
        return open(path, mode)
    try:
        os.unlink(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return open(path, mode)
    try:
        os.fchmod(fd, stat.S_IMODE(st.st_mode))
    except OSError:
        pass
    return os.fdopen(fd, mode)


def _freeze_heap() -> None:
    """Move every object alive now out of the garbage collector's sight (:func:`gc.freeze`).
    The command's objects so far - modules of numpy, pyarrow, llvmlite... - live until the
    process ends: the collections during the run and the ones at exit then scan far less
    (measured: exit ~38 -> ~12 ms).  Cyclic garbage among them is never freed, which a
    command ending right after does not mind."""
    import gc
    gc.freeze()


class _Opening:
    """``open(path, "wb")`` on a thread of its own: :meth:`result` is the file (or raises what
    ``open`` raised), :meth:`close` closes it.  It is also the output stream itself (``write``,
    ``writelines``, ``flush``): the first write waits for the file, so the run starts while
    the old file is still being truncated."""

    def __init__(self, path: str, replace: bool = True) -> None:
        import threading
        self._file: Any = None
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._open, args=(path, replace), daemon=True,
                                        name="aluvm-open-output")
        self._thread.start()

    def _open(self, path: str, replace: bool) -> None:
        try:
            self._file = (_replace_output if replace else open)(path, "wb")
        except BaseException as e:         # (raised again by result(), in the main thread)
            self._error = e

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._file

    def write(self, data: Any) -> int:
        return self.result().write(data)

    def writelines(self, parts: Any) -> None:
        self.result().writelines(parts)

    def flush(self) -> None:
        self.result().flush()

    def close(self) -> None:
        self._thread.join()
        if self._file is not None:
            self._file.close()


def _batch_run(batch: Any, inputs: str, args: argparse.Namespace, opening: Optional[_Opening],
               same: bool) -> Any:
    from aluvm.tools.jsonl import CHUNK_LINES, chunk_views, chunks, read_columnar
    from aluvm.tools.pipeline import run_stream, write_results
    _freeze_heap()
    lower = inputs.lower()
    columnar = lower.endswith((".parquet", ".pq", ".arrow", ".feather", ".ipc", ".arrows"))
    lines = CHUNK_LINES * (4 if args.engine == "ray" else 1)
    bar = _progress(inputs)
    src = None
    # (the file this process reads, or the path Ray's workers and pyarrow open)
    by_fd = not columnar and args.engine != "ray"
    if columnar:
        items: Any = read_columnar(inputs, lines)
    else:
        src = sys.stdin.buffer if inputs == "-" else open(inputs, "rb")
        # views of reused read buffers when the chunks stay in this process (read, not
        # memory-mapped: a map of a file truncated under it dies of SIGBUS)
        items = chunks(src, lines) if args.engine == "ray" else chunk_views(src, lines)
    # an input file written to while it is read - appended, rewritten, truncated - may have
    # been read in part (reads in blocks, the byte ranges of --engine ray): said, not hidden
    watched: Union[str, int, None] = None
    if inputs != "-" and not same:
        watched = src.fileno() if by_fd and src is not None else inputs
    before = None if watched is None else _file_state(watched)
    out: Any = None
    try:
        if not args.quiet:
            out = sys.stdout.buffer if opening is None else opening
        if args.engine == "ray" and not columnar:
            summary = write_results(_ray_jsonl(batch, inputs, src, items), out,
                                    bar.update if bar else None)
        else:
            ranged = _ray_columnar(batch, inputs) if args.engine == "ray" else None
            if ranged is not None:
                summary = write_results(ranged, out, bar.update if bar else None)
            else:
                summary = run_stream(batch, items, out, args.threads,
                                     bar.update if bar else None)
        if opening is not None:
            opening.result()        # (no output line at all: the file must still open)
        if watched is not None and before is not None and _file_state(watched) != before:
            raise CliError(f"{inputs}: the file changed while it was read: its output may "
                           f"miss inputs or hold a mix of old and new ones")
        return summary
    finally:
        if bar is not None:
            bar.close()
        if src is not None and src is not sys.stdin.buffer:
            src.close()
        if out is sys.stdout.buffer:
            out.flush()


def _file_state(path: Union[str, int]) -> Optional[tuple[int, int, int, int]]:
    """(device, inode, size, modification time) of a regular file (a path or an open file
    descriptor), else None (a pipe)."""
    import stat
    try:
        st = os.stat(path)
    except OSError:
        return (0, 0, -1, -1)       # (removed meanwhile: unequal to any file's)
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _ray_jsonl(batch: Any, inputs: str, src: Any, items: Any) -> Any:
    """``--engine ray`` on JSON lines: workers parse, run and format.  A file on this machine
    when every Ray node is this machine: tasks get byte ranges and read them themselves;
    otherwise (stdin, a remote cluster) the chunks travel with the tasks."""
    from aluvm.tools.batch_ray import _one_machine, file_ranges, jsonl_on_ray
    from aluvm.tools.jsonl import CHUNK_LINES
    first = None
    if inputs != "-" and Path(inputs).is_file():
        with open(inputs, "rb") as fh:
            first = fh.readline(1 << 16)
        if _one_machine():
            # (equal ranges, a whole number of them per CPU and at least two, each at most
            # ~16 MB: 5 ranges on 2 CPUs left one CPU idle for the last fifth)
            import ray
            cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
            size = os.path.getsize(inputs)
            per = max(2, -(-size // (cpus * CHUNK_LINES * 256)))
            items = file_ranges(str(Path(inputs).resolve()), max(1, -(-size // (cpus * per))))
    else:           # (stdin or a pipe: the first chunk's first line names the registers)
        import itertools
        items = iter(items)
        head = next(items, None)
        if head is not None:
            first = head[:head.find(b"\n") + 1] or head
            items = itertools.chain([head], items)
    return jsonl_on_ray(batch, items, first)


def _ray_columnar(batch: Any, inputs: str) -> Any:
    """``--engine ray`` on a Parquet / Arrow IPC file every Ray node can read (all nodes are
    this machine): tasks read their own row groups / row ranges, run and format them.
    None otherwise (the driver reads the file; chunks travel through the object store)."""
    import pyarrow as pa
    from aluvm.tools.batch_ray import _one_machine, columnar_on_ray
    from aluvm.tools.jsonl import CHUNK_LINES
    if not _one_machine():
        return None
    try:
        return columnar_on_ray(batch, str(Path(inputs).resolve()), CHUNK_LINES * 4)
    except pa.ArrowInvalid:         # (an Arrow IPC stream: no random access)
        return None


def _progress(inputs: str) -> Any:
    """A progress bar with the rate when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    return tqdm(unit=" inputs", unit_scale=True, file=sys.stderr, desc="aluvm batch",
                dynamic_ncols=True)


def _conform_file(job: tuple) -> dict:
    """One vector file (a worker of ``conform --jobs``)."""
    from aluvm.tools.conform import iter_vectors, run_vectors
    from aluvm.tools.hosting import resolve_profile
    from aluvm.tools.service import handle
    path, tier, profile_name, features, exts = job
    profile: Any = profile_name
    if features is not None or exts:
        profile = resolve_profile(profile_name, features, list(exts))
    runner = _runner(tier)
    return run_vectors(iter_vectors([path]), lambda req: handle(req, profile, runner))


def cmd_conform(args: argparse.Namespace) -> int:
    from aluvm.tools.conform import merge, summary, vector_files
    for p in args.paths:
        if not Path(p).exists():
            raise CliError(f"{p}: no such file or directory")
    jobs = [(str(f), args.tier, args.profile_name, args.features, tuple(args.ext))
            for f in vector_files(args.paths)]
    if not jobs:
        raise CliError(f"no vector files (*.jsonl, *.jsonl.gz) in {', '.join(args.paths)}")
    if args.jobs > 1 and len(jobs) > 1:
        import multiprocessing
        # largest files first so the workers finish together
        jobs.sort(key=lambda j: -Path(j[0]).stat().st_size)
        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            results = merge(pool.imap_unordered(_conform_file, jobs))
    else:
        results = merge(_conform_file(j) for j in jobs)
    s = summary(results)
    if args.json:
        print(json.dumps(s, sort_keys=True))
    else:
        for name, r in s["families"].items():
            flag = "ok  " if r["failed"] == 0 and r["flagged_failed"] == 0 else "FAIL"
            text = f", text mismatches {r['text_mismatch']}" if r["text_mismatch"] else ""
            print(f"{flag} {name:<9} passed {r['passed']:>5}  failed {r['failed']:>4}   "
                  f"flagged (panic/hang) passed {r['flagged_passed']:>4} failed {r['flagged_failed']:>3}{text}")
            for f in r["failures"][: args.show]:
                print(f"       {f}")
        t = s["total"]
        print(f"total: passed {t.get('passed', 0)}, failed {t.get('failed', 0)}, flagged passed "
              f"{t.get('flagged_passed', 0)}, flagged failed {t.get('flagged_failed', 0)}")
    return 0 if s["ok"] else 1


# ---- argument parsing ---------------------------------------------------------------------

def _ranged(lo: int, hi: int, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be an integer, got {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{what} must be in [{lo}, {hi}], got {value}")
        return value
    return parse


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        raise CliError(message)


def _lib_args(p: argparse.ArgumentParser) -> None:
    """The library a subcommand reads (a file, or segments as hex) and the profile it decodes with."""
    p.add_argument("lib", nargs="?", help="library file (.alu) or assembly (.aluasm)")
    p.add_argument("--code", help="code segment as hex (instead of LIB)")
    p.add_argument("--data", help="data segment as hex (with --code)")
    p.add_argument("--profile", default="reference", choices=("reference", "spec"))


def _program_args(p: argparse.ArgumentParser) -> None:
    _lib_args(p)
    p.add_argument("--reg", action="append", metavar="NAME=VALUE", help="initial register, e.g. a64[0]=0x05")
    p.add_argument("--cl0", type=_ranged(0, 2**64 - 1, "--cl0"), help="complexity limit (u64)")
    p.add_argument("--st0", choices=("true", "false"), help="initial st0")
    p.add_argument("--entry", type=_entry, default=0, help="entry offset (u16) or .aluasm label")
    p.add_argument("--trace", action="store_true",
                   help="print one record per executed instruction to stderr")
    p.add_argument("--trace-format", choices=("text", "jsonl"), default="text",
                   help="trace records as readable text (default) or JSON lines")
    p.add_argument("--json", action="store_true", help="final state as one JSON object")
    add_host_args(p)


class _LazyVersion(argparse._VersionAction):
    """``--version``: the installed version is looked up only when asked for (reading the
    package metadata costs ~15 ms of every command's start-up)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: Optional[str] = None) -> None:
        self.version = f"aluvm {_version()} (rust-aluvm v0.11.0-beta.6 compatible)"
        super().__call__(parser, namespace, values, option_string)


def make_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="aluvm", description="AluVM (rust-aluvm v0.11.0-beta.6 compatible)")
    ap.add_argument("--version", action=_LazyVersion)
    sub = ap.add_subparsers(dest="cmd", parser_class=_Parser)
    p = sub.add_parser("run", help="run a library in the interpreter")
    _program_args(p)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("jit", help="run a library with the LLVM JIT")
    _program_args(p)
    p.add_argument("--stats", action="store_true", help="compiled/fallback counts, compile time, cache")
    p.add_argument("--emit", choices=("llvm", "opt", "asm"),
                   help="print the generated LLVM IR, the optimised IR or the assembly; do not run")
    p.set_defaults(func=cmd_jit)
    p = sub.add_parser("compare", help="run both tiers and diff every field (exit 1 on difference)")
    _program_args(p)
    p.set_defaults(func=cmd_compare)
    p = sub.add_parser("debug", help="step debugger (pdb/gdb-like prompt; commands from stdin too)")
    _program_args(p)
    p.add_argument("--source", help="the .aluasm source of LIB, for its labels")
    p.set_defaults(func=cmd_debug)
    p = sub.add_parser("analyze", help="control flow, dead code, JIT coverage, ca0/cy0 bounds")
    _lib_args(p)
    p.add_argument("--entry", type=_entry, default=0, help="entry offset (u16) or .aluasm label")
    p.add_argument("--cl0", type=_ranged(0, 2**64 - 1, "--cl0"), help="complexity limit (u64)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--dot", action="store_true", help="the control-flow graph as Graphviz DOT")
    add_host_args(p, context=False)
    p.set_defaults(func=cmd_analyze)
    p = sub.add_parser("fmt", help="rewrite .aluasm sources in canonical layout")
    p.add_argument("files", nargs="+", metavar="FILE.aluasm")
    p.add_argument("--check", action="store_true", help="exit 1 if a file is not formatted")
    p.add_argument("--stdout", action="store_true", help="print the formatted text")
    p.add_argument("--profile", default="reference", choices=("reference", "spec"))
    add_host_args(p, context=False)
    p.set_defaults(func=cmd_fmt)
    p = sub.add_parser("disasm", help="disassemble a library")
    _lib_args(p)
    p.add_argument("--raw", action="store_true", help="the reference's exact display text")
    add_host_args(p, context=False)
    p.set_defaults(func=cmd_disasm)
    p = sub.add_parser("info", help="library id, ISA extensions, segment sizes")
    _lib_args(p)
    p.add_argument("--json", action="store_true")
    add_host_args(p, context=False)
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("asm", help="assemble an .aluasm file into a library file")
    p.add_argument("file", help="AluAsm source (- = stdin)")
    p.add_argument("--profile", default="reference", choices=("reference", "spec"))
    p.add_argument("-o", "--output", help="library file (- = stdout; default: FILE with .alu)")
    add_host_args(p, context=False)
    p.set_defaults(func=cmd_asm)
    p = sub.add_parser("exec", help="answer JSON-line requests (vector format)")
    p.add_argument("file", nargs="?", default="-")
    p.add_argument("--tier", default="interp", choices=("interp", "jit"))
    p.add_argument("--profile", default="reference", choices=("reference", "spec"))
    add_host_args(p)
    p.set_defaults(func=cmd_exec)
    p = sub.add_parser("batch", help="run one library over many inputs (JSON lines in and out)")
    p.add_argument("paths", nargs="*", metavar="LIB INPUTS",
                   help="library file (omit with --code) and the inputs: JSON lines, '-' for "
                        "stdin, or a .parquet/.arrow file")
    p.add_argument("--code", help="code segment as hex (instead of LIB)")
    p.add_argument("--data", help="data segment as hex (with --code)")
    p.add_argument("--out", help="output file ('-' or absent: stdout)")
    p.add_argument("--threads", type=_ranged(1, 256, "--threads"), default=os.cpu_count() or 1)
    p.add_argument("--tier", default="jit", choices=("interp", "jit"))
    p.add_argument("--entry", type=_entry, default=0, help="entry offset (u16) or .aluasm label")
    p.add_argument("--cl0", type=_ranged(0, 2**64 - 1, "--cl0"), help="complexity limit (u64)")
    p.add_argument("--profile", default="reference", choices=("reference", "spec"))
    p.add_argument("--outputs", help="registers to report, e.g. a64[0],a16[2] (default: all defined)")
    p.add_argument("--engine", default="local", choices=("local", "ray"))
    p.add_argument("--ray-address", help="join this Ray cluster (default: a local Ray instance)")
    p.add_argument("--fail-on-invalid", action="store_true",
                   help="exit 1 when any input is invalid or an error")
    p.add_argument("--quiet", action="store_true", help="only the summary line")
    add_host_args(p)
    p.set_defaults(func=cmd_batch)
    p = sub.add_parser("conform", help="run vector files and report per family")
    p.add_argument("paths", nargs="+")
    p.add_argument("--tier", default="interp", choices=("interp", "jit"))
    p.add_argument("--profile", default="reference", choices=("reference", "spec"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--show", type=int, default=5, help="failures to show per family")
    p.add_argument("--jobs", "-j", type=_ranged(1, 64, "--jobs"), default=1,
                   help="worker processes (one vector file each)")
    add_host_args(p, context=False)
    p.set_defaults(func=cmd_conform)
    return ap


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("aluvm")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _quiet_stdout() -> None:
    """The reader of our output went away (``| head``): send the rest to /dev/null so the
    interpreter's final flush cannot complain either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # pragma: no cover - stdout is not a real file
        pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        args = make_parser().parse_args(argv)
        if not getattr(args, "func", None):
            raise CliError("missing subcommand (run, jit, compare, debug, analyze, fmt, asm, disasm, info, "
                           "exec, batch, conform)")
        args.profile_name = getattr(args, "profile", "reference")
        from aluvm.tools.hosting import apply
        apply(args)
        return args.func(args)
    except SystemExit as e:   # --version, --help
        return int(e.code or 0)
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except CliError as e:
        print(f"aluvm: error: {_one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except (AluError, OSError) as e:   # bad input (AluError covers InputError) or a file
        print(f"aluvm: error: {_one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except UnicodeDecodeError as e:   # a text input (source, context, vectors) that is not UTF-8
        print(f"aluvm: error: input is not UTF-8 text ({e.reason} at byte {e.start})", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError:
        print("aluvm: error: out of memory", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        # a bug - including a plain ValueError or RecursionError, which user input never causes
        # (it is bounded and reported as an AluError): exit 3, never a traceback (tests:
        # ALUVM_STRICT raises)
        from aluvm.machine.interp import STRICT
        if STRICT:
            raise
        print(f"aluvm: internal error (a bug in aluvm, please report it): {type(e).__name__}: "
              f"{_one_line(e)}", file=sys.stderr)
        return EXIT_INTERNAL


def _one_line(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return " ".join(text.split())[:2000]


if __name__ == "__main__":
    sys.exit(main())
