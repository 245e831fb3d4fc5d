"""Shared fixtures: where the vectors are."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCAL_VECTORS = ROOT / "tests" / "vectors"
SHARED_VECTORS = ROOT.parent / "shared" / "vectors"


def shared_vectors() -> Path | None:
    return SHARED_VECTORS if SHARED_VECTORS.is_dir() else None


@pytest.fixture
def shared() -> Path:
    path = shared_vectors()
    if path is None:
        pytest.skip("../shared/vectors not present")
    return path
