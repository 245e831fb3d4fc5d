"""JIT settings: read from the environment when a code cache is created, never at import.

=========================  ======================================================================
``ALUVM_JIT_CACHE``        directory of the on-disk object cache (default ``~/.cache/aluvm-jit``);
                           ``off`` (or ``0``, ``none``, empty) disables it
``ALUVM_JIT_MEMORY_CACHE`` compiled libraries kept in memory (default 256)
``ALUVM_JIT_EAGER``        ``1``: compile even small loop-free libraries
``ALUVM_JIT_DUMP``         comma list of ``ir``, ``opt``, ``asm``: print what the JIT made of each
                           library it compiles (to stderr), as numba's dump switches do
=========================  ======================================================================
"""
from __future__ import annotations

from aluvm.errors import InputError

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Optional

#: what ``ALUVM_JIT_DUMP`` may name: the generated IR, the IR after optimisation, the assembly
DUMP_KINDS = ("ir", "opt", "asm")


@dataclass(frozen=True)
class JitSettings:
    eager: bool = False
    cache_dir: Optional[Path] = None
    memory_size: int = 256
    dump: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None, **override: Any) -> "JitSettings":
        """The settings the environment asks for (``override`` wins)."""
        env = os.environ if env is None else env
        settings = cls(eager=env.get("ALUVM_JIT_EAGER", "") not in ("", "0"),
                       cache_dir=_cache_dir(env.get("ALUVM_JIT_CACHE")),
                       memory_size=int(env.get("ALUVM_JIT_MEMORY_CACHE", "256") or 256),
                       dump=parse_dump(env.get("ALUVM_JIT_DUMP", "")))
        return replace(settings, **override)


def _cache_dir(value: Optional[str]) -> Optional[Path]:
    if value is not None and value.strip().lower() in ("", "off", "0", "none"):
        return None
    return Path(value) if value else Path.home() / ".cache" / "aluvm-jit"


def parse_dump(value: str) -> frozenset[str]:
    """``"ir,asm"`` -> ``{"ir", "asm"}``; unknown names raise ValueError."""
    kinds = frozenset(k.strip().lower() for k in value.split(",") if k.strip())
    bad = kinds - set(DUMP_KINDS)
    if bad:
        raise InputError(f"ALUVM_JIT_DUMP: unknown kind(s) {', '.join(sorted(bad))} "
                         f"(expected {', '.join(DUMP_KINDS)})")
    return kinds


__all__ = ["JitSettings", "DUMP_KINDS", "parse_dump"]
