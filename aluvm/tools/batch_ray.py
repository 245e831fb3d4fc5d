"""Batch runs spread over a Ray cluster (``Batch(..., engine="ray")``, ``aluvm batch --engine
ray``).

* **Actors.** One actor per node (:class:`_Validator`), pinned to it, with as many threads
  and concurrent calls as the node has CPUs.  It gets the batch specification when it starts
  and loads the driver's compiled kernel object code once (never compiles).  Actors are kept
  per specification for the driver process, so repeated runs and CLI calls find them warm.
  Calls go straight to them: no scheduling or worker lease per run.
* **Inputs.** :meth:`Batch.put <aluvm.tools.batch.Batch.put>` stores columns in the object
  store once, in chunks (:class:`RayInputs`); :meth:`RayInputs.from_refs` takes chunks other
  Ray tasks produced.  An actor reads its chunk in place.  In-memory columns given to
  ``run`` are lent to this node's actors through shared memory for that run
  (:mod:`aluvm.tools.shm`), and put into the store for the other nodes.
* **Results.** This node's actors write the kernel's outputs straight into the driver's
  result arrays (shared memory).  Everything else comes back packed
  (:mod:`aluvm.tools.packed`) and is merged in input order.  :meth:`Batch.submit
  <aluvm.tools.batch.Batch.submit>` returns the run in flight (:class:`RayRun`): counts
  without moving result columns, per-chunk refs, or the whole result.
* **CLI.** ``aluvm batch --engine ray`` sends items to the same actors, which parse, run and
  format them.  When every node is this machine an item is a byte range of a JSON lines file
  or a piece of a Parquet/Arrow file, which the actor reads itself; otherwise an item is a
  chunk of input.  Only the output lines come back.

Results are identical to the local engine's, in input order.  Ray is an optional extra
(``pip install 'aluvm[ray]'``).  Without an address a local Ray instance is started
(``num_cpus`` = the batch's threads); ``ray_address`` joins a cluster.
"""
from __future__ import annotations

import io
import math
import os
import threading
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

import numpy as np

from aluvm.errors import InputError
from aluvm.library.lib import Lib
from aluvm.machine.interp import PROFILES
from aluvm.tools.batch import Batch, BatchResult, OutputPool
from aluvm.tools.columns import Column

_LOCK = threading.Lock()
_REMOTE: list[Any] = []
#: worker side: buffers of packed results (reused once Ray has copied them out)
_PACK_POOL = OutputPool()
#: worker side: specification id -> Batch with its loaded kernel
_WORKER: dict[tuple[str, int], tuple[Batch, Any]] = {}


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


def _worker_batch(spec: dict, threads: int = 1) -> tuple[Batch, Any]:
    hit = _WORKER.get((spec["id"], threads))
    if hit is None:
        isae, code, data, libs = spec["lib"]
        lib = Lib(isae, code, data, libs)
        batch = Batch(lib, tier=spec["tier"], threads=threads, entry=spec["entry"],
                      profile=spec["profile"], cl0=spec["cl0"], outputs=spec["outputs"],
                      host=spec["host"])
        kernel = None
        if spec["kernel"] is not None:
            from aluvm.jit.batch import BatchKernel, adopt
            kernel = BatchKernel.from_state(spec["kernel"])
            adopt(kernel, batch.program(), batch.entry, batch.cl0)
        hit = _WORKER[(spec["id"], threads)] = (batch, kernel)
    return hit


def _jsonl_task(spec: dict, item: Any, threads: int = 1
                ) -> tuple[list, int, tuple[int, int, int]]:
    """One item of ``aluvm batch --engine ray``: JSON lines in, output lines out, all on the
    worker, its chunks on ``threads`` threads.  ``item`` is the chunk's bytes, or ``(path,
    start, end)``: the lines that start in that byte range of a file this worker can read
    (no input through the object store)."""
    from aluvm.tools.jsonl import chunks, counts, format_parts, parse_chunk
    batch, _ = _worker_batch(spec)
    data = read_range(*item) if isinstance(item, tuple) else item

    def one(chunk: bytes) -> tuple[list, int, tuple[int, int, int]]:
        parsed = parse_chunk(chunk)
        res = batch.run_local(parsed.n, parsed.columns)
        return (_out_of_band(format_parts(res, parsed.ids, parsed.errors)), parsed.n,
                counts(res, parsed.errors))
    return _gather(one, chunks(io.BytesIO(data)), threads)


