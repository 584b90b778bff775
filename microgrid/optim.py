"""Moved to microgrid.nn.optim; this alias keeps the old import path working."""

import sys

from microgrid.nn import optim as _module

sys.modules[__name__] = _module
