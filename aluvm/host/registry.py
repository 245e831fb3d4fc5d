"""Finding host extensions by name and building the machine profile for a host.

``--ext NAME`` names an extension three ways: a built-in (``rgb``), ``module:attribute`` (an
:class:`~aluvm.host.extensions.Extension`, or a zero-argument callable returning one), or the
name of an installed plugin registered under the entry-point group ``aluvm.extensions``.
"""
from __future__ import annotations

from aluvm.errors import InputError

import importlib
from importlib import metadata
from typing import Iterable, Union

from aluvm.host.extensions import Extension, extend
from aluvm.machine.features import ALL_FEATURES, with_features
from aluvm.machine.interp import Profile, get_profile

ENTRY_POINT_GROUP = "aluvm.extensions"
BUILTIN = {"rgb": "aluvm.host.rgb:RGB"}

_PROFILES: dict[tuple, Profile] = {}


def _from_target(target: str, name: str) -> Extension:
    module, _, attr = target.partition(":")
    try:
        obj: object = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise InputError(f"extension {name!r}: cannot load {target} ({e})") from None
    if not isinstance(obj, Extension) and callable(obj):
        obj = obj()
    if not isinstance(obj, Extension):
        raise InputError(f"extension {name!r}: {target} is not an aluvm Extension")
    return obj


def load_extension(name: str) -> Extension:
    """The extension called ``name`` (built-in, ``module:attribute`` or entry point)."""
    key = name.strip()
    if key.lower() in BUILTIN:
        return _from_target(BUILTIN[key.lower()], name)
    if ":" in key:
        return _from_target(key, name)
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == key:
            return _from_target(ep.value, name)
    known = sorted(set(BUILTIN) | {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)})
    raise InputError(f"unknown extension {name!r} (known: {', '.join(known)}; "
                     "or give module:attribute)")


def host_profile(base: Union[str, Profile] = "reference", features: Iterable[str] = ALL_FEATURES,
                 exts: Iterable[Extension] = ()) -> Profile:
    """``base`` built with ``features`` plus ``exts`` (cached: one object per combination, so
    compiled code and decoded programs are reused across runs)."""
    prof = get_profile(base) if isinstance(base, str) else base
    fs, ex = frozenset(features), tuple(exts)
    key = (id(prof), fs, tuple(id(e) for e in ex))
    hit = _PROFILES.get(key)
    if hit is None:
        hit = with_features(prof, fs)
        if ex:
            hit = extend(hit, *ex)
        _PROFILES[key] = hit
    return hit