def _gather(one: Any, pieces: Iterable[Any], threads: int
            ) -> tuple[list, int, tuple[int, int, int]]:
    """``one`` over the pieces on ``threads`` threads -> (blocks, inputs, counts) in order."""
    if threads > 1:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(threads) as pool:
            done = list(pool.map(one, pieces))
    else:
        done = [one(p) for p in pieces]
    return ([b for d in done for b in d[0]], sum(d[1] for d in done),
            (sum(d[2][0] for d in done), sum(d[2][1] for d in done),
             sum(d[2][2] for d in done)))


def _out_of_band(parts: list) -> list:
    """Output blocks as numpy byte arrays: Ray copies those into the object store once and
    the driver reads them in place (``bytes`` are pickled in-band: one more copy each way,
    and joining them first cost another - ~0.2 s per 1M output lines)."""
    return [np.frombuffer(p, np.uint8) for p in parts]


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
        tuple[list, int, tuple[int, int, int]]]:
    """Output (text blocks, inputs, (valid, invalid, errors)) of every item (chunk bytes or
    file range), in order, run by the node actors (each item on a node's threads; a few items
    per actor in flight).  The kernel is compiled here once for the registers of
    ``first_line`` and shipped with the specification; actors load it (one that meets other
    registers compiles that kernel once, never per chunk)."""
    from aluvm.tools.jsonl import parse_chunk
    cols = parse_chunk(first_line).columns if first_line else []
    return _in_order(_pool(batch, [c.key.name for c in cols]), "jsonl", items)


def columnar_pieces(path: str, rows: int) -> list[tuple[str, str, list[int], int, int]]:
    """A Parquet or Arrow IPC file cut into pieces of about ``rows`` rows that the workers
    read themselves: ``(path, kind, row groups, start, stop)``.  Parquet: consecutive small
    row groups together; a large one cut into row ranges (the worker decodes a group once and
    keeps it for its next pieces, :func:`read_piece`).  Arrow IPC (memory-mapped,
    zero-copy): row ranges."""
    if path.lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq
        meta = pq.ParquetFile(path).metadata
        pieces: list[tuple[str, str, list[int], int, int]] = []
        group: list[int] = []
        size = 0
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            if size + n > rows and group:
                pieces.append((path, "parquet", group, 0, size))
                group, size = [], 0
            if n > rows:
                pieces += [(path, "parquet", [g], s, min(n, s + rows)) for s in range(0, n, rows)]
                continue
            group.append(g)
            size += n
        if group:
            pieces.append((path, "parquet", group, 0, size))
        return pieces
    import pyarrow as pa
    import pyarrow.ipc as ipc
    with pa.memory_map(path) as src:
        total = ipc.open_file(src).read_all().num_rows
    return [(path, "ipc", [], s, min(total, s + rows)) for s in range(0, total, rows)]


#: worker side: the Parquet row groups decoded last ((path, size, mtime, groups) -> table)
_DECODED: dict[tuple, Any] = {}
_DECODE_LOCK = threading.Lock()


def read_piece(path: str, kind: str, groups: list[int], start: int, stop: int) -> Any:
    """The rows of one piece as an Arrow table (see :func:`columnar_pieces`); a file that
    cannot be read (corrupt, changed since the driver planned the pieces) is an input error,
    raised on the driver as one line (:func:`_get`), not a worker's traceback."""
    import pyarrow as pa
    from aluvm.tools.jsonl import columnar_error
    try:
        return _read_piece(path, kind, groups, start, stop)
    except (pa.ArrowException, OSError) as e:
        raise columnar_error(path, e) from None


def _read_piece(path: str, kind: str, groups: list[int], start: int, stop: int) -> Any:
    import pyarrow as pa
    if kind == "parquet":
        import pyarrow.parquet as pq
        st = os.stat(path)
        key = (path, st.st_size, st.st_mtime_ns, tuple(groups))
        with _DECODE_LOCK:          # (pieces of one group decode it once, side by side too)
            table = _DECODED.get(key)
            if table is None:
                table = pq.ParquetFile(path).read_row_groups(groups)
                _DECODED.clear()
                _DECODED[key] = table
    else:
        import pyarrow.ipc as ipc
        with pa.memory_map(path) as src:
            table = ipc.open_file(src).read_all()
    return table.slice(start, stop - start)


