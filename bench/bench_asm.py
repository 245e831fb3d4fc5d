"""Assembler throughput (lines/s of CPU time, median over rounds) on sources at the limits, and
the full pyparsing grammar for every line (the assembler before the fast paths) in the same
process.

Sources: the disassembly of 60,000 random code bytes (~40,000 lines of every instruction form,
labels, `rsrv`, data); its instruction and label lines only (~10,700 distinct lines: no cheap
`rsrv`); 65,535 `nop` lines (the largest source that can assemble); and sources of
``limits.ASM_LINES_MAX`` section lines (constants, inputs, empty data strings), which must be
answered within a second or two.
"""
from __future__ import annotations

import statistics
import random
import time

from aluvm import limits
from aluvm.asm import assemble, disassemble, grammar
from aluvm.errors import AsmError
from aluvm.library.lib import DEFAULT_ISAE, Lib


def _source() -> str:
    rng = random.Random(5)
    lib = Lib.with_(DEFAULT_ISAE, rng.randbytes(60_000), rng.randbytes(2_000))
    return disassemble(lib)


def _instructions(text: str) -> str:
    lines = text.split("\n")
    body = lines[lines.index(".MAIN") + 1:]
    return "\n".join(ln for ln in body if not ln.strip().startswith(("rsrv", ".BYTES", ";")))


def _at_line_limit() -> dict[str, str]:
    n = limits.ASM_LINES_MAX - 2
    return {
        f"{n:,} constants": ".CONST\n" + "".join(f"$c{i} = {i}\n" for i in range(n)),
        f"{n:,} inputs": ".INPUT\n" + "".join(f"$i{i} a64[{i % 32}] \"x\"\n" for i in range(n)),
        f"{n:,} data strings": ".DATA\n" + '""\n' * n,
    }


def _time(text: str) -> float:
    grammar._CACHE.clear()
    t = time.process_time()
    try:
        assemble(text)
    except AsmError:
        pass
    return time.process_time() - t


def _parse_grammar(text: str) -> float:
    code = [ln for ln in text.split("\n") if ln.startswith("        ") and not ln.strip().startswith(";")
            and "." != ln.strip()[:1] and not ln.strip()[:1].isdigit()][1000:5000]
    t = time.process_time()
    for k, ln in enumerate(code):
        grammar.grammar_parse_line(ln, k)
    return time.process_time() - t


def main(rounds: int = 3) -> None:
    random_code = _source()
    sources = {"random code, every form": random_code,
               "instructions+labels only": _instructions(random_code),
               "65,535 x nop": "\n".join(["nop"] * 65535)}
    sources.update(_at_line_limit())
    # the full grammar on 4,000 code lines: a yardstick measured in the same process, so the
    # ratios hold on a loaded machine where CPU times stretch
    rate = 4000 / statistics.median(_parse_grammar(random_code) for _ in range(rounds))
    print(f"the full grammar alone parses {rate:,.0f} lines/s")
    for name, text in sources.items():
        lines = text.count("\n") + 1
        f = statistics.median(_time(text) for _ in range(rounds))
        print(f"{name:<26} {lines:>7} lines: {f:6.2f} s = {lines / f:>9,.0f} lines/s "
              f"({lines / f / rate:5.1f}x the grammar)")


if __name__ == "__main__":
    main()
