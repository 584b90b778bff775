"""``python -m microgrid``: the command line."""

from microgrid.cli import main

raise SystemExit(main())
