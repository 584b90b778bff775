"""Watch backward() one chain-rule step at a time: an HTML player, SVG/PNG frames, a GIF.

``backprop_player(root)`` records every step of ``root.backward_steps()`` and returns a
self-contained HTML page (no URL, no CDN: it works offline from a file and inside a
notebook) that shows the graph with the current edge highlighted and the gradients
computed so far filled in, with prev/next/play buttons, a slider and the arrow keys.

How the frames keep one layout: the graph is laid out once by Graphviz, with each grad
field holding the longest text it will ever show and the caption the longest caption.
Every frame is then that same SVG with only texts and colours changed (in Python for the
files, in the browser's script for the player), so nothing moves between frames.

The user's graph is left as it was: the player saves every ``.grad`` of the graph,
zeroes them (leaves too, so the frames show this backward pass alone, as after
``zero_grad()``), runs ``backward_steps()``, and then puts every ``.grad`` back.

Frames on disk: ``backprop_frames(root, folder, format='svg' or 'png')`` and
``backprop_gif(root, path)``. PNG and GIF frames are drawn from the SVG with Pillow
(``microgrid.raster``, a small painter for the shapes Graphviz writes), so they need
neither a browser nor Graphviz's PNG support, and look like the SVG frames.

Colours: a node whose gradient is not reached yet says ``grad ?``; yellow means some of
its gradient has arrived, green that all of it has (every edge leaving it has been
through the chain rule); the current edge and the node it updates are red.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from microgrid.engine import Value
from microgrid.text import display_name, name_of
from microgrid.text import fmt as _fmt
from microgrid.viz.draw import _RANKDIRS, HIGHLIGHT, _build, _check_root, _collect, _names_of
from microgrid.viz.raster import rasterize as _rasterize

__all__ = ['PlayerHTML', 'backprop_frames', 'backprop_gif', 'backprop_player']

SVG_NS = 'http://www.w3.org/2000/svg'
UNKNOWN = 'grad ?'
PARTIAL_FILL = '#fff3c4'
DONE_FILL = '#d9f2d9'
HOT_WIDTH = '2.5'
_FORMATS = ('svg', 'png')


class _Frame(NamedTuple):
    target: int  # index of the Value whose grad this step changes
    text: str  # its grad text after the step
    state: str  # 'partial' or 'done'
    hot: list[str]  # element ids to highlight (without the prefix)
    caption: str


def _record(root: Value, names: Any, max_nodes: int) -> tuple[list[Value], list[_Frame]]:
    """Run backward_steps() on zeroed grads, note every step, and restore every grad."""
    order = _collect(root, max_nodes)
    index = {v: i for i, v in enumerate(order)}
    named = _names_of(names)

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
                frames.append(_Frame(i, f'grad {_fmt(step.upstream)}', 'done', [f'v{i}'], caption))
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
            frames.append(_Frame(j, f'grad {_fmt(step.parent_grad)}', state, hot, caption))
    finally:
        for v, g in saved:
            v.grad = g
    return order, frames


def _local(tag: str) -> str:
    return tag.rsplit('}', 1)[-1]


class _Scene:
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
    ) -> None:
        _check_root(root, 'the backprop player')
        self.prefix = prefix
        self.order, self.frames = _record(root, names, max_nodes)
        widest: dict[Value, str] = dict.fromkeys(self.order, UNKNOWN)
        for f in self.frames:
            v = self.order[f.target]
            if len(f.text) > len(widest[v]):
                widest[v] = f.text
        caption = max((f.caption for f in self.frames), key=len)
        g, order = _build(
            root, names=names, rankdir=rankdir, show_local_grads=show_local_grads,
            max_nodes=max_nodes, id_prefix=prefix, grad_text=widest,
            caption=caption if caption_in_svg else None,
        )  # fmt: skip
        self.summary = f"{len(self.order)} nodes, {len(self.frames)} steps"
        assert order == self.order
        svg = g.pipe(format='svg', encoding='utf-8')
        ET.register_namespace('', SVG_NS)
        self.svg = ET.fromstring(svg)
        self.by_id = {el.get('id'): el for el in self.svg.iter() if el.get('id')}
        self.grad_text = [self._texts(f'v{i}')[-1] for i in range(len(self.order))]
        self.box = [self._first(f'v{i}', ('polygon', 'path', 'ellipse')) for i in range(len(order))]
        self.box_fill = [b.get('fill') for b in self.box]
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
        for text, box, fill in zip(self.grad_text, self.box, self.box_fill):
            text.text = UNKNOWN
            box.set('fill', fill or 'none')
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
            'unknown': UNKNOWN,
            'fills': {'partial': PARTIAL_FILL, 'done': DONE_FILL},
            'hot': HIGHLIGHT,
            'hotWidth': HOT_WIDTH,
            'frames': [[f.target, f.text, f.state, f.hot, f.caption] for f in self.frames],
        }


def _prefix() -> str:
    return 'mg' + secrets.token_hex(4) + '-'


# -----------------------------------------------------------------------------
# The HTML player
# -----------------------------------------------------------------------------

_STYLE = """
.mg-player{font-family:Arial,Helvetica,sans-serif;max-width:100%;outline:none;
  border:1px solid #ddd;border-radius:6px;padding:8px;background:#fff;color:#222}
.mg-player:focus{border-color:#999}
.mg-player .mg-svg{overflow:auto}
.mg-player .mg-svg svg{height:auto}
.mg-player .mg-controls{display:flex;gap:6px;align-items:center;margin:6px 0}
.mg-player button{font-size:14px;padding:3px 10px;cursor:pointer}
.mg-player input[type=range]{flex:1}
.mg-player .mg-title{font-size:18px;font-weight:bold;margin:0 0 4px}
.mg-player .mg-legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:13px;margin:4px 0}
.mg-player .mg-legend span{display:inline-flex;align-items:center;gap:5px}
.mg-player .mg-legend i{display:inline-block;width:14px;height:14px;border:1px solid #333;
  border-radius:2px}
.mg-player .mg-legend i.mg-hot{border:2.5px solid HOT_COLOUR;background:#fff}
.mg-player .mg-count{font-size:14px;min-width:8em;text-align:right}
.mg-player .mg-caption{font-family:Consolas,Menlo,monospace;font-size:20px;font-weight:bold;
  white-space:pre-wrap;margin:8px 0 2px;min-height:1.4em}
.mg-player .mg-help{font-size:12px;color:#666}
"""

_SCRIPT = r"""
(function () {
  var D = JSON.parse(document.getElementById(%(data_id)s).textContent);
  var root = document.getElementById(%(root_id)s);
  var P = D.prefix, frames = D.frames, k = 0, timer = null, saved = [];
  function el(key) { return root.querySelector('[id="' + P + key + '"]'); }
  var gradText = [], box = [], boxFill = [];
  for (var i = 0; i < D.n; i++) {
    var g = el('v' + i), texts = g.getElementsByTagName('text');
    gradText.push(texts[texts.length - 1]);
    var b = g.querySelector('polygon, path, ellipse');
    box.push(b); boxFill.push(b.getAttribute('fill'));
  }
  var graph = el('graph'), caption = null;
  for (var c = graph.firstElementChild; c; c = c.nextElementSibling) {
    if (c.tagName.toLowerCase() === 'text') { caption = c; break; }
  }
  var slider = root.querySelector('input[type=range]');
  var counter = root.querySelector('.mg-count');
  var captionDiv = root.querySelector('.mg-caption');
  var playButton = root.querySelector('[data-act=play]');
  function remember(node, names) {
    var old = {};
    names.forEach(function (n) { old[n] = node.getAttribute(n); });
    saved.push([node, old]);
  }
  function cool() {
    saved.forEach(function (s) {
      for (var n in s[1]) {
        if (s[1][n] === null) s[0].removeAttribute(n); else s[0].setAttribute(n, s[1][n]);
      }
    });
    saved = [];
  }
  function heat(key) {
    var g = el(key), isEdge = key[0] === 'e' || key[0] === 'f';
    remember(g, ['class']);
    g.setAttribute('class', (g.getAttribute('class') || '') + ' current');
    for (var c = g.firstElementChild; c; c = c.nextElementSibling) {
      var tag = c.tagName.toLowerCase();
      if (tag === 'text') {
        if (isEdge) { remember(c, ['fill']); c.setAttribute('fill', D.hot); }
      } else if (['path', 'polygon', 'ellipse', 'polyline'].indexOf(tag) >= 0) {
        var names = ['stroke', 'stroke-width'];
        if (isEdge && tag === 'polygon') names.push('fill');
        remember(c, names);
        names.forEach(function (n) {
          c.setAttribute(n, n === 'stroke-width' ? D.hotWidth : D.hot);
        });
      }
    }
  }
  function show(target) {
    k = Math.max(0, Math.min(frames.length - 1, target));
    cool();
    for (var i = 0; i < D.n; i++) {
      gradText[i].textContent = D.unknown;
      box[i].setAttribute('fill', boxFill[i] || 'none');
    }
    for (var j = 0; j <= k; j++) {
      var f = frames[j];
      gradText[f[0]].textContent = f[1];
      box[f[0]].setAttribute('fill', D.fills[f[2]]);
    }
    frames[k][3].forEach(heat);
    reveal(el('v' + frames[k][0]));
    if (caption) caption.textContent = frames[k][4];
    captionDiv.textContent = frames[k][4];
    slider.value = String(k);
    counter.textContent = 'step ' + (k + 1) + ' / ' + frames.length;
    root.setAttribute('data-frame', String(k));
  }
  var view = root.querySelector('.mg-svg');
  function reveal(node) {  // a wide graph scrolls: keep the node this step updates in view
    var b = node.getBoundingClientRect(), c = view.getBoundingClientRect();
    if (b.left < c.left || b.right > c.right) {
      view.scrollLeft += (b.left + b.right) / 2 - (c.left + c.right) / 2;
    }
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    playButton.textContent = '\u25B6 play';
  }
  function play() {
    if (timer !== null) { stop(); return; }
    if (k >= frames.length - 1) show(0);
    playButton.textContent = '\u275A\u275A pause';
    timer = setInterval(function () {
      if (k >= frames.length - 1) { stop(); return; }
      show(k + 1);
    }, %(interval)d);
  }
  function step(d) { stop(); show(k + d); }
  root.querySelector('[data-act=prev]').addEventListener('click', function () { step(-1); });
  root.querySelector('[data-act=next]').addEventListener('click', function () { step(1); });
  playButton.addEventListener('click', play);
  slider.addEventListener('input', function () { stop(); show(parseInt(slider.value, 10)); });
  var keys = %(standalone)s ? document : root;
  keys.addEventListener('keydown', function (e) {
    if (e.target === slider) return;
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') { step(1); e.preventDefault(); }
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') { step(-1); e.preventDefault(); }
    else if (e.key === 'Home') { step(-frames.length); e.preventDefault(); }
    else if (e.key === 'End') { step(frames.length); e.preventDefault(); }
    else if (e.key === ' ') { play(); e.preventDefault(); }
  });
  show(0);
})();
"""


def _json_for_script(data: Any) -> str:
    """JSON that cannot end the <script> element it sits in."""
    text = json.dumps(data, ensure_ascii=True)
    return text.replace('<', '\\u003c').replace('>', '\\u003e').replace('&', '\\u0026')


def _fit_width(svg: str) -> str:
    """Shrink a wide graph to the page, but not below 70% of its size (then it scrolls),
    so that its text stays readable; a small graph keeps its own size."""
    found = re.match(r'<svg width="([0-9.]+)pt"', svg)
    if not found:
        return svg
    w = float(found.group(1))
    style = f'width:min({w:g}pt, max(100%, {0.7 * w:.0f}pt))'
    return svg.replace('<svg ', f'<svg style="{style}" ', 1)


def _legend(show_local_grads: bool) -> str:
    """What the colours and the numbers on the edges mean."""
    from microgrid.viz.draw import LEAF_FILL, NODE_FILL

    items = [
        f'<span><i style="background:{LEAF_FILL}"></i><i style="background:{NODE_FILL}"></i>'
        'not reached yet, grad ? (blue: a leaf, an input or a parameter)</span>',
        f'<span><i style="background:{PARTIAL_FILL}"></i>part of its gradient has arrived</span>',
        f'<span><i style="background:{DONE_FILL}"></i>all of its gradient has arrived</span>',
        '<span><i class="mg-hot"></i>this step: the edge used and the node it updates</span>',
    ]
    if show_local_grads:
        items.append('<span><b>1.5</b> on an edge: the local derivative d(result)/d(input)</span>')
    return '<div class="mg-legend">' + ''.join(items) + '</div>'


def _fragment(
    scene: _Scene, interval: int, standalone: bool, title: str, show_local_grads: bool
) -> str:
    uid = scene.prefix + 'player'
    data_id = scene.prefix + 'data'
    n = len(scene.frames)
    script = _SCRIPT % {
        'data_id': json.dumps(data_id),
        'root_id': json.dumps(uid),
        'interval': interval,
        'standalone': 'true' if standalone else 'false',
    }
    scene.reset()
    return (
        f'<style>{_STYLE.replace("HOT_COLOUR", HIGHLIGHT)}</style>\n'
        f'<div class="mg-player" id="{html.escape(uid)}" tabindex="0">\n'
        f'<div class="mg-title">{html.escape(title)}</div>\n'
        f'{_legend(show_local_grads)}\n'
        f'<div class="mg-svg">{_fit_width(scene.svg_text(standalone=False))}</div>\n'
        '<div class="mg-controls">'
        '<button type="button" data-act="prev" title="previous step (left arrow)">'
        '&#9664; prev</button>'
        '<button type="button" data-act="play" title="play / pause (space)">&#9654; play</button>'
        '<button type="button" data-act="next" title="next step (right arrow)">'
        'next &#9654;</button>'
        f'<input type="range" min="0" max="{n - 1}" value="0" step="1" aria-label="step">'
        f'<span class="mg-count">step 1 / {n}</span></div>\n'
        '<div class="mg-caption"></div>\n'
        '<div class="mg-help">Each step is the chain rule on one edge: parent.grad += '
        'local derivative * the grad of the node above. Keys: arrows step, Home / End jump '
        'to the first / last step, space plays.</div>\n'
        f'</div>\n<script type="application/json" id="{html.escape(data_id)}">'
        f'{_json_for_script(scene.data())}</script>\n'
        f'<script>{script}</script>\n'
    )


class PlayerHTML(str):
    """The player's HTML page (a str); in Jupyter it displays as the player itself.

    In a plain REPL its repr says what it holds and how to view it; ``save(path)``
    writes the page, to open in a browser.
    """

    fragment: str
    summary: str = ''

    def _repr_html_(self) -> str:
        return self.fragment

    def __repr__(self) -> str:
        return (
            f"<microgrid backprop player: {self.summary or 'a page'}, {len(self)} characters "
            "of HTML. Save it with .save('player.html') and open that in a browser; "
            "Jupyter shows it inline>"
        )

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (UTF-8) and return the path."""
        target = Path(path)
        target.write_text(self, encoding='utf-8')
        return target


def _check_common(names: Any, show_local_grads: Any) -> None:
    _names_of(names)  # a mapping such as locals(), or a Module; anything else: TypeError
    if not isinstance(show_local_grads, bool):
        raise TypeError(f"show_local_grads must be a bool, got {show_local_grads!r}")


# Arguments are checked at the door, before any work: a wrong type is a TypeError, a
# value out of range a ValueError, each naming the argument.


def _check_door(
    who: str,
    root: Any,
    names: Any,
    rankdir: Any,
    show_local_grads: Any,
    max_nodes: Any,
    **paths: Any,
) -> None:
    _check_root(root, who)
    _check_common(names, show_local_grads)
    if not isinstance(rankdir, str):
        raise TypeError(f"rankdir must be a str, got {type(rankdir).__name__}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    _check_int(max_nodes, 'max_nodes', 1)
    for what, p in paths.items():
        if p is not None and not isinstance(p, (str, os.PathLike)):
            raise TypeError(f"{what} must be a str or os.PathLike, got {type(p).__name__}")


def _check_int(value: Any, what: str, low: int, high: int | None = None, unit: str = '') -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int{unit}, got {type(value).__name__}: {value!r:.40}")
    if value < low or (high is not None and value > high):
        limits = f">= {low}" if high is None else f"in {low}..{high}"
        raise ValueError(f"{what} must be an int {limits}{unit}, got {value!r}")


def backprop_player(
    root: Value,
    path: str | Path | None = None,
    *,
    names: Any = None,
    rankdir: str = 'LR',
    show_local_grads: bool = True,
    interval: int = 900,
    max_nodes: int = 500,
) -> PlayerHTML:
    """A self-contained HTML page that steps through ``root.backward_steps()``.

    One frame per step, all with the same layout; the current edge is highlighted and
    the gradients computed so far are filled in. Controls: prev, next, play (every
    ``interval`` ms), a slider, the arrow keys and space. Written to ``path`` if given.
    The grads of the graph are left as they were.
    """
    _check_door('the backprop player', root, names, rankdir, show_local_grads, max_nodes, path=path)
    _check_int(interval, 'interval', 1, unit=' (milliseconds)')
    scene = _scene(root, names, rankdir, show_local_grads, max_nodes, caption_in_svg=False)
    root_name = _names_of(names).get(root) or name_of(root)
    title = f'Backpropagation through {root_name}, one chain-rule step at a time'
    page = PlayerHTML(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<title>{html.escape(title)}</title>\n</head>\n<body>\n'
        f'{_fragment(scene, interval, True, title, show_local_grads)}</body>\n</html>\n'
    )
    page.fragment = _fragment(scene, interval, False, title, show_local_grads)
    page.summary = f"backward through {root_name}, {scene.summary}"
    if path is not None:
        page.save(path)
    return page


# -----------------------------------------------------------------------------
# Frames on disk
# -----------------------------------------------------------------------------


def _frames(scene: _Scene) -> Iterator[_Scene]:
    """The scene showing frame 0, then frame 1, ... (the same object, changed each time)."""
    scene.reset()
    for k in range(len(scene.frames)):
        scene.apply(k)
        yield scene


def _scene(
    root: Value,
    names: Any,
    rankdir: str,
    show_local_grads: bool,
    max_nodes: int,
    caption_in_svg: bool = True,
) -> _Scene:
    _check_common(names, show_local_grads)
    return _Scene(root, names, rankdir, show_local_grads, max_nodes, _prefix(), caption_in_svg)


def backprop_frames(
    root: Value,
    folder: str | Path,
    format: str = 'svg',  # noqa: A002 - as in graphviz
    *,
    names: Any = None,
    rankdir: str = 'LR',
    show_local_grads: bool = True,
    scale: float = 2.0,
    max_nodes: int = 500,
) -> list[Path]:
    """Write one file per backward step, ``step_000.svg`` (or .png) ..., into ``folder``.

    PNG frames are painted with Pillow from the same SVG, ``scale`` pixels per point.
    Returns the paths in order. The grads of the graph are left as they were.
    """
    _check_door('backprop_frames', root, names, rankdir, show_local_grads, max_nodes, folder=folder)
    if folder is None:
        raise TypeError("folder must be a str or os.PathLike, got None")
    if not isinstance(format, str):
        raise TypeError(f"format must be a str, 'svg' or 'png', got {type(format).__name__}")
    if format not in _FORMATS:
        raise ValueError(f"format must be 'svg' or 'png', got {format!r}")
    _check_scale(scale)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    scene = _scene(root, names, rankdir, show_local_grads, max_nodes)
    width = max(3, len(str(len(scene.frames) - 1)))
    paths = []
    for k, _ in enumerate(_frames(scene)):
        path = out / f'step_{k:0{width}d}.{format}'
        if format == 'svg':
            path.write_text(scene.svg_text(), encoding='utf-8')
        else:
            _rasterize(scene.svg, scale).save(path)
        paths.append(path)
    return paths


def backprop_gif(
    root: Value,
    path: str | Path,
    *,
    duration: int = 900,
    last_duration: int | None = 2500,
    loop: int = 0,
    names: Any = None,
    rankdir: str = 'LR',
    show_local_grads: bool = True,
    scale: float = 1.5,
    max_nodes: int = 500,
) -> Path:
    """An animated GIF with one frame per backward step (``duration`` ms each), for slides.

    The last frame stays ``last_duration`` ms; ``loop=0`` repeats forever.
    The grads of the graph are left as they were.
    """
    _check_door('backprop_gif', root, names, rankdir, show_local_grads, max_nodes, path=path)
    if path is None:
        raise TypeError("path must be a str or os.PathLike, got None")
    _check_int(duration, 'duration', 1, unit=' (milliseconds)')
    if last_duration is not None:
        _check_int(last_duration, 'last_duration', 1, unit=' (milliseconds) or None')
    _check_int(loop, 'loop', 0, 65535, unit=' (0 repeats forever)')  # GIF: a 16-bit count
    _check_scale(scale)
    images = [
        _rasterize(scene.svg, scale).convert('P', palette=1, colors=255)  # 1 = ADAPTIVE
        for scene in _frames(_scene(root, names, rankdir, show_local_grads, max_nodes))
    ]
    durations = [duration] * len(images)
    if last_duration is not None:
        durations[-1] = last_duration
    target = Path(path)
    images[0].save(
        target, format='GIF', save_all=True, append_images=images[1:], duration=durations,
        loop=loop, optimize=False, disposal=1,
    )  # fmt: skip
    return target


def _check_scale(scale: Any) -> None:
    if isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise TypeError(f"scale must be a number in (0, 10], got {type(scale).__name__}")
    if not 0 < scale <= 10:
        raise ValueError(f"scale must be a number in (0, 10], got {scale!r}")