def _columnar_task(spec: dict, piece: tuple, threads: int = 1
                   ) -> tuple[list, int, tuple[int, int, int]]:
    """One piece of ``aluvm batch --engine ray`` on a Parquet/Arrow file: the worker reads its
    piece of the file itself, then parses, runs and formats it in chunks on ``threads``
    threads (nothing but the output lines travels)."""
    from aluvm.tools.jsonl import CHUNK_LINES, counts, format_parts, parse_record_batch
    batch, _ = _worker_batch(spec)

    def one(rb: Any) -> tuple[list, int, tuple[int, int, int]]:
        parsed = parse_record_batch(rb)
        res = batch.run_local(parsed.n, parsed.columns)
        return (_out_of_band(format_parts(res, parsed.ids, parsed.errors)), parsed.n,
                counts(res, parsed.errors))
    return _gather(one, read_piece(*piece).to_batches(max_chunksize=CHUNK_LINES), threads)


def columnar_on_ray(batch: Batch, path: str, rows: int) -> Iterator[
        tuple[list, int, tuple[int, int, int]]]:
    """Output (text blocks, inputs, (valid, invalid, errors)) of a Parquet/Arrow IPC file that
    every Ray node can read, piece by piece on the node actors, in order.  The kernel is
    compiled here once for the file's register columns and shipped with the specification.
    (Not a generator itself: a bad file or a column that is not a register is reported here,
    before any output.)"""
    import pyarrow as pa
    from aluvm.tools.columns import reg_key
    _ray()
    if path.lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq
        names = pq.ParquetFile(path).schema_arrow.names
    else:
        import pyarrow.ipc as ipc
        with pa.memory_map(path) as src:
            names = ipc.open_file(src).schema.names
    names = [nm for nm in names if nm != "id"]
    for nm in names:
        reg_key(nm)                 # (a column that is not a register: bad usage, here)
    pieces = columnar_pieces(path, rows)
    return _in_order(_pool(batch, names), "columnar", pieces)


def _in_order(pool: list, kind: str, items: Iterable[Any]) -> Iterator[Any]:
    """Each item on the pool's actors (round robin), results in item order, two items per
    CPU in flight (one running, one queued: an actor never waits for the driver)."""
    window: list[Any] = []
    cpus = sum(t for _, t, _ in pool)
    for k, item in enumerate(items):
        window.append(pool[k % len(pool)][0].pipeline.remote(kind, item))
        if len(window) > 2 * cpus:
            yield _get([window.pop(0)])[0]
    while window:
        yield _get([window.pop(0)])[0]


# ---- the Python API: inputs in the object store, packed columnar results ------------------

class RayInputs:
    """Batch inputs held in Ray's object store, one object per chunk (a task's work).

    Made by :meth:`Batch.put <aluvm.tools.batch.Batch.put>` (columns cut into chunks and
    stored once; every later ``run`` reads them in place, zero-copy on the workers' node), or
    by :meth:`from_refs` for chunks other Ray tasks produced.  A chunk object is a mapping
    ``{register name: array}`` (what ``Batch.run`` takes) or a list of
    :class:`~aluvm.tools.columns.Column`.  Results come back in the order of the chunks.
    """

    #: (marks Ray-resident inputs for ``Batch.run``)
    on_ray = True

    def __init__(self, refs: Sequence[Any], sizes: Optional[Sequence[int]] = None,
                 names: Optional[Sequence[str]] = None,
                 local: Optional[tuple[list[tuple[int, int]], list[Column]]] = None) -> None:
        self.refs = list(refs)
        self.sizes = None if sizes is None else [int(s) for s in sizes]
        self.names = None if names is None else list(names)
        #: put() only: (chunk spans, the columns) still on the driver, for the registers a
        #: run passes through untouched (the local engine shares them the same way)
        self._local = local

    @classmethod
    def from_refs(cls, refs: Iterable[Any], sizes: Optional[Sequence[int]] = None
                  ) -> "RayInputs":
        """Chunks already in the object store (e.g. returned by other Ray tasks), in input
        order.  ``sizes`` (inputs per chunk) are needed only for per-input host contexts."""
        ray = _ray()
        refs = list(refs)
        for r in refs:
            if not isinstance(r, ray.ObjectRef):
                raise InputError(f"RayInputs.from_refs takes ray.ObjectRef chunks, "
                                 f"not {type(r).__name__}")
        if sizes is not None and len(sizes) != len(refs):
            raise InputError(f"{len(sizes)} sizes for {len(refs)} chunks")
        return cls(refs, sizes)

    @property
    def n(self) -> Optional[int]:
        """Number of inputs (None when the chunks' sizes are not known here)."""
        return None if self.sizes is None else sum(self.sizes)

    def __len__(self) -> int:
        n = self.n
        if n is None:
            raise TypeError("the number of inputs of these chunks is not known before a run")
        return n

    def __repr__(self) -> str:
        return f"RayInputs({len(self.refs)} chunks, n={self.n})"


