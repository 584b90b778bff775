"""Draw a computation graph with Graphviz: ``microgrid.draw(root)``.

Every Value is a record ``name | data | grad``; every operation is a small oval between
its inputs and its result, so edges run parent -> op -> node. The result is a
``graphviz.Digraph`` (a subclass of it) that shows itself in Jupyter and renders with
``.pipe()`` / ``.render()`` like any other.

Which program renders it, and how it runs: microgrid.viz.render.

Fonts are set on the graph, the nodes and the edges (Arial: Debian's fontconfig maps it
to the metric-compatible Liberation Sans, graphviz-pure bundles the metric-compatible
Arimo), so both renderers lay a graph out the same way.

Every piece of user text (labels, names, op names) is escaped for the DOT record syntax
(``{ } | < >``, quotes, backslashes, and ``&`` which Graphviz reads as an entity); the
renderers escape it again for the SVG they write.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from microgrid.autograd.steps import Step
from microgrid.engine import Value
from microgrid.text import fmt as _fmt
from microgrid.text import name_of, names_from, short_parameter_names
from microgrid.viz.collapse import Collapse, neuron_names, resolve_collapse
from microgrid.viz.render import (  # re-exported: draw's renderer is part of its API
    Renderer,
    RendererNotFoundError,
    drawing_class,
    find_renderer,
    render_source,
)

if TYPE_CHECKING:  # pragma: no cover
    import graphviz

__all__ = [
    'GraphTooLargeError',
    'Renderer',
    'RendererNotFoundError',
    'build_graph',
    'collect_nodes',
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
BOX_FILL = '#fdf6e3'
_RANKDIRS = ('LR', 'RL', 'TB', 'BT')


class GraphTooLargeError(ValueError):
    """The graph has more nodes than ``max_nodes``: draw a sub-expression or raise the limit."""


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


def collect_nodes(root: Value, max_nodes: int) -> list[Value]:
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
            isinstance(item, tuple)
            and len(item) == 3
            and isinstance(item[0], Value)
            and isinstance(item[1], Value)
            and not isinstance(item[2], Value)
        ):
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


def _record(fields: list[str], rankdir: str) -> str:
    body = ' | '.join(_escape_record(f) for f in fields)
    return '{ ' + body + ' }' if rankdir in ('LR', 'RL') else body


def build_graph(
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
    collapse: Any = None,
) -> tuple[Any, list[Value]]:
    """The Digraph and the Values in the order drawn (node i has DOT name 'v{i}')."""
    _check_root(root, 'draw')
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    model = resolve_collapse(collapse, names)
    order = collect_nodes(root, max_nodes)
    named = {**neuron_names(order, names), **names_from(names)}
    boxes = Collapse(order, model) if model is not None else None
    hl = _resolve_highlight(highlight, set(order))
    index = {v: i for i, v in enumerate(order)}
    p = id_prefix
    graph_attr = {
        'rankdir': rankdir,
        'fontname': FONT,
        'fontsize': '12',
        'id': f'{p}graph',
        'nodesep': '0.25',
        'ranksep': '0.4',
    }
    if caption is not None:
        graph_attr.update(label=_escape_text(caption), labelloc='b', labeljust='c')
    g = drawing_class()(
        name='microgrid',
        graph_attr=graph_attr,
        node_attr={
            'fontname': FONT,
            'fontsize': '11',
            'shape': 'record',
            'style': 'filled',
            'color': '#333333',
            'penwidth': '1',
        },
        edge_attr={
            'fontname': FONT,
            'fontsize': '10',
            'arrowsize': '0.7',
            'color': '#555555',
            'fontcolor': '#444444',
            'penwidth': '1',
        },
    )
    from graphviz import nohtml  # labels are never HTML-like, whatever they start with

    hot = {'color': HIGHLIGHT, 'penwidth': '2.5'}
    for i, v in enumerate(order):
        if boxes is not None and boxes.hidden(v):
            continue  # inside a neuron's box, or a parameter folded into one
        name = named.get(v) or name_of(v)
        grad = grad_text[v] if grad_text is not None else f'grad {_fmt(v.grad)}'
        fields = [name, f'data {_fmt(v.data)}', grad]
        attrs = {'fillcolor': NODE_FILL if v.parents else LEAF_FILL, 'id': f'{p}v{i}'}
        box = boxes.box_of[v] if boxes is not None and boxes.is_box(v) else None
        if box is not None:  # name | what it holds | data | grad, with rounded corners
            fields[:1] = boxes.fields(box)  # type: ignore[union-attr]
            attrs.update(shape='Mrecord', penwidth='1.5', fillcolor=BOX_FILL)
        attrs['label'] = nohtml(_record(fields, rankdir))
        if v in hl.nodes or (box is not None and hl.nodes.intersection(box.members)):
            attrs.update(hot)
        g.node(f'v{i}', **attrs)
        if not v.parents:
            continue
        if box is not None:
            _box_edges(g, box, boxes, index, hl.edges, p)
            continue
        edges_hot = [k for k in range(len(v.parents)) if (v, k) in hl.edges]
        op_attrs = {
            'label': nohtml(_escape_text(v.op)),
            'shape': 'circle' if len(v.op) <= 2 else 'ellipse',
            'fillcolor': OP_FILL,
            'fontsize': '10',
            'width': '0.3',
            'height': '0.3',
            'margin': '0.03,0.02',
            'id': f'{p}o{i}',
        }
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
            source = parent if boxes is None else boxes.drawn(parent) or parent
            g.edge(f'v{index[source]}', f'o{i}', **attrs)
    ops = sum(1 for v in order if v.parents)
    g.mg_summary = (
        f"the graph of {named.get(root) or name_of(root)}, {len(order)} values "
        f"({len(order) - ops} leaves) and {ops} ops"
    )
    if boxes is not None:
        g.mg_summary += f", {len(boxes.boxes)} neurons drawn as boxes"
    return g, order


def _box_edges(g: Any, box: Any, boxes: Any, index: dict, hot_edges: set, p: str) -> None:
    """The edges into a neuron's box: one per edge from outside it, in its direction."""
    hot = {'color': HIGHLIGHT, 'penwidth': '2.5'}
    target = index[box.output]
    for member in box.members:
        i = index[member]
        for k, parent in enumerate(member.parents):
            ends = boxes.edge(member, parent)
            if ends is None:
                continue  # inside the box
            attrs = {'id': f'{p}e{i}_{k}', **(hot if (member, k) in hot_edges else {})}
            g.edge(f'v{index[ends[0]]}', f'v{target}', **attrs)


