"""Moved to microgrid.cli.expr; this alias keeps the old import path working."""

import sys
from typing import TYPE_CHECKING

from microgrid.cli import expr as _module

if TYPE_CHECKING:  # the names, for type checkers; at run time the module itself is used
    from microgrid.cli.expr import *  # noqa: F403

sys.modules[__name__] = _module
