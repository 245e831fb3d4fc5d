"""Conformance runner over vector files (``shared/vectors`` format)."""
from __future__ import annotations

import gzip
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from aluvm.errors import InputError

RUN_KEYS = ("st0", "cy0", "ca0", "cp0", "cs0")


@dataclass
class FamilyResult:
    passed: int = 0
    failed: int = 0
    flagged_passed: int = 0     # reference panics/hangs: we must stop with st0 = false
    flagged_failed: int = 0
    text_mismatch: int = 0      # disasm display text (informational)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.flagged_failed == 0


def vector_files(paths: Iterable[str]) -> list[Path]:
    """The vector files named by ``paths`` (directories expand to their ``*.jsonl[.gz]``)."""
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files.extend(sorted(path.glob("*.jsonl.gz")) + sorted(path.glob("*.jsonl")))
        else:
            files.append(path)
    return files


def iter_vectors(paths: Iterable[str]) -> Iterator[dict]:
    """The vectors of the files: JSON objects with a ``request`` object, one per line (bounded
    as request lines are); anything else is an :class:`InputError` naming file and line."""
    for f in vector_files(paths):
        try:
            yield from _file_vectors(f)
        except (EOFError, zlib.error) as e:   # a truncated or corrupt .gz (BadGzipFile: OSError)
            raise InputError(f"{f}: {e}") from None


def _file_vectors(f: Path) -> Iterator[dict]:
    from aluvm.tools.service import RequestError, parse_line
    opener = gzip.open if f.suffix == ".gz" else open
    with opener(f, "rb") as fh:  # type: ignore[operator]
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                vec = parse_line(line)
            except RequestError as e:
                raise InputError(f"{f}:{number}: {e}") from None
            if not isinstance(vec, dict) or not isinstance(vec.get("request"), dict) \
                    or not isinstance(vec.get("expect", {}), dict) \
                    or not isinstance(vec.get("family", ""), str):
                raise InputError(f"{f}:{number}: not a vector (an object with 'request' and "
                                 "'expect' objects)")
            yield vec


def check_run(vec: dict, got: dict, strict_panics: bool = False) -> Optional[str]:
    exp = vec["expect"]
    if str(got.get("reason", "")).startswith("internal error"):
        return f"interpreter bug: {got['reason']}"
    if vec.get("reference_panics") or vec.get("reference_hangs"):
        if not got.get("ok") or got.get("st0") is not False:
            return f"flagged vector must stop with st0=false, got {got.get('st0')!r}"
        if strict_panics and vec.get("reference_hangs") and not got.get("aborted"):
            return "the reference never terminates here, we did not report it"
        if strict_panics and vec.get("reference_panics"):
            # beyond the contract: the state at the moment of the panic also matches
            if "panic" not in got:
                return "the reference panics here, we did not"
            for k in ("cy0", "ca0", "regs"):
                if got.get(k) != exp.get(k):
                    return f"state at panic: {k} differs"
        return None
    if not got.get("ok"):
        return f"request failed: {got.get('error')}"
    for k in RUN_KEYS:
        if got.get(k) != exp.get(k):
            return f"{k}: expected {exp.get(k)!r}, got {got.get(k)!r}"
    if got.get("exec_ret") != got.get("st0"):
        return "exec_ret differs from st0"
    er, gr = exp.get("regs", {}), got.get("regs", {})
    if er != gr:
        missing = sorted(set(er) - set(gr))
        extra = sorted(set(gr) - set(er))
        diff = sorted(k for k in set(er) & set(gr) if er[k] != gr[k])
        parts = []
        if missing:
            parts.append(f"missing {missing[:4]}")
        if extra:
            parts.append(f"extra {extra[:4]}")
        for k in diff[:3]:
            parts.append(f"{k}: expected {er[k]}, got {gr[k]}")
        return "; ".join(parts)
    if "lib_id" in exp and got.get("lib_id") != exp["lib_id"]:
        return f"lib_id: expected {exp['lib_id']}, got {got.get('lib_id')}"
    return None


def check_disasm(vec: dict, got: dict) -> tuple[Optional[str], bool]:
    exp = vec["expect"]
    if not got.get("ok"):
        return f"request failed: {got.get('error')}", False
    ei, gi = exp["instrs"], got["instrs"]
    text_ok = len(ei) == len(gi) and all(a["text"].split() == b["text"].split()
                                          for a, b in zip(ei, gi))
    if len(ei) != len(gi):
        return f"{len(gi)} instructions decoded, expected {len(ei)}", text_ok
    for a, b in zip(ei, gi):
        for k in ("offset", "bytes", "complexity"):
            if a[k] != b[k]:
                return f"offset {a['offset']}: {k} expected {a[k]!r}, got {b[k]!r}", text_ok
        if bool(a.get("no_advance")) != bool(b.get("no_advance")):
            return f"offset {a['offset']}: no_advance differs", text_ok
    if (exp.get("error") is None) != (got.get("error") is None):
        return f"decode stop differs: expected {exp.get('error')!r}, got {got.get('error')!r}", text_ok
    return None, text_ok


