"""The course's start-up in the browser kernel (JupyterLite on Pyodide).

lite/build.py packs this file as the package ``microgrid_lite``, with an IPython start-up
file that calls :func:`install` when the kernel starts. It turns three things the browser
cannot do into one line each, instead of a traceback:

- a cell that needs numpy or matplotlib (Pyodide's own builds, which come from its CDN) when
  the browser is offline. A cell's ``import matplotlib.pyplot as plt`` then gives a stand-in
  module, so the rest of that cell (often the lesson's other imports) still runs; the first
  use of the stand-in (``plt.subplots(...)``) stops its cell with the one line. Imports made
  by library code (not typed in a cell) fail as usual, and such a failure also gives the line;
- a graph drawing (``microgrid.draw``, the Stepper, the Explorer) needs Graphviz's layout.
  The browser has no ``dot`` program: here Graphviz is Viz.js (npm ``@viz-js/viz``, Graphviz
  compiled to WebAssembly, in the site beside Pyodide), loaded when the kernel starts, and
  given to microgrid with ``microgrid.viz.render.use_renderer``. If it cannot load, a drawing
  is one line.

Everything else shows its real output or its real traceback.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
import warnings
from typing import Any

__all__ = ['install', 'CDN_MODULES', 'OFFLINE_NOTICE', 'DRAWING_NOTICE']

# Import names that only Pyodide's CDN provides (the ones the course uses).
CDN_MODULES = frozenset({'numpy', 'matplotlib', 'mpl_toolkits', 'pylab', 'PIL', 'scipy'})
# Names the lessons bind to those modules.
ALIASES = {'plt': 'matplotlib', 'mpl': 'matplotlib', 'np': 'numpy'}
OFFLINE_NOTICE = (
    "[needs network] This cell needs {module}, which the browser gets from Pyodide's CDN when "
    'a cell imports it: online, run `import {module}` and then this cell again; offline, its '
    'output is skipped and the rest of the lesson runs.'
)
DRAWING_NOTICE = (
    '[browser] A graph drawing needs Graphviz (Viz.js), which did not load in this browser: '
    'run the lesson in a local Jupyter to see it.'
)
_viz: Any = None


class OfflineModuleError(ModuleNotFoundError):
    """A stand-in module was used: the module itself is on Pyodide's CDN, out of reach."""


class _StandIn(types.ModuleType):
    def __getattr__(self, attr: str) -> Any:
        if attr.startswith('__'):
            raise AttributeError(attr)
        raise OfflineModuleError(f'{self.__name__} is not loaded (offline)', name=self.__name__)


def _imported_by_a_cell() -> bool:
    """Whether the import statement running now was typed in a notebook cell."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith('<frozen importlib'):
        frame = frame.f_back
    name = frame.f_code.co_filename if frame is not None else ''
    shell = _shell()
    cells = getattr(getattr(shell, 'compile', None), '_filename_map', {})
    return name in cells or name.startswith('<ipython-input')


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path: a CDN-only module that no real finder has, imported by a cell."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname.partition('.')[0] not in CDN_MODULES or not _imported_by_a_cell():
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: Any) -> types.ModuleType:
        module = _StandIn(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def _shell() -> Any:
    from IPython import get_ipython

    return get_ipython()


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def _cdn_module(error: BaseException) -> str | None:
    """The CDN-only module this error is about, or None."""
    if isinstance(error, OfflineModuleError):
        return (error.name or '').partition('.')[0]
    if isinstance(error, ModuleNotFoundError):
        root = (error.name or '').partition('.')[0]
        return root if root in CDN_MODULES else None
    if isinstance(error, NameError):
        module = ALIASES.get(getattr(error, 'name', None) or '')
        if module is None and getattr(error, 'name', None) in CDN_MODULES:
            module = error.name
        if module is None:
            return None
        stand_in = isinstance(sys.modules.get(module), _StandIn)
        return module if stand_in or _missing(module) else None
    return None


def _handler(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None):
    module = _cdn_module(value)
    if module is None:
        return shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    print(OFFLINE_NOTICE.format(module=module))
    return None


def _drawing(obj: Any, include: Any = None, exclude: Any = None) -> dict:
    try:
        return {'image/svg+xml': obj.pipe(format='svg', encoding='utf-8')}
    except Exception:
        return {'text/plain': DRAWING_NOTICE}


def render_with_viz(source: str, format: str, engine: str) -> bytes:
    """DOT to SVG with Viz.js: what microgrid's render_source does in the browser."""
    if _viz is None:
        raise RuntimeError(DRAWING_NOTICE)
    if format != 'svg':
        raise ValueError(f'in the browser a drawing renders as svg only, not {format!r}')
    import js
    from pyodide.ffi import to_js

    options = to_js({'format': 'svg', 'engine': engine}, dict_converter=js.Object.fromEntries)
    return str(_viz.renderString(source, options)).encode('utf-8')


def _viz_url() -> str:
    import js

    return str(js.location.href).split('/extensions/')[0] + '/static/pyodide/viz.js'


async def _load_viz() -> None:
    global _viz
    from pyodide.code import run_js

    try:
        module = await run_js(f'import({_viz_url()!r})')
        _viz = await module.instance()
    except Exception as e:
        print(f'[browser] Viz.js did not load ({e}); graph drawings are off', file=sys.stderr)
        return
    from microgrid.viz import render

    render.use_renderer(render_with_viz)


def install(shell: Any = None) -> None:
    """Set up the running IPython shell (the kernel's) as described above."""
    if shell is None:
        shell = _shell()
    if shell is None:
        return
    sys.meta_path.append(_StandInFinder())
    shell.set_custom_exc((ImportError, NameError), _handler)
    formatter = shell.display_formatter.mimebundle_formatter
    formatter.for_type_by_name('graphviz.graphs', 'Digraph', _drawing)
    formatter.for_type_by_name('graphviz.graphs', 'Graph', _drawing)
    # A Value shows as its graph once Viz.js is there; before, as its text.
    warnings.filterwarnings('ignore', message='drawing a graph needs', category=RuntimeWarning)
    import asyncio

    asyncio.ensure_future(_load_viz())
    sys.modules.setdefault('microgrid_lite', sys.modules[__name__])
