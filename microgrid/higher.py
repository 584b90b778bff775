"""Moved to microgrid.autograd.functional; this alias keeps the old import path working."""

import sys

from microgrid.autograd import functional as _module

sys.modules[__name__] = _module
