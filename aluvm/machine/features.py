"""ISA feature sets: the reference crate's optional cargo features as machine configurations.

rust-aluvm v0.11.0-beta.6 compiles the secp256k1 opcodes (0x88-0x8B) only with its
``secp256k1`` cargo feature and the curve25519 opcodes (0x8C-0x8F) only with ``curve25519``.
Built without a feature, the decoder has no instruction family for those bytes, so they fall
into the ISA-extension range (0x80-0xFE) and are decoded by whatever extension the VM is
instantiated with: with the default ``ReservedOp`` that is a one-byte reserved instruction
(complexity 2^64-1, ``st0 = false``, stop); with RGB's ISA it is RGB's own failing op.  That
is exactly what :func:`with_features` produces: the table entries of an absent feature become
reserved forms, and host extensions may claim those opcodes (RGB's unclaimed-op display
applies to them).

The default is the seed's: both features on.  rgb-core v0.11.0-beta.6 builds aluvm with
neither (its ``Cargo.toml`` asks for ``std`` and ``ascii-armor`` only).
"""
from __future__ import annotations

from aluvm.errors import InputError

from dataclasses import replace
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:       # (the ISAE of a library is worked out without loading the interpreter)
    from aluvm.machine.interp import Profile

#: feature name -> the opcodes it brings
FEATURE_OPCODES: dict[str, range] = {
    "secp256k1": range(0x88, 0x8C),
    "curve25519": range(0x8C, 0x90),
}
ALL_FEATURES = frozenset(FEATURE_OPCODES)
NO_FEATURES: frozenset = frozenset()
#: the profiles :func:`aluvm.machine.interp.get_profile` knows by name; every one of them is
#: built with :data:`ALL_FEATURES` and no host extension (a test checks), so what a name means
#: for the ISAE and the JIT caches is known without loading the interpreter
BUILTIN_PROFILES = frozenset({"reference", "spec"})

_CACHE: dict[tuple, Profile] = {}


def parse_features(text: str) -> frozenset:
    """``--features`` text: ``all``, ``none`` or a comma list of feature names."""
    text = text.strip().lower()
    if text in ("all", "default"):
        return ALL_FEATURES
    if text in ("none", ""):
        return NO_FEATURES
    names = frozenset(n.strip() for n in text.split(",") if n.strip())
    unknown = sorted(names - ALL_FEATURES)
    if unknown:
        raise InputError(f"unknown ISA feature {unknown[0]!r} "
                         f"(choose from {', '.join(sorted(ALL_FEATURES))}, all, none)")
    return names


def features_suffix(features: Iterable[str]) -> str:
    """The profile-name suffix of a feature set ('' for the default)."""
    fs = frozenset(features)
    if fs == ALL_FEATURES:
        return ""
    return "[" + (",".join(sorted(fs)) or "no-curves") + "]"


def with_features(base: Profile, features: Iterable[str]) -> Profile:
    """``base`` built with exactly ``features`` (one profile object per combination, so the
    JIT's per-profile caches stay warm)."""
    fs = frozenset(features)
    unknown = fs - ALL_FEATURES
    if unknown:
        raise InputError(f"unknown ISA feature {sorted(unknown)[0]!r}")
    if fs == base.features:
        return base
    if base.extensions:
        raise ValueError("select the feature set before adding host extensions")
    key = (id(base), fs)
    prof = _CACHE.get(key)
    if prof is None:
        from aluvm.isa import table as isa
        table = list(base.table)
        for name, ops in FEATURE_OPCODES.items():
            for op in ops:
                if name in fs:
                    table[op] = isa.REFERENCE_TABLE[op]
                else:
                    table[op] = (isa.reserved_form(op),)
        stem = base.name.split("[")[0]
        prof = _CACHE[key] = replace(base, name=stem + features_suffix(fs), table=tuple(table),
                                     features=fs)
    return prof


def absent_opcodes(profile: Profile) -> frozenset:
    """Opcodes the profile decodes as extension bytes because a feature is off."""
    return frozenset(op for name, ops in FEATURE_OPCODES.items()
                     if name not in profile.features for op in ops)


#: the ISA ids a feature adds to the ISAE segment of the libraries the reference assembles
FEATURE_ISA_IDS = {"secp256k1": "SECP256K", "curve25519": "ED25519"}


def default_isae(profile: "Profile | str") -> str:
    """The ISAE string the reference's ``Lib::assemble`` writes for this machine: ``ALU
    BPDIGEST``, the ids of its features, and its host extensions' ids (sorted, as the
    reference's ``IsaSeg`` set is).  A built-in profile may be given by name."""
    extensions: Iterable[str]
    if isinstance(profile, str):
        if profile not in BUILTIN_PROFILES:
            from aluvm.machine.interp import get_profile
            return default_isae(get_profile(profile))       # (an unknown name: InputError)
        features, extensions = ALL_FEATURES, ()
    else:
        features, extensions = profile.features, profile.extensions
    ids = {"ALU", "BPDIGEST"} | {FEATURE_ISA_IDS[f] for f in features}
    ids |= set(extensions)
    return " ".join(sorted(ids))
