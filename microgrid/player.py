"""Moved to microgrid.viz.player; this alias keeps the old import path working."""

import sys
from typing import TYPE_CHECKING

from microgrid.viz import player as _module

if TYPE_CHECKING:  # the names, for type checkers; at run time the module itself is used
    from microgrid.viz.player import *  # noqa: F403

sys.modules[__name__] = _module
