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
``backprop_gif(root, path)``. PNG and GIF frames are drawn from the SVG with Pillow (a
small painter for the shapes Graphviz writes), so they need neither a browser nor
Graphviz's PNG support, and look like the SVG frames.

Colours: a node whose gradient is not reached yet says ``grad ?``; yellow means some of
its gradient has arrived, green that all of it has (every edge leaving it has been
through the chain rule); the current edge and the node it updates are red.
"""

from __future__ import annotations

import functools
import html
import json
import math
import os
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from microgrid.draw import _RANKDIRS, HIGHLIGHT, _build, _check_root, _collect, _names_of
from microgrid.engine import Value
from microgrid.names import _fmt, name_of

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

    def show(v: Value) -> str:
        return named.get(v) or name_of(v)

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
                caption = f"{n}.grad = {_fmt(step.upstream)}  (the seed: d{n}/d{n} = 1)"
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
            max_nodes=max_nodes, id_prefix=prefix, grad_text=widest, caption=caption,
        )  # fmt: skip
        assert order == self.order
        svg = g.pipe(format='svg', encoding='utf-8')
        ET.register_namespace('', SVG_NS)
        self.svg = ET.fromstring(svg)
        self.by_id = {el.get('id'): el for el in self.svg.iter() if el.get('id')}
        self.grad_text = [self._texts(f'v{i}')[-1] for i in range(len(self.order))]
        self.box = [self._first(f'v{i}', ('polygon', 'path', 'ellipse')) for i in range(len(order))]
        self.box_fill = [b.get('fill') for b in self.box]
        graph = self.by_id[f'{prefix}graph']
        self.caption = next(el for el in graph if _local(el.tag) == 'text')
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
.mg-player .mg-svg svg{max-width:100%;height:auto}
.mg-player .mg-controls{display:flex;gap:6px;align-items:center;margin:6px 0}
.mg-player button{font-size:14px;padding:3px 10px;cursor:pointer}
.mg-player input[type=range]{flex:1}
.mg-player .mg-caption{font-family:monospace;font-size:14px;white-space:pre-wrap}
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
    if (caption) caption.textContent = frames[k][4];
    captionDiv.textContent = frames[k][4];
    slider.value = String(k);
    counter.textContent = 'step ' + (k + 1) + ' / ' + frames.length;
    root.setAttribute('data-frame', String(k));
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
    else if (e.key === ' ') { play(); e.preventDefault(); }
  });
  show(0);
})();
"""


def _json_for_script(data: Any) -> str:
    """JSON that cannot end the <script> element it sits in."""
    text = json.dumps(data, ensure_ascii=True)
    return text.replace('<', '\\u003c').replace('>', '\\u003e').replace('&', '\\u0026')


def _fragment(scene: _Scene, interval: int, standalone: bool) -> str:
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
        f'<style>{_STYLE}</style>\n'
        f'<div class="mg-player" id="{html.escape(uid)}" tabindex="0">\n'
        f'<div class="mg-svg">{scene.svg_text(standalone=False)}</div>\n'
        '<div class="mg-controls">'
        '<button type="button" data-act="prev" title="previous step (left arrow)">'
        '&#9664; prev</button>'
        '<button type="button" data-act="play" title="play / pause (space)">&#9654; play</button>'
        '<button type="button" data-act="next" title="next step (right arrow)">'
        'next &#9654;</button>'
        f'<input type="range" min="0" max="{n - 1}" value="0" step="1" aria-label="step">'
        f'<span class="mg-count">step 1 / {n}</span></div>\n'
        '<div class="mg-caption"></div>\n'
        f'</div>\n<script type="application/json" id="{html.escape(data_id)}">'
        f'{_json_for_script(scene.data())}</script>\n'
        f'<script>{script}</script>\n'
    )


class PlayerHTML(str):
    """The player's HTML page (a str); in Jupyter it displays as the player itself."""

    fragment: str

    def _repr_html_(self) -> str:
        return self.fragment


def _check_common(names: Any, show_local_grads: Any) -> None:
    if names is not None and not isinstance(names, Mapping):
        raise TypeError(f"names must be a mapping such as locals(), got {type(names).__name__}")
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
    names: Mapping[str, Any] | None = None,
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
    scene = _scene(root, names, rankdir, show_local_grads, max_nodes)
    title = html.escape(f'backprop through {_names_of(names).get(root) or name_of(root)}')
    page = PlayerHTML(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<title>{title}</title>\n</head>\n<body>\n'
        f'{_fragment(scene, interval, standalone=True)}</body>\n</html>\n'
    )
    page.fragment = _fragment(scene, interval, standalone=False)
    if path is not None:
        Path(path).write_text(page, encoding='utf-8')
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


def _scene(root: Value, names: Any, rankdir: str, show_local_grads: bool, max_nodes: int) -> _Scene:
    _check_common(names, show_local_grads)
    return _Scene(root, names, rankdir, show_local_grads, max_nodes, _prefix())


