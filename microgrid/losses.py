"""Moved to microgrid.nn.losses; this alias keeps the old import path working."""

import sys

from microgrid.nn import losses as _module

sys.modules[__name__] = _module
