"""Shared by every test folder: tests/ and its area folders on sys.path, so a test imports
the helpers it shares with others by their names (``import catalogue``, ``from
test_live_browser import serve``). pytest itself imports test files by path
(--import-mode=importlib, see pyproject.toml), so files in two folders may share a name."""

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
for folder in (TESTS, *sorted(p for p in TESTS.iterdir() if p.is_dir() and p.name[0] != '_')):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