def backprop_frames(
    root: Value,
    folder: str | Path,
    format: str = 'svg',  # noqa: A002 - as in graphviz
    *,
    names: Mapping[str, Any] | None = None,
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
    names: Mapping[str, Any] | None = None,
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


# -----------------------------------------------------------------------------
# A small painter for the SVG Graphviz writes: polygons, polylines, ellipses, cubic
# Bezier paths and text, under the graph's transform. Drawn at twice the size and
# scaled down, for smooth edges.
# -----------------------------------------------------------------------------

_NUMBER = re.compile(r'[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?')
_PATH_TOKEN = re.compile(r'[MmLlCcZzHhVv]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?')
_SUPER = 2


def _length(value: str | None) -> float:
    found = _NUMBER.search(value or '')
    if not found:
        raise ValueError(f"cannot read an SVG length from {value!r}")
    number = float(found.group())
    return number * (4 / 3) if (value or '').endswith('px') else number


def _matrix(transform: str | None) -> tuple[float, float, float, float, float, float]:
    """The affine map (a, b, c, d, e, f) of an SVG transform list."""
    a, b, c, d, e, f = 1.0, 0.0, 0.0, 1.0, 0.0, 0.0
    for name, args in re.findall(r'(\w+)\s*\(([^)]*)\)', transform or ''):
        v = [float(x) for x in _NUMBER.findall(args)]
        if name == 'translate':
            m = (1.0, 0.0, 0.0, 1.0, v[0], v[1] if len(v) > 1 else 0.0)
        elif name == 'scale':
            m = (v[0], 0.0, 0.0, v[1] if len(v) > 1 else v[0], 0.0, 0.0)
        elif name == 'rotate':
            t = math.radians(v[0])
            m = (math.cos(t), math.sin(t), -math.sin(t), math.cos(t), 0.0, 0.0)
        elif name == 'matrix':
            m = (v[0], v[1], v[2], v[3], v[4], v[5])
        else:
            continue
        # current * m: the later transform applies to points first
        a, b, c, d, e, f = (
            a * m[0] + c * m[1], b * m[0] + d * m[1], a * m[2] + c * m[3], b * m[2] + d * m[3],
            a * m[4] + c * m[5] + e, b * m[4] + d * m[5] + f,
        )  # fmt: skip
    return a, b, c, d, e, f


def _points(text: str | None) -> list[tuple[float, float]]:
    nums = [float(x) for x in _NUMBER.findall(text or '')]
    return list(zip(nums[0::2], nums[1::2]))


def _bezier(p0, p1, p2, p3, n: int = 12) -> list[tuple[float, float]]:
    out = []
    for i in range(1, n + 1):
        t = i / n
        u = 1 - t
        out.append((
            u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
            u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1],
        ))  # fmt: skip
    return out


def _path(d: str | None) -> list[list[tuple[float, float]]]:
    """The polylines of an SVG path (absolute and relative M L H V C Z)."""
    tokens = _PATH_TOKEN.findall(d or '')
    lines: list[list[tuple[float, float]]] = []
    cur = (0.0, 0.0)
    cmd = 'M'
    i = 0

    def num() -> float:
        nonlocal i
        i += 1
        return float(tokens[i - 1])

    while i < len(tokens):
        if tokens[i].isalpha():
            cmd = tokens[i]
            i += 1
            if cmd in 'Zz':
                if lines and lines[-1]:
                    lines[-1].append(lines[-1][0])
                continue
        rel = cmd.islower()
        ox, oy = cur if rel else (0.0, 0.0)
        c = cmd.upper()
        if c == 'M':
            cur = (ox + num(), oy + num())
            lines.append([cur])
            cmd = 'l' if rel else 'L'
        elif c == 'L':
            cur = (ox + num(), oy + num())
            lines[-1].append(cur) if lines else lines.append([cur])
        elif c == 'H':
            cur = ((ox if rel else 0.0) + num(), cur[1])
            lines[-1].append(cur)
        elif c == 'V':
            cur = (cur[0], (oy if rel else 0.0) + num())
            lines[-1].append(cur)
        elif c == 'C':
            p1 = (ox + num(), oy + num())
            p2 = (ox + num(), oy + num())
            p3 = (ox + num(), oy + num())
            if not lines:
                lines.append([cur])
            lines[-1].extend(_bezier(cur, p1, p2, p3))
            cur = p3
        else:  # an unknown command: skip its number
            i += 1
    return lines


