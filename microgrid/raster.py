"""Moved to microgrid.viz.raster; this alias keeps the old import path working."""

import sys

from microgrid.viz import raster as _module

sys.modules[__name__] = _module
