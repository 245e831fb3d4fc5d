"""Shared-memory result files (aluvm.tools.shm) never outlive their driver: removed when the
pool (its batch) is collected, and the files of a killed driver are removed by the next
process that makes a pool - never those of a live one."""
from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from aluvm.tools import shm

pytestmark = pytest.mark.skipif(not shm.available(), reason="no /dev/shm")

#: a driver that makes a pool with one buffer, says its file name, then waits to be killed
_DRIVER = """
import sys, time, numpy as np
from aluvm.tools import shm
pool = shm.SharedBuffers()
layout, arrays = pool.take([(1000,)], [np.dtype(np.uint64)], lambda: True)
arrays[0][:] = 7
print(layout[0], flush=True)
time.sleep(120)
"""


def _files() -> set[str]:
    return {n for n in os.listdir(shm.SHM_DIR) if n.startswith("aluvm-batch-")}


def test_pool_collected_removes_its_files() -> None:
    pool = shm.SharedBuffers()
    taken = [pool.take([(4096,)], [np.dtype(np.uint8)], lambda: True) for _ in range(3)]
    names = {layout[0] for layout, _ in taken}      # (arrays held: three buffers)
    assert len(names) == 3 and names <= _files()
    del pool, taken
    gc.collect()
    assert not names & _files()         # (other processes' files are theirs: not compared)


def _driver() -> tuple[subprocess.Popen, str]:
    p = subprocess.Popen([sys.executable, "-c", _DRIVER], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None
    name = p.stdout.readline().strip()
    assert name.startswith("aluvm-batch-"), name
    return p, name


def test_killed_driver_files_swept_live_ones_kept(monkeypatch) -> None:
    dead, dead_name = _driver()
    live, live_name = _driver()
    try:
        dead.send_signal(signal.SIGKILL)
        dead.wait(30)
        assert dead_name in _files()            # (what a killed driver leaves)
        monkeypatch.setattr(shm, "_SWEPT", False)
        pool = shm.SharedBuffers()              # the next pool of any process sweeps
        assert dead_name not in _files()
        assert live_name in _files()            # held by a live driver: kept
        got = shm.arrays((live_name, os.path.getsize(os.path.join(shm.SHM_DIR, live_name)),
                          [(0, (1000,), "<u8")]))
        assert got is not None and (got[0] == 7).all()
        pool.close()
    finally:
        for p in (dead, live):
            if p.poll() is None:
                p.kill()
            p.wait(30)
            p.stdout.close()                    # type: ignore[union-attr]
        monkeypatch.setattr(shm, "_SWEPT", False)
        shm._sweep()                            # (the live one, killed now)
    assert live_name not in _files()


def test_actor_side_unmaps_removed_files() -> None:
    """An actor's attached mappings of files their driver removed are dropped when it attaches
    the next one (a mapping kept an unlinked file's memory allocated while the actor lived)."""
    shm._ATTACHED.clear()
    old = shm.SharedBuffers()
    layout, _ = old.take([(1000,)], [np.dtype(np.uint64)], lambda: True)
    assert shm.arrays(layout) is not None and layout[0] in shm._ATTACHED
    old.close()                                 # (the driver removed it)
    new = shm.SharedBuffers()
    layout2, _ = new.take([(1000,)], [np.dtype(np.uint64)], lambda: True)
    assert shm.arrays(layout2) is not None
    assert set(shm._ATTACHED) == {layout2[0]}
    new.close()
    shm._ATTACHED.clear()


def test_no_fcntl_means_no_shared_buffers() -> None:
    """Where there is no ``fcntl`` (Windows) the module still imports and says the buffers are
    not available (results then travel packed), as before the files were locked."""
    r = subprocess.run([sys.executable, "-c", "import sys; sys.modules['fcntl'] = None\n"
                        "from aluvm.tools import shm; print(shm.available())"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "False", r.stderr