#: inputs per chunk at most, and at least (below that, a call's overhead dominates)
MAX_CHUNK = 1 << 22
MIN_CHUNK = 1 << 14


def chunk_size(n: int, nodes: int) -> int:
    """One chunk per node (an actor runs it on all the node's CPUs: validate20 runs ~60-80 M
    inputs/s per core, a 1M-input chunk is milliseconds of work, comparable to a call's
    overhead); larger batches get more chunks of at most :data:`MAX_CHUNK`."""
    return min(MAX_CHUNK, max(MIN_CHUNK, math.ceil(n / max(1, nodes))))


_NODES: list[tuple[str, float, int]] = []     # (Ray job, when, nodes with CPUs)


def _nodes() -> int:
    """Nodes with CPUs (asked of Ray at most every 5 s: ``ray.nodes()`` is a round trip to
    the cluster's head, ~1.5 ms here - it only sizes chunks)."""
    import time
    ray = _ray()
    job = str(ray.get_runtime_context().get_job_id())
    now = time.monotonic()
    if _NODES and _NODES[0][0] == job and now - _NODES[0][1] < 5.0:
        return _NODES[0][2]
    count = max(1, sum(1 for nd in ray.nodes()
                       if nd.get("Alive") and nd.get("Resources", {}).get("CPU", 0) > 0))
    _NODES[:] = [(job, now, count)]
    return count


def put(batch: Batch, inputs: Any, chunk: Optional[int] = None) -> RayInputs:
    """Store ``inputs`` (anything ``Batch.run`` takes) in Ray's object store, in chunks of
    ``chunk`` inputs (default: :func:`chunk_size` for the cluster's nodes)."""
    from aluvm.tools.batch import to_columns
    n, cols = to_columns(inputs)
    return put_columns(batch, n, cols, chunk)


def put_columns(batch: Batch, n: int, cols: Sequence[Column], chunk: Optional[int] = None
                ) -> RayInputs:
    """:func:`put` for inputs already in columns."""
    ray = _ray()
    connect(batch.ray_address, batch.threads)
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int)
                              or chunk < 1):
        raise InputError("chunk must be a positive number of inputs")
    step = chunk or chunk_size(n, _nodes())
    spans = [(s, min(n, s + step)) for s in range(0, n, step)]
    # a chunk object: (inputs, columns) - the count survives a chunk without columns
    refs = [ray.put((e - s, [c.take(slice(s, e)) for c in cols])) for s, e in spans]
    _pool(batch, [c.key.name for c in cols])        # (the actors start meanwhile)
    return RayInputs(refs, [e - s for s, e in spans], [c.key.name for c in cols],
                     (spans, list(cols)))


def _chunk_columns(chunk: Any) -> tuple[int, list[Column]]:
    """A chunk object -> (inputs, columns)."""
    from aluvm.tools.columns import columns_from_mapping
    if isinstance(chunk, tuple) and len(chunk) == 2 and isinstance(chunk[0], int) and \
            all(isinstance(c, Column) and len(c) == chunk[0] for c in chunk[1]):
        return chunk[0], list(chunk[1])
    if isinstance(chunk, Mapping):
        return columns_from_mapping(chunk)
    raise InputError(f"a Ray input chunk must be a mapping {{register name: array}}, "
                     f"not {type(chunk).__name__}")


def _fits(kernel: Any, cols: Sequence[Column]) -> bool:
    """The shipped kernel loads exactly these columns' registers (else the worker gets its
    own kernel for them, compiled once)."""
    aset = set(kernel.aset)
    regs = tuple((c.key.code, c.key.idx) for c in cols if c.key.fam == "a")
    return tuple(r for r in regs if r in aset) == kernel.inputs


