"""Live widgets for Jupyter: the engine runs in the kernel and the picture answers each click.

- ``Stepper(root)``: backward() one chain-rule step at a time, on one fixed layout.
- ``Explorer(fn, **leaves)``: a slider per leaf; each change re-runs forward and backward.
- ``Playground(...)``: train a small MLP on a 2-D data set and watch it learn.

They are anywidgets (JupyterLab, Notebook 7, VS Code, Colab); their JavaScript and CSS
ship in this folder and fetch nothing from a network. Install with
``pip install 'microgrid-autodiff[live]'``. ``import microgrid`` never imports this package.
"""

from __future__ import annotations

try:
    import anywidget  # noqa: F401
except ImportError as e:  # pragma: no cover - the live extra is missing
    raise ImportError(
        "microgrid.live needs anywidget; install it with: pip install 'microgrid-autodiff[live]'"
    ) from e

from microgrid.live.explorer import Explorer
from microgrid.live.playground import Playground
from microgrid.live.stepper import Stepper

__all__ = ['Explorer', 'Playground', 'Stepper']
