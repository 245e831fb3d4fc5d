"""Coverage-guided fuzzing of the byte-level surfaces with atheris (libFuzzer for Python):
the bytecode decoder, binary library files and armored library files.

Optional: ``pip install 'aluvm[fuzz]'`` (atheris ships libFuzzer in its wheel).  ``make fuzz``
adds these rows to its table when atheris is importable; ``make fuzz-atheris`` runs only them.

    python -m fuzz.libfuzzer TARGET RUNS     # one target, RUNS inputs; exit 0 when clean

A harness raises on a broken invariant (the same ones as :mod:`fuzz.targets`: only documented
error types escape, one-line messages, an accepted library re-serializes to the same bytes);
libFuzzer then stops and prints the input and the Python traceback.
"""
from __future__ import annotations

import os
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["aluvm"]):
    from aluvm.errors import LibraryError
    from aluvm.isa.codec import decode
    from aluvm.library.armor import from_armored, to_armored
    from aluvm.library.lib import DEFAULT_ISAE, Lib
    from aluvm.machine.interp import PROFILES

_TABLES = [PROFILES["reference"].table, PROFILES["spec"].table]


def _one_line(e: Exception) -> None:
    if "\n" in str(e):
        raise AssertionError(f"{type(e).__name__} is not one line: {str(e)[:300]!r}")


def decoder(blob: bytes) -> None:
    """Decode at every position of ``blob`` (first byte: profile, then code, last 8: data)."""
    if not blob:
        return
    table = _TABLES[blob[0] & 1]
    code, data = blob[1:-8] if len(blob) > 9 else blob[1:], blob[-8:]
    for pos in range(len(code) + 1):
        decode(code, pos, data, (), table)


def library_binary(blob: bytes) -> None:
    try:
        lib = Lib.deserialize(blob)
    except LibraryError as e:
        _one_line(e)
        return
    if lib.serialize() != blob:
        raise AssertionError(f"accepted a non-canonical library {blob.hex()[:200]}")


def library_armored(blob: bytes) -> None:
    text = blob.decode("utf-8", "replace")
    try:
        lib = from_armored(text)
    except LibraryError as e:
        _one_line(e)
        return
    assert from_armored(to_armored(lib)).id == lib.id


TARGETS = {"decoder": decoder, "library-binary": library_binary, "library-armored": library_armored}


def _seeds(target: str) -> list[bytes]:
    """A few valid inputs for libFuzzer to start from."""
    import random
    rng = random.Random(1)
    libs = [Lib.with_(isae, rng.randbytes(n), rng.randbytes(n // 2), [rng.randbytes(32)] * k)
            for isae, n, k in ((DEFAULT_ISAE, 20, 0), ("ALU", 5, 1), ("ALU BPDIGEST", 60, 0))]
    if target == "library-binary":
        return [lib.serialize() for lib in libs]
    if target == "library-armored":
        return [to_armored(lib).encode() for lib in libs]
    return [bytes([k]) + lib.code + bytes(8) for k, lib in enumerate(libs)]


def main(argv: list[str]) -> None:
    target, runs = argv[0], int(argv[1])
    corpus = tempfile.mkdtemp(prefix=f"aluvm-atheris-{target}-")
    for k, seed in enumerate(_seeds(target)):
        with open(os.path.join(corpus, f"seed{k}"), "wb") as fh:
            fh.write(seed)
    atheris.Setup([sys.argv[0], f"-runs={runs}", "-seed=1", "-timeout=20", "-rss_limit_mb=2048",
                   "-max_len=4096", f"-artifact_prefix={corpus}/", corpus], TARGETS[target])
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv[1:])
