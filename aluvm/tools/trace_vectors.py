"""Every ``run`` vector program traced in both tiers: ``make trace-vectors``.

For each program the interpreter tier and the JIT tier (:mod:`aluvm.tools.jitstep`) are traced
up to ``limit`` records (:data:`aluvm.limits.TRACE_LINES_MAX`); past it both runs go on untraced
to their end (:class:`~aluvm.tools.trace.TraceDetached`), so a loop of 2^16 jumps costs the
traced prefix plus an untraced run.  A program is *identical* when the records agree and so do
the final outcome and state (``st0 cy0 ca0 cp0 cs0``, every register, the stop reason).  In
the ``reference`` profile each final state is also checked against the vector's ``expect``
(the ground truth), which says which tier is wrong when they differ.

Programs run in ``--jobs`` worker processes (each with its own compiled single-instruction
units); a progress bar is shown when stderr is a terminal.  The last line is a one-line summary
of programs, identical, differing and seconds.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

from aluvm.limits import TRACE_LINES_MAX

#: the profile the vectors' ``expect`` objects hold results for (vectors carry no profile field)
VECTOR_PROFILE = "reference"
#: without a terminal, a progress line every this many programs
HEARTBEAT = 1000


@dataclass
class ProgramResult:
    """How one vector program fared (small: sent back from a worker)."""

    id: str
    profile: str
    records: int = 0                    # records compared (those of the interpreter tier)
    truncated: bool = False             # the traces reached ``limit``; the runs went on untraced
    difference: Optional[str] = None    # ``None``: identical traces and final states
    #: the tiers whose final state differs from the vector's ``expect`` (reference profile)
    off_vector: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.difference is None


def _state_difference(a: dict[str, Any], b: dict[str, Any]) -> Optional[str]:
    """The final-state fields in which the two tiers differ, as one line."""
    keys = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    if not keys:
        return None
    shown = []
    for k in keys[:4]:
        if k == "regs":
            ra, rb = a.get(k, {}), b.get(k, {})
            names = sorted(n for n in set(ra) | set(rb) if ra.get(n) != rb.get(n))
            shown += [f"{n}: interp={ra.get(n)} jit={rb.get(n)}" for n in names[:4]]
        else:
            shown.append(f"{k}: interp={a.get(k)!r} jit={b.get(k)!r}")
    return "final states differ: " + "; ".join(shown)


def compare_program(vec: dict, profile: str = VECTOR_PROFILE,
                    limit: int = TRACE_LINES_MAX) -> ProgramResult:
    """Trace one ``run`` vector in both tiers and compare records and final states."""
    from aluvm.tools.conform import check_run
    from aluvm.tools.jitstep import JitStepper
    from aluvm.tools.service import library_from_request, registers_from_request, state_dict
    from aluvm.tools.trace import first_difference, traced_run
    req = vec["request"]
    result = ProgramResult(str(vec.get("id")), profile)
    try:
        lib = library_from_request(req)
        entry = req.get("entry", 0) or 0
        ra, rb = registers_from_request(req), registers_from_request(req)
        a = traced_run(lib, ra, entry, profile, "interp", limit=limit)
        # a stepper per program: its units belong to this library only, and go with it
        b = traced_run(lib, rb, entry, profile, "jit", stepper=JitStepper(), limit=limit)
    except Exception as e:  # a bug in a tier or the tracer: reported, never an abort of the run
        result.difference = f"crash: {type(e).__name__}: {e}"
        return result
    result.records, result.truncated = len(a.steps), a.truncated or b.truncated
    first = first_difference(a.steps, b.steps)
    sa, sb = state_dict(ra, a.outcome, lib), state_dict(rb, b.outcome, lib)
    if first is not None:
        result.difference = first.describe()
    elif a.truncated != b.truncated:
        result.difference = f"truncated: interp={a.truncated} jit={b.truncated}"
    else:
        result.difference = _state_difference(sa, sb)
    if profile == VECTOR_PROFILE:
        result.off_vector = [f"{tier}: {err}" for tier, got in (("interp", sa), ("jit", sb))
                             if (err := check_run(vec, got)) is not None]
    return result


def run_vectors(paths: Iterable[str], per_family: int = 0) -> list[dict]:
    """The ``run`` vectors under ``paths`` (``per_family``: only the first that many of each
    family)."""
    from aluvm.tools.conform import iter_vectors
    out: list[dict] = []
    taken: dict[str, int] = {}
    for vec in iter_vectors(list(paths)):
        if vec.get("request", {}).get("op", "run") != "run":
            continue
        family = str(vec.get("family"))
        if per_family and taken.get(family, 0) >= per_family:
            continue
        taken[family] = taken.get(family, 0) + 1
        out.append(vec)
    return out


def _job(task: tuple[dict, str, int]) -> ProgramResult:
    return compare_program(*task)


def compare_vectors(vectors: Sequence[dict], profiles: Sequence[str] = (VECTOR_PROFILE,),
                    jobs: int = 1, limit: int = TRACE_LINES_MAX,
                    progress: Optional[Callable[[ProgramResult], None]] = None
                    ) -> list[ProgramResult]:
    """Every vector in every profile, in ``jobs`` worker processes (1: in this process); the
    results in no particular order (sort them by ``id``)."""
    tasks = [(vec, profile, limit) for profile in profiles for vec in vectors]
    results: Iterator[ProgramResult]
    out: list[ProgramResult] = []
    if jobs <= 1 or len(tasks) < 2:
        results = map(_job, tasks)
        for r in results:
            out.append(r)
            if progress is not None:
                progress(r)
        return out
    # spawn: workers start clean (no LLVM state forked from this process)
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        for r in pool.imap_unordered(_job, tasks, chunksize=4):
            out.append(r)
            if progress is not None:
                progress(r)
    return out


@dataclass
class Summary:
    programs: int
    identical: int
    differing: int
    off_vector: int
    truncated: int
    seconds: float
    profiles: list[str]
    jobs: int

    def line(self) -> str:
        return (f"trace-vectors: {self.programs} programs ({'+'.join(self.profiles)}), "
                f"{self.identical} identical, {self.differing} differing, "
                f"{self.off_vector} off the vectors, {self.seconds:.1f} s "
                f"({self.jobs} jobs; {self.truncated} traced up to the cap, then untraced)")


def summarize(results: Sequence[ProgramResult], seconds: float, profiles: Sequence[str],
              jobs: int) -> Summary:
    differing = sum(not r.identical for r in results)
    return Summary(len(results), len(results) - differing, differing,
                   sum(bool(r.off_vector) for r in results),
                   sum(r.truncated for r in results), round(seconds, 1), list(profiles), jobs)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m aluvm.tools.trace_vectors",
        description="Trace every run vector program in both tiers; the traces and final "
                    "states must be identical.")
    p.add_argument("paths", nargs="+", metavar="VECTORS_PATH")
    p.add_argument("--profile", action="append", choices=("reference", "spec"),
                   help="profile to run in (repeatable; default reference, the vectors' own)")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="worker processes (default: 2, or 1 on a one-core machine)")
    p.add_argument("--per-family", type=int, default=0, metavar="N",
                   help="only the first N programs of each family (a quick sample)")
    p.add_argument("--limit", type=int, default=TRACE_LINES_MAX, metavar="N",
                   help=f"records traced per run before it goes on untraced "
                        f"(default {TRACE_LINES_MAX})")
    p.add_argument("--json", action="store_true", help="the summary as one JSON object")
    p.add_argument("--show", type=int, default=20, metavar="N",
                   help="differing programs shown in full (default 20)")
    return p


def _progress_bar(total: int) -> Any:
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit=" programs", file=sys.stderr, desc="trace-vectors",
                dynamic_ncols=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m aluvm.tools.trace_vectors PATH...``: exit 0 when every program is identical
    in both tiers (and, in the reference profile, matches its vector), 1 otherwise, 2 on bad
    usage."""
    args = _parser().parse_args(argv)
    for p in args.paths:
        if not Path(p).exists():
            print(f"trace-vectors: {p}: no such file or directory", file=sys.stderr)
            return 2
    if args.jobs < 1 or args.limit < 0 or args.per_family < 0:
        print("trace-vectors: --jobs must be >= 1, --limit and --per-family >= 0", file=sys.stderr)
        return 2
    profiles = args.profile or [VECTOR_PROFILE]
    t0 = time.perf_counter()
    try:
        vectors = run_vectors(args.paths, args.per_family)
    except (OSError, ValueError, EOFError) as e:     # not gzip, not JSON lines, unreadable
        print(f"trace-vectors: cannot read the vectors: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    if not vectors:
        print(f"trace-vectors: no run vectors in {', '.join(args.paths)}", file=sys.stderr)
        return 2
    total = len(vectors) * len(profiles)
    bar = _progress_bar(total)
    done = [0, 0]                   # programs, differing

    def say(line: str) -> None:
        if bar is not None:
            bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    def progress(r: ProgramResult) -> None:
        done[0] += 1
        if not r.identical or r.off_vector:
            done[1] += 1
            say(f"{r.id} ({r.profile}): {r.difference or ''} {' | '.join(r.off_vector)}")
        if bar is not None:
            bar.update()
        elif done[0] % HEARTBEAT == 0:    # (a log: a line now and then instead of a bar)
            say(f"trace-vectors: {done[0]}/{total} programs, {done[1]} differing, "
                f"{time.perf_counter() - t0:.0f} s")
    try:
        results = compare_vectors(vectors, profiles, args.jobs, args.limit, progress)
    finally:
        if bar is not None:
            bar.close()
    results.sort(key=lambda r: (r.profile, r.id))
    summary = summarize(results, time.perf_counter() - t0, profiles, args.jobs)
    bad = [r for r in results if not r.identical or r.off_vector]
    for r in bad[:args.show]:
        print(f"{r.id} ({r.profile}):")
        if r.difference:
            print("  " + r.difference.replace("\n", "\n  "))
        for line in r.off_vector:
            print(f"  off the vector: {line}")
    if args.json:
        print(json.dumps(dict(asdict(summary), failures=[asdict(r) for r in bad[:args.show]]),
                         sort_keys=True))
    else:
        print(summary.line())
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
