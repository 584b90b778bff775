"""A small painter for the SVG Graphviz writes: polygons, polylines, ellipses, cubic
Bezier paths and text, under the graph's transform, drawn with Pillow at twice the size
and scaled down for smooth edges. The player's PNG frames and GIF use it, so they need
neither a browser nor Graphviz's PNG support. ``save_gif`` writes frames as an animated GIF
(the player's, and the training animations').
"""

from __future__ import annotations

import functools
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

__all__ = ['rasterize', 'save_gif']


def _local(tag: str) -> str:
    return tag.rsplit('}', 1)[-1]


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
            a * m[0] + c * m[1],
            b * m[0] + d * m[1],
            a * m[2] + c * m[3],
            b * m[2] + d * m[3],
            a * m[4] + c * m[5] + e,
            b * m[4] + d * m[5] + f,
        )
    return a, b, c, d, e, f


def _points(text: str | None) -> list[tuple[float, float]]:
    nums = [float(x) for x in _NUMBER.findall(text or '')]
    return list(zip(nums[0::2], nums[1::2]))


def _bezier(p0, p1, p2, p3, n: int = 12) -> list[tuple[float, float]]:
    out = []
    for i in range(1, n + 1):
        t = i / n
        u = 1 - t
        out.append(
            (
                u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
                u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1],
            )
        )
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

    for name in (
        'LiberationSans-Regular.ttf',
        'Arial.ttf',
        'arial.ttf',
        'Arimo-Regular.ttf',
        'DejaVuSans.ttf',
    ):
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


def rasterize(svg: ET.Element, scale: float = 1.5) -> Any:
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

    _paint(pen, svg, base)
    return image.resize(
        (max(1, size[0] // _SUPER), max(1, size[1] // _SUPER)), Image.Resampling.LANCZOS
    )


def save_gif(frames: list[Any], path: str | Path, duration: Any, loop: int = 0) -> Path:
    """Write Pillow RGB images as an animated GIF, each frame with its own palette of 255
    colours; ``duration``: ms per frame (or a list, one per frame); ``loop=0`` repeats."""
    images = [f.convert('P', palette=1, colors=255) for f in frames]  # 1 = ADAPTIVE
    target = Path(path)
    images[0].save(
        target,
        format='GIF',
        save_all=True,
        append_images=images[1:],
        duration=duration,
        loop=loop,
        optimize=False,
        disposal=1,
    )
    return target


def _compose(m: Any, n: Any) -> tuple[float, ...]:
    """The affine transform m after n, both as SVG's (a, b, c, d, e, f)."""
    return (
        m[0] * n[0] + m[2] * n[1],
        m[1] * n[0] + m[3] * n[1],
        m[0] * n[2] + m[2] * n[3],
        m[1] * n[2] + m[3] * n[3],
        m[0] * n[4] + m[2] * n[5] + m[4],
        m[1] * n[4] + m[3] * n[5] + m[5],
    )


def _paint(pen: Any, el: ET.Element, m: Any) -> None:
    """Paint ``el`` and, for a group, its children, under the transform m."""
    m = _compose(m, _matrix(el.get('transform')))
    tag = _local(el.tag)
    _paint_shape(pen, el, tag, m)
    if tag in ('svg', 'g', 'a'):
        for child in el:
            _paint(pen, child, m)


def _paint_shape(pen: Any, el: ET.Element, tag: str, m: Any) -> None:
    """Paint one polygon, polyline, ellipse, path or text (anything else paints nothing)."""

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
