"""Shared by every test folder: tests/ on sys.path, so ``import catalogue`` works from
tests/<area>/ (pytest imports test files with --import-mode=importlib, see pyproject.toml)."""

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
