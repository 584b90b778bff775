"""Moved to microgrid.viz.player; this alias keeps the old import path working."""

import sys

from microgrid.viz import player as _module

sys.modules[__name__] = _module
