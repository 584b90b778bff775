"""The autograd tests import shared helpers: tests/catalogue.py and the random expression
trees of the engine's tests (tests/test_engine.py, or tests/engine/ once moved there)."""

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parent.parent
for _folder in (_TESTS / 'engine', _TESTS):
    if _folder.is_dir() and str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))
