"""The assembler on hostile sources at the size limit (16 MiB, ``limits.ASM_SOURCE_MAX``): each
must be rejected, or assembled, within a second or two (CPU time).  Issue 13: before the bounds,
a line of 16 MiB of commas took 49 s, one 16 MiB operand 9.8 s, a 16 MiB string 5.3 s.
"""
from __future__ import annotations

import time

from aluvm import limits
from aluvm.asm import assemble
from aluvm.errors import AsmError

M = limits.ASM_SOURCE_MAX


def _cases() -> dict[str, str]:
    return {
        "one huge operand": "put a64[0]," + "1" * (M - 20),
        "huge .CONST value": ".CONST\n$a = " + "1" * (M - 20),
        "huge .DATA string": '.DATA\n"' + "a" * (M - 20) + '"',
        "huge .BYTES": ".BYTES " + "00" * ((M - 20) // 2),
        "long labels": "".join(f"l{i:0250d}: nop\n" for i in range(60000)),
        "unknown label among 65k": "".join(f"l{i}: nop\n" for i in range(65000)) + "jmp lzzz\n",
        "unknown $ among 262k consts": ".CONST\n" + "".join(f"$c{i} = {i}\n" for i in range(262000))
                                       + ".MAIN\nput a64[0],$zz\n",
        "16 MiB of commas": "add " + "," * (M - 10),
        "commas + odd blank": "add " + ", " * (M // 2 - 20) + "\x0b",
        "string + pieces": 'put s16[0],"x"' + " a" * (M // 2 - 20),
        "one .ISAE line": ".ISAE\n" + "AB " * (M // 3 - 10),
        ".DATA empty strings": ".DATA\n" + '"" ' * (M // 3 - 10),
        ".DATA items + odd char": ".DATA\n" + "00 " * (M // 3 - 10) + "\x0b",
        "long mnemonic": "a" * (M - 10),
    }


def main() -> None:
    for name, text in _cases().items():
        t = time.process_time()
        try:
            assemble(text)
            result = "assembled"
        except AsmError as e:
            result = str(e)[:70]
        print(f"{name:<28} {len(text) / 2**20:5.1f} MiB {time.process_time() - t:6.2f} s  {result}")


if __name__ == "__main__":
    main()
