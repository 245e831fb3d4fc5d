"""The streaming batch pipeline behind ``aluvm batch``: chunks of input are parsed, run and
formatted on a thread pool (the parsing, the native kernel and the formatting all work outside
the GIL for most of their time) and written in input order."""
from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Iterable, Optional, Union

from aluvm.tools.batch import Batch
from aluvm.tools.jsonl import Parsed, counts, format_parts, parse_chunk


@dataclass
class Summary:
    inputs: int = 0
    valid: int = 0
    invalid: int = 0
    errors: int = 0
    seconds: float = 0.0

    def add(self, n: int, verdicts: tuple[int, int, int],
            progress: Optional[Callable[[int], Any]]) -> None:
        """Count one chunk of ``n`` inputs (its valid, invalid and error counts)."""
        valid, invalid, errors = verdicts
        self.inputs += n
        self.valid += valid
        self.invalid += invalid
        self.errors += errors
        if progress is not None:
            progress(n)

    def line(self) -> str:
        rate = self.inputs / self.seconds if self.seconds > 0 else 0.0
        return (f"{self.inputs} inputs, {self.valid} valid, {self.invalid} invalid, "
                f"{self.errors} errors, {self.seconds:.2f} s, {rate:,.0f} runs/s")


def _job(batch: Batch, item: Union[bytes, Parsed]) -> tuple[list, int, tuple[int, int, int]]:
    parsed = item if isinstance(item, Parsed) else parse_chunk(item)
    res = batch.run_columns(parsed.n, parsed.columns)
    return format_parts(res, parsed.ids, parsed.errors), parsed.n, counts(res, parsed.errors)


def write_results(results: Iterable[tuple[Any, int, tuple[int, int, int]]],
                  out: Optional[BinaryIO], progress: Optional[Callable[[int], Any]] = None
                  ) -> Summary:
    """Write already computed chunk outputs (e.g. from Ray tasks: bytes, or a list of
    blocks) in order and sum them up."""
    s = Summary()
    t0 = time.perf_counter()
    for text, n, verdicts in results:
        if out is not None:
            if isinstance(text, list):
                out.writelines(text)
            else:
                out.write(text)
        s.add(n, verdicts, progress)
    s.seconds = time.perf_counter() - t0
    return s


def run_stream(batch: Batch, items: Iterable[Union[bytes, Parsed]], out: Optional[BinaryIO],
               workers: int, progress: Optional[Callable[[int], Any]] = None) -> Summary:
    """Run every chunk of ``items`` (JSONL bytes or parsed columns) and write the output lines
    to ``out`` (None: count only) in order."""
    s = Summary()
    t0 = time.perf_counter()
    window: deque[Future] = deque()

    def drain_one() -> None:
        parts, n, verdicts = window.popleft().result()
        if out is not None:
            out.writelines(parts)
        s.add(n, verdicts, progress)

    with ThreadPoolExecutor(max(1, workers)) as pool:
        for item in items:
            window.append(pool.submit(_job, batch, item))
            while len(window) > 2 * workers:
                drain_one()
        while window:
            drain_one()
    s.seconds = time.perf_counter() - t0
    return s


__all__ = ["Summary", "run_stream", "write_results"]
