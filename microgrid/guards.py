"""Moved to microgrid.compiler.guards; this alias keeps the old import path working."""

import sys

from microgrid.compiler import guards as _module

sys.modules[__name__] = _module
