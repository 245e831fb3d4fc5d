"""Per-thread statistics of JIT runs (what :func:`aluvm.jit.engine.last_stats` reports)."""
from __future__ import annotations

import threading
from typing import Any

_TLS = threading.local()


def run_stats() -> list[int]:
    """This thread's [native calls, fallback exits, interpreted steps] of the current run."""
    stats = getattr(_TLS, "run", None)
    if stats is None:
        stats = _TLS.run = [0, 0, 0]
    return stats


def begin_run() -> list[int]:
    """Reset this thread's run counters (one run starts)."""
    run = _TLS.run = [0, 0, 0]
    return run


def record(unit: Any, how: str, profile: str, seconds: float, run: list[int]) -> None:
    _TLS.last = (unit, how, profile, seconds, run)


def last_stats() -> dict:
    """Statistics of this thread's last :func:`~aluvm.jit.engine.jit_runner` call: static counts
    of compiled and interpreted (fallback) instructions, how the code was obtained (``cache``:
    compiled, disk, memory), compile/load time, and what the run did (native calls, fallback
    exits, interpreted steps)."""
    last = getattr(_TLS, "last", None)
    if last is None:
        return {}
    unit, how, profile, seconds, run = last
    meta = unit.meta
    out = {
        "cache": how, "profile": profile, "lib_id": unit.id.hex(),
        "compiled_instrs": meta["compiled_instrs"], "fallback_instrs": meta["fallback_instrs"],
        "fallback_keys": dict(meta["fallback_keys"]), "blocks": meta["blocks"],
        "native_blocks": meta["native_blocks"], "registers_native": len(meta["aset"]),
        "opt_level": meta.get("opt_level", 0), "tier": meta.get("tier", "native"),
        "compile_ms": round(meta.get("compile_ms", 0.0), 3) if how == "compiled" else 0.0,
        "load_ms": round(meta.get("load_ms", 0.0), 3) if how == "disk" else 0.0,
        "run_ms": round(seconds * 1e3, 3),
        "native_calls": run[0], "fallback_exits": run[1], "interp_steps": run[2],
    }
    for key in ("compile_error", "over_budget"):
        if key in meta:
            out[key] = meta[key]
    return out


__all__ = ["run_stats", "begin_run", "record", "last_stats"]
