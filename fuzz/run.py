"""``make fuzz``: every target for N cases (default 100,000), in worker processes, then a
summary table (printed and written to ``fuzz/summary.md``).

Besides each target's own invariants (see :mod:`fuzz.targets`) the driver checks determinism
across processes and cache states: the first chunk of every target runs again in a fresh process
with the JIT's disk cache switched (off <-> a fresh directory) and must give the same digest;
the ``tiers`` row runs its chunks alternately with the native register file against a guard
page before (``start``) or after (``end``) it, where any stray access kills the worker
(reported as a crash).  A worker that dies or exceeds its time is a crash/hang.

With atheris installed (``pip install 'aluvm[fuzz]'``) the table has coverage-guided rows too:
the decoder and the library files under libFuzzer (:mod:`fuzz.libfuzzer`), N inputs each.

    python -m fuzz.run [--cases N] [--jobs J] [--targets a,b] [--chunk C] [--atheris auto|yes|no]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("crash", "traceback", "hang", "mismatch", "nondeterminism")

#: rows of the table: (row name, target, extra environment, cases per seed)
ROWS = [
    ("decoder", "decoder", {}, 1),
    ("library-binary", "library-binary", {}, 1),
    ("library-armored", "library-armored", {}, 1),
    ("assembler", "assembler", {}, 1),
    ("exec-requests", "exec-requests", {}, 1),
    ("cli", "cli", {}, 1),
    ("tiers", "tiers", {}, 8),
    ("batch-lines", "batch-lines", {}, 1),
    ("batch-cuts", "batch-cuts", {}, 1),
    ("batch-shapes", "batch-shapes", {}, 1),
    ("ext-contexts", "ext-contexts", {}, 1),
]
#: the tiers row runs its chunks alternately with the register file against a guard page
#: before it and after it (its determinism re-run has no guard page and the other cache state)
GUARDED = {"tiers": ("start", "end")}


def _worker(target: str, first: int, count: int, env: dict[str, str], timeout: float) -> dict:
    full = dict(os.environ, PYTHONPATH=str(ROOT), ALUVM_JIT_EAGER="1", **env)
    full.pop("ALUVM_STRICT", None)   # the targets classify exceptions themselves
    try:
        r = subprocess.run([sys.executable, "-m", "fuzz.worker", target, str(first), str(count)],
                           capture_output=True, text=True, env=full, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"cases": count, "findings": {"hang": 1}, "examples": [
            f"worker {target} {first}+{count} exceeded {timeout:.0f} s"], "digest": "", "seconds": timeout}
    if r.returncode != 0 or not r.stdout.strip():
        return {"cases": count, "findings": {"crash": 1}, "examples": [
            f"worker {target} {first}+{count} died (exit {r.returncode}): {r.stderr[-500:]}"],
            "digest": "", "seconds": 0.0}
    return json.loads(r.stdout.strip().splitlines()[-1])


#: coverage-guided rows (atheris/libFuzzer, :mod:`fuzz.libfuzzer`), when atheris is installed
ATHERIS_ROWS = ["decoder", "library-binary", "library-armored"]


def atheris_available() -> bool:
    import importlib.util
    return importlib.util.find_spec("atheris") is not None


def _atheris(target: str, runs: int, timeout: float) -> dict:
    """One libFuzzer run of ``target`` over ``runs`` inputs: clean (exit 0), or the finding."""
    full = dict(os.environ, PYTHONPATH=str(ROOT))
    full.pop("ALUVM_STRICT", None)
    t0 = time.perf_counter()
    try:
        r = subprocess.run([sys.executable, "-m", "fuzz.libfuzzer", target, str(runs)],
                           capture_output=True, text=True, env=full, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"findings": {"hang": 1}, "examples": [f"atheris {target} exceeded {timeout:.0f} s"],
                "seconds": timeout}
    seconds = time.perf_counter() - t0
    if r.returncode == 0:
        return {"findings": {}, "examples": [], "seconds": seconds}
    err = r.stderr
    kind = "hang" if "timeout" in err.lower() and "Uncaught Python exception" not in err else "crash"
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith(("#", "INFO:", "MS:"))]
    return {"findings": {kind: 1}, "examples": [f"atheris {target} (exit {r.returncode}): "
                                                + " | ".join(lines[-12:])[:800]], "seconds": seconds}


def run_atheris(cases: int, names: list[str]) -> list[dict]:
    out = []
    for target in ATHERIS_ROWS:
        row = f"{target} (atheris)"
        if names and row not in names and "atheris" not in names:
            continue
        res = _atheris(target, cases, timeout=600 + cases / 50)
        print(f"  {row:<18} {cases:>7}        {res['seconds']:7.1f} s  {res['findings'] or 'clean'}",
              flush=True)
        out.append({"row": row, "cases": cases, "seconds": res["seconds"],
                    "findings": {k: res["findings"].get(k, 0) for k in KINDS},
                    "examples": res["examples"]})
    return out


def run(cases: int, jobs: int, names: list[str], chunk: int) -> list[dict]:
    rows = [r for r in ROWS if not names or r[0] in names]
    if not rows:
        return []
    results = {r[0]: {"row": r[0], "cases": 0, "seconds": 0.0,
                      "findings": {k: 0 for k in KINDS}, "examples": []} for r in rows}
    tasks = []
    for row, target, env, per_seed in rows:
        seeds = -(-cases // per_seed)
        size = max(1, chunk // per_seed)
        for k, first in enumerate(range(0, seeds, size)):
            modes = GUARDED.get(row)
            chunk_env = dict(env, ALUVM_JIT_GUARD=modes[k % len(modes)]) if modes else env
            tasks.append((row, target, chunk_env, per_seed, first, min(size, seeds - first)))
    cache_dir = tempfile.mkdtemp(prefix="aluvm-fuzz-cache-")
    # determinism across processes and cache states: the first chunk again, cache switched
    for row, target, env, per_seed in rows:
        size = min(max(1, chunk // per_seed), -(-cases // per_seed))
        other = dict(env, ALUVM_JIT_CACHE="off" if os.environ.get("ALUVM_JIT_CACHE") != "off"
                     else cache_dir)
        tasks.append((row + "#again", target, other, per_seed, 0, size))
    digests: dict[str, str] = {}

    def one(task):
        row, target, env, per_seed, first, count = task
        return task, _worker(target, first, count, env, timeout=60 + 30 * count * per_seed)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for (row, target, env, per_seed, first, count), res in pool.map(one, tasks):
            base = row.split("#")[0]
            agg = results[base]
            if first == 0:
                digests[row] = res["digest"]
            if row.endswith("#again"):
                agg["seconds"] += res["seconds"]
                for k, v in res["findings"].items():
                    agg["findings"][k] = agg["findings"].get(k, 0) + v
                continue
            agg["cases"] += count * per_seed
            agg["seconds"] += res["seconds"]
            for k, v in res["findings"].items():
                agg["findings"][k] = agg["findings"].get(k, 0) + v
            agg["examples"].extend(res["examples"][: max(0, 5 - len(agg["examples"]))])
            guard = env.get("ALUVM_JIT_GUARD", "")
            print(f"  {row:<18} {first * per_seed:>7}+{count * per_seed:<6} {guard:<5} "
                  f"{res['seconds']:7.1f} s  {res['findings'] or 'clean'}", flush=True)
    for base, agg in results.items():
        if digests.get(base) != digests.get(base + "#again"):
            agg["findings"]["nondeterminism"] += 1
            agg["examples"].append(f"{base}: the first chunk's digest differs across processes "
                                   "and cache states")
    return list(results.values())


def table(results: list[dict]) -> str:
    head = "| target | cases | " + " | ".join(KINDS) + " | seconds |"
    lines = [head, "|" + "---|" * (len(KINDS) + 3)]
    for r in results:
        lines.append(f"| {r['row']} | {r['cases']:,} | "
                     + " | ".join(str(r["findings"].get(k, 0)) for k in KINDS)
                     + f" | {r['seconds']:.0f} |")
    examples = [f"- {r['row']}: {e}" for r in results for e in r["examples"]]
    return "\n".join(lines) + ("\n\nExamples:\n" + "\n".join(examples) if examples else "") + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="fuzz")
    ap.add_argument("--cases", type=int, default=100_000, help="cases per target")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=5000, help="cases per worker process")
    ap.add_argument("--targets", default="", help="comma-separated rows (default: all)")
    ap.add_argument("--atheris", choices=("auto", "yes", "no"), default="auto",
                    help="the coverage-guided rows: when installed (auto), required, or skipped")
    ap.add_argument("--summary", default=str(Path(__file__).with_name("summary.md")))
    args = ap.parse_args(argv)
    t0 = time.time()
    names = [t for t in args.targets.split(",") if t]
    results = run(args.cases, args.jobs, names, args.chunk)
    note = ""
    if args.atheris != "no":
        if atheris_available():
            results += run_atheris(args.cases, names)
        elif args.atheris == "yes":
            print("fuzz: atheris is not installed (pip install 'aluvm[fuzz]')", file=sys.stderr)
            return 2
        else:
            note = "\n(atheris not installed: the coverage-guided rows were skipped)\n"
    text = (f"fuzz: {args.cases:,} cases per target, {time.time() - t0:.0f} s, "
            f"python {sys.version.split()[0]}\n\n" + table(results) + note)
    Path(args.summary).write_text(text)
    print(text)
    bad = sum(sum(r["findings"].values()) for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
