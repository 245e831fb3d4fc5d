"""Batch runs spread over a Ray cluster (``Batch(..., engine="ray")``, ``aluvm batch --engine
ray``).

The driver compiles the native kernel once; its object file travels in the task's shared
specification (``ray.put`` once per batch, then read from Ray's object store), and each worker
process loads it without compiling (:meth:`aluvm.jit.batch.BatchKernel.from_state`).  Inputs
are cut into chunks of tens of milliseconds of work; every chunk is one task that returns its
columnar :class:`~aluvm.tools.batch.BatchResult` (inputs that leave native code are finished
on the worker, by the same single-run path as locally).  Results are concatenated in input
order, so they are identical to the local engine's.

Ray is an optional extra (``pip install 'aluvm[ray]'``).  Without an address a local Ray
instance is started (``num_cpus`` = the batch's threads); ``ray_address`` joins a cluster.
"""
from __future__ import annotations

import io
import math
import os
import threading
from typing import Any, Iterable, Iterator, Optional

from aluvm.errors import InputError
from aluvm.library.lib import Lib
from aluvm.machine.interp import PROFILES
from aluvm.tools.batch import Batch, BatchResult
from aluvm.tools.columns import Column

#: inputs per task at most (validate20 runs ~5-10 M/s per core: a few tens of ms per task)
MAX_CHUNK = 1 << 18
MIN_CHUNK = 1 << 10

_LOCK = threading.Lock()
_REMOTE: list[Any] = []
_REMOTE_JSONL: list[Any] = []
#: worker side: specification id -> Batch with its loaded kernel
_WORKER: dict[str, tuple[Batch, Any]] = {}


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise InputError("the Ray engine needs Ray: pip install 'aluvm[ray]'") from None
    return ray


def connect(address: Optional[str] = None, num_cpus: Optional[int] = None) -> None:
    """Start a local Ray instance, or join the cluster at ``address`` (once per process)."""
    ray = _ray()
    with _LOCK:
        if ray.is_initialized():
            return
        if address:
            try:
                ray.init(address=address, log_to_driver=False)
            except (ValueError, ConnectionError) as e:   # a malformed or unreachable address
                raise InputError(f"--ray-address {address}: {e}") from None
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)


def _remote() -> Any:
    with _LOCK:
        if not _REMOTE:
            _REMOTE.append(_ray().remote(_run_chunk))
        return _REMOTE[0]


def _spec(batch: Batch, cols: list[Column]) -> dict:
    """Everything a worker needs to run this batch's chunks (plain, picklable data)."""
    if PROFILES.get(batch.profile.name) is not batch.profile:
        raise InputError("the Ray engine runs the named profiles (reference, spec) only")
    lib = batch.lib
    kernel = batch.kernel(cols) if batch.tier == "jit" else None
    return {
        "id": f"{lib.id.hex()}:{batch.profile.name}:{batch.entry}:{batch.cl0}:{batch.tier}:"
              f"{kernel.symbol if kernel is not None else '-'}:{batch.outputs}",
        "lib": (tuple(lib.isae), lib.code, lib.data, tuple(lib.libs)),
        "profile": batch.profile.name, "entry": batch.entry, "cl0": batch.cl0,
        "tier": batch.tier, "host": batch.host,
        "outputs": None if batch.outputs is None else [k.name for k in batch.outputs],
        "kernel": None if kernel is None else kernel.state(),
    }


def _worker_batch(spec: dict) -> tuple[Batch, Any]:
    hit = _WORKER.get(spec["id"])
    if hit is None:
        isae, code, data, libs = spec["lib"]
        lib = Lib(isae, code, data, libs)
        batch = Batch(lib, tier=spec["tier"], threads=1, entry=spec["entry"],
                      profile=spec["profile"], cl0=spec["cl0"], outputs=spec["outputs"],
                      host=spec["host"])
        kernel = None
        if spec["kernel"] is not None:
            from aluvm.jit.batch import BatchKernel, adopt
            kernel = BatchKernel.from_state(spec["kernel"])
            adopt(kernel, batch.program(), batch.entry, batch.cl0)
        hit = _WORKER[spec["id"]] = (batch, kernel)
    return hit


def _jsonl_task(spec: dict, item: Any) -> tuple[bytes, int, tuple[int, int, int]]:
    """One task of ``aluvm batch --engine ray``: JSON lines in, output lines out, all on the
    worker.  ``item`` is the chunk's bytes, or ``(path, start, end)``: the lines that start in
    that byte range of a file this worker can read (no input through the object store)."""
    from aluvm.tools.jsonl import chunks, counts, format_lines, parse_chunk
    batch, _ = _worker_batch(spec)
    data = read_range(*item) if isinstance(item, tuple) else item
    texts, total, tally = [], 0, [0, 0, 0]
    for chunk in chunks(io.BytesIO(data)):
        parsed = parse_chunk(chunk)
        res = batch.run_local(parsed.n, parsed.columns)
        texts.append(format_lines(res, parsed.ids, parsed.errors))
        total += parsed.n
        for k, v in enumerate(counts(res, parsed.errors)):
            tally[k] += v
    return b"".join(texts), total, (tally[0], tally[1], tally[2])


