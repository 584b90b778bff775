"""Tests of this area import shared helpers from tests/ (catalogue, test_lecture)."""

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
