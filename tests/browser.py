"""What the browser tests share: Debian's Chromium, its headless flags, and a page's errors.

A browser test never skips: without Chromium it fails, saying what to install (.ci/run
installs it). playwright drives the system Chromium; its own browser download is never used.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

__all__ = ['ARGS', 'OFFLINE_ARGS', 'chromium_path', 'errors_of']

ARGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
]
# ... and no host name resolves but 127.0.0.1: a page that reaches for the network fails
OFFLINE_ARGS = [*ARGS, '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1']


def chromium_path() -> str:
    """The Chromium executable, or the test fails saying how to install it."""
    for name in ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'):
        found = shutil.which(name)
        if found:
            return found
    if Path('/usr/bin/chromium').exists():
        return '/usr/bin/chromium'
    pytest.fail(
        'this browser test needs Chromium and none was found: install it '
        '(Debian/Ubuntu: apt-get install chromium, as .ci/run does)'
    )


def errors_of(page: Any, console: bool = False) -> list[str]:
    """A list that collects the page's uncaught errors (and its console errors if asked)."""
    errors: list[str] = []
    page.on('pageerror', lambda exc: errors.append(str(exc)))
    if console:
        page.on('console', lambda msg: errors.append(msg.text) if msg.type == 'error' else None)
    return errors
