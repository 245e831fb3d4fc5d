"""Result buffers the driver shares with the Ray actors on its own node.

A batch run's results are ~30 bytes per input (validate20: st0, cy0, ca0, three registers).
Returned through Ray's object store they cost three copies (into a fresh store allocation,
which page-faults every 4 KiB in the worker - measured ~1.3 ms per MB plus ~1 ms per object -
then out again into the driver's arrays).  An actor on the driver's node needs none of that:
the driver lends it a slice of a shared-memory file (``/dev/shm``) and the kernel writes its
outputs there directly, exactly where the driver's result arrays are.  Actors on other nodes
still return packed results through the object store (:mod:`aluvm.tools.packed`).

The same goes for inputs that are in the driver's memory (``Batch.run(columns)`` rather than a
handle from ``Batch.put``): for the actors on the driver's node they are copied into a reused
shared buffer (warm pages: 66 MB in ~12 ms; ``ray.put`` into fresh store memory took 80-130 ms) instead of the
object store; chunks for other nodes go through the object store.

The driver keeps the buffers and reuses one only when no result array views it any more and
the run that wrote it has finished (like :class:`~aluvm.tools.batch.OutputPool`), so reused
pages stay mapped in both processes: no page faults in the steady state.  Files are named
``aluvm-batch-<pid>-<n>`` and removed when the buffer is dropped, its pool (the batch) is
collected, or the driver exits.  A driver that is killed cannot remove them: each file is
``flock``-ed by its driver while it exists, and the first pool a process makes removes the
files no live process holds (the lock goes with its process, whatever the PID namespace).
"""
from __future__ import annotations

import itertools
import mmap
import os
import sys
import threading
import weakref
from typing import Any, Callable, Optional, Sequence

import numpy as np

SHM_DIR = "/dev/shm"
_COUNTER = itertools.count()

#: what an actor needs to find its slice: (file name, file size, [(offset, full shape, dtype)])
Layout = tuple[str, int, list[tuple[int, tuple[int, ...], str]]]


def available() -> bool:
    """Shared-memory files can be made here (Linux ``/dev/shm``)."""
    try:
        import fcntl  # noqa: F401  (the files' locks; POSIX only)
    except ImportError:
        return False
    return os.path.isdir(SHM_DIR) and os.access(SHM_DIR, os.W_OK)


class _Buffer:
    def __init__(self, size: int) -> None:
        self.name = f"aluvm-batch-{os.getpid()}-{next(_COUNTER)}"
        self.path = os.path.join(SHM_DIR, self.name)
        fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        try:
            # (held while the file exists: tells _sweep that its driver is alive; before the
            # size is set, which _sweep also waits for)
            import fcntl
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.ftruncate(fd, size)
            self.mm = mmap.mmap(fd, size)
        except BaseException:
            os.close(fd)
            _unlink(self.path)
            raise
        self.fd = fd
        self.size = size
        self.base = np.frombuffer(self.mm, np.uint8)
        #: the run that writes into it: done() says when it has finished
        self.done: Callable[[], bool] = lambda: True

    def drop(self) -> None:
        _unlink(self.path)
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _drop_all(free: list, lock: threading.Lock) -> None:
    """Remove a pool's files (when the pool is collected, or at exit)."""
    with lock:
        for buf in free:
            buf.drop()
        free.clear()


_SWEPT = False


def _sweep() -> None:
    """Remove the files of drivers that died without removing them (killed): a file nobody
    holds the lock of.  A file whose size is still 0 may be one being made: left alone."""
    global _SWEPT
    if _SWEPT:
        return
    _SWEPT = True
    import fcntl
    try:
        names = [n for n in os.listdir(SHM_DIR) if n.startswith("aluvm-batch-")]
    except OSError:
        return
    for name in names:
        path = os.path.join(SHM_DIR, name)
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:             # (held: its driver is alive)
            os.close(fd)
            continue
        try:
            if os.fstat(fd).st_size > 0:
                _unlink(path)
        finally:
            os.close(fd)            # (releases the lock)


