"""Moved to microgrid.course.engine_check; this alias keeps the old import path working."""

import sys
from typing import TYPE_CHECKING

from microgrid.course import engine_check as _module

if TYPE_CHECKING:  # the names, for type checkers; at run time the module itself is used
    from microgrid.course.engine_check import *  # noqa: F403

sys.modules[__name__] = _module
