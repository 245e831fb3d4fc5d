"""The reference's recorded behaviour, replayed through the interpreter (both the committed
slice and, when present, the full shared set)."""
from __future__ import annotations

import pytest

from aluvm.tools.conform import iter_vectors, run_vectors
from aluvm.tools.service import handle

from conftest import LOCAL_VECTORS, shared_vectors

FAMILIES = sorted(p.name.split(".")[0] for p in LOCAL_VECTORS.glob("*.jsonl.gz"))


def _assert_clean(path) -> None:
    # strict: for reference panics we also match the state recorded at the moment of the panic
    results = run_vectors(iter_vectors([str(path)]), lambda req: handle(req), strict_panics=True)
    for name, r in results.items():
        assert r.failed == 0 and r.flagged_failed == 0, f"{name}: {r.failures[:5]}"
        assert r.passed + r.flagged_passed > 0


@pytest.mark.parametrize("family", FAMILIES)
def test_local_slice(family: str) -> None:
    _assert_clean(LOCAL_VECTORS / f"{family}.jsonl.gz")


SHARED = shared_vectors()
SHARED_FILES = sorted(p.name for p in SHARED.glob("*.jsonl.gz")) if SHARED else []


@pytest.mark.skipif(SHARED is None, reason="../shared/vectors not present")
@pytest.mark.parametrize("name", SHARED_FILES)
def test_shared_full(name: str) -> None:
    _assert_clean(SHARED / name)
