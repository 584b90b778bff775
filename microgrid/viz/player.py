"""Watch backward() one chain-rule step at a time: an HTML player, SVG/PNG frames, a GIF.

``backprop_player(root)`` records every step of ``root.backward_steps()`` and returns a
self-contained HTML page (no URL, no CDN: it works offline from a file and inside a
notebook) that shows the graph with the current edge highlighted and the gradients
computed so far filled in, with prev/next/play buttons, a slider and the arrow keys.

Frames on disk: ``backprop_frames(root, folder, format='svg' or 'png')`` and
``backprop_gif(root, path)``. PNG and GIF frames are drawn from the SVG with Pillow
(``microgrid.raster``, a small painter for the shapes Graphviz writes), so they need
neither a browser nor Graphviz's PNG support, and look like the SVG frames.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from microgrid.engine import Value
from microgrid.text import name_of, names_from
from microgrid.viz.draw import _RANKDIRS, HIGHLIGHT, _check_root
from microgrid.viz.raster import rasterize as _rasterize
from microgrid.viz.raster import save_gif
from microgrid.viz.scene import DONE_FILL, PARTIAL_FILL, Scene, check_arguments, new_prefix

__all__ = ['PlayerHTML', 'backprop_frames', 'backprop_gif', 'backprop_player']

_FORMATS = ('svg', 'png')


# -----------------------------------------------------------------------------
# The HTML player
# -----------------------------------------------------------------------------


@functools.cache
def _asset(name: str) -> str:
    """player.css or player.js, shipped beside this module as package data."""
    return resources.files('microgrid.viz').joinpath(name).read_text(encoding='utf-8')


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
    scene: Scene, interval: int, standalone: bool, title: str, show_local_grads: bool
) -> str:
    uid = scene.prefix + 'player'
    data_id = scene.prefix + 'data'
    n = len(scene.frames)
    arguments = [data_id, uid, interval, bool(standalone)]
    script = f"{_asset('player.js').rstrip()}({_json_for_script(arguments)[1:-1]});"
    scene.reset()
    return (
        f'<style>.mg-player{{--mg-hot:{HIGHLIGHT}}}\n{_asset("player.css")}</style>\n'
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
    check_arguments(names, show_local_grads)
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
    root_name = names_from(names).get(root) or name_of(root)
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


def _frames(scene: Scene) -> Iterator[Scene]:
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
) -> Scene:
    check_arguments(names, show_local_grads)
    return Scene(root, names, rankdir, show_local_grads, max_nodes, new_prefix(), caption_in_svg)


def backprop_frames(
    root: Value,
    folder: str | Path,
    format: str = 'svg',  # as in graphviz
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
        _rasterize(scene.svg, scale)
        for scene in _frames(_scene(root, names, rankdir, show_local_grads, max_nodes))
    ]
    durations = [duration] * len(images)
    if last_duration is not None:
        durations[-1] = last_duration
    return save_gif(images, path, durations, loop)


def _check_scale(scale: Any) -> None:
    if isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise TypeError(f"scale must be a number in (0, 10], got {type(scale).__name__}")
    if not 0 < scale <= 10:
        raise ValueError(f"scale must be a number in (0, 10], got {scale!r}")
