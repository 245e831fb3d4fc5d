"""The host context of an RGB 0.11 validation run: rgb-core's ``OpInfo`` as data.

rgb-core v0.11.0-beta.6 runs a schema's validator once per operation with an ``OpInfo``: the
operation's previous owned state (``prev_state``, by assignment type: the inputs), its new owned
state (``owned_state``), its global state, its metadata and the contract's asset tags.  It sets
``a16[0]`` to the operation type for transitions and extensions (not for genesis) before the run.
:class:`OpContext` holds the same, immutable, and :func:`load_context` reads it from JSON::

    {
      "op_type": 10000,                   // optional: a16[0] at the start (absent for genesis)
      "asset_tags": {"4000": "<32-byte hex>"},
      "metadata":   {"0x0BB8": "<hex>"},
      "global":     {"2000": ["<hex>", {"utf8": "text"}]},
      "prev_state": {"4000": {"fungible": [{"value": 100, "blinding": "<32-byte hex>"},
                                           {"commitment": "<33-byte hex>"}]}},
      "owned_state": {"4001": {"structured": ["<hex>", null]},
                      "4002": {"declarative": 2},
                      "4003": {"attachment": 1}}
    }

Type ids are decimal or ``0x`` hex strings.  A fungible item is revealed (``value`` and
``blinding``, committed with the type's asset tag, or its own ``tag``) or concealed (only its
``commitment``; ``ldf`` then loads ``None``).  A structured item is its data (hex or
``{"utf8": ...}``) or ``null`` when concealed.  Declarative and attachment state only count.
Byte strings longer than 65535 bytes are rejected (an S register cannot hold them).
"""
from __future__ import annotations

from aluvm.errors import InputError

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from aluvm.host.rgb import pedersen

KINDS = ("fungible", "structured", "declarative", "attachment")


@dataclass(frozen=True)
class Fungible:
    """One fungible assignment: its value when revealed, and its Pedersen commitment."""

    value: Optional[int]
    commitment: bytes


@dataclass(frozen=True)
class Assigns:
    """The assignments of one type (rgb-core's ``TypedAssigns``)."""

    kind: str                 # one of KINDS
    items: tuple              # Fungible | Optional[bytes] | None (declarative, attachment)


@dataclass(frozen=True)
class OpContext:
    """What RGB's contract ops read: one operation's validation context (immutable)."""

    prev_state: Mapping[int, Assigns] = field(default_factory=dict)
    owned_state: Mapping[int, Assigns] = field(default_factory=dict)
    global_state: Mapping[int, tuple[bytes, ...]] = field(default_factory=dict)
    metadata: Mapping[int, bytes] = field(default_factory=dict)
    asset_tags: Mapping[int, bytes] = field(default_factory=dict)
    op_type: Optional[int] = None
    #: Pedersen commitment of (value, blinding, tag); default: :func:`pedersen.commit`
    commit: Callable[[int, bytes, bytes], bytes] = pedersen.commit
    #: the tally check; default: :func:`pedersen.sums_equal`
    sums_equal: Callable[..., bool] = pedersen.sums_equal


class ContextError(InputError):
    """A malformed context description."""


def _type_id(key: str, where: str) -> int:
    try:
        v = int(str(key), 0)
    except ValueError:
        raise ContextError(f"{where}: type id {key!r} is not a number") from None
    if not 0 <= v <= 0xFFFF:
        raise ContextError(f"{where}: type id {key!r} is not a u16")
    return v


def _blob(v: Any, where: str, size: Optional[int] = None) -> bytes:
    if isinstance(v, dict) and set(v) == {"utf8"} and isinstance(v["utf8"], str):
        out = v["utf8"].encode()
    elif isinstance(v, str):
        text = v[2:] if v.startswith("0x") else v
        try:
            out = bytes.fromhex(text)
        except ValueError:
            raise ContextError(f"{where}: {v!r} is not hex") from None
    else:
        raise ContextError(f"{where}: expected a hex string or {{\"utf8\": ...}}")
    if size is not None and len(out) != size:
        raise ContextError(f"{where}: expected {size} bytes, got {len(out)}")
    if len(out) > 0xFFFF:
        raise ContextError(f"{where}: longer than 65535 bytes")
    return out


