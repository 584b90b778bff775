"""What several benchmarks share: a git ref's package exported to run beside this one, and
the memory a chain of nodes holds. No path is put in front of ``sys.path`` here, so a
worker whose PYTHONPATH names a baseline's package keeps measuring that package."""

from __future__ import annotations

import gc
import os
import subprocess
import tarfile
import tracemalloc
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def export(ref: str, into: str) -> str:
    """The package ``microgrid/`` as it is at git ``ref``, unpacked into ``into``; returns
    the folder to put on PYTHONPATH."""
    archive = os.path.join(into, 'pkg.tar')
    subprocess.run(['git', '-C', ROOT, 'archive', '-o', archive, ref, 'microgrid'], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter='data')
    return into


def bytes_per_op(make_leaf: Callable, c_is_value: bool, n: int = 100_000) -> float:
    """Bytes held per node by a chain y = y * c of n nodes (all of it kept alive)."""
    gc.collect()
    tracemalloc.start()
    try:
        c = make_leaf(1.000001) if c_is_value else 1.000001
        y = make_leaf(1.0)
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(n):
            y = y * c
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del y
    return (after - before) / n
