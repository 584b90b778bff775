"""Moved to microgrid.viz.draw; this alias keeps the old import path working."""

import sys

from microgrid.viz import draw as _module

sys.modules[__name__] = _module
