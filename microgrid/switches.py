"""Moved to microgrid.autograd.modes; this alias keeps the old import path working."""

import sys

from microgrid.autograd import modes as _module

sys.modules[__name__] = _module
