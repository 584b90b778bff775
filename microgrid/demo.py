"""Moved to microgrid.cli.demo; this alias keeps the old import path working."""

import sys

from microgrid.cli import demo as _module

sys.modules[__name__] = _module
