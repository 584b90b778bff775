"""Moved to microgrid.text; this alias keeps the old import path working."""

import sys

from microgrid import text as _module

sys.modules[__name__] = _module
