"""The command line's host options: ``--ext``, ``--features`` and ``--context``.

Every subcommand that decodes or runs takes ``--ext NAME`` (repeatable: a built-in such as
``rgb``, ``module:attribute``, or an entry point of the group ``aluvm.extensions``) and
``--features all|none|secp256k1,curve25519`` (the reference crate's optional ISA features;
default: those of the extensions if they say, else all).  Running subcommands also take
``--context FILE.json``, turned into the host context by the extension's own loader.
"""
from __future__ import annotations

from aluvm.errors import InputError

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:      # (the interpreter and the extensions load only when used)
    from aluvm.host.extensions import Extension
    from aluvm.machine.interp import Profile
    from aluvm.machine.registers import Registers


def add_host_args(p: argparse.ArgumentParser, context: bool = True) -> None:
    p.add_argument("--ext", action="append", metavar="NAME", default=[],
                   help="host ISA extension: rgb, module:attribute, or an installed plugin")
    p.add_argument("--features", metavar="SET",
                   help="ISA features: all, none, or a comma list of secp256k1,curve25519 "
                        "(default: all; with --ext rgb: none, as rgb-core builds aluvm)")
    if context:
        p.add_argument("--context", metavar="FILE.json",
                       help="host context for the extension ops (the extension's JSON format)")


def extensions(args: argparse.Namespace) -> tuple[Extension, ...]:
    names = getattr(args, "ext", None) or []
    if not names:
        return ()
    from aluvm.host.registry import load_extension
    return tuple(load_extension(n) for n in names)


def features(args: argparse.Namespace, exts: tuple[Extension, ...]) -> frozenset:
    from aluvm.machine.features import ALL_FEATURES, parse_features
    text = getattr(args, "features", None)
    if text is not None:
        return parse_features(text)
    from aluvm.host.rgb import RGB, RGB_FEATURES
    if any(e is RGB for e in exts):
        return RGB_FEATURES
    return ALL_FEATURES


def resolve_profile(base: str, feature_text: Optional[str], ext_names: list[str]) -> Profile:
    """The machine profile for a profile name, ``--features`` text and ``--ext`` names."""
    ns = argparse.Namespace(ext=ext_names, features=feature_text)
    exts = extensions(ns)
    from aluvm.host.registry import host_profile
    return host_profile(base, features(ns, exts), exts)


def apply(args: argparse.Namespace) -> None:
    """Replace ``args.profile`` (a name) by the host's profile object, and load the context."""
    if not hasattr(args, "profile"):
        return
    exts = extensions(args)
    if exts or getattr(args, "features", None) is not None:
        from aluvm.host.registry import host_profile
        args.profile = host_profile(args.profile, features(args, exts), exts)
    args.host_exts = exts
    args.host_context = None
    path = getattr(args, "context", None)
    if path:
        args.host_context = load_context(path, exts)


def load_context(path_or_doc: Any, exts: tuple[Extension, ...]) -> Any:
    """The host context from a JSON file path (or parsed JSON), by the extensions' loader."""
    loaders = [e for e in exts if e.load_context is not None]
    if not loaders:
        raise InputError("--context needs an --ext that defines a host context (e.g. --ext rgb)")
    doc = path_or_doc
    if isinstance(path_or_doc, (str, Path)):
        doc = _read_json(Path(path_or_doc))
    assert loaders[0].load_context is not None
    return loaders[0].load_context(doc)


def _read_json(p: Path) -> Any:
    """A context file: at most :data:`limits.REQUEST_LINE_MAX` bytes of UTF-8 JSON nested at most
    :data:`limits.JSON_DEPTH_MAX` levels (the bounds of a request line), else an InputError."""
    from aluvm import limits
    from aluvm.tools.service import depth_exceeds
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    if p.stat().st_size > limits.REQUEST_LINE_MAX:
        raise InputError(f"{p}: larger than {limits.REQUEST_LINE_MAX} bytes")
    too_deep = InputError(f"{p}: JSON nested deeper than {limits.JSON_DEPTH_MAX} levels")
    try:
        doc = json.loads(p.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as e:
        raise InputError(f"{p}: not UTF-8 ({e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{p}: bad JSON: {e.msg} (line {e.lineno})") from None
    except RecursionError:
        raise too_deep from None
    if depth_exceeds(doc, limits.JSON_DEPTH_MAX):
        raise too_deep
    return doc


def prepare(regs: Registers, ctx: Any, exts: tuple[Extension, ...]) -> None:
    """Give ``regs`` the host context and let the extensions set up registers from it."""
    if ctx is None:
        return
    regs.host = ctx
    for e in exts:
        if e.prepare is not None:
            e.prepare(regs, ctx)


def with_host(runner: Callable, ctx: Any, exts: tuple[Extension, ...]) -> Callable:
    """A runner that gives every run the host context (the exec/batch paths)."""
    if ctx is None:
        return runner

    def run(lib: Any, regs: Registers, entry: int, profile: Any) -> Any:
        prepare(regs, ctx, exts)
        return runner(lib, regs, entry, profile)
    return run
