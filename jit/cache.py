"""The code cache: compiled libraries in process (LRU) and on disk (object files).

A :class:`CodeCache` is created from :class:`~aluvm.jit.settings.JitSettings` (the environment
is read then, not at import).  Disk entries are keyed by the library id, profile, host
extensions and roots, the LLVM backend's identity (llvmlite/LLVM versions, CPU name and
features) and a hash of every source of the package, so any change to the code that decides
what native code is generated invalidates them.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Optional

if TYPE_CHECKING:      # (loading a cached object never needs the interpreter)
    from aluvm.machine.interp import Profile

from aluvm.jit.backend import backend
from aluvm.jit.settings import JitSettings

#: bump when the meaning of a cached object or its metadata changes
FORMAT = 1
_MAGIC = b"ALUVMJIT"
_SRC_HASH: list[Optional[str]] = [None]


def source_hash() -> str:
    """Digest of every Python source of the installed ``aluvm`` package (jit and asm included).

    Hashing the whole package, not a hand list, means a new module can never be missed.
    """
    h = _SRC_HASH[0]
    if h is None:
        import aluvm
        d = hashlib.sha256()
        roots = [Path(p).resolve() for p in aluvm.__path__]
        roots += [Path(__file__).resolve().parent]          # aluvm.jit may live beside aluvm/
        seen: set[Path] = set()
        for root in roots:
            for src in sorted(root.rglob("*.py")):
                if src in seen:
                    continue
                seen.add(src)
                d.update(src.name.encode() + b"\0" + src.read_bytes())
        h = _SRC_HASH[0] = d.hexdigest()
    return h


def key(*what: str) -> str:
    """A disk-cache key: ``what`` plus everything the machine code depends on."""
    parts = [f"format={FORMAT}", *what, *backend().identity(), f"src={source_hash()}"]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _extensions_digest(profile: Profile) -> str:
    """Host extensions change decoding (not compiled code as such): key on their shapes and
    displays (the profile name carries a digest of their whole definition, semantics included,
    see :func:`aluvm.host.extensions.definition_digest`)."""
    items = sorted((isae, op, f.key, repr(f.fields), f.cx, f.display)
                   for isae, ops in profile.extensions.items()
                   for op, forms in ops.items() for f in forms)
    return hashlib.sha256(repr(items).encode()).hexdigest()[:16] if items else "-"


def cache_key(lib_id: bytes, profile: Profile, roots: Iterable[int]) -> str:
    """Disk-cache key of a library compiled for ``profile`` from ``roots``."""
    return key(f"lib={lib_id.hex()}", f"profile={profile.name}",
               f"features={','.join(sorted(profile.features))}",
               f"ext={_extensions_digest(profile)}", f"roots={','.join(map(str, sorted(roots)))}")


class DiskCache:
    """Object files with their JSON metadata, one file per key, written atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def load(self, key: str) -> Optional[tuple[dict, bytes]]:
        try:
            blob = (self.directory / f"{key}.o").read_bytes()
        except OSError:
            return None
        try:
            if blob[:8] != _MAGIC:
                return None
            (n,) = struct.unpack_from("<I", blob, 8)
            meta = json.loads(blob[12:12 + n])
            obj = blob[12 + n:]
            if meta.get("key") != key or meta.get("sha256") != hashlib.sha256(obj).hexdigest():
                return None
            return meta, obj
        except (ValueError, struct.error, UnicodeDecodeError):
            return None

    def store(self, key: str, meta: dict, obj: bytes) -> None:
        meta = dict(meta, key=key, sha256=hashlib.sha256(obj).hexdigest())
        head = json.dumps(meta, sort_keys=True).encode()
        import tempfile         # (only when storing: loading a cached object is start-up)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(_MAGIC + struct.pack("<I", len(head)) + head + obj)
            os.replace(tmp, self.directory / f"{key}.o")
        except OSError:
            pass


class CodeCache:
    """Compiled units in process (LRU, by library and profile) over an optional disk cache,
    plus the runners :func:`aluvm.jit.engine.jit_runner` keeps per library."""

    def __init__(self, settings: Optional[JitSettings] = None) -> None:
        self.settings = settings if settings is not None else JitSettings.from_env()
        d = self.settings.cache_dir
        self.disk = DiskCache(d) if d is not None else None
        self.lock = threading.Lock()
        self.memory: "OrderedDict[tuple, Any]" = OrderedDict()
        self.runners: dict[tuple, Any] = {}

    def load(self, key: str) -> Optional[tuple[dict, bytes]]:
        return self.disk.load(key) if self.disk is not None else None

    def store(self, key: str, meta: dict, obj: bytes) -> None:
        if self.disk is not None:
            self.disk.store(key, meta, obj)

    def get(self, mkey: tuple) -> Any:
        with self.lock:
            unit = self.memory.get(mkey)
            if unit is not None:
                self.memory.move_to_end(mkey)
            return unit

    def put(self, mkey: tuple, unit: Any) -> None:
        with self.lock:
            self.memory[mkey] = unit
            self.memory.move_to_end(mkey)
            while len(self.memory) > self.settings.memory_size:
                self.memory.popitem(last=False)

    def put_runner(self, rkey: tuple, runner: Any) -> None:
        with self.lock:
            if len(self.runners) >= self.settings.memory_size:
                self.runners.clear()
            self.runners[rkey] = runner

    def clear(self) -> None:
        with self.lock:
            self.memory.clear()
            self.runners.clear()


_CURRENT: list[Optional[CodeCache]] = [None]


def code_cache() -> CodeCache:
    """The code cache in use (created from the environment on first use)."""
    c = _CURRENT[0]
    if c is None:
        c = _CURRENT[0] = CodeCache()
    return c


def use_code_cache(cache: Optional[CodeCache]) -> Optional[CodeCache]:
    """Make ``cache`` the one in use (``None``: a fresh one from the environment on next use);
    returns the previous one."""
    prev, _CURRENT[0] = _CURRENT[0], cache
    return prev


__all__ = ["CodeCache", "DiskCache", "cache_key", "code_cache", "use_code_cache", "key",
           "source_hash", "FORMAT"]
