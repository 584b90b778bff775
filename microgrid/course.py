"""Self-checking exercises for the course notebooks, and the course as static HTML.

``check(what, actual, expected)`` prints one line, ``✓ what`` or ``✗ what: expected ...,
got .... Hint: ...``, and returns True or False. It never raises, so a wrong or unfinished
answer never stops a notebook.

``python -m microgrid.course html [notebooks] [out]`` writes every lesson, executed, as one
HTML page with its pictures embedded (``make course-html`` gives the same lessons inside
the docs site, in site/course/; this needs no MkDocs).
"""

from __future__ import annotations

import html
import math
import os
import sys
from collections.abc import Callable
from numbers import Real
from pathlib import Path
from typing import Any

__all__ = ['build_html', 'check']


class _Unfilled(Exception):
    """The answer is still the stub (None or ...)."""


def _show(x: Any) -> str:
    if isinstance(x, float):
        return f'{x:.6g}'
    if isinstance(x, (list, tuple)):
        inner = ', '.join(_show(v) for v in x)
        return f'[{inner}]' if isinstance(x, list) else f'({inner}{"," if len(x) == 1 else ""})'
    return repr(x)


def _number(x: Any) -> float | None:
    """x as a float if it is a real number (or has a numeric ``.data``, like a Value)."""
    if isinstance(x, bool):
        return None
    if isinstance(x, Real):
        return float(x)
    data = getattr(x, 'data', None)
    if isinstance(data, Real) and not isinstance(data, bool):
        return float(data)
    return None


def _same(actual: Any, expected: Any, rel: float, abs_: float) -> bool:
    if actual is None or actual is Ellipsis:
        raise _Unfilled
    e = _number(expected)
    if e is not None:
        a = _number(actual)
        if a is None:
            return False
        if math.isnan(e):
            return math.isnan(a)
        return math.isclose(a, e, rel_tol=rel, abs_tol=abs_)
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            return False
        return all(_same(a, x, rel, abs_) for a, x in zip(actual, expected))
    return bool(actual == expected)


def check(
    what: str,
    actual: Any,
    expected: Any,
    *,
    rel: float = 1e-6,
    abs: float = 1e-9,
    hint: str = '',
) -> bool:
    """Print ``✓ what`` if actual matches expected, else ``✗ what: ...``; return True/False.

    ``actual`` may be a zero-argument callable, called here (an exception it raises is
    reported as a ✗). Numbers are compared with ``math.isclose(rel, abs)``, lists and
    tuples element by element, anything else with ``==``. None or ``...`` means the
    exercise is not filled in yet. Never raises.
    """
    try:
        if callable(actual) and not isinstance(actual, type):
            fn: Callable[[], Any] = actual
            actual = fn()
        ok = _same(actual, expected, rel, abs)
        problem = '' if ok else f'expected {_show(expected)}, got {_show(actual)}'
    except _Unfilled:
        ok, problem = False, 'not filled in yet (the answer is still None or ...)'
    except Exception as error:  # a student's code may raise anything
        ok, problem = False, f'your code raised {type(error).__name__}: {error}'
        if 'NoneType' in str(error):
            problem += ' (is a stub still returning None?)'
    if ok:
        print(f'✓ {what}')
    else:
        print(f'✗ {what}: {problem}.' + (f' Hint: {hint}' if hint else ''))
    return ok


# -----------------------------------------------------------------------------
# The course as static HTML
# -----------------------------------------------------------------------------


def _executed(lesson: Path, executed: Path) -> Any:
    """The lesson executed: build/executed/<name> if newer than the lesson, else run it."""
    import nbformat

    cached = executed / lesson.name
    if cached.exists() and cached.stat().st_mtime >= lesson.stat().st_mtime:
        return nbformat.read(cached, as_version=4)
    from nbclient import NotebookClient

    nb = nbformat.read(lesson, as_version=4)
    env = {k: v for k, v in os.environ.items() if k != 'MPLBACKEND'}  # Jupyter's inline backend
    client = NotebookClient(
        nb, timeout=600, kernel_name='python3', resources={'metadata': {'path': str(lesson.parent)}}
    )
    client.execute(env=env)
    executed.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, cached)
    return nb


def build_html(
    notebooks: str | Path = 'notebooks',
    out: str | Path = 'build/course-html',
    executed: str | Path = 'build/executed',
) -> list[Path]:
    """Write each lesson of ``notebooks``, executed, as ``out/<lesson>.html``, and an index.

    Pictures are embedded in the pages (PNG and GIF as data URIs, SVG inline), so the
    folder can be published as it is. Returns the pages written, the index last.
    """
    from nbconvert import HTMLExporter

    lessons = sorted(Path(notebooks).glob('[0-9][0-9]_*.ipynb'))
    if not lessons:
        raise FileNotFoundError(f"no lessons (NN_name.ipynb) in {notebooks}")
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name='lab')
    pages, items = [], []
    for lesson in lessons:
        nb = _executed(lesson, Path(executed))
        for cell in nb.cells:  # nbconvert's templates show no GIF: give it an <img> too
            for output in cell.get('outputs', []):
                data = output.get('data', {})
                if 'image/gif' in data and 'text/html' not in data:
                    gif = ''.join(data['image/gif'].split())
                    data['text/html'] = f'<img src="data:image/gif;base64,{gif}" alt="animation">'
        body, _ = exporter.from_notebook_node(nb, resources={'metadata': {'name': lesson.stem}})
        page = target / f'{lesson.stem}.html'
        page.write_text(body, encoding='utf-8')
        pages.append(page)
        title = next((c.source.split('\n', 1)[0].lstrip('# ') for c in nb.cells
                      if c.cell_type == 'markdown'), lesson.stem)  # fmt: skip
        items.append(f'<li><a href="{html.escape(page.name)}">{html.escape(title)}</a></li>')
        print(f'wrote {page}')
    index = target / 'index.html'
    index.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>microgrid: the course</title>'
        '</head><body><h1>microgrid: the course</h1><ol>' + ''.join(items) + '</ol></body></html>',
        encoding='utf-8',
    )
    return [*pages, index]


if __name__ == '__main__':  # python -m microgrid.course html [notebooks] [out]
    args = sys.argv[1:]
    if not args or args[0] != 'html' or len(args) > 3:
        sys.exit('usage: python -m microgrid.course html [notebooks] [out]')
    build_html(*args[1:])
