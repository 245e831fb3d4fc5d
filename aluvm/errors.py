"""Error types shared across the machine.

`Panic` models a point where the reference implementation (rust-aluvm v0.11.0-beta.6) panics
or never terminates.  The interpreter catches it, sets ``st0 = false`` and reports the reason;
it never escapes to a caller of :func:`aluvm.run`.
"""
from __future__ import annotations


def one_line(text: str) -> str:
    """Make user text safe inside a one-line message: escape control and unprintable characters.

    Printable text is left untouched so that messages equal the reference's for ordinary input.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)



class AluError(Exception):
    """Base class of every error the package raises on bad input."""


class DecodeError(AluError):
    """Bytecode could not be decoded (only used by tools; execution stops silently)."""


class LibraryError(AluError):
    """A library or library file is malformed or violates a segment limit."""


class AsmError(AluError):
    """Assembly text could not be assembled."""


class Panic(Exception):
    """The reference panics (or hangs) here; we stop deterministically with st0 = false."""

    def __init__(self, reason: str, hang: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hang = hang   # the reference never terminates here (rather than panicking)


class HostError(Exception):
    """A host extension's own code raised while executing one of its opcodes: neither a
    reference behaviour nor a bug of this package; the run ends with the ``host`` outcome."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InputError(AluError, ValueError):
    """Bad input that is not a library or a source file: a name (profile, tier, extension,
    feature), a setting, a column, a context.  The CLI reports it as a user error (exit 2); a
    plain ValueError escaping to the CLI is a bug (exit 3).  Still a ValueError for callers."""


class RegisterError(AluError, ValueError):
    """A register file handed to a run holds a value its register cannot hold."""
