"""Finding and running the program that turns DOT into SVG or PNG.

Which program renders it (``find_renderer``), in this order:

1. the executable named by the environment variable ``MICROGRID_DOT``, if it is set;
2. Graphviz's own ``dot``, if it is on PATH;
3. ``graphviz-pure``, the self-contained renderer that ``pip install microgrid`` brings
   along: it installs an executable ``graphviz-pure`` (not ``dot``) next to the running
   Python, so it is looked for there, in the scripts folders of ``sysconfig`` and on PATH.

The graphviz package itself only ever runs a program called ``dot`` found on PATH. Rather
than change its module-level setting (which would affect every other user of graphviz in
the process), the Digraph that ``draw`` returns overrides ``pipe`` and ``render`` to call
``render_source``, which runs the chosen program by its absolute path with ``subprocess``
(no shell).

A host with no program to run gives ``render_source`` a function instead, with
``use_renderer(fn)``: the course's browser kernel (JupyterLite) renders with Viz.js this way.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    'INSTALL_HINT',
    'Renderer',
    'RendererNotFoundError',
    'drawing_class',
    'find_renderer',
    'render_source',
    'use_renderer',
]

_FORMAT = re.compile(r'[A-Za-z0-9_.]+')
INSTALL_HINT = (
    "install the renderer that comes with microgrid, `pip install graphviz-pure`, or "
    "Graphviz's `dot` (Debian/Ubuntu: `apt-get install graphviz`, macOS: `brew install "
    "graphviz`, conda: `conda install graphviz`) and put it on PATH, or set MICROGRID_DOT "
    "to the path of either program"
)
"""What to install when no renderer is found (every such error ends with it)."""


_render_with: Callable[[str, str, str], bytes] | None = None  # see use_renderer


def use_renderer(fn: Callable[[str, str, str], bytes] | None) -> None:
    """Render DOT with ``fn(source, format, engine) -> bytes`` instead of a program (the
    browser kernel's Viz.js); ``None`` goes back to the program find_renderer() picks."""
    global _render_with
    if fn is not None and not callable(fn):
        raise TypeError(f"use_renderer needs a function or None, got {type(fn).__name__}")
    _render_with = fn


class RendererNotFoundError(RuntimeError):
    """Neither Graphviz's ``dot`` nor ``graphviz-pure`` could be found."""


class Renderer(NamedTuple):
    """The program that turns DOT into SVG/PNG: its absolute path and what it is."""

    path: str
    kind: str  # 'dot', 'graphviz-pure' or 'MICROGRID_DOT'


def _script_dirs() -> list[Path]:
    """Where pip puts console scripts for the running Python (venv, system, user)."""
    dirs = [Path(sys.executable).parent]
    for scheme in (None, f'{os.name}_user'):
        try:
            path = (
                sysconfig.get_path('scripts', scheme) if scheme else sysconfig.get_path('scripts')
            )
        except KeyError:
            continue
        if path:
            dirs.append(Path(path))
    return list(dict.fromkeys(dirs))


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_renderer() -> Renderer:
    """The renderer draw() uses: $MICROGRID_DOT, else ``dot`` on PATH, else ``graphviz-pure``.

    Raises RendererNotFoundError, saying what to install, when there is none.
    """
    env = os.environ.get('MICROGRID_DOT')
    if env:
        found = shutil.which(env)
        if found is None:
            raise RendererNotFoundError(
                f"MICROGRID_DOT={env!r} is not an executable program; unset it or {INSTALL_HINT}"
            )
        return Renderer(os.path.abspath(found), 'MICROGRID_DOT')
    dot = shutil.which('dot')
    if dot is not None:
        return Renderer(os.path.abspath(dot), 'dot')
    names = ('graphviz-pure.exe', 'graphviz-pure') if os.name == 'nt' else ('graphviz-pure',)
    for folder in _script_dirs():
        for name in names:
            if _executable(folder / name):
                return Renderer(str((folder / name).absolute()), 'graphviz-pure')
    pure = shutil.which('graphviz-pure')
    if pure is not None:
        return Renderer(os.path.abspath(pure), 'graphviz-pure')
    raise RendererNotFoundError(
        f"drawing a graph needs a Graphviz renderer and none was found: {INSTALL_HINT}"
    )


def render_source(
    source: str,
    format: str = 'svg',  # the name graphviz uses
    *,
    engine: str = 'dot',
    renderer: str | None = None,
    formatter: str | None = None,
    neato_no_op: bool | int | None = None,
    timeout: float = 120.0,
) -> bytes:
    """Run DOT ``source`` through the renderer find_renderer() picks; return its output."""
    if not isinstance(source, str):
        raise TypeError(f"source must be a str of DOT, got {type(source).__name__}")
    parts = [format, renderer, formatter]
    named = (
        ('format', format),
        ('engine', engine),
        ('renderer', renderer),
        ('formatter', formatter),
    )
    for what, value in named:
        if value is not None and not (isinstance(value, str) and _FORMAT.fullmatch(value)):
            raise ValueError(f"{what} must be a plain name such as 'svg' or 'png', got {value!r}")
    if _render_with is not None:
        return _render_with(source, format, engine)
    exe = find_renderer()
    cmd = [exe.path, f'-K{engine}', '-T' + ':'.join(p for p in parts if p)]
    if neato_no_op:
        cmd.append(f'-n{int(neato_no_op)}')
    try:
        proc = subprocess.run(
            cmd, input=source.encode('utf-8'), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise TimeoutError(
            f"{exe.kind} ({exe.path}) did not finish within {timeout} s; draw a smaller graph"
        ) from None
    if proc.returncode != 0:
        err = proc.stderr.decode('utf-8', 'replace').strip()
        raise RuntimeError(
            f"{exe.kind} ({exe.path}) failed with exit code {proc.returncode}: {err}"
        )
    return proc.stdout


@functools.cache
def drawing_class() -> Any:
    """The class draw() returns: a graphviz.Digraph whose pipe() and render() run
    the renderer find_renderer() picks."""
    import graphviz

    class Drawing(graphviz.Digraph):
        """A graphviz.Digraph that renders with ``dot`` or ``graphviz-pure`` (see find_renderer).

        In Jupyter it shows as the picture; in a plain REPL its repr says what it holds
        and how to save it. ``render()`` removes the DOT source it writes on the way
        (``cleanup=True``), so only the picture is left.
        """

        mg_summary = ''

        def __repr__(self) -> str:
            what = self.mg_summary or 'a computation graph'
            return (
                f"<microgrid drawing: {what}. Save it with .render(outfile='graph.svg') "
                "(or .png); .pipe(format='svg') gives the SVG bytes; Jupyter shows it inline>"
            )

        def pipe(
            self,
            format: str | None = None,
            renderer: str | None = None,
            formatter: str | None = None,
            neato_no_op: bool | int | None = None,
            quiet: bool = False,
            *,
            engine: str | None = None,
            encoding: str | None = None,
        ) -> bytes | str:
            """The rendered graph as bytes (or str with ``encoding``), like graphviz's pipe."""
            out = render_source(
                self.source,
                format or self.format,
                engine=engine or self.engine,
                renderer=renderer,
                formatter=formatter,
                neato_no_op=neato_no_op,
            )
            return out.decode(encoding) if encoding is not None else out

        def render(
            self,
            filename: str | os.PathLike | None = None,
            directory: str | os.PathLike | None = None,
            view: bool = False,
            cleanup: bool = True,
            format: str | None = None,
            renderer: str | None = None,
            formatter: str | None = None,
            neato_no_op: bool | int | None = None,
            quiet: bool = False,
            quiet_view: bool = False,
            *,
            outfile: str | os.PathLike | None = None,
            engine: str | None = None,
            raise_if_result_exists: bool = False,
            overwrite_source: bool = False,
        ) -> str:
            """Render to a file like graphviz's render(); the DOT source written on the way
            is removed unless ``cleanup=False``."""
            if outfile is not None:
                out_path = Path(outfile)
                if format is None:
                    format = out_path.suffix.lstrip('.') or None
                if directory is None and self.directory:
                    out_path = Path(self.directory, out_path)
                if filename is None:
                    filename = out_path.with_suffix('.gv').name
                    directory = directory or out_path.parent
            fmt = format or self.format
            source_path = Path(self.save(filename, directory=directory))
            target = out_path if outfile is not None else Path(f'{source_path}.{fmt}')
            if raise_if_result_exists and target.exists():
                raise FileExistsError(f"output file exists: {os.fspath(target)!r}")
            if target.resolve() == source_path.resolve() and not overwrite_source:
                raise ValueError(f"outfile {target} must differ from the source {source_path}")
            data = render_source(
                self.source,
                fmt,
                engine=engine or self.engine,
                renderer=renderer,
                formatter=formatter,
                neato_no_op=neato_no_op,
            )
            target.write_bytes(data)
            if cleanup:
                os.remove(source_path)
            if view or quiet_view:
                self._view(os.fspath(target), format=fmt, quiet=quiet_view)
            return os.fspath(target)

    return Drawing
