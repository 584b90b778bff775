"""The names of numpy's AVX-512 kernels on this machine, for NPY_DISABLE_CPU_FEATURES.

``make test-cpu-portable`` runs the compile tests a second time with these switched off
(numpy then uses its AVX2 kernels, which add in another order): a replay must agree with
eager on every CPU, not only on this one. Only names that numpy dispatches are listed,
so numpy never refuses one (a baseline feature cannot be disabled).

    python tests/compiler/avx512.py     # prints e.g. "X86_V4 AVX512_ICL AVX512_SPR"
"""

from __future__ import annotations

__all__ = ['avx512_features', 'cpu_features']


def _umath():
    try:
        from numpy._core import _multiarray_umath  # numpy 2
    except ImportError:  # numpy 1
        from numpy.core import _multiarray_umath  # type: ignore[no-redef]
    return _multiarray_umath


def avx512_features() -> list[str]:
    """numpy's dispatched AVX-512 targets (X86_V4 is numpy 2's name for AVX512_SKX)."""
    return [f for f in _umath().__cpu_dispatch__ if 'AVX512' in f or f == 'X86_V4']


def cpu_features() -> dict[str, bool]:
    """Which CPU features numpy found and uses (after NPY_DISABLE_CPU_FEATURES)."""
    return dict(_umath().__cpu_features__)


if __name__ == '__main__':
    print(' '.join(avx512_features()))
