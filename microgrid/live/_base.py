"""What the live widgets share: the stylesheet, the scripts' common part, the error line,
a random id prefix, and the heartbeat that tells the kernel which views are open and
tells each view whether the kernel still answers."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from microgrid.engine import Value
from microgrid.viz.draw import GraphTooLargeError

__all__ = ['LAYOUT_LIMIT', 'VIEW_TIMEOUT', 'LiveWidget', 'check_size', 'prefix', 'script']

HERE = Path(__file__).parent
LAYOUT_LIMIT = 1000  # graphviz takes minutes to lay out much larger graphs (871 nodes: 14 s)
VIEW_TIMEOUT = 5.0  # seconds without a ping after which a view counts as gone

_FALLBACK = (
    '<div style="font-family:sans-serif;border:1px solid #ddd;padding:6px">'
    'microgrid.live.{name}: a live widget needs its kernel. Run this cell again to show it '
    '(a saved notebook keeps no kernel).</div>'
)


class LiveWidget(anywidget.AnyWidget):
    """An anywidget with microgrid's stylesheet, an ``error`` text shown in the widget, and a
    heartbeat: each open view pings about twice a second and the kernel answers.

    ``views`` is the number of views that pinged within ``VIEW_TIMEOUT`` seconds;
    ``seen`` says whether any view was ever shown.
    """

    _css = HERE / 'live.css'
    error = traitlets.Unicode('').tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        self._pings: dict[str, float] = {}
        self.seen = False
        super().__init__(**kwargs)
        self.on_msg(self._heartbeat)

    def _heartbeat(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        event, view = content.get('event'), str(content.get('view', ''))[:40]
        if event == 'ping':
            self._pings[view] = time.monotonic()
            self.seen = True
            self.send({'event': 'pong'})
        elif event == 'bye':
            self._pings.pop(view, None)
            self._views_changed()

    @property
    def views(self) -> int:
        """How many views of this widget pinged within the last ``VIEW_TIMEOUT`` seconds."""
        now = time.monotonic()
        return sum(1 for t in self._pings.values() if now - t < VIEW_TIMEOUT)

    def _views_changed(self) -> None:
        """Called when a view says goodbye; the Playground pauses when none is left."""

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget, plus text for where no kernel runs it (a saved notebook reopened)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict):
            name = type(self).__name__
            data['text/plain'] = (
                f'microgrid.live.{name}: a live widget; run this cell again to show it'
            )
            data['text/html'] = _FALLBACK.format(name=name)
        return bundle


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


def count_nodes(root: Value, stop: int) -> int:
    """How many Values root depends on (itself included), counting no further than stop."""
    seen = {root}
    todo = [root]
    while todo and len(seen) <= stop:
        for p in todo.pop().parents:
            if p not in seen:
                seen.add(p)
                todo.append(p)
    return len(seen)


def check_size(root: Value, max_nodes: int, who: str) -> int:
    """Refuse at once a graph larger than max_nodes, suggesting a limit that works.

    Past ``LAYOUT_LIMIT`` nodes no limit works (graphviz would block the kernel for
    minutes), so the advice is a smaller graph instead. Returns the number of nodes.
    """
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")
    n = count_nodes(root, max(max_nodes, LAYOUT_LIMIT))
    if n <= max_nodes and n <= LAYOUT_LIMIT:
        return n
    if n <= LAYOUT_LIMIT:
        raise GraphTooLargeError(
            f"{who}: the graph has {n} nodes, more than max_nodes={max_nodes}; "
            f"pass max_nodes={n} to show it"
        )
    raise GraphTooLargeError(
        f"{who}: the graph has more than {LAYOUT_LIMIT} nodes, too many to lay out "
        "(graphviz would block the kernel for minutes, whatever max_nodes says). Show a "
        "smaller graph: one sample's output, e.g. model(X[0]), or a loss over 2 or 3 points"
    )
