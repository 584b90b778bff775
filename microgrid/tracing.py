"""Moved to microgrid.autograd.tracing; this alias keeps the old import path working."""

import sys

from microgrid.autograd import tracing as _module

sys.modules[__name__] = _module