def check_reencode(vec: dict, got: dict) -> Optional[str]:
    exp = vec["reencode"]["expect"]
    if not got.get("ok"):
        return f"reencode failed: {got.get('error')}"
    for k in ("code", "data", "n_instrs", "isae"):
        if got.get(k) != exp.get(k):
            return f"reencode {k}: expected {exp.get(k)!r}, got {got.get(k)!r}"
    return None


def check_info(vec: dict, got: dict) -> Optional[str]:
    exp = vec["expect"]
    if exp.get("ok") is False:
        return None if got.get("ok") is False else "expected the isae string to be rejected"
    for k in ("lib_id", "lib_id_display", "isae", "default_isae"):
        if got.get(k) != exp.get(k):
            return f"{k}: expected {exp.get(k)!r}, got {got.get(k)!r}"
    return None


Handler = Callable[[dict], dict]


def _check(vec: dict, req: dict, got: dict, op: str, handler: Handler,
           strict_panics: bool) -> tuple[Optional[str], bool]:
    """(the failure or None, whether the disassembly text matched) of one vector."""
    text_ok = True
    err: Optional[str]
    if op == "run":
        err = check_run(vec, got, strict_panics)
    elif op == "disasm":
        err, text_ok = check_disasm(vec, got)
        if err is None and "reencode" in vec:
            err = check_reencode(vec, handler(vec["reencode"]["request"]))
    elif op == "info":
        err = check_info(vec, got)
    else:
        err = f"unknown op {op}"
    return err, text_ok


def run_vectors(vectors: Iterable[dict], handler: Handler, max_failures: int = 20,
                strict_panics: bool = False) -> dict[str, FamilyResult]:
    results: dict[str, FamilyResult] = defaultdict(FamilyResult)
    for vec in vectors:
        fam = results[vec.get("family", "?")]
        req = vec["request"]
        flagged = bool(vec.get("reference_panics") or vec.get("reference_hangs"))
        op = req.get("op", "run")
        try:
            got = handler(req)
        except Exception as e:  # a crash is a failure, never an abort of the run
            got = {"ok": False, "error": f"crash: {type(e).__name__}: {e}"}
        try:
            err, text_ok = _check(vec, req, got, op, handler, strict_panics)
        except (KeyError, TypeError, AttributeError, IndexError) as e:   # the vector's shape
            raise InputError(f"vector {vec.get('id')!r}: malformed ({type(e).__name__}: {e})") from None
        if not text_ok:
            fam.text_mismatch += 1
        if err is None:
            if flagged:
                fam.flagged_passed += 1
            else:
                fam.passed += 1
        else:
            if flagged:
                fam.flagged_failed += 1
            else:
                fam.failed += 1
            if len(fam.failures) < max_failures:
                fam.failures.append(f"{vec.get('id')}: {err}")
    return dict(results)


def merge(parts: Iterable[dict[str, FamilyResult]], max_failures: int = 20) -> dict[str, FamilyResult]:
    """Combine per-file results (a family may span several files)."""
    out: dict[str, FamilyResult] = defaultdict(FamilyResult)
    for part in parts:
        for name, r in part.items():
            m = out[name]
            m.passed += r.passed
            m.failed += r.failed
            m.flagged_passed += r.flagged_passed
            m.flagged_failed += r.flagged_failed
            m.text_mismatch += r.text_mismatch
            m.failures.extend(r.failures[: max(0, max_failures - len(m.failures))])
    return dict(out)


def summary(results: dict[str, FamilyResult]) -> dict[str, Any]:
    tot: Counter[str] = Counter()
    fams = {}
    for name in sorted(results):
        r = results[name]
        fams[name] = {"passed": r.passed, "failed": r.failed, "flagged_passed": r.flagged_passed,
                      "flagged_failed": r.flagged_failed, "text_mismatch": r.text_mismatch,
                      "failures": r.failures}
        tot.update({"passed": r.passed, "failed": r.failed, "flagged_passed": r.flagged_passed,
                    "flagged_failed": r.flagged_failed})
    return {"families": fams, "total": dict(tot),
            "ok": all(r.ok for r in results.values())}
