"""Moved to microgrid.nn.training; this alias keeps the old import path working."""

import sys

from microgrid.nn import training as _module

sys.modules[__name__] = _module
