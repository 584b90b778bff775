"""The ``microgrid`` command: ``main`` parses the command line (``cli.main``), ``expr`` reads
the expressions it is given safely, ``demo`` trains the two-moons demo."""

from microgrid.cli.main import main

__all__ = ['main']
