"""Batch validation throughput: one script, many inputs (the product's main workload).

Everything is measured in this one process, interleaved round by round, medians reported:

* the native batch kernel (``aluvm.Batch``, numpy columns) at 1 and 2 threads, against the
  interpreter's batch path and the old per-input path (a ``Registers`` per input through
  ``jit_runner``), for validate20 (20 straight-line instructions over 14 registers) and a
  fallback-heavy script (sha256 over an S register);
* the kernel's CPU time per run at 1 and 2 threads (equal: the threads do not slow each other
  down, so on a loaded machine the wall-clock gain is what the free cores allow);
* the real ``aluvm batch`` command end to end, in a process of its own, file to file (JSON lines
  generated here; and Parquet in), at 1 and 2 threads: the summary line's rate (reading,
  parsing, running, formatting, writing) and the whole process's (with interpreter start-up);
* with ``--ray``: the Ray engine on a local 2-worker instance against local threads, for the
  ``aluvm batch`` pipeline (JSON lines or Parquet file to file, in this process) and the
  Python API (:data:`RAY_CASES` says what each row times).

    python bench/bench_batch.py                      # quick (N = 200,000)
    python bench/bench_batch.py --n 1000000 --ray    # every figure of issue 10, side by side
"""
from __future__ import annotations

import argparse
import io
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VALIDATE20 = bytes.fromhex(
    "18016101180062012000630119012101201023011819240118004101191143012803211a23012a0321")
#: the reference's quoted batch rate (it allocates a 2 MB call stack per VM)
REFERENCE_RUNS_PER_S = 8_400


def v20_columns(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Inputs that satisfy most of validate20's conditions (a mix of verdicts)."""
    rng = np.random.default_rng(seed)
    c: dict[str, np.ndarray] = {}
    for bank, count, dt in (("a16", 5, np.uint16), ("a32", 4, np.uint32), ("a64", 5, np.uint64)):
        for i in range(count):
            c[f"{bank}[{i}]"] = rng.integers(0, 3, n, dtype=dt)
    c["a64[1]"] += 3
    c["a64[2]"][:] = 0
    c["a16[1]"] = c["a16[0]"].copy()
    c["a16[4]"] += 4
    c["a32[0]"] += 2
    c["a32[3]"] = c["a32[2]"].copy()
    c["a64[4]"] = np.where(rng.random(n) < 0.8, 0, c["a64[4]"]).astype(np.uint64)
    return c


def rate(fn: Callable[[], Any], n: int, rounds: int) -> float:
    """Median runs/s of ``fn`` (processing ``n`` inputs) over ``rounds``."""
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return n / statistics.median(times)


def interleaved(cases: dict[str, tuple[Callable[[], Any], int]], rounds: int) -> dict[str, float]:
    """Each case once per round, round after round; median runs/s per case."""
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(rounds):
        for name, (fn, _) in cases.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: cases[k][1] / statistics.median(v) for k, v in times.items()}


def interleaved_cpu(cases: dict[str, Callable[[], Any]], rounds: int
                    ) -> dict[str, tuple[float, float]]:
    """Each case once per round; median (wall seconds, process CPU seconds) per case."""
    wall: dict[str, list[float]] = {k: [] for k in cases}
    cpu: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            fn()
            t1, r1 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
            wall[name].append(t1 - t0)
            cpu[name].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in cases}


def old_path(lib: Any, cols: dict[str, np.ndarray], n: int) -> Callable[[], None]:
    """The per-input path before the kernel: a Registers per input through jit_runner."""
    from aluvm.jit.engine import jit_runner
    from aluvm.machine.registers import Registers, parse_name
    regs_of = [(parse_name(k), v[:n].tolist()) for k, v in cols.items()]

    def go() -> None:
        for j in range(n):
            regs = Registers()
            for (fam, code, idx), vals in regs_of:
                if fam == "a":
                    regs.a[code][idx] = vals[j]
                else:
                    regs.s[idx] = vals[j]
            jit_runner(lib, regs, 0, "reference")
    return go


