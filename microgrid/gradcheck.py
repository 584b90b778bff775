"""Moved to microgrid.autograd.gradcheck; this alias keeps the old import path working."""

import sys

from microgrid.autograd import gradcheck as _module

sys.modules[__name__] = _module