@functools.lru_cache(maxsize=64)
def _font(size: int) -> Any:
    """A TrueType font at ``size`` pixels: Arial's metric twins first, then DejaVu Sans."""
    from PIL import ImageFont

    for name in ('LiberationSans-Regular.ttf', 'Arial.ttf', 'arial.ttf', 'Arimo-Regular.ttf',
                 'DejaVuSans.ttf'):  # fmt: skip
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    try:
        import matplotlib

        return ImageFont.truetype(
            str(Path(matplotlib.get_data_path(), 'fonts', 'ttf', 'DejaVuSans.ttf')), size
        )
    except (ImportError, OSError):
        return ImageFont.load_default(size)


def _colour(value: str | None) -> tuple[int, int, int] | None:
    from PIL import ImageColor

    if value is None or value in ('none', 'transparent', ''):
        return None
    try:
        rgb = ImageColor.getrgb(value)
    except ValueError:
        return None
    return rgb[0], rgb[1], rgb[2]


def _stroke(pen: Any, pts: list[tuple[float, float]], colour: Any, width: int) -> None:
    """A polyline without the notches Pillow leaves where short segments meet."""
    kept = [pts[0]]
    for b, c in zip(pts[1:], pts[2:]):
        a = kept[-1]
        cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
        if abs(cross) > 0.05 or a == b:  # not on the line from a to c: a real corner
            if a != b:
                kept.append(b)
    if pts[-1] != kept[-1] or len(kept) == 1:
        kept.append(pts[-1])
    for p, q in zip(kept, kept[1:]):
        pen.line([p, q], fill=colour, width=width)
    if width > 2:
        r = width / 2 - 0.5
        for x, y in kept[1:-1]:
            pen.ellipse([x - r, y - r, x + r, y + r], fill=colour)


def _rasterize(svg: ET.Element, scale: float = 1.5) -> Any:
    """A Pillow RGB image of a Graphviz SVG, ``scale`` pixels per point."""
    from PIL import Image, ImageDraw

    width, height = _length(svg.get('width')), _length(svg.get('height'))
    view = [float(x) for x in _NUMBER.findall(svg.get('viewBox') or '')]
    vx, vy, vw, vh = view if len(view) == 4 else (0.0, 0.0, width, height)
    s = scale * _SUPER
    size = (max(1, math.ceil(width * s)), max(1, math.ceil(height * s)))
    image = Image.new('RGB', size, 'white')
    pen = ImageDraw.Draw(image)
    base = (s * width / vw, 0.0, 0.0, s * height / vh, -vx * s * width / vw, -vy * s * height / vh)

    def compose(m, n):
        return (
            m[0] * n[0] + m[2] * n[1], m[1] * n[0] + m[3] * n[1],
            m[0] * n[2] + m[2] * n[3], m[1] * n[2] + m[3] * n[3],
            m[0] * n[4] + m[2] * n[5] + m[4], m[1] * n[4] + m[3] * n[5] + m[5],
        )  # fmt: skip

    def paint(el: ET.Element, m) -> None:
        m = compose(m, _matrix(el.get('transform')))
        tag = _local(el.tag)

        def at(x: float, y: float) -> tuple[float, float]:
            return (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])

        zoom = math.sqrt(abs(m[0] * m[3] - m[1] * m[2]))
        fill, stroke = _colour(el.get('fill', 'black')), _colour(el.get('stroke'))
        line = max(1, round(float(el.get('stroke-width') or 1) * zoom))
        if tag in ('polygon', 'polyline'):
            pts = [at(x, y) for x, y in _points(el.get('points'))]
            if len(pts) >= 2:
                if tag == 'polygon' and fill is not None:
                    pen.polygon(pts, fill=fill)
                if stroke is not None:
                    _stroke(pen, pts + [pts[0]] if tag == 'polygon' else pts, stroke, line)
        elif tag == 'ellipse':
            cx, cy = at(float(el.get('cx', 0)), float(el.get('cy', 0)))
            rx, ry = float(el.get('rx', 0)) * zoom, float(el.get('ry', 0)) * zoom
            pen.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=fill, outline=stroke, width=line)
        elif tag == 'path':
            for poly in _path(el.get('d')):
                pts = [at(x, y) for x, y in poly]
                if fill is not None and len(pts) >= 3:
                    pen.polygon(pts, fill=fill)
                if stroke is not None and len(pts) >= 2:
                    _stroke(pen, pts, stroke, line)
        elif tag == 'text' and el.text:
            x, y = at(float(el.get('x', 0)), float(el.get('y', 0)))
            anchor = {'middle': 'ms', 'end': 'rs'}.get(el.get('text-anchor', ''), 'ls')
            font = _font(max(1, round(float(el.get('font-size', 14)) * zoom)))
            pen.text((x, y), el.text, fill=fill or (0, 0, 0), font=font, anchor=anchor)
        if tag in ('svg', 'g', 'a'):
            for child in el:
                paint(child, m)

    paint(svg, base)
    return image.resize(
        (max(1, size[0] // _SUPER), max(1, size[1] // _SUPER)), Image.Resampling.LANCZOS
    )