def draw(
    root: Value,
    names: Any = None,
    rankdir: str = 'LR',
    show_local_grads: bool = False,
    highlight: Any = None,
    max_nodes: int = 500,
    collapse: Any = None,
) -> graphviz.Digraph:
    """The graph of ``root`` as a ``graphviz.Digraph``: records name | data | grad, op ovals.

    ``names=locals()`` labels nodes with your variable names, ``names=model`` names a
    Module's parameters (``L0.n3.w1``: layer 0, neuron 3, weight 1); ``show_local_grads`` writes
    each edge's local derivative on it; ``highlight`` colours a Value, a Step (its edge),
    a path of Values such as ``(parent, child)``, a path from ``explain.paths`` (a list of
    ``(node, parent, local)``), or a list of these. ``collapse=model`` (or ``True`` with
    ``names=model``) draws each neuron as one box (name, data, grad; its parameters folded
    in, their count shown). More than ``max_nodes``
    Values raise GraphTooLargeError. Render with ``.pipe(format='svg')``,
    ``.render(outfile='graph.svg')`` or by displaying it in Jupyter.
    """
    g, _ = build_graph(
        root,
        names=names,
        rankdir=rankdir,
        show_local_grads=show_local_grads,
        highlight=highlight,
        max_nodes=max_nodes,
        collapse=collapse,
    )
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
