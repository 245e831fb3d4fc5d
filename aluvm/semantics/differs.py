"""Where a profile's op differs from the reference's: the declaration every override carries.

A profile (``spec``) replaces some entries of the reference's op table.  Each replacement
declares, as data, *where* it differs: on which decoded operands (field -> values; a field not
named matches any value), and whether, there, results differ only where the reference panics.
Whatever an override does not declare is the reference's own behaviour, so a consumer that
implements the reference (the JIT) can run it unchanged under the profile - and a consumer that
leaves every reference panic to the interpreter may also run the ``panics_only`` regions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping


@dataclass(frozen=True)
class Differs:
    fields: Mapping[str, frozenset[int]] = field(default_factory=dict)
    panics_only: bool = False

    def covers(self, args: Mapping[str, int]) -> bool:
        """Do the decoded operands ``args`` fall in this region?"""
        return all(args.get(name) in values for name, values in self.fields.items())


#: an override that may differ on every operand
EVERYWHERE = (Differs(),)
#: an override that differs only where the reference panics
AT_PANICS = (Differs(panics_only=True),)


def on(panics_only: bool = False, **fields: Iterable[int]) -> Differs:
    """``Differs`` on the operands whose fields take the given values."""
    return Differs({k: frozenset(v) for k, v in fields.items()}, panics_only)


__all__ = ["Differs", "EVERYWHERE", "AT_PANICS", "on"]
