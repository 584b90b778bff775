"""``Explorer(fn, **leaves)``: move a leaf with the mouse and watch every number follow.

Each change of a leaf calls ``fn`` again on fresh Values, runs backward, and sends the
new data, grads and local derivatives to the same drawing (laid out once, with room for
the widest number). Beside it, the output's change since the reference point is shown
next to what the gradients predicted, sum of grad * nudge: derivatives by nudging, with
a slider.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from numbers import Real
from typing import Any

import traitlets

from microgrid.engine import Value
from microgrid.live._base import LiveWidget, prefix, script
from microgrid.viz.draw import build_graph, collect_nodes

__all__ = ['Explorer']

_WIDE = -8.888e-88
_WIDEST = repr(_WIDE)  # the longest text num() writes, for a layout that never moves


def num(x: float) -> str:
    """A number in at most 10 characters: 4 decimals, or 4 significant digits."""
    if math.isnan(x) or math.isinf(x):
        return repr(x)
    if x == 0 or abs(x) >= 1e-4:
        r = repr(round(x, 4))
        if len(r) <= 10:
            return r
    return f'{x:.4g}'


def _structure(order: list[Value]) -> list[tuple[str, tuple[int, ...]]]:
    index = {v: i for i, v in enumerate(order)}
    return [(v.op, tuple(index[p] for p in v.parents)) for v in order]


class Explorer(LiveWidget):
    """Sliders for the leaves of ``fn(**leaves)``; each change re-runs forward and backward.

    ``Explorer(lambda a, b, c: (a*b + c).tanh(), a=2.0, b=-3.0, c=10.0)``. ``fn`` gets a
    Value per leaf (labelled with its name) and must return a Value. ``values`` (a trait)
    holds the leaves now; ``set(a=2.5)`` changes them from Python; ``output``, ``grads``
    and ``root`` give the latest pass. ``reference`` is the point nudges are measured
    from: it moves to the current point when you move a different leaf, or on ``pin()``.
    """

    _esm = script('explorer.js')

    svg = traitlets.Unicode('').tag(sync=True)
    prefix = traitlets.Unicode('').tag(sync=True)
    leaves = traitlets.List(traitlets.Unicode()).tag(sync=True)
    values = traitlets.Dict().tag(sync=True)
    ranges = traitlets.Dict().tag(sync=True)
    view = traitlets.Dict().tag(sync=True)
    reference = traitlets.Dict().tag(sync=True)

    def __init__(self, fn: Callable[..., Value], *, max_nodes: int = 200, **leaves: Any) -> None:
        if not callable(fn):
            raise TypeError(f"Explorer needs a function of the leaves, got {type(fn).__name__}")
        if not leaves:
            raise ValueError("Explorer needs at least one leaf, e.g. Explorer(fn, a=2.0, b=-3.0)")
        for name, x in leaves.items():
            if isinstance(x, bool) or not isinstance(x, Real) or not math.isfinite(float(x)):
                raise TypeError(
                    f"leaf {name!r} must be a finite number (int or float), got {x!r:.60}"
                )
        self._fn = fn
        self._max_nodes = max_nodes
        self._last_moved: str | None = None
        self.root: Value | None = None
        self._shape: list | None = None
        values = {k: float(v) for k, v in leaves.items()}
        root = self._run(values)  # errors in fn surface here, at construction
        ranges = {}
        for k, v in values.items():
            span = max(2.0, 2.0 * abs(v))
            ranges[k] = [v - span, v + span, span / 200]
        super().__init__(leaves=list(values), ranges=ranges, prefix=prefix())
        self._show(root, values)
        self.values = values
        self.pin()
        self.on_msg(self._message)

    def _message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get('event') == 'pin':
            self.pin()

    # -- running fn ---------------------------------------------------------------
    def _run(self, values: dict[str, float]) -> Value:
        leaves = {k: Value(x, k) for k, x in values.items()}
        try:
            out = self._fn(**leaves)
        except TypeError as e:
            try:
                inspect.signature(self._fn).bind(**leaves)
            except TypeError:
                raise TypeError(
                    f"fn cannot be called with the leaves {', '.join(leaves)}: {e}"
                ) from None
            raise
        if not isinstance(out, Value):
            raise TypeError(f"fn must return a Value, got {type(out).__name__}")
        collect_nodes(out, self._max_nodes)  # too large: GraphTooLargeError says what to do
        out.backward()
        self._leaf_values = leaves
        return out

    def _layout(self, root: Value, order: list[Value]) -> None:
        """Draw a copy of the graph whose numbers are all as wide as the widest one."""
        copies: dict[Value, Value] = {}
        for v in order:
            k = len(v.parents)
            copies[v] = (
                Value.from_op(_WIDE, [copies[p] for p in v.parents], [_WIDE] * k, v.op)
                if k
                else Value(_WIDE)
            )
        names: dict[str, Value] = {}
        for i, v in enumerate(order):
            name = v.label or ('out' if v is root else f'n{i}')
            names[f'{name}#{i}' if name in names else name] = copies[v]
        widest = {c: f'grad {_WIDEST}' for c in copies.values()}
        g, _ = build_graph(
            copies[root], names=names, show_local_grads=True, max_nodes=self._max_nodes,
            id_prefix=self.prefix, grad_text=widest,
        )  # fmt: skip
        self.names = list(names)  # in the order drawn: node i is order[i]
        self.svg = g.pipe(format='svg', encoding='utf-8')

    def _show(self, root: Value, values: dict[str, float]) -> None:
        order = collect_nodes(root, self._max_nodes)
        shape = _structure(order)
        if shape != self._shape:
            self._layout(root, order)
            self._shape = shape
        self.root = root
        grads = {k: self._leaf_values[k].grad for k in values}
        ref = self.reference
        view: dict[str, Any] = {
            'data': [f'data {num(v.data)}' for v in order],
            'grad': [f'grad {num(v.grad)}' for v in order],
            'local': [[num(d) for d in v.local_grads] for v in order],
            'output': root.data,
            'grads': grads,
            'values': dict(values),
        }
        if ref:
            nudges = {k: values[k] - ref['values'][k] for k in values}
            view['nudges'] = nudges
            view['delta'] = root.data - ref['output']
            view['predicted'] = math.fsum(ref['grads'][k] * nudges[k] for k in values)
        self.view = view

    # -- changes --------------------------------------------------------------------
    @traitlets.validate('values')
    def _check_values(self, proposal: Any) -> dict[str, float]:
        new = dict(proposal['value'])
        if set(new) != set(self.leaves):
            raise traitlets.TraitError(
                f"values must give the leaves {self.leaves}, got {list(new)}"
            )
        for k, x in new.items():
            if isinstance(x, bool) or not isinstance(x, Real) or not math.isfinite(float(x)):
                raise traitlets.TraitError(f"leaf {k!r} must be a finite number, got {x!r:.60}")
            new[k] = float(x)
        return new

    @traitlets.observe('values')
    def _changed(self, change: Any) -> None:
        old, new = change['old'] or {}, change['new']
        moved = [k for k in new if old.get(k) != new[k]]
        if old and len(moved) == 1 and self._last_moved not in (None, moved[0]):
            self.reference = self._point(old)  # a different leaf: nudge from here
        if moved:
            self._last_moved = moved[0] if len(moved) == 1 else None
        try:
            root = self._run(new)
            self._show(root, new)
            self.error = ''
        except Exception as e:  # shown in the widget: a slider must never crash the kernel
            self.error = f'{type(e).__name__}: {e}'

    def _point(self, values: dict[str, float]) -> dict[str, Any]:
        view = self.view
        return {'values': dict(values), 'output': view['output'], 'grads': dict(view['grads'])}

    def set(self, **values: float) -> None:
        """Change some leaves, e.g. ``set(a=2.5)``; forward and backward run again."""
        unknown = set(values) - set(self.leaves)
        if unknown:
            raise ValueError(f"unknown leaves {sorted(unknown)}; the leaves are {self.leaves}")
        self.values = {**self.values, **values}
        if self.error:
            raise ValueError(self.error)

    def pin(self) -> None:
        """Make the current point the reference that nudges are measured from."""
        self.reference = self._point(self.values)
        self._show(self.root, self.values)  # type: ignore[arg-type]

    @property
    def output(self) -> float:
        """The output's data at the current leaves."""
        return float(self.view['output'])

    @property
    def grads(self) -> dict[str, float]:
        """d(output)/d(leaf) for each leaf, at the current leaves."""
        return dict(self.view['grads'])