def bench_api(n: int, rounds: int) -> list[tuple[str, float]]:
    from aluvm import DEFAULT_ISAE, Batch, Lib
    from aluvm.asm import assemble_file
    rows: list[tuple[str, float]] = []
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    cols = v20_columns(n)
    small = max(1000, n // 50)          # the slow paths run on fewer inputs
    cols_small = {k: v[:small] for k, v in cols.items()}
    b1, b2 = Batch(lib, threads=1), Batch(lib, threads=2)
    bi = Batch(lib, tier="interp", threads=1)
    b1.run(cols_small)                  # compile the kernel once
    old = old_path(lib, cols, small)
    old()
    r = interleaved({"kernel 1 thread": (lambda: b1.run(cols), n),
                     "kernel 2 threads": (lambda: b2.run(cols), n),
                     "interpreter batch": (lambda: bi.run(cols_small), small),
                     "old per-input path (jit_runner)": (old, small)}, rounds)
    for k, v in r.items():
        rows.append((f"validate20 API, {k}", v))
    # CPU seconds per run at 1 and 2 threads (more rounds: each is milliseconds)
    c = interleaved_cpu({"1": lambda: b1.run(cols), "2": lambda: b2.run(cols)}, 5 * rounds)
    for k, label in (("1", "1 thread"), ("2", "2 threads")):
        rows.append((f"validate20 API, kernel {label}: runs per CPU-second", n / c[k][1]))
    for size in (10_000, 100_000):
        if size < n:
            part = {k: v[:size] for k, v in cols.items()}
            rows.append((f"validate20 API, kernel 2 threads, {size:,} inputs",
                         rate(lambda: b2.run(part), size, rounds)))
    sha = assemble_file(ROOT / "examples" / "sha256_commitment.aluasm")
    m = max(500, n // 400)
    msgs = [b"AluVM commitment" if k % 2 else bytes([k % 251]) * (k % 60) for k in range(m)]
    s_in = {"s16[0]": msgs}
    sb, si = Batch(sha, threads=2), Batch(sha, tier="interp")
    sb.run(s_in)
    s_old = old_path(sha, {"s16[0]": np.array(msgs + [None], dtype=object)[:-1]}, m)
    r = interleaved({"kernel + fallback": (lambda: sb.run(s_in), m),
                     "interpreter batch": (lambda: si.run(s_in), m),
                     "old per-input path (jit_runner)": (s_old, m)}, rounds)
    for k, v in r.items():
        rows.append((f"sha256 (fallback-heavy) API, {k}", v))
    return rows


def v20_jsonl(n: int) -> bytes:
    """validate20 inputs as JSON lines ``{"regs":{name: hex}}`` (built as a byte matrix)."""
    from aluvm.tools.columns import hex_encode
    cols = v20_columns(n, seed=2)
    template, slots = b'{"regs":{', []
    for k, v in cols.items():
        template += (b"," if slots else b"") + f'"{k}":"'.encode()
        slots.append((len(template), v))
        template += b"0" * (2 * v.dtype.itemsize) + b'"'
    template += b"}}\n"
    m = np.empty((n, len(template)), np.uint8)
    m[:] = np.frombuffer(template, np.uint8)
    for at, v in slots:
        w = v.dtype.itemsize
        m[:, at:at + 2 * w] = hex_encode(v.astype(f">u{w}").view(np.uint8).reshape(n, w))
    return m.tobytes()


def write_inputs(n: int, tmp: Path) -> tuple[Path, Path]:
    """validate20 inputs as a JSON lines file and a Parquet file (same values)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    src = tmp / "in.jsonl"
    src.write_bytes(v20_jsonl(n))
    cols = v20_columns(n, seed=2)
    pq.write_table(pa.table({k: pa.array(v) for k, v in cols.items()}), tmp / "in.parquet")
    return src, tmp / "in.parquet"


_SUMMARY = re.compile(r"(\d+) inputs, .* ([\d.]+) s, ([\d,]+) runs/s")


def cli_run(src: Path, out: Path, threads: int, *extra: str, python: str = sys.executable,
            cwd: Path = ROOT) -> tuple[float, float, float]:
    """``aluvm batch`` in a process of its own, file to file: (summary runs/s, process
    runs/s, runs per CPU-second of the process).  The summary's time covers reading, parsing,
    running, formatting and writing; the CPU time says what the command costs whatever else
    the machine runs."""
    r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    p = subprocess.run([python, "-m", "aluvm.tools.cli", "batch", "--code",
                        VALIDATE20.hex(), str(src), "--out", str(out), "--threads", str(threads),
                        *extra], capture_output=True, text=True, cwd=cwd)
    wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    m = _SUMMARY.search(p.stderr)
    if p.returncode != 0 or m is None:
        raise RuntimeError(f"aluvm batch failed: {p.stderr.strip()[-500:]}")
    n = int(m.group(1))
    cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    return float(m.group(3).replace(",", "")), n / wall, n / cpu


def compile_bytecode(python: str = sys.executable, cwd: Path = ROOT) -> None:
    """Compile a checkout's package sources to bytecode (``__pycache__``), as pip does when it
    installs a package.  An editable checkout gets bytecode on first import - unless
    ``PYTHONDONTWRITEBYTECODE`` is set, as in the sandbox this project is developed in: then
    every ``aluvm batch`` process compiled its ~30 modules from source (~40 ms of a ~0.2 s
    start-up), which no installed package does.  ``--no-precompile`` measures that way."""
    subprocess.run([python, "-m", "compileall", "-q", "aluvm", "jit", "asm"], cwd=cwd,
                   check=True, capture_output=True)


def bench_cli(n: int, rounds: int, tmp: Path, precompile: bool = True
              ) -> list[tuple[str, float]]:
    """The real ``aluvm batch`` command, end to end, interleaved rounds."""
    if precompile:
        compile_bytecode()
    src, parquet = write_inputs(n, tmp)
    cases = {"JSONL, 1 thread": (src, 1), "JSONL, 2 threads": (src, 2),
             "Parquet in, 2 threads": (parquet, 2)}
    got: dict[str, list[tuple[float, float, float]]] = {k: [] for k in cases}
    cli_run(src, tmp / "out.jsonl", 2)          # (kernel in the disk cache)
    for _ in range(rounds):
        for name, (path, threads) in cases.items():
            got[name].append(cli_run(path, tmp / "out.jsonl", threads))
    rows = []
    for name, v in got.items():
        rows.append((f"aluvm batch {n:,} lines, {name} (summary)",
                     statistics.median(x[0] for x in v)))
        rows.append((f"aluvm batch {n:,} lines, {name} (whole process)",
                     statistics.median(x[1] for x in v)))
        rows.append((f"aluvm batch {n:,} lines, {name} (runs per CPU-second)",
                     statistics.median(x[2] for x in v)))
    return rows


#: the Ray rows: what each one times, per run (Ray's start-up and the workers' first load of
#: the kernel are outside every row; everything a run does is inside)
RAY_CASES = {
    "local": "API, local 2 threads: numpy columns in, BatchResult arrays out",
    "put+run": "API, Ray 2 local workers: put once, then run -> BatchResult arrays (the "
               "node's actor reads its chunk in place, writes outputs into shared result "
               "arrays)",
    "put+submit": "API, Ray 2 local workers: put once, then submit -> counts (only per-chunk "
                  "summaries fetched)",
    "cols": "API, Ray 2 local workers: numpy columns in, BatchResult arrays out (inputs "
            "copied into a shared buffer every run)",
}


def bench_ray(n: int, rounds: int, tmp: Path) -> list[tuple[str, float]]:
    """Ray on a local 2-worker instance against local threads: the ``aluvm batch`` pipeline on
    the JSON lines file (in this process: the workers stay up between rounds) and the API
    (:data:`RAY_CASES`).  The results of every API path are checked against local threads."""
    import contextlib
    import ray
    from aluvm import DEFAULT_ISAE, Batch, Lib
    from aluvm.tools.cli import main as cli
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    address = ray.get_runtime_context().gcs_address
    src, parquet = tmp / "in.jsonl", tmp / "in.parquet"
    if not src.exists() or not parquet.exists():
        src, parquet = write_inputs(n, tmp)

    def pipeline(*extra: str, path: Path = src) -> Callable[[], None]:
        def go() -> None:
            with contextlib.redirect_stderr(io.StringIO()):
                cli(["batch", "--code", VALIDATE20.hex(), str(path), "--out",
                     str(tmp / "out-ray.jsonl"), "--threads", "2", *extra])
        return go
    on_ray = ("--engine", "ray", "--ray-address", address)
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    cols = v20_columns(n)
    br, bt = Batch(lib, engine="ray", threads=2), Batch(lib, threads=2)
    t0 = time.perf_counter()
    handle = br.put(cols)
    put_s = time.perf_counter() - t0
    pipeline(*on_ray)()
    pipeline(*on_ray, path=parquet)()
    _same(br.run(handle), bt.run(cols))             # (also: every worker has loaded the kernel)
    _same(br.run(cols), bt.run(cols))
    assert br.submit(handle).counts()[:2] == (n, int(bt.run(cols).st0.sum()))
    r = interleaved({
        "aluvm batch pipeline (JSONL file to file), Ray 2 local workers":
            (pipeline(*on_ray), n),
        "aluvm batch pipeline (JSONL file to file), local 2 threads": (pipeline(), n),
        "aluvm batch pipeline (Parquet file to JSONL file), Ray 2 local workers":
            (pipeline(*on_ray, path=parquet), n),
        "aluvm batch pipeline (Parquet file to JSONL file), local 2 threads":
            (pipeline(path=parquet), n),
        RAY_CASES["local"]: (lambda: bt.run(cols), n),
        RAY_CASES["put+run"]: (lambda: br.run(handle), n),
        RAY_CASES["put+submit"]: (lambda: br.submit(handle).counts(), n),
        RAY_CASES["cols"]: (lambda: br.run(cols), n)}, rounds)
    ray.shutdown()
    rows = [(f"validate20 {k}", v) for k, v in r.items()]
    rows.append(("validate20 API, Ray: the one put of the inputs (once, not per run)", n / put_s))
    return rows


def _same(a: Any, b: Any) -> None:
    """Two batch results agree on everything (the Ray rows time correct paths only)."""
    assert a.n == b.n and np.array_equal(a.st0, b.st0) and np.array_equal(a.cy0, b.cy0)
    assert np.array_equal(a.ca0, b.ca0) and np.array_equal(a.fallback, b.fallback)
    assert a.names == b.names
    for name in a.names:
        x, y = a[name], b[name]
        assert np.array_equal(np.ma.getmaskarray(x), np.ma.getmaskarray(y))
        assert np.array_equal(x.filled(0), y.filled(0))


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000, help="inputs (kernel, CLI, Ray)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ray", action="store_true", help="also the Ray engine (starts Ray)")
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--no-precompile", action="store_true",
                    help="CLI rows without compiling the package's bytecode first (see "
                         "compile_bytecode)")
    args = ap.parse_args(argv if argv is not None else sys.argv[1:])
    tmp = Path(tempfile.mkdtemp(prefix="aluvm-bench-batch-"))
    rows = bench_api(args.n, args.rounds)
    if not args.no_cli:
        rows += bench_cli(args.n, args.rounds, tmp, precompile=not args.no_precompile)
    if args.ray:
        rows += bench_ray(args.n, args.rounds, tmp)
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    base = dict(rows)
    print(f"batch validation, N = {args.n:,}, medians of {args.rounds} interleaved rounds "
          f"({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; CLI: package bytecode "
          f"{'as found' if args.no_precompile else 'compiled first'})")
    print(f"  {'measure':<84}{'runs/s':>14}{'x reference':>13}")
    for name, v in rows:
        print(f"  {name:<84}{v:>14,.0f}{v / REFERENCE_RUNS_PER_S:>12,.1f}x")
    k1 = base["validate20 API, kernel 1 thread"]
    k2 = base["validate20 API, kernel 2 threads"]
    c1 = base["validate20 API, kernel 1 thread: runs per CPU-second"]
    c2 = base["validate20 API, kernel 2 threads: runs per CPU-second"]
    print(f"  ratios: kernel 2 threads / 1 thread {k2 / k1:.2f} (runs per CPU-second "
          f"{c2 / c1:.2f}); kernel / interpreter "
          f"{k1 / base['validate20 API, interpreter batch']:,.0f}; kernel / old path "
          f"{k1 / base['validate20 API, old per-input path (jit_runner)']:,.0f}")
    sha = {k.split(", ")[-1]: v for k, v in base.items() if k.startswith("sha256")}
    print(f"  fallback-heavy: kernel + fallback / old per-input path "
          f"{sha['kernel + fallback'] / sha['old per-input path (jit_runner)']:.2f}, "
          f"/ interpreter batch {sha['kernel + fallback'] / sha['interpreter batch']:.2f}")
    if not args.no_cli:
        j = {t: base[f"aluvm batch {args.n:,} lines, JSONL, {t} (summary)"]
             for t in ("1 thread", "2 threads")}
        print(f"  aluvm batch JSONL end to end: 2 threads / 1 thread "
              f"{j['2 threads'] / j['1 thread']:.2f}; 2 threads / 1,000,000 runs/s "
              f"{j['2 threads'] / 1e6:.2f}")
    if args.ray:
        for kind in ("JSONL file to file", "Parquet file to JSONL file"):
            pre = f"validate20 aluvm batch pipeline ({kind}), "
            print(f"  Ray / local threads: aluvm batch pipeline ({kind}, both) "
                  f"{base[pre + 'Ray 2 local workers'] / base[pre + 'local 2 threads']:.2f}")
        local = base["validate20 " + RAY_CASES["local"]]
        for key, what in (("put+run", "put once, then run, BatchResult arrays out"),
                          ("put+submit", "put once, then submit, counts out (results stay "
                                         "in Ray)"),
                          ("cols", "numpy columns in, BatchResult arrays out")):
            print(f"  Ray / local threads: API, {what}: "
                  f"{base['validate20 ' + RAY_CASES[key]] / local:.2f}")
    return base


if __name__ == "__main__":
    main()
