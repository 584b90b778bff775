"""``python -m microgrid``: the command line."""

from microgrid.cli import main

__all__: list[str] = []

raise SystemExit(main())
