"""Moved to microgrid.autograd.steps; this alias keeps the old import path working."""

import sys

from microgrid.autograd import steps as _module

sys.modules[__name__] = _module
