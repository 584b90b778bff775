"""``Stepper(root)``: backward() one chain-rule step at a time, live in the notebook.

The graph is laid out once (by the backprop player's scene, so both look the same) and
every step only changes texts and colours. The step shown is the trait ``position``
(0 is the seed step, which sets the root's gradient to 1), so the buttons, the slider,
the keys and Python (``step()``, ``back()``, ``goto(k)``) all move the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import traitlets

from microgrid.engine import Value
from microgrid.live._base import LiveWidget, check_size, prefix, script
from microgrid.text import name_of, names_from
from microgrid.viz.collapse import Collapse, collapse_possible, neuron_names, resolve_collapse
from microgrid.viz.draw import HIGHLIGHT, LEAF_FILL
from microgrid.viz.scene import DONE_FILL, PARTIAL_FILL, UNKNOWN, Scene, check_arguments

__all__ = ['Stepper']


_COLOURS = {
    'leafFill': LEAF_FILL,
    'partialFill': PARTIAL_FILL,
    'doneFill': DONE_FILL,
    'unknown': UNKNOWN,
    'highlight': HIGHLIGHT,
}


class Stepper(LiveWidget):
    """Step through ``root.backward_steps()`` on one fixed drawing of the graph.

    ``names=locals()`` labels nodes with your variable names; ``names=model`` names a
    Module's parameters (``L0.n3.w1``), as on ``draw``; ``collapse=True`` (with
    ``names=model``, or ``collapse=model``) draws each neuron as one box (``L0.n3``): a
    step inside it colours the box, and its caption is the same chain-rule line. With a
    Module, the widget's "neurons as boxes" button (or the trait ``collapsed``) switches
    between the two drawings at the same step. The view
    has a fixed height, with zoom and pan; the current step is scrolled into view.
    ``position`` (a trait) is the step shown, from 0 (the seed) to ``len(s) - 1``;
    ``caption`` is its chain-rule line. The grads of the graph are left as they were.
    """

    _esm = script('stepper.js')

    svg = traitlets.Unicode('').tag(sync=True)
    frames: traitlets.List[list] = traitlets.List().tag(sync=True)
    scene = traitlets.Dict().tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)
    playing = traitlets.Bool(False).tag(sync=True)
    interval = traitlets.Int(900).tag(sync=True)
    caption = traitlets.Unicode('').tag(sync=True)
    collapsed = traitlets.Bool(False).tag(sync=True)
    can_collapse = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        root: Value,
        names: Mapping[str, Any] | None = None,
        *,
        rankdir: str = 'LR',
        show_local_grads: bool = True,
        interval: int = 900,
        max_nodes: int = 500,
        collapse: Any = False,
    ) -> None:
        check_arguments(names, show_local_grads)
        model = resolve_collapse(collapse, names)  # a bad collapse= fails before any work
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise ValueError(f"interval must be a positive int (milliseconds), got {interval!r}")
        if not isinstance(root, Value):
            raise TypeError(f"Stepper needs a Value, got {type(root).__name__}")
        size = check_size(root, max_nodes, 'Stepper')  # fails fast, with a limit that works
        # the neurons the button can collapse: of collapse=model, or of names=model
        possible = resolve_collapse(collapse_possible(names), names)
        self._neurons = model if model is not None else possible
        self._make = lambda boxes: Scene(
            root, names, rankdir, show_local_grads, size, prefix(), collapse=boxes
        )
        self._named = names
        self._views: dict[bool, dict[str, Any]] = {}
        super().__init__(
            interval=interval, can_collapse=self._neurons is not None, **self._view(bool(model))
        )
        self.collapsed = bool(model)
        self.caption = self.frames[0][4]

    def _view(self, collapsed: bool) -> dict[str, Any]:
        """The drawing, frames and names for the full graph or the boxes (made once each)."""
        if collapsed not in self._views:
            scene = self._make(self._neurons if collapsed else None)
            scene.reset()
            order = scene.order
            named = {**neuron_names(order, self._named), **names_from(self._named)}
            if collapsed:  # a box is named as its neuron, also with collapse=model alone
                assert self._neurons is not None
                named.update({b.output: b.name for b in Collapse(order, self._neurons).boxes})
            data = scene.data()
            self._views[collapsed] = {
                'svg': scene.svg_text(standalone=False),
                'frames': data.pop('frames'),
                'scene': {**data, **_COLOURS},
                'names': [named.get(v) or name_of(v) for v in order],
                'shown': scene.shown,
            }
        view = self._views[collapsed]
        self.names = view['names']
        self._shown = view['shown']
        return {k: view[k] for k in ('svg', 'frames', 'scene')}

    @traitlets.validate('collapsed')
    def _can_collapse(self, proposal: Any) -> bool:
        if proposal['value'] and self._neurons is None:
            raise traitlets.TraitError(
                "collapsed=True needs a Module whose neurons become boxes: "
                "Stepper(root, names=model)"
            )
        return bool(proposal['value'])

    @traitlets.observe('collapsed')
    def _toggle(self, change: Any) -> None:
        view = self._view(change['new'])
        with self.hold_sync():  # the same steps: the position stays
            self.svg, self.frames = view['svg'], view['frames']
            self.scene = view['scene']  # last: the browser redraws on it

    def __len__(self) -> int:
        return len(self.frames)

    @traitlets.validate('position')
    def _clamp(self, proposal: Any) -> int:
        return max(0, min(len(self.frames) - 1, int(proposal['value'])))

    @traitlets.observe('position')
    def _moved(self, change: Any) -> None:
        self.caption = self.frames[change['new']][4]

    def step(self) -> int:
        """Show the next step (stays on the last); returns the position."""
        self.position += 1
        return self.position

    def back(self) -> int:
        """Show the previous step (stays on the first); returns the position."""
        self.position -= 1
        return self.position

    def goto(self, k: int) -> int:
        """Show step k (negative counts from the end, as in a list); returns the position."""
        if isinstance(k, bool) or not isinstance(k, int):
            raise TypeError(f"goto needs an int step, got {type(k).__name__}")
        if not -len(self) <= k < len(self):
            raise IndexError(f"step {k} is out of range: there are {len(self)} steps")
        self.position = k % len(self)
        return self.position

    def reset(self) -> None:
        """Back to the seed step, and stop playing."""
        self.playing = False
        self.position = 0

    def play(self) -> None:
        """Step forward every ``interval`` ms in the browser, until the end or pause()."""
        if self.position >= len(self) - 1:
            self.position = 0
        self.playing = True

    def pause(self) -> None:
        """Stop playing."""
        self.playing = False

    @property
    def highlight(self) -> list[str]:
        """What the current step colours: ``v<i>`` node, ``e<i>_<k>`` edge, ``o<i>`` op ..."""
        return list(self.frames[self.position][3])

    @property
    def current(self) -> str:
        """The name of the node whose grad the current step changes."""
        return self.names[self.frames[self.position][0]]

    @property
    def grads(self) -> dict[str, str]:
        """{node name: grad text} as shown now ('grad ?' where no gradient has arrived)."""
        shown = dict.fromkeys(self._shown, UNKNOWN)  # collapsed: the boxes, not their insides
        for f in self.frames[: self.position + 1]:
            shown[f[0]] = f[1]
        return {self.names[i]: text for i, text in shown.items()}
