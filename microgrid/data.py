"""Moved to microgrid.nn.data; this alias keeps the old import path working."""

import sys

from microgrid.nn import data as _module

sys.modules[__name__] = _module
