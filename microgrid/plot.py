"""Moved to microgrid.viz.plot; this alias keeps the old import path working."""

import sys

from microgrid.viz import plot as _module

sys.modules[__name__] = _module
