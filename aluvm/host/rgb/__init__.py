"""The RGB 0.11 host: rgb-core v0.11.0-beta.6's contract ops over an operation's state.

``aluvm --ext rgb`` (or :data:`RGB` in the API) decodes, displays, assembles and runs RGB's
validation libraries (ISAE ``ALU BPDIGEST RGB``); the run's host context is an
:class:`OpContext` (see :mod:`aluvm.host.rgb.context` for its JSON form).  rgb-core builds
aluvm without the curve features, so :func:`profile` does too.
"""
from __future__ import annotations

from aluvm.host.rgb.context import Assigns, ContextError, Fungible, OpContext, load_context
from aluvm.host.rgb.isa import ISAE, OPS, RGB, RGB_FEATURES
from aluvm.machine.interp import Profile

__all__ = ["RGB", "ISAE", "OPS", "RGB_FEATURES", "OpContext", "Assigns", "Fungible",
           "ContextError", "load_context", "profile"]


def profile(base: str = "reference") -> Profile:
    """The machine an RGB 0.11 validator runs on: ``base`` without curve features, plus RGB."""
    from aluvm.host.registry import host_profile
    return host_profile(base, RGB_FEATURES, (RGB,))