def _run_part(spec: dict, chunk: Any, offset: int, threads: int = 1,
              shared: Optional[tuple] = None) -> tuple[Any, tuple[int, int, int]]:
    """One chunk (resolved by Ray from the object store: numpy arrays are read in place)
    through the shipped kernel -> (packed result, (inputs, valid, fallbacks)).  Inputs passed
    through untouched are not sent back; with ``shared`` = (layout, start, end) the kernel
    writes its outputs straight into the driver's shared memory (:mod:`aluvm.tools.shm`) and
    only what did not land there is sent."""
    from aluvm.tools.packed import pack
    batch, kernel = _worker_batch(spec, threads)
    n, cols = _chunk_columns(chunk)
    use = kernel if kernel is not None and _fits(kernel, cols) else None
    take, handed = None, []
    if shared is not None and use is not None:
        from aluvm.tools.shm import attach
        into = attach(*shared)
        if into is not None:
            def take(shapes: Any, dtypes: Any) -> list[np.ndarray]:
                handed.extend(into(shapes, dtypes))
                return handed
    res = batch.run_local(n, cols, kernel=use, offset=offset, take=take)
    inplace = _in_place(res, use, handed) if handed else frozenset()
    summary = (n, int(np.count_nonzero(res.st0)), int(np.count_nonzero(res.fallback)))
    return pack(res, cols, _PACK_POOL.take, inplace), summary


def _in_place(res: Any, kernel: Any, handed: list[np.ndarray]) -> frozenset:
    """The result arrays that are the handed-out shared slices themselves (the kernel's
    control outputs and output columns, unless the fallback path replaced them)."""
    from aluvm.tools.columns import key_of
    from aluvm.tools.shm import address
    at = {address(a) for a in handed}
    out: set[Any] = {lb for lb, a in (("st0", res.st0), ("cy0", res.cy0), ("ca0", res.ca0))
                     if address(a) in at}
    for c, i in kernel.outputs:
        key = key_of("a", c, i)
        col = res.columns.get(key)
        if col is not None and key.narrow:
            out |= {(key, part) for part, a in (("values", col.values), ("defined", col.defined))
                    if address(a) in at}
    return frozenset(out)


class _Validator:
    """A Ray actor that runs chunks of one batch on one node, on a thread pool as wide as the
    node (the kernel releases the GIL, like the local engine).  It loads the shipped kernel
    when it starts (once; never compiled) and keeps it.  Calls go straight to the actor's
    process: no scheduling or worker lease per run.  (Measured on 2 local CPUs, 1M inputs:
    tasks, one per CPU, spent ~4-8 ms per run in scheduling; one actor per CPU ~2-3 ms; one
    actor per node also leaves one result to fetch instead of one per CPU.)"""

    def __init__(self, spec: dict, threads: int) -> None:
        self.spec, self.threads = spec, threads
        _keep_freed_memory()
        _worker_batch(spec, threads)

    def ready(self) -> bool:
        return True

    def run(self, chunk: Any, offset: int, shared: Optional[tuple] = None
            ) -> tuple[Any, tuple[int, int, int]]:
        """(packed result, (inputs, valid, fallbacks)): two objects, the summary small
        enough to travel inline with the reply."""
        return _run_part(self.spec, chunk, offset, self.threads, shared)

    def pipeline(self, kind: str, item: Any) -> tuple[list, int, tuple[int, int, int]]:
        """One item of ``aluvm batch --engine ray`` (``kind`` "jsonl" or "columnar"), on one
        thread (items run side by side, up to the node's CPUs): (output blocks, inputs,
        (valid, invalid, errors))."""
        task = _jsonl_task if kind == "jsonl" else _columnar_task
        return task(self.spec, item, 1)

    def run_lent(self, lent: tuple, start: int, end: int, shared: Optional[tuple] = None
                 ) -> tuple[Any, tuple[int, int, int]]:
        """:meth:`run` on rows ``start..end`` of input columns the driver lends through
        shared memory (:meth:`RayRun._lend`)."""
        from aluvm.tools import shm
        from aluvm.tools.columns import all_defined, reg_key
        layout, index = lent
        full = shm.arrays(layout)
        if full is None:
            raise RuntimeError("the driver's shared input buffer is not on this node")
        n = end - start
        cols = [Column(reg_key(name), full[vi][start:end],
                       all_defined(n) if di < 0 else full[di][start:end])
                for name, vi, di in index]
        return _run_part(self.spec, (n, cols), start, self.threads, shared)


def _keep_freed_memory() -> None:
    """In the actor's own process: glibc keeps freed blocks up to 32 MB in its heap instead
    of unmapping them (an input range, output blocks and columns are megabytes each; fresh
    mappings page-fault every 4 KiB on every call)."""
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 32 << 20)      # M_MMAP_THRESHOLD (its maximum)
        libc.mallopt(-1, 1 << 30)       # M_TRIM_THRESHOLD
    except (OSError, AttributeError):   # (not glibc)
        pass


