"""Moved to microgrid.text; this alias keeps the old import path working."""

import sys
from typing import TYPE_CHECKING

from microgrid import text as _module

if TYPE_CHECKING:  # the names, for type checkers; at run time the module itself is used
    from microgrid.text import *  # noqa: F403

sys.modules[__name__] = _module
