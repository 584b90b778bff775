"""Moved to microgrid.autograd.explain; this alias keeps the old import path working."""

import sys

from microgrid.autograd import explain as _module

sys.modules[__name__] = _module
