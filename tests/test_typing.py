"""The packages ship py.typed: their annotations must type-check."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT


def test_mypy_clean(tmp_path) -> None:
    pytest.importorskip("mypy")
    r = subprocess.run([sys.executable, "-m", "mypy", "aluvm", "jit", "asm",
                        "--ignore-missing-imports", "--cache-dir", str(tmp_path)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:]
