"""Moved to microgrid.cli.expr; this alias keeps the old import path working."""

import sys

from microgrid.cli import expr as _module

sys.modules[__name__] = _module
