"""One backward pass as frames: every chain-rule step recorded, the graph laid out once.

How the frames keep one layout: the graph is laid out once by Graphviz, with each grad
field holding the longest text it will ever show and the caption the longest caption.
Every frame is then that same SVG with only texts and colours changed (in Python for the
files, in the browser's script for the player), so nothing moves between frames.

The user's graph is left as it was: the player saves every ``.grad`` of the graph,
zeroes them (leaves too, so the frames show this backward pass alone, as after
``zero_grad()``), runs ``backward_steps()``, and then puts every ``.grad`` back.

Colours: a node whose gradient is not reached yet says ``grad ?``; yellow means some of
its gradient has arrived, green that all of it has (every edge leaving it has been
through the chain rule); the current edge and the node it updates are red.
"""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from typing import Any, NamedTuple

from microgrid.engine import Value
from microgrid.text import display_name, names_from
from microgrid.text import fmt as _fmt
from microgrid.viz.collapse import Collapse, neuron_names, resolve_collapse
from microgrid.viz.draw import HIGHLIGHT, _check_root, build_graph, collect_nodes

__all__ = ['DONE_FILL', 'PARTIAL_FILL', 'UNKNOWN', 'Scene', 'check_arguments', 'new_prefix']

SVG_NS = 'http://www.w3.org/2000/svg'
UNKNOWN = 'grad ?'
"""The grad field of a node that backward has not reached yet."""
PARTIAL_FILL = '#fff3c4'
"""The fill of a node that has part of its gradient."""
DONE_FILL = '#d9f2d9'
"""The fill of a node that has all of its gradient."""
HOT_WIDTH = '2.5'


class _Frame(NamedTuple):
    target: int  # index of the Value whose grad this step changes
    text: str  # its grad text after the step
    state: str  # 'partial' or 'done'
    hot: list[str]  # element ids to highlight (without the prefix)
    caption: str


def _record(
    root: Value, names: Any, max_nodes: int, model: Any = None
) -> tuple[list[Value], list[_Frame]]:
    """Run backward_steps() on zeroed grads, note every step, and restore every grad.

    With ``model`` (collapse), each frame is mapped onto the drawing with neuron boxes."""
    order = collect_nodes(root, max_nodes)
    index = {v: i for i, v in enumerate(order)}
    named = {**neuron_names(order, names), **names_from(names)}
    boxes = Collapse(order, model) if model is not None else None
    shown: dict[int, tuple[str, str]] = {}  # index drawn -> (its grad text, its state)

    def show(v: Value) -> str:  # wrapped when composite: (x1*w1 + x2*w2)
        return display_name(v, named)

    remaining = dict.fromkeys(order, 0)  # contributions each Value still waits for
    for v in order:
        for p in v.parents:
            remaining[p] += 1
    saved = [(v, v.grad) for v in order]
    frames: list[_Frame] = []
    seen_edges: dict[Value, int] = {}
    try:
        for v in order:
            v.grad = 0.0
        for step in root.backward_steps():
            n = show(step.node)
            if step.parent is None:
                caption = f"{n}.grad = {_fmt(step.upstream)}  (the seed: d{n}/d{n} = 1.0)"
                i = index[step.node]
                if boxes is not None:
                    i = index[boxes.drawn(step.node)]  # type: ignore[index]
                shown[i] = (f'grad {_fmt(step.upstream)}', 'done')
                frames.append(_Frame(i, *shown[i], [f'v{i}'], caption))
                continue
            k = seen_edges.get(step.node, 0)  # the k-th edge of this node (parents may repeat)
            seen_edges[step.node] = k + 1
            remaining[step.parent] -= 1
            pn = show(step.parent)
            caption = (
                f"{pn}.grad += d{n}/d{pn} * {n}.grad = {_fmt(step.local_grad)} * "
                f"{_fmt(step.upstream)} = {_fmt(step.contribution)}, "
                f"so {pn}.grad = {_fmt(step.parent_grad)}"
            )
            i, j = index[step.node], index[step.parent]
            state = 'done' if remaining[step.parent] == 0 else 'partial'
            hot = [f'e{i}_{k}', f'f{i}', f'o{i}', f'v{j}']
            if boxes is None or not boxes.hidden(step.parent):
                shown[j] = (f'grad {_fmt(step.parent_grad)}', state)
            if boxes is not None:
                j, hot = _collapsed_step(boxes, index, step.node, step.parent, k)
                shown.setdefault(j, (UNKNOWN, 'partial'))  # a box reached from inside first
            frames.append(_Frame(j, *shown[j], hot, caption))
    finally:
        for v, g in saved:
            v.grad = g
    return order, frames


def _collapsed_step(
    boxes: Collapse, index: dict[Value, int], node: Value, parent: Value, k: int
) -> tuple[int, list[str]]:
    """The element a step updates in the collapsed drawing, and the ids it colours: a step
    inside a neuron's box colours the box; one between them, the edge and both ends."""
    i = index[node]
    b = index[boxes.drawn(node)]  # type: ignore[index]
    ends = boxes.edge(node, parent)
    if ends is None:
        return b, [f'v{b}']
    j = index[ends[0]]
    if node in boxes.box_of:  # into a box: the edge, the box it enters, the node updated
        return j, [f'e{i}_{k}', f'v{b}', f'v{j}']
    return j, [f'e{i}_{k}', f'f{i}', f'o{i}', f'v{j}']


def _local(tag: str) -> str:
    return tag.rsplit('}', 1)[-1]