def _actor_class() -> Any:
    with _LOCK:
        if not _REMOTE:
            # (no CPU reserved: the actors idle between runs and must not starve tasks, e.g.
            # ``aluvm batch --engine ray`` in the same instance)
            _REMOTE.append(_ray().remote(num_cpus=0, max_restarts=2, max_task_retries=2)(
                _Validator))
        return _REMOTE[0]


#: the node actors of every specification this process used, most recent last (a batch,
#: and every ``aluvm batch`` call in this process, finds its warm actors here)
_POOLS: dict[str, list[tuple[Any, int, str]]] = {}
#: specifications whose actors are kept at most (older ones are ended)
POOLS_KEPT = 8


def _pool(batch: Batch, names: Sequence[str]) -> list[tuple[Any, int, str]]:
    """The actors for this batch and these registers' kernel, started once per process: one
    per node, pinned to it, with as many threads as the node has CPUs.
    [(actor, threads, node id)]"""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
    from aluvm.tools.columns import reg_key
    spec = _spec(batch, [Column.undefined(reg_key(nm), 0) for nm in names])
    ray = _ray()
    key = f"{ray.get_runtime_context().get_job_id()}/{spec['id']}"    # (a new Ray session:
    with _LOCK:                                                         # new actors)
        actors = _POOLS.pop(key, None)
    if actors is None:
        cls = _actor_class()
        actors = []
        for node in ray.nodes():
            cpus = int(node.get("Resources", {}).get("CPU", 0)) if node.get("Alive") else 0
            if cpus > 0:        # (spec by value: a restarted actor gets it again)
                actors.append((cls.options(
                    max_concurrency=cpus,       # (calls of several runs / items at once)
                    scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"],
                                                                       soft=True)
                ).remote(spec, cpus), cpus, node["NodeID"]))
        if not actors:
            raise InputError("the Ray cluster has no CPUs")
    with _LOCK:
        _POOLS[key] = actors
        while len(_POOLS) > POOLS_KEPT:
            for actor, _, _ in _POOLS.pop(next(iter(_POOLS))):
                try:
                    ray.kill(actor)
                except Exception:       # (an actor of an ended Ray session)
                    pass
    return actors


def run_inputs(batch: Batch, inputs: Any) -> "BatchResult":
    """``Batch(..., engine="ray").run(inputs)``: a :class:`RayInputs` handle, a list of
    ``ray.ObjectRef`` chunks, or in-memory inputs (stored first, once per call)."""
    run = submit(batch, inputs)
    if not run.handle.refs:
        local = run.handle._local
        return batch.run_local(0, local[1] if local else [])
    return run.result()


def _per_input_host(batch: Batch) -> bool:
    return callable(batch.host) or isinstance(batch.host, (list, tuple))


def run_handle(batch: Batch, handle: RayInputs) -> "BatchResult":
    """Run every chunk of ``handle`` on the batch's actors; the packed parts are written into
    one result (the batch's reused output buffers), in input order."""
    if not handle.refs:
        return batch.run_local(0, handle._local[1] if handle._local else [])
    return submit(batch, handle).result()


def submit(batch: Batch, inputs: Any) -> "RayRun":
    """Start a run (``Batch.submit``); its results stay in the object store until asked."""
    ray = _ray()
    connect(batch.ray_address, batch.threads)
    handle = inputs
    if isinstance(handle, ray.ObjectRef):
        handle = [handle]
    if isinstance(handle, list) and handle and all(isinstance(r, ray.ObjectRef) for r in handle):
        handle = RayInputs.from_refs(handle)
    if not isinstance(handle, RayInputs):
        if getattr(handle, "on_ray", False):
            raise InputError("inputs in Ray's object store must be a RayInputs handle")
        from aluvm.tools.batch import to_columns
        handle = _transient(batch, *to_columns(handle))
    return RayRun(batch, handle)


def _transient(batch: Batch, n: int, cols: Sequence[Column]) -> RayInputs:
    """In-memory inputs for one run: chunks for the actors on this node stay out of the
    object store (``None``: the run lends them through shared memory, when every column is
    a8..a64 and ``/dev/shm`` exists); the others are put into it."""
    from aluvm.tools import shm
    ray = _ray()
    connect(batch.ray_address, batch.threads)
    names = [c.key.name for c in cols]
    pool = _pool(batch, names)
    here = ray.get_runtime_context().get_node_id()
    step = chunk_size(n, _nodes())
    spans = [(s, min(n, s + step)) for s in range(0, n, step)]
    lend = batch.tier == "jit" and shm.available() and all(c.key.narrow for c in cols)
    refs = [None if lend and pool[k % len(pool)][2] == here
            else ray.put((e - s, [c.take(slice(s, e)) for c in cols]))
            for k, (s, e) in enumerate(spans)]
    return RayInputs(refs, [e - s for s, e in spans], names, (spans, list(cols)))


