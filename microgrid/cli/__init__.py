"""The ``microgrid`` command. ``main`` (in ``app``) parses the command line and runs one of
the ``commands``; ``expr`` and ``syntax`` read the expressions it is given, safely; ``demo``
trains the two-moons demo. The module is ``app``, not ``main``: a module named like the
function it exports would be hidden by it (``microgrid.cli.main`` is the function)."""

from microgrid.cli.app import main

__all__ = ['main']
