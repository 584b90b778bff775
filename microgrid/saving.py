"""Moved to microgrid.nn.serialization; this alias keeps the old import path working."""

import sys

from microgrid.nn import serialization as _module

sys.modules[__name__] = _module