class RayRun:
    """One run of a batch on Ray's actors, in flight (``Batch.submit``).

    ``refs``: one object per chunk, in input order, left in the object store: a
    :class:`~aluvm.tools.packed.PackedResult` (``ray.get(ref).unpack()`` is the chunk's
    :class:`~aluvm.tools.batch.BatchResult` of the registers the run changed; the others are
    the chunk's inputs) - for Ray tasks downstream.  :meth:`counts` waits for the small
    per-chunk summaries only; :meth:`result` fetches and merges everything (``Batch.run``).
    """

    def __init__(self, batch: Batch, handle: RayInputs) -> None:
        self.batch, self.handle = batch, handle
        self._fetched: dict[int, list[Column]] = {}
        self._result: Optional[BatchResult] = None
        names = handle.names
        if names is None:           # (the first chunk names the kernel's registers)
            names = handle.names = [c.key.name for c in self._inputs(0)]
        if handle.sizes is None and _per_input_host(batch):
            raise InputError("per-input host contexts need the chunks' sizes "
                             "(RayInputs.from_refs(refs, sizes=...))")
        offsets = [0] * len(handle.refs)
        if handle.sizes is not None:
            offsets = [sum(handle.sizes[:k]) for k in range(len(handle.refs))]
        pool = _pool(batch, names)
        here = _ray().get_runtime_context().get_node_id()
        pending: list[Any] = []
        layout = self._share(names, pool, here, pending)
        lent = self._lend(pending) if any(r is None for r in handle.refs) else None
        pairs = []
        for k, (ref, off) in enumerate(zip(handle.refs, offsets)):
            actor, _, node = pool[k % len(pool)]
            shared = None
            if layout is not None and node == here:
                shared = (layout, off, off + handle.sizes[k])    # type: ignore[index]
            if ref is None:
                end = off + handle.sizes[k]                         # type: ignore[index]
                pairs.append(actor.run_lent.options(num_returns=2).remote(
                    lent, off, end, shared))
            else:
                pairs.append(actor.run.options(num_returns=2).remote(ref, off, shared))
        self.refs = [p[0] for p in pairs]
        self._summaries = [p[1] for p in pairs]
        pending.extend(self._summaries)

    def _lend(self, pending: list) -> tuple:
        """The in-memory input columns copied into a shared buffer for this node's actors:
        (layout, [(register, values index, defined index or -1 when all defined)])."""
        cols = self.handle._local[1]                    # type: ignore[index]
        n = sum(self.handle.sizes)                      # type: ignore[arg-type]
        shapes: list[tuple[int, ...]] = []
        dtypes: list[np.dtype] = []
        index = []
        for c in cols:
            full = bool(c.defined.all())
            index.append((c.key.name, len(shapes), -1 if full else len(shapes) + 1))
            shapes += [(n,)] if full else [(n,), (n,)]
            dtypes += [c.key.dtype] if full else [c.key.dtype, np.dtype(bool)]
        ray = _ray()

        def done() -> bool:
            return len(ray.wait(pending, num_returns=len(pending), timeout=0)[0]) == \
                len(pending)
        layout, arrays = self._buffers().take(shapes, dtypes, done)
        pairs = [(arrays[vi], c.values) for c, (_, vi, _) in zip(cols, index)]
        pairs += [(arrays[di], c.defined) for c, (_, _, di) in zip(cols, index) if di >= 0]
        batch = self.batch              # (copies release the GIL: on the batch's threads)
        each = batch._executor().map if batch.threads > 1 and len(pairs) > 1 else map
        list(each(lambda dst_src: np.copyto(*dst_src), pairs))
        return (layout, index)

    def _buffers(self) -> Any:
        from aluvm.tools import shm
        buffers = getattr(self.batch, "_ray_shared", None)
        if buffers is None:
            buffers = self.batch._ray_shared = shm.SharedBuffers()   # type: ignore[attr-defined]
        return buffers

    def _share(self, names: Sequence[str], pool: list, here: str, pending: list
               ) -> Optional[Any]:
        """The whole result's kernel outputs in shared memory, for the actors on this node
        (their slices are written in place); None when that cannot apply (no actor here, the
        interpreter tier, chunk sizes unknown, no ``/dev/shm``)."""
        from aluvm.tools import shm
        from aluvm.tools.columns import key_of, reg_key
        batch, handle = self.batch, self.handle
        self._preset: Optional[dict] = None
        if batch.tier != "jit" or handle.sizes is None or not shm.available() or \
                not any(node == here for _, _, node in pool):
            return None
        from aluvm.jit.batch import CONTROL_OUTPUTS
        kernel = batch.kernel([Column.undefined(reg_key(nm), 0) for nm in names])
        n = sum(handle.sizes)
        shapes: list[tuple[int, ...]] = [(n,) for _ in CONTROL_OUTPUTS]
        dtypes = [np.dtype(dt) for _, dt in CONTROL_OUTPUTS]
        for c, i in kernel.outputs:
            shapes += [(n, key_of("a", c, i).width), (n,)]
            dtypes += [np.dtype(np.uint8), np.dtype(np.uint8)]
        buffers = self._buffers()
        ray = _ray()

        def done() -> bool:
            return len(ray.wait(pending, num_returns=len(pending), timeout=0)[0]) == \
                len(pending)
        layout, arrays = buffers.take(shapes, dtypes, done)
        preset: dict[Any, np.ndarray] = {"st0": arrays[1].view(bool), "cy0": arrays[2],
                                         "ca0": arrays[3]}
        for j, (c, i) in enumerate(kernel.outputs):
            key = key_of("a", c, i)
            if key.narrow:
                preset[(key, "values")] = arrays[4 + 2 * j].view(key.dtype).reshape(-1)
                preset[(key, "defined")] = arrays[5 + 2 * j].view(bool)
        self._preset = preset
        return layout

    def _inputs(self, k: int) -> list[Column]:
        """Chunk ``k``'s input columns (put(): views of the driver's columns; otherwise
        fetched from the store, zero-copy on this node)."""
        local = self.handle._local
        if local is not None:
            s, e = local[0][k]
            return [c.take(slice(s, e)) for c in local[1]]
        if k not in self._fetched:
            self._fetched[k] = _chunk_columns(_ray().get(self.handle.refs[k]))[1]
        return self._fetched[k]

    def counts(self) -> tuple[int, int, int]:
        """(inputs, valid, finished outside native code) over every chunk - no result
        columns leave the object store."""
        got = _get(self._summaries)
        return (sum(g[0] for g in got), sum(g[1] for g in got), sum(g[2] for g in got))

    def result(self) -> "BatchResult":
        """The whole result, in input order, identical to the local engine's (the same object
        on every call: what this node's actors wrote in place exists once)."""
        from aluvm.tools.packed import merge
        if self._result is not None:
            return self._result
        batch = self.batch
        parts = _get(self.refs)
        want = None if batch.outputs is None else set(batch.outputs)

        def passthrough() -> dict:
            local = self.handle._local
            if local is not None:
                return batch._passthrough(local[1])
            return _concat_inputs([self._inputs(k) for k in range(len(parts))], parts, want)
        each = batch._executor().map if batch.threads > 1 and len(parts) > 1 else map
        preset, self._preset = self._preset, None
        self._result = merge(parts, self._inputs, passthrough, batch._outputs.take,
                             BatchResult, each, preset)
        return self._result


def _concat_inputs(per_part: list[list[Column]], parts: Sequence[Any],
                   want: Optional[set]) -> dict:
    from aluvm.tools.columns import concat
    maps = [{c.key: c for c in cols} for cols in per_part]
    keys = {k for m in maps for k in m if want is None or k in want}
    return {key: concat([Column.undefined(key, p.n) if m.get(key) is None else m[key]
                         for m, p in zip(maps, parts)]) for key in keys}


def _get(futures: list[Any]) -> list[Any]:
    """``ray.get``; an input error raised in a task is raised here as itself, one line."""
    ray = _ray()
    try:
        return ray.get(futures)
    except ray.exceptions.RayTaskError as e:
        cause = getattr(e, "cause", None)
        if isinstance(cause, (InputError, TypeError, ValueError)):
            raise type(cause)(*cause.args) from None
        raise


__all__ = ["connect", "RayInputs", "RayRun", "put", "put_columns", "submit", "run_inputs",
           "run_handle", "chunk_size", "jsonl_on_ray", "file_ranges", "read_range",
           "columnar_on_ray", "columnar_pieces", "read_piece"]
