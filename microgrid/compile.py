"""Moved to microgrid.compiler.api; this alias keeps the old import path working."""

import sys

from microgrid.compiler import api as _module

sys.modules[__name__] = _module