class SharedBuffers:
    """The driver's pool of shared result buffers."""

    MAX_BYTES = 1 << 28
    ALIGN = 64

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: list[_Buffer] = []
        _sweep()
        # (files removed when the pool is collected - a batch dropped - or at exit; an
        # atexit.register(self.close) kept every pool and its files alive until exit)
        self._finalizer = weakref.finalize(self, _drop_all, self._free, self._lock)

    def take(self, shapes: Sequence[tuple[int, ...]], dtypes: Sequence[np.dtype],
             done: Callable[[], bool]) -> tuple[Layout, list[np.ndarray]]:
        """Arrays of these shapes and dtypes in one shared buffer, and its layout for the
        actors; ``done()`` tells when the run writing into it has finished."""
        offsets, at = [], 0
        for s, d in zip(shapes, dtypes):
            offsets.append(at)
            at += -(-int(np.prod(s)) * np.dtype(d).itemsize // self.ALIGN) * self.ALIGN
        buf = self._reuse(max(at, self.ALIGN)) or _Buffer(max(at, self.ALIGN))
        buf.done = done
        arrays = [buf.base[o:o + int(np.prod(s)) * np.dtype(d).itemsize].view(d).reshape(s)
                  for o, s, d in zip(offsets, shapes, dtypes)]
        with self._lock:
            self._free.append(buf)
            self._trim()
        layout = (buf.name, buf.size, [(o, tuple(s), np.dtype(d).str)
                                       for o, s, d in zip(offsets, shapes, dtypes)])
        return layout, arrays

    def _reuse(self, need: int) -> Optional[_Buffer]:
        with self._lock:
            for k, buf in enumerate(self._free):
                # references: the buffer's attribute and getrefcount's argument - no view
                if buf.size >= need and sys.getrefcount(buf.base) == 2 and buf.done():
                    return self._free.pop(k)
        return None

    def _trim(self) -> None:
        while sum(b.size for b in self._free) > self.MAX_BYTES and len(self._free) > 1:
            for k, buf in enumerate(self._free):
                if sys.getrefcount(buf.base) == 2 and buf.done():
                    self._free.pop(k).drop()
                    break
            else:
                return

    def close(self) -> None:
        _drop_all(self._free, self._lock)


#: actor side: file name -> (mmap, bytes), the few most recent
_ATTACHED: dict[str, tuple[mmap.mmap, np.ndarray]] = {}
_ATTACH_LOCK = threading.Lock()
_KEEP = 8


def arrays(layout: Layout) -> Optional[list[np.ndarray]]:
    """Actor side: the driver's whole arrays of ``layout`` (None when the file is not there:
    another node)."""
    name, size, items = layout
    with _ATTACH_LOCK:
        hit = _ATTACHED.get(name)
        if hit is None or len(hit[1]) != size:
            try:
                fd = os.open(os.path.join(SHM_DIR, name), os.O_RDWR)
            except OSError:
                return None
            try:
                if os.fstat(fd).st_size != size:
                    return None
                mm = mmap.mmap(fd, size)
            finally:
                os.close(fd)
            _forget_removed()
            hit = _ATTACHED[name] = (mm, np.frombuffer(mm, np.uint8))
            while len(_ATTACHED) > _KEEP:
                _ATTACHED.pop(next(iter(_ATTACHED)))
        base = hit[1]
    return [base[o:o + int(np.prod(s)) * np.dtype(d).itemsize].view(d).reshape(s)
            for o, s, d in items]


def _forget_removed() -> None:
    """Unmap the files their driver has removed (a batch dropped, a driver gone): a mapping
    keeps an unlinked file's memory allocated, up to :data:`_KEEP` buffers per actor for as
    long as the actor lives (checked when a new file is attached: a stat per kept file)."""
    for name in list(_ATTACHED):
        if not os.path.exists(os.path.join(SHM_DIR, name)):
            del _ATTACHED[name]


def attach(layout: Layout, start: int, end: int) -> Optional[Callable[..., list[np.ndarray]]]:
    """Actor side: a ``take(shapes, dtypes)`` for the kernel's outputs that hands out rows
    ``start..end`` of the driver's arrays (None when the file is not there: another node).
    A request that does not match the layout gets fresh arrays (results then travel
    packed)."""
    full = arrays(layout)
    if full is None:
        return None

    def take(shapes: Sequence[tuple[int, ...]], dtypes: Sequence[np.dtype]) -> list[np.ndarray]:
        want = [((end - start,) + f.shape[1:], f.dtype) for f in full]     # type: ignore[union-attr]
        got = [(tuple(s), np.dtype(d)) for s, d in zip(shapes, dtypes)]
        if got != want:
            return [np.empty(s, d) for s, d in zip(shapes, dtypes)]
        return [f[start:end] for f in full]                                 # type: ignore[union-attr]
    return take


def address(a: Any) -> int:
    return int(a.__array_interface__["data"][0])


__all__ = ["SharedBuffers", "arrays", "attach", "available", "address", "Layout"]
