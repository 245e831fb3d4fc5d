"""The RGB 0.11 host: rgb-core v0.11.0-beta.6's contract ops over an operation's state.

``aluvm --ext rgb`` (or :data:`RGB` in the API) decodes, displays, assembles and runs RGB's
validation libraries (ISAE ``ALU BPDIGEST RGB``); the run's host context is an
:class:`OpContext` (see :mod:`aluvm.host.rgb.context` for its JSON form).  rgb-core builds
aluvm without the curve features, so :func:`profile` does too.
"""
from __future__ import annotations

from aluvm.host.rgb.context import Assigns, ContextError, Fungible, OpContext, load_context
from dataclasses import dataclass
from typing import Iterable, Optional

from aluvm.host.rgb.isa import ISAE, OPS, RGB, RGB_FEATURES, prepare
from aluvm.library.lib import Lib
from aluvm.machine.interp import Profile
from aluvm.machine.registers import Registers

__all__ = ["RGB", "ISAE", "OPS", "RGB_FEATURES", "OpContext", "Assigns", "Fungible",
           "ContextError", "load_context", "profile", "validate", "Verdict"]


@dataclass(frozen=True)
class Verdict:
    """What rgb-core concludes from a validator run: valid, or the script's error code
    (``a8[0]`` at the end, rgb-core's ``ScriptFailure``), with the run's reason."""

    valid: bool
    error_code: Optional[int]
    reason: str


def validate(lib: Lib, ctx: OpContext, entry: int = 0, *, libs: Iterable[Lib] = (),
             tier: str = "interp") -> Verdict:
    """Run a validator as rgb-core does: fresh registers, ``a16[0]`` = the operation type
    (when the context has one), the operation's context as the host context."""
    import aluvm
    regs = Registers()
    prepare(regs, ctx)
    out = aluvm.run(lib, regs, entry=entry, profile=profile(), tier=tier, libs=libs, host=ctx)
    return Verdict(out.st0, None if out.st0 else regs.a[0][0], out.reason)


def profile(base: str = "reference") -> Profile:
    """The machine an RGB 0.11 validator runs on: ``base`` without curve features, plus RGB."""
    from aluvm.host.registry import host_profile
    return host_profile(base, RGB_FEATURES, (RGB,))
