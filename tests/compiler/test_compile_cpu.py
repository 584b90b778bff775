"""The portable run (``make test-cpu-portable``) really switches numpy's AVX-512 kernels off.

Without this check, a typo in the Makefile would run the same kernels twice and prove
nothing. In the ordinary run the test only checks that the names are numpy's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # avx512.py, beside this file

from avx512 import avx512_features, cpu_features


def test_the_disabled_features_are_off_and_the_names_are_numpys() -> None:
    features = cpu_features()
    wanted = os.environ.get('NPY_DISABLE_CPU_FEATURES', '').split()
    for name in avx512_features():
        assert name in features, name
    for name in wanted:
        assert not features.get(name, False), f'{name} is still on: numpy ignored the switch'
