"""Moved to microgrid.viz.player; this alias keeps the old import path working."""

import sys
from typing import TYPE_CHECKING

from microgrid.viz import player as _module

if TYPE_CHECKING:  # what a type checker sees at the old path
    from microgrid.viz.player import *  # noqa: F403

sys.modules[__name__] = _module