def _map(doc: Any, key: str) -> dict:
    v = doc.get(key, {})
    if not isinstance(v, dict):
        raise ContextError(f"{key}: expected an object keyed by type id")
    return v


def _fungible(item: Any, tag: Optional[bytes], where: str,
              commit: Callable[[int, bytes, bytes], bytes]) -> Fungible:
    if not isinstance(item, dict):
        raise ContextError(f"{where}: expected {{value, blinding}} or {{commitment}}")
    if "commitment" in item and "value" not in item:
        c = _blob(item["commitment"], where + ".commitment", 33)
        try:
            pedersen.parse_commitment(c)
        except ValueError as e:
            raise ContextError(f"{where}: {e}") from None
        return Fungible(None, c)
    value = item.get("value")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**64:
        raise ContextError(f"{where}.value: expected a u64")
    blinding = _blob(item.get("blinding", "00" * 32), where + ".blinding", 32)
    if "tag" in item:
        tag = _blob(item["tag"], where + ".tag", 32)
    if tag is None:
        raise ContextError(f"{where}: no asset tag for this type (asset_tags) and none given")
    try:
        c = commit(value, blinding, tag)
    except Exception as e:  # a Panic of the commitment: not representable state
        raise ContextError(f"{where}: {e}") from None
    if "commitment" in item and _blob(item["commitment"], where, 33) != c:
        raise ContextError(f"{where}: commitment does not match value, blinding and tag")
    return Fungible(value, c)


def _assigns(doc: Any, tags: Mapping[int, bytes], where: str,
             commit: Callable[[int, bytes, bytes], bytes]) -> dict[int, Assigns]:
    out: dict[int, Assigns] = {}
    for key, spec in doc.items():
        ty = _type_id(key, where)
        w = f"{where}.{key}"
        if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in KINDS:
            raise ContextError(f"{w}: expected one of {{{', '.join(KINDS)}: ...}}")
        kind, items = next(iter(spec.items()))
        if kind in ("declarative", "attachment") and isinstance(items, int):
            items = [None] * items
        if not isinstance(items, list) or len(items) > 0xFFFF:
            raise ContextError(f"{w}.{kind}: expected a list (or a count)")
        if kind == "fungible":
            vals: tuple = tuple(_fungible(it, tags.get(ty), f"{w}[{i}]", commit)
                                for i, it in enumerate(items))
        elif kind == "structured":
            vals = tuple(None if it is None else _blob(it, f"{w}[{i}]") for i, it in enumerate(items))
        else:
            vals = tuple(None for _ in items)
        out[ty] = Assigns(kind, vals)
    return out


def load_context(doc: Any, commit: Optional[Callable[[int, bytes, bytes], bytes]] = None) -> OpContext:
    """An :class:`OpContext` from parsed JSON (see the module docstring)."""
    if not isinstance(doc, dict):
        raise ContextError("an RGB context is a JSON object")
    unknown = set(doc) - {"op_type", "asset_tags", "metadata", "global", "prev_state",
                          "owned_state", "comment"}
    if unknown:
        raise ContextError(f"unknown context field {sorted(unknown)[0]!r}")
    commit = commit or pedersen.commit
    tags = {_type_id(k, "asset_tags"): _blob(v, f"asset_tags.{k}", 32)
            for k, v in _map(doc, "asset_tags").items()}
    meta = {_type_id(k, "metadata"): _blob(v, f"metadata.{k}")
            for k, v in _map(doc, "metadata").items()}
    glob: dict[int, tuple[bytes, ...]] = {}
    for k, v in _map(doc, "global").items():
        if not isinstance(v, list):
            raise ContextError(f"global.{k}: expected a list")
        glob[_type_id(k, "global")] = tuple(_blob(x, f"global.{k}[{i}]") for i, x in enumerate(v))
    op_type = doc.get("op_type")
    if op_type is not None:
        op_type = _type_id(str(op_type), "op_type")
    return OpContext(prev_state=_assigns(_map(doc, "prev_state"), tags, "prev_state", commit),
                     owned_state=_assigns(_map(doc, "owned_state"), tags, "owned_state", commit),
                     global_state=glob, metadata=meta, asset_tags=tags, op_type=op_type,
                     commit=commit)
