"""Moved to microgrid.autograd.anomaly; this alias keeps the old import path working."""

import sys

from microgrid.autograd import anomaly as _module

sys.modules[__name__] = _module
