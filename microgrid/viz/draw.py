"""Draw a computation graph with Graphviz: ``microgrid.draw(root)``.

Every Value is a record ``name | data | grad``; every operation is a small oval between
its inputs and its result, so edges run parent -> op -> node. The result is a
``graphviz.Digraph`` (a subclass of it) that shows itself in Jupyter and renders with
``.pipe()`` / ``.render()`` like any other.

Which program renders it (``find_renderer``), in this order:

1. the executable named by the environment variable ``MICROGRID_DOT``, if it is set;
2. Graphviz's own ``dot``, if it is on PATH;
3. ``graphviz-pure``, the self-contained renderer that ``pip install microgrid`` brings
   along: it installs an executable ``graphviz-pure`` (not ``dot``) next to the running
   Python, so it is looked for there, in the scripts folders of ``sysconfig`` and on PATH.

The graphviz package itself only ever runs a program called ``dot`` found on PATH. Rather
than change its module-level setting (which would affect every other user of graphviz in
the process), the Digraph returned here overrides ``pipe`` and ``render`` and runs the
chosen program by its absolute path with ``subprocess`` (no shell), on ``self.source``.

Fonts are set on the graph, the nodes and the edges (Arial: Debian's fontconfig maps it
to the metric-compatible Liberation Sans, graphviz-pure bundles the metric-compatible
Arimo), so both renderers lay a graph out the same way.

Every piece of user text (labels, names, op names) is escaped for the DOT record syntax
(``{ } | < >``, quotes, backslashes, and ``&`` which Graphviz reads as an entity); the
renderers escape it again for the SVG they write.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from microgrid.engine import Value
from microgrid.steps import Step
from microgrid.text import fmt as _fmt
from microgrid.text import name_of

if TYPE_CHECKING:  # pragma: no cover
    import graphviz

__all__ = [
    'GraphTooLargeError',
    'Renderer',
    'RendererNotFoundError',
    'draw',
    'find_renderer',
    'render_source',
    'short_parameter_names',
    'to_svg',
    'value_svg',
]

FONT = 'Arial'
HIGHLIGHT = '#d62728'
LEAF_FILL = '#e8f0fe'
NODE_FILL = '#ffffff'
OP_FILL = '#f2f2f2'
_RANKDIRS = ('LR', 'RL', 'TB', 'BT')
_FORMAT = re.compile(r'[A-Za-z0-9_.]+')
INSTALL_HINT = (
    "install the renderer that comes with microgrid, `pip install graphviz-pure`, or "
    "Graphviz's `dot` (Debian/Ubuntu: `apt-get install graphviz`, macOS: `brew install "
    "graphviz`, conda: `conda install graphviz`) and put it on PATH, or set MICROGRID_DOT "
    "to the path of either program"
)


class RendererNotFoundError(RuntimeError):
    """Neither Graphviz's ``dot`` nor ``graphviz-pure`` could be found."""


class GraphTooLargeError(ValueError):
    """The graph has more nodes than ``max_nodes``: draw a sub-expression or raise the limit."""


# -----------------------------------------------------------------------------
# Finding and running a renderer
# -----------------------------------------------------------------------------


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
    format: str = 'svg',  # noqa: A002 - the name graphviz uses
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
    for what, value in (('format', format), ('engine', engine), ('renderer', renderer),
                        ('formatter', formatter)):  # fmt: skip
        if value is not None and not (isinstance(value, str) and _FORMAT.fullmatch(value)):
            raise ValueError(f"{what} must be a plain name such as 'svg' or 'png', got {value!r}")
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


# -----------------------------------------------------------------------------
# Escaping
# -----------------------------------------------------------------------------

_RECORD_SPECIAL = re.compile(r'([{}|<>"])')
_CONTROL = re.compile(r'[\x00-\x08\x0b-\x1f\x7f]')


def _escape_text(text: str) -> str:
    """Text for a quoted DOT label: backslashes, quotes and '&' (an entity to Graphviz)."""
    text = _CONTROL.sub(' ', str(text)).replace('\r', '')
    text = text.replace('\\', '\\\\').replace('"', '\\"').replace('&', '&amp;')
    return text.replace('\n', '\\n')


