"""Moved to microgrid.text; this alias keeps the old import path working."""

import sys
from typing import TYPE_CHECKING

from microgrid import text as _module

if TYPE_CHECKING:  # what a type checker sees at the old path
    from microgrid.text import *  # noqa: F403

sys.modules[__name__] = _module
