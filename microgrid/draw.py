"""Moved to microgrid.viz.draw; this alias keeps the old import path working."""

import sys
from typing import TYPE_CHECKING

from microgrid.viz import draw as _module

if TYPE_CHECKING:  # what a type checker sees at the old path
    from microgrid.viz.draw import *  # noqa: F403

sys.modules[__name__] = _module