def _escape_record(text: str) -> str:
    """Text for one field of a record label: also { } | < > and the quote."""
    text = _CONTROL.sub(' ', str(text)).replace('\r', '')
    text = text.replace('\\', '\\\\').replace('&', '&amp;')
    text = _RECORD_SPECIAL.sub(r'\\\1', text)
    return text.replace('\n', '\\n')


# -----------------------------------------------------------------------------
# The graph
# -----------------------------------------------------------------------------


def _check_root(root: Any, who: str) -> None:
    if not isinstance(root, Value):
        raise TypeError(f"{who} needs a Value, got {type(root).__name__}")


def _check_max_nodes(max_nodes: Any) -> None:
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")


def _collect(root: Value, max_nodes: int) -> list[Value]:
    """Every Value root depends on, parents before children; stops past max_nodes."""
    _check_max_nodes(max_nodes)
    order: list[Value] = []
    seen = {root}
    stack = [(root, iter(root.parents))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if p not in seen:
                seen.add(p)
                if len(seen) > max_nodes:
                    raise GraphTooLargeError(
                        f"the graph of {name_of(root)} has more than max_nodes={max_nodes} "
                        "nodes: too many to draw legibly, and rendering them could take "
                        "minutes. Draw a sub-expression instead (pass an intermediate Value "
                        f"as the root), or raise the limit, e.g. max_nodes={max_nodes * 4}."
                    )
                stack.append((p, iter(p.parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def short_parameter_names(model: Any) -> dict[Value, str]:
    """{parameter: short name} from a Module's named_parameters(), for drawing.

    ``layers.0.neurons.3.w.1`` becomes ``L0.n3.w1`` and ``layers.1.neurons.0.b`` becomes
    ``L1.n0.b``: a list index joins the name before it, ``layers`` reads ``L`` and
    ``neurons`` reads ``n``. If two short names would clash, the full names are used.
    """
    full = list(model.named_parameters())
    out: dict[Value, str] = {}
    for name, value in full:
        parts: list[str] = []
        for seg in name.split('.'):
            if seg.isdigit() and parts:
                parts[-1] += seg
            else:
                parts.append({'layers': 'L', 'neurons': 'n'}.get(seg, seg))
        out[value] = '.'.join(parts)
    if len(set(out.values())) < len(out):
        return {value: name for name, value in full}
    return out


def _names_of(names: Any) -> dict[Value, str]:
    """{Value: name} from a mapping such as locals() (the first name of a Value wins) or
    from a Module (its parameters, in short_parameter_names' form)."""
    if names is None:
        return {}
    if not isinstance(names, Mapping) and callable(getattr(names, 'named_parameters', None)):
        return short_parameter_names(names)
    if not isinstance(names, Mapping):
        raise TypeError(
            "names must be a mapping such as locals() or a Module such as an MLP, "
            f"got {type(names).__name__}"
        )
    out: dict[Value, str] = {}
    for key, value in names.items():
        if isinstance(value, Value) and isinstance(key, str) and not key.startswith('_'):
            out.setdefault(value, key)
    return out


class _Highlight(NamedTuple):
    nodes: set[Value]
    edges: set[tuple[Value, int]]  # (child, index of the parent among child's edges)


def _edge_between(a: Value, b: Value) -> list[tuple[Value, int]]:
    """The edges joining a and b in either direction (a parent may be used twice)."""
    found = [(b, k) for k, p in enumerate(b.parents) if p is a]
    return found or [(a, k) for k, p in enumerate(a.parents) if p is b]


def _resolve_highlight(highlight: Any, members: set[Value]) -> _Highlight:
    """What to colour: see draw(). Every Value named must be in the graph."""
    hl = _Highlight(set(), set())
    if highlight is None:
        return hl

    def need(v: Value) -> Value:
        if v not in members:
            raise ValueError(f"highlight: {name_of(v)} is not in the graph being drawn")
        return v

    def edge(node: Value, parent: Value) -> None:
        need(node)
        need(parent)
        edges = [(node, k) for k, p in enumerate(node.parents) if p is parent]
        if not edges:
            raise ValueError(f"highlight: {name_of(parent)} is not a parent of {name_of(node)}")
        hl.edges.update(edges)
        hl.nodes.update((node, parent))

    def one(item: Any) -> None:
        if isinstance(item, Value):
            hl.nodes.add(need(item))
        elif isinstance(item, Step) or (hasattr(item, 'node') and hasattr(item, 'parent')):
            if item.parent is None:  # the seed step: the root
                hl.nodes.add(need(item.node))
            else:
                edge(item.node, item.parent)
        elif (
            isinstance(item, tuple) and len(item) == 3 and isinstance(item[0], Value)
            and isinstance(item[1], Value) and not isinstance(item[2], Value)
        ):  # fmt: skip
            edge(item[0], item[1])  # (node, parent, local grad), as in explain's paths
        elif isinstance(item, Iterable) and not isinstance(item, (str, bytes, Mapping)):
            previous: Value | None = None
            for x in item:
                one(x)
                if isinstance(x, Value) and previous is not None:
                    joins = _edge_between(previous, x)
                    if not joins:
                        raise ValueError(
                            f"highlight: {name_of(previous)} and {name_of(x)} are next to each "
                            "other in the path but no edge joins them"
                        )
                    hl.edges.update(joins)
                previous = x if isinstance(x, Value) else None
        else:
            raise TypeError(
                "highlight must be a Value, a Step, an edge (parent, child), a path of Values, "
                f"a path from explain (node, parent, local) or a list of these, got {item!r:.80}"
            )

    one(highlight)
    return hl


@functools.cache
def _graph_class() -> Any:
    """graphviz.Digraph whose pipe() and render() run the renderer find_renderer() picks."""
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
            format: str | None = None,  # noqa: A002
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
            format: str | None = None,  # noqa: A002
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
                    format = out_path.suffix.lstrip('.') or None  # noqa: A001
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
                self.source, fmt, engine=engine or self.engine, renderer=renderer,
                formatter=formatter, neato_no_op=neato_no_op,
            )  # fmt: skip
            target.write_bytes(data)
            if cleanup:
                os.remove(source_path)
            if view or quiet_view:
                self._view(os.fspath(target), format=fmt, quiet=quiet_view)
            return os.fspath(target)

    return Drawing


def _record(fields: list[str], rankdir: str) -> str:
    body = ' | '.join(_escape_record(f) for f in fields)
    return '{ ' + body + ' }' if rankdir in ('LR', 'RL') else body


def _build(
    root: Value,
    *,
    names: Any = None,
    rankdir: str = 'LR',
    show_local_grads: bool = False,
    highlight: Any = None,
    max_nodes: int = 500,
    id_prefix: str = '',
    grad_text: Mapping[Value, str] | None = None,
    caption: str | None = None,
) -> tuple[Any, list[Value]]:
    """The Digraph and the Values in the order drawn (node i has DOT name 'v{i}')."""
    _check_root(root, 'draw')
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    order = _collect(root, max_nodes)
    named = _names_of(names)
    hl = _resolve_highlight(highlight, set(order))
    index = {v: i for i, v in enumerate(order)}
    p = id_prefix
    graph_attr = {
        'rankdir': rankdir, 'fontname': FONT, 'fontsize': '12', 'id': f'{p}graph',
        'nodesep': '0.25', 'ranksep': '0.4',
    }  # fmt: skip
    if caption is not None:
        graph_attr.update(label=_escape_text(caption), labelloc='b', labeljust='c')
    g = _graph_class()(
        name='microgrid',
        graph_attr=graph_attr,
        node_attr={'fontname': FONT, 'fontsize': '11', 'shape': 'record', 'style': 'filled',
                   'color': '#333333', 'penwidth': '1'},
        edge_attr={'fontname': FONT, 'fontsize': '10', 'arrowsize': '0.7', 'color': '#555555',
                   'fontcolor': '#444444', 'penwidth': '1'},
    )  # fmt: skip
    from graphviz import nohtml  # labels are never HTML-like, whatever they start with

    hot = {'color': HIGHLIGHT, 'penwidth': '2.5'}
    for i, v in enumerate(order):
        name = named.get(v) or name_of(v)
        grad = grad_text[v] if grad_text is not None else f'grad {_fmt(v.grad)}'
        attrs = {
            'label': nohtml(_record([name, f'data {_fmt(v.data)}', grad], rankdir)),
            'fillcolor': NODE_FILL if v.parents else LEAF_FILL,
            'id': f'{p}v{i}',
        }
        if v in hl.nodes:
            attrs.update(hot)
        g.node(f'v{i}', **attrs)
        if not v.parents:
            continue
        edges_hot = [k for k in range(len(v.parents)) if (v, k) in hl.edges]
        op_attrs = {
            'label': nohtml(_escape_text(v.op)), 'shape': 'circle' if len(v.op) <= 2 else 'ellipse',
            'fillcolor': OP_FILL, 'fontsize': '10', 'width': '0.3', 'height': '0.3',
            'margin': '0.03,0.02', 'id': f'{p}o{i}',
        }  # fmt: skip
        if edges_hot:
            op_attrs.update(hot)
        g.node(f'o{i}', **op_attrs)
        g.edge(f'o{i}', f'v{i}', id=f'{p}f{i}', **(hot if edges_hot else {}))
        for k, (parent, local) in enumerate(zip(v.parents, v.local_grads)):
            attrs = {'id': f'{p}e{i}_{k}'}
            if show_local_grads:
                attrs['label'] = nohtml(_escape_text(_fmt(local)))
            if k in edges_hot:
                attrs.update(hot)
            g.edge(f'v{index[parent]}', f'o{i}', **attrs)
    ops = sum(1 for v in order if v.parents)
    g.mg_summary = (
        f"the graph of {named.get(root) or name_of(root)}, {len(order)} values "
        f"({len(order) - ops} leaves) and {ops} ops"
    )
    return g, order


def draw(
    root: Value,
    names: Any = None,
    rankdir: str = 'LR',
    show_local_grads: bool = False,
    highlight: Any = None,
    max_nodes: int = 500,
) -> graphviz.Digraph:
    """The graph of ``root`` as a ``graphviz.Digraph``: records name | data | grad, op ovals.

    ``names=locals()`` labels nodes with your variable names, ``names=model`` names a
    Module's parameters (``L0.n3.w1``: layer 0, neuron 3, weight 1); ``show_local_grads`` writes
    each edge's local derivative on it; ``highlight`` colours a Value, a Step (its edge),
    a path of Values such as ``(parent, child)``, a path from ``explain.paths`` (a list of
    ``(node, parent, local)``), or a list of these. More than ``max_nodes``
    Values raise GraphTooLargeError. Render with ``.pipe(format='svg')``,
    ``.render(outfile='graph.svg')`` or by displaying it in Jupyter.
    """
    g, _ = _build(
        root, names=names, rankdir=rankdir, show_local_grads=show_local_grads,
        highlight=highlight, max_nodes=max_nodes,
    )  # fmt: skip
    return g


def to_svg(root: Value, **kwargs: Any) -> str:
    """``draw(root, **kwargs)`` rendered to SVG text."""
    return draw(root, **kwargs).pipe(format='svg', encoding='utf-8')


def value_svg(v: Value, max_nodes: int = 500) -> str | None:
    """SVG of v's graph, for Jupyter's ``_repr_svg_``; None if too large or nothing renders."""
    try:
        return to_svg(v, max_nodes=max_nodes)
    except GraphTooLargeError:
        return None
    except RendererNotFoundError as e:
        warnings.warn(str(e), RuntimeWarning, stacklevel=2)
        return None


def _show_values_as_graphs_in_ipython() -> None:
    """In Jupyter/IPython, display a Value as its graph.

    The engine never imports drawing code (it sits below it), so the display hook is
    registered from here, when microgrid is imported inside an IPython shell.
    """
    ipython = sys.modules.get('IPython')
    shell = ipython.get_ipython() if ipython is not None else None
    formatter = getattr(shell, 'display_formatter', None)
    if formatter is not None:
        formatter.formatters['image/svg+xml'].for_type(Value, value_svg)


_show_values_as_graphs_in_ipython()