def read_range(path: str, start: int, end: int) -> bytes:
    """The lines of ``path`` whose first byte is in ``[start, end)`` (a line crossing ``end``
    is read to its newline, one longer than the request limit only as far as that limit)."""
    from aluvm.limits import REQUEST_LINE_MAX
    with open(path, "rb") as fh:
        if start > 0:
            fh.seek(start - 1)
            if fh.read(1) != b"\n":          # inside a line: it belongs to the range before
                while True:
                    block = fh.read(1 << 16)
                    if not block:
                        return b""
                    nl = block.find(b"\n")
                    if nl >= 0:
                        start = fh.tell() - len(block) + nl + 1
                        break
        if start >= end:
            return b""
        fh.seek(start)
        data = fh.read(end - start)
        if not data or data.endswith(b"\n"):
            return data
        tail, kept = [data], 0
        while True:                         # the last line runs past ``end``
            block = fh.read(1 << 16)
            if not block:
                break
            nl = block.find(b"\n")
            piece = block if nl < 0 else block[:nl + 1]
            if kept <= REQUEST_LINE_MAX:
                tail.append(piece)
                kept += len(piece)
            if nl >= 0:
                break
        return b"".join(tail)


def file_ranges(path: str, size: int) -> list[tuple[str, int, int]]:
    """``path`` cut into byte ranges of about ``size`` bytes (lines are whole per range)."""
    total = os.path.getsize(path)
    return [(path, s, min(total, s + size)) for s in range(0, total, max(1, size))]


def _one_machine() -> bool:
    """Every node of the cluster is this machine (then workers read the input file)."""
    ray = _ray()
    here = ray.util.get_node_ip_address()
    return all(nd["NodeManagerAddress"] == here for nd in ray.nodes() if nd.get("Alive"))


def jsonl_on_ray(batch: Batch, items: Iterable[Any], first_line: Optional[bytes]) -> Iterator[
        tuple[bytes, int, tuple[int, int, int]]]:
    """Output (text, inputs, (valid, invalid, errors)) of every item (chunk bytes or file range)
    as Ray tasks, in order; at most a few tasks per worker in flight.  The kernel is compiled
    here once for the registers of ``first_line`` and shipped with the specification; workers
    load it (one that meets other registers compiles that kernel once, never per chunk)."""
    from aluvm.tools.jsonl import parse_chunk
    ray = _ray()
    cols = parse_chunk(first_line).columns if first_line else []
    spec_ref = ray.put(_spec(batch, cols))
    remote = _remote_jsonl()
    workers = int(ray.cluster_resources().get("CPU", 1))
    window: list[Any] = []
    for item in items:
        window.append(remote.remote(spec_ref, item))
        if len(window) > 2 * workers:
            yield ray.get(window.pop(0))
    while window:
        yield ray.get(window.pop(0))


def _remote_jsonl() -> Any:
    with _LOCK:
        if not _REMOTE_JSONL:
            _REMOTE_JSONL.append(_ray().remote(_jsonl_task))
        return _REMOTE_JSONL[0]


def _run_chunk(spec: dict, cols: list[Column], start: int, end: int) -> BatchResult:
    """One task: inputs ``start..end`` of the batch's columns (one object in Ray's store,
    read in place by every task of the batch) through the shipped kernel (no compiler)."""
    batch, kernel = _worker_batch(spec)
    part = [c.take(slice(start, end)) for c in cols]
    res = batch.run_local(end - start, part, kernel=kernel, offset=start)
    # inputs that came through untouched are not sent back: the driver has them
    same = {c.key for c in part if (r := res.columns.get(c.key)) is not None
            and r.values is c.values and r.defined is c.defined}
    res.columns = {k: v for k, v in res.columns.items() if k not in same}
    return res


def chunk_size(n: int, workers: int) -> int:
    return min(MAX_CHUNK, max(MIN_CHUNK, math.ceil(n / max(1, 2 * workers))))


def run_on_ray(batch: Batch, n: int, cols: list[Column]) -> BatchResult:
    """Run ``n`` inputs as Ray tasks; the result is in input order."""
    ray = _ray()
    connect(batch.ray_address, batch.threads)
    if n == 0:
        return batch.run_local(0, cols)
    spec = _spec(batch, cols)
    cached = batch._ray_spec
    if cached is None or cached[0] != spec["id"]:
        cached = batch._ray_spec = (spec["id"], ray.put(spec))     # once per kernel
    spec_ref = cached[1]
    cols_ref = ray.put(cols)            # once; tasks read their slices from the store
    workers = int(ray.cluster_resources().get("CPU", 1))
    step = chunk_size(n, workers)
    remote = _remote()
    spans = [(s, min(n, s + step)) for s in range(0, n, step)]
    futures = [remote.remote(spec_ref, cols_ref, s, e) for s, e in spans]
    return _merge(batch, cols, spans, ray.get(futures))


def _merge(batch: Batch, cols: list[Column], spans: list[tuple[int, int]],
           parts: list[BatchResult]) -> BatchResult:
    """Chunk results -> one result; a column a chunk did not send back is that chunk's input
    (passed through untouched), an input no chunk touched is shared as is, like locally."""
    inputs = {c.key: c for c in cols
              if batch.outputs is None or c.key in set(batch.outputs)}
    for (s, e), part in zip(spans, parts):
        for key, col in inputs.items():
            touched = any(key in p.columns for p in parts)
            if touched and key not in part.columns:
                part.columns[key] = col.take(slice(s, e))
    res = BatchResult.concat(parts)
    for key, col in inputs.items():
        if key not in res.columns:
            res.columns[key] = col
    return res


__all__ = ["connect", "run_on_ray", "chunk_size", "jsonl_on_ray", "file_ranges", "read_range"]
