"""What the live widgets share: the stylesheet, the scripts' common part, the error line and
a random id prefix."""

from __future__ import annotations

import secrets
from pathlib import Path

import anywidget
import traitlets

HERE = Path(__file__).parent


class LiveWidget(anywidget.AnyWidget):
    """An anywidget with microgrid's stylesheet and an ``error`` text shown in the widget."""

    _css = HERE / 'live.css'
    error = traitlets.Unicode('').tag(sync=True)


def script(name: str) -> str:
    """A widget's JavaScript module: common.js (shared helpers), then the widget's own file."""
    return (
        (HERE / 'common.js').read_text(encoding='utf-8')
        + '\n'
        + (HERE / name).read_text(encoding='utf-8')
    )


def prefix() -> str:
    """A prefix for SVG ids, unique per widget, so two graphs on one page never clash."""
    return 'mg' + secrets.token_hex(4) + '-'
