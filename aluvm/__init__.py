"""AluVM: a byte- and result-compatible implementation of rust-aluvm v0.11.0-beta.6.

The small public API::

    from aluvm import Lib, Registers, run
    lib = Lib.with_("ALU BPDIGEST ED25519 SECP256K", bytes.fromhex("200261020000"))
    regs = Registers(); regs.a[3][0] = 3; regs.a[3][1] = 5
    outcome = run(lib, regs)                      # interpreter, reference profile
    outcome = run(lib, regs, tier="jit")          # LLVM JIT, identical results

Multi-library programs pass the other libraries with ``libs=[...]``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Optional

from aluvm.errors import AluError, AsmError, DecodeError, HostError, InputError, LibraryError, Panic, RegisterError
from aluvm.library.ids import lib_id_display
from aluvm.library.lib import DEFAULT_ISAE, Lib, lib_id

if TYPE_CHECKING:
    from aluvm.library.files import load_file, save_file
    from aluvm.machine.interp import PROFILES, REFERENCE, SPEC, Machine, Outcome, Profile, get_profile
    from aluvm.machine.registers import Registers
    from aluvm.tools.batch import Batch, BatchResult

__all__ = [
    "AluError", "AsmError", "DecodeError", "HostError", "LibraryError", "Panic", "RegisterError",
    "Lib", "Registers", "Machine", "Outcome", "Profile", "PROFILES", "REFERENCE", "SPEC",
    "DEFAULT_ISAE", "lib_id", "lib_id_display", "load_file", "save_file", "run", "Batch",
    "BatchResult",
]


#: public names imported on first use (module attribute ``__getattr__``): the interpreter (its
#: instruction table, the float semantics and gmpy2) and the batch engine (numpy) cost ~0.1 s
#: to import, which ``aluvm batch`` on a natively compiled kernel never needs
_LAZY = {
    "Machine": "aluvm.machine.interp", "Outcome": "aluvm.machine.interp",
    "Profile": "aluvm.machine.interp", "PROFILES": "aluvm.machine.interp",
    "REFERENCE": "aluvm.machine.interp", "SPEC": "aluvm.machine.interp",
    "get_profile": "aluvm.machine.interp", "Registers": "aluvm.machine.registers",
    "load_file": "aluvm.library.files", "save_file": "aluvm.library.files",
    "Batch": "aluvm.tools.batch", "BatchResult": "aluvm.tools.batch",
}


def __getattr__(name: str) -> Any:
    """The names of :data:`_LAZY`, imported when first used (then cached in the module)."""
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'aluvm' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


_RUN_NAMES: list[Any] = []


def _run_names() -> list[Any]:
    """What :func:`run` needs of the interpreter, imported once (a per-call ``import`` would
    cost ~1.3 us of a ~15 us run)."""
    from aluvm.machine.interp import REFERENCE, SPEC, Machine, Profile, get_profile
    from aluvm.machine.registers import Registers
    _RUN_NAMES[:] = [REFERENCE, SPEC, Machine, Profile, get_profile, Registers]
    return _RUN_NAMES


def run(lib: Lib, regs: Optional[Registers] = None, *, entry: int = 0,
        profile: str | Profile = "reference", tier: str = "interp",
        libs: Iterable[Lib] = (), host: object = None) -> Outcome:
    """Run ``lib`` from ``entry`` on ``regs`` (mutated in place; a fresh file if ``None``).

    ``host`` is the host context that extension ops of ``profile`` receive (for example an
    :class:`aluvm.host.rgb.OpContext`); it is stored in ``regs.host`` for this run only.

    Raises :class:`RegisterError` (an :class:`AluError`) if ``regs`` holds a value its register
    cannot hold or ``entry`` is not a u16; every other ending is an :class:`Outcome`."""
    names = _RUN_NAMES or _run_names()
    REFERENCE, SPEC, machine_cls, profile_cls, get_profile, registers_cls = names
    regs = regs if regs is not None else registers_cls()
    regs.check()
    if entry.__class__ is not int or not 0 <= entry <= 0xFFFF:
        raise RegisterError(f"entry {entry!r}: not an offset in [0, 65535]")
    if host is not None:
        regs.host = host
    prof = profile if isinstance(profile, profile_cls) else get_profile(profile)
    others = list(libs)
    if tier == "jit":
        if not others and prof in (REFERENCE, SPEC):
            from aluvm.jit.engine import jit_runner   # cached per library: the batch fast path
            return jit_runner(lib, regs, entry, prof.name)
        from aluvm.jit.engine import JitMachine
        machine: Machine = JitMachine(prof)
    elif tier == "interp":
        if not others and prof in (REFERENCE, SPEC):
            from aluvm.tools.service import machine_for   # decoded once per library
            return machine_for(lib, prof.name).run(lib.id, entry, regs, check=False)
        machine = machine_cls(prof)
    else:
        raise InputError(f"unknown tier {tier!r}")
    for item in [lib, *others]:
        machine.add(item.code, item.data, item.libs, item.id, item.isae)
    return machine.run(lib.id, entry, regs, check=False)