class Scene:
    """The SVG laid out once, and the elements each frame changes."""

    def __init__(
        self,
        root: Value,
        names: Any,
        rankdir: str,
        show_local_grads: bool,
        max_nodes: int,
        prefix: str,
        caption_in_svg: bool = True,
        collapse: Any = None,
    ) -> None:
        _check_root(root, 'the backprop player')
        self.prefix = prefix
        model = resolve_collapse(collapse, names)
        self.order, self.frames = _record(root, names, max_nodes, model)
        widest: dict[Value, str] = dict.fromkeys(self.order, UNKNOWN)
        for f in self.frames:
            v = self.order[f.target]
            if len(f.text) > len(widest[v]):
                widest[v] = f.text
        caption = max((f.caption for f in self.frames), key=len)
        g, order = build_graph(
            root,
            names=names,
            rankdir=rankdir,
            show_local_grads=show_local_grads,
            max_nodes=max_nodes,
            id_prefix=prefix,
            grad_text=widest,
            caption=caption if caption_in_svg else None,
            collapse=model,
        )
        self.summary = f"{len(self.order)} nodes, {len(self.frames)} steps"
        assert order == self.order
        svg = g.pipe(format='svg', encoding='utf-8')
        ET.register_namespace('', SVG_NS)
        self.svg = ET.fromstring(svg)
        self.by_id = {el.get('id'): el for el in self.svg.iter() if el.get('id')}
        drawn = {f.target for f in self.frames}  # every element a step updates is drawn
        self.shown = [i for i in range(len(order)) if f'{prefix}v{i}' in self.by_id]
        assert drawn <= set(self.shown)
        self.grad_text = {i: self._texts(f'v{i}')[-1] for i in self.shown}
        self.box = {i: self._first(f'v{i}', ('polygon', 'path', 'ellipse')) for i in self.shown}
        self.box_fill = {i: b.get('fill') for i, b in self.box.items()}
        graph = self.by_id[f'{prefix}graph']
        # The frames on disk carry the caption in the picture; the HTML player shows it
        # once, in large type under the picture, and has none in the SVG.
        self.caption = next((el for el in graph if _local(el.tag) == 'text'), None)
        self._saved: list[tuple[ET.Element, dict[str, str | None]]] = []
        self.reset()

    def _group(self, key: str) -> ET.Element:
        return self.by_id[self.prefix + key]

    def _texts(self, key: str) -> list[ET.Element]:
        return [el for el in self._group(key) if _local(el.tag) == 'text']

    def _first(self, key: str, tags: tuple[str, ...]) -> ET.Element:
        return next(el for el in self._group(key) if _local(el.tag) in tags)

    def reset(self) -> None:
        """The state before the first step: no gradient known yet."""
        self._cool()
        for i in self.shown:
            self.grad_text[i].text = UNKNOWN
            self.box[i].set('fill', self.box_fill[i] or 'none')
        if self.caption is not None:
            self.caption.text = ''

    def _cool(self) -> None:
        for el, attrs in self._saved:
            for name, value in attrs.items():
                if value is None:
                    el.attrib.pop(name, None)
                else:
                    el.set(name, value)
        self._saved = []

    def _heat(self, key: str) -> None:
        group = self._group(key)
        is_edge = key[0] in 'ef'
        for el in [group, *group]:
            tag = _local(el.tag)
            names: tuple[str, ...]
            if tag == 'g':
                names = ('class',)
            elif tag == 'text':
                names = ('fill',) if is_edge else ()
            elif tag in ('path', 'polygon', 'ellipse', 'polyline'):
                names = ('stroke', 'stroke-width') + (
                    ('fill',) if is_edge and tag == 'polygon' else ()
                )
            else:
                continue
            if not names:
                continue
            self._saved.append((el, {n: el.get(n) for n in names}))
            if tag == 'g':
                el.set('class', f"{el.get('class', '')} current".strip())
                continue
            for n in names:
                el.set(n, HOT_WIDTH if n == 'stroke-width' else HIGHLIGHT)

    def apply(self, k: int) -> None:
        """Move from frame k - 1 (or the reset state, for k = 0) to frame k."""
        f = self.frames[k]
        self._cool()
        self.grad_text[f.target].text = f.text
        self.box[f.target].set('fill', PARTIAL_FILL if f.state == 'partial' else DONE_FILL)
        for key in f.hot:
            self._heat(key)
        if self.caption is not None:
            self.caption.text = f.caption

    def svg_text(self, standalone: bool = True) -> str:
        """The SVG as it is now: a file (with namespace) or inline in HTML (without URL)."""
        text = ET.tostring(self.svg, encoding='unicode')
        if standalone:
            return '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + text + '\n'
        return re.sub(r'\s+xmlns(:\w+)?="[^"]*"', '', text)

    def data(self) -> dict[str, Any]:
        """What the browser's script needs to replay the frames."""
        p = self.prefix
        return {
            'prefix': p,
            'n': len(self.order),
            'shown': self.shown,
            'unknown': UNKNOWN,
            'fills': {'partial': PARTIAL_FILL, 'done': DONE_FILL},
            'hot': HIGHLIGHT,
            'hotWidth': HOT_WIDTH,
            'frames': [[f.target, f.text, f.state, f.hot, f.caption] for f in self.frames],
        }


def new_prefix() -> str:
    """A fresh prefix for the SVG's ids, so that two pictures on one page never clash."""
    return 'mg' + secrets.token_hex(4) + '-'


def check_arguments(names: Any, show_local_grads: Any) -> None:
    """The checks every entry point makes before any work: TypeError naming the argument."""
    names_from(names)  # a mapping such as locals(), or a Module; anything else: TypeError
    if not isinstance(show_local_grads, bool):
        raise TypeError(f"show_local_grads must be a bool, got {show_local_grads!r}")
