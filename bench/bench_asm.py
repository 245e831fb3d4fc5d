"""Assembler throughput (lines/s) on a source at the instruction limit, against the full
pyparsing grammar for every line (the assembler before the fast path) in the same process.

Sources: the disassembly of 60,000 random code bytes (~40,000 lines of every instruction form,
labels, `rsrv`, data), and 65,535 `nop` lines (the largest source that can assemble).
"""
from __future__ import annotations

import random
import statistics
import time

from aluvm.asm import assemble, disassemble, grammar
from aluvm.library.lib import DEFAULT_ISAE, Lib


def _source() -> str:
    rng = random.Random(5)
    lib = Lib.with_(DEFAULT_ISAE, rng.randbytes(60_000), rng.randbytes(2_000))
    return disassemble(lib)


def _time(text: str) -> float:
    grammar._CACHE.clear()
    t = time.perf_counter()
    assemble(text)
    return time.perf_counter() - t


def _parse_grammar(text: str) -> float:
    code = [ln for ln in text.split("\n") if ln.startswith("        ") and not ln.strip().startswith(";")
            and "." != ln.strip()[:1] and not ln.strip()[:1].isdigit()][1000:5000]
    t = time.perf_counter()
    for k, ln in enumerate(code):
        grammar.grammar_parse_line(ln, k)
    return time.perf_counter() - t


def main(rounds: int = 3) -> None:
    for name, text in (("random code, every form", _source()),
                       ("65,535 x nop", "\n".join(["nop"] * 65535))):
        lines = text.count("\n") + 1
        fast, slow = [], []
        for _ in range(rounds):
            fast.append(_time(text))
            if name.startswith("random"):   # the full grammar on 4,000 code lines
                slow.append(_parse_grammar(text))
        f = statistics.median(fast)
        line = f"{name:<26} {lines:>6} lines: {f:6.2f} s = {lines / f:>8,.0f} lines/s"
        if name.startswith("random"):
            rate = 4000 / statistics.median(slow)
            line += (f"; the full grammar alone parses {rate:>6,.0f} lines/s "
                     f"(the whole assembler is now {lines / f / rate:.0f}x that)")
        print(line)


if __name__ == "__main__":
    main()
