"""Shared fixtures: where the vectors are."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# an unexpected exception inside a run, or a JIT compile error, fails the test instead of
# becoming an "internal" outcome or a silent interpreter fallback
os.environ.setdefault("ALUVM_STRICT", "1")

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


TEST_JIT_CACHE = Path(tempfile.gettempdir()) / f"aluvm-jit-tests-{os.getuid()}"


def use_test_jit_cache(mp: pytest.MonkeyPatch) -> None:
    """Point ``ALUVM_JIT_CACHE`` (read by processes and code caches created from now on) at a
    per-user temporary object cache rather than the user's ~/.cache, unless the caller set it."""
    if "ALUVM_JIT_CACHE" not in os.environ:
        mp.setenv("ALUVM_JIT_CACHE", str(TEST_JIT_CACHE))


@pytest.fixture(scope="module")
def test_jit_cache():
    with pytest.MonkeyPatch.context() as mp:
        use_test_jit_cache(mp)
        yield


@pytest.fixture(scope="module")
def jit_eager():
    """Compile everything (small loop-free libraries too, which jit_runner would otherwise
    leave to the interpreter), into a per-user temporary object cache reused across runs
    rather than the user's ~/.cache."""
    from aluvm.jit.cache import CodeCache, use_code_cache
    from aluvm.jit.settings import JitSettings
    over = {} if "ALUVM_JIT_CACHE" in os.environ else {"cache_dir": TEST_JIT_CACHE}
    prev = use_code_cache(CodeCache(JitSettings.from_env(eager=True, **over)))
    try:
        yield
    finally:
        use_code_cache(prev)
