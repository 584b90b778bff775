"""Moved to microgrid.cli.demo; this alias keeps the old import path working."""

import sys
from typing import TYPE_CHECKING

from microgrid.cli import demo as _module

if TYPE_CHECKING:  # what a type checker sees at the old path
    from microgrid.cli.demo import *  # noqa: F403

sys.modules[__name__] = _module
