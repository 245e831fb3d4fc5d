"""Tiering: when native code is worth entering.

* at compile time, a library without loops and with few compilable instructions stays in the
  interpreter (each instruction runs at most once: entering native code would cost more),
  unless the settings say ``eager``;
* at run time, after a fallback exit the interpreter only re-enters native code at a *hot*
  entry, one from which native code can run at least ``HOT_RUN`` instructions, and stops
  re-entering where ``COLD_AFTER`` native runs in a row ended early.

Performance only: results are the same either way.
"""
from __future__ import annotations

#: a loop-free library with fewer compiled instructions than this runs in the interpreter
TINY_INSTRS = 24
#: a round trip native -> interpreter -> native costs about as much as a dozen interpreted steps
HOT_RUN = 12
#: consecutive short native runs after which an entry is left to the interpreter
COLD_AFTER = 16


def is_tiny(has_loop: bool, n_compiled: int) -> bool:
    """Each instruction runs at most once and there are few: the interpreter finishes before
    native code could make up for the cost of entering it."""
    return not has_loop and n_compiled < TINY_INSTRS


class HotEntries:
    """The entries of one unit worth leaving the interpreter for; adapts as runs go."""

    def __init__(self, hot: frozenset[int]) -> None:
        self.hot = hot
        self._short: dict[int, int] = {}

    def count_reentry(self, start: int, progress: int) -> None:
        """A native run entered at ``start`` made ``progress`` (complexity, which every
        instruction adds to): an entry whose runs keep doing less than a round trip costs goes
        cold."""
        if progress >= HOT_RUN:
            self._short.pop(start, None)
            return
        n = self._short.get(start, 0) + 1
        self._short[start] = n
        if n >= COLD_AFTER:
            self.hot = self.hot - {start}


__all__ = ["TINY_INSTRS", "HOT_RUN", "COLD_AFTER", "is_tiny", "HotEntries"]
