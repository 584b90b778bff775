"""Moved to microgrid.course.engine_check; this alias keeps the old import path working."""

import sys

from microgrid.course import engine_check as _module

sys.modules[__name__] = _module
