"""``Explorer(fn, **leaves)``: move a leaf with the mouse and watch every number follow.

Each change of a leaf calls ``fn`` again on fresh Values, runs backward, and sends the
new data, grads and local derivatives to the same drawing (laid out once, with room for
the widest number). Beside it, the output's change since the reference point is shown
next to what the gradients predicted, sum of grad * nudge, and whether the two agree:
derivatives by nudging, with a slider. Numbers are written as everywhere in microgrid
(``microgrid.text.fmt``: six significant digits, always a float).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from numbers import Real
from typing import Any

import traitlets

from microgrid.engine import Value
from microgrid.live._base import LiveWidget, check_size, prefix, script
from microgrid.text import fmt, names_from
from microgrid.viz.collapse import resolve_collapse
from microgrid.viz.draw import build_graph, collect_nodes

__all__ = ['Explorer', 'agreement']

_WIDE = -8.88888e-88
_WIDEST = fmt(_WIDE)  # the longest text fmt() writes, for a layout that never moves
CLOSE = 0.05  # the linear estimate "agrees" within 5% of the larger side


def num(x: float) -> str:
    """A number as the Explorer writes it: the shared format, microgrid.text.fmt."""
    return fmt(x)


def agreement(delta: float, predicted: float) -> str:
    """'close' (within 5% of the larger side) or 'poor': how well grad * nudge predicted
    the change of the output."""
    if delta == predicted:
        return 'close'
    if not (math.isfinite(delta) and math.isfinite(predicted)):
        return 'poor'
    size = max(abs(delta), abs(predicted))
    return 'close' if abs(delta - predicted) <= CLOSE * size else 'poor'


def _structure(order: list[Value]) -> list[tuple[str, tuple[int, ...]]]:
    index = {v: i for i, v in enumerate(order)}
    return [(v.op, tuple(index[p] for p in v.parents)) for v in order]


class Explorer(LiveWidget):
    """Sliders for the leaves of ``fn(**leaves)``; each change re-runs forward and backward.

    ``Explorer(lambda a, b, c: (a*b + c).tanh(), a=2.0, b=-3.0, c=10.0)``. ``fn`` gets a
    Value per leaf (labelled with its name) and returns a Value, or its ``locals()``: then
    the output is the last Value assigned (or the one named ``output=``) and every node
    is shown with its variable name. ``names=`` names more nodes, as on ``draw``: a
    mapping, or a Module whose parameters ``fn`` uses (``L0.n3.w1``...); ``collapse=True``
    (with ``names=model``, or ``collapse=model``) draws each neuron as one box. ``values`` (a
    trait) holds the leaves now; ``set(a=2.5)`` changes them from Python; ``output``,
    ``grads`` and ``root`` give the latest pass. ``reference`` is the point nudges are
    measured from: it moves to the current point when you move a different leaf, or on
    ``pin()``.
    """

    _esm = script('explorer.js')

    svg = traitlets.Unicode('').tag(sync=True)
    prefix = traitlets.Unicode('').tag(sync=True)
    leaves = traitlets.List(traitlets.Unicode()).tag(sync=True)
    values = traitlets.Dict().tag(sync=True)
    ranges = traitlets.Dict().tag(sync=True)
    view = traitlets.Dict().tag(sync=True)
    reference = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        names: Any = None,
        output: str | None = None,
        max_nodes: int = 500,
        collapse: Any = False,
        **leaves: Any,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"Explorer needs a function of the leaves, got {type(fn).__name__}")
        if not leaves:
            raise ValueError("Explorer needs at least one leaf, e.g. Explorer(fn, a=2.0, b=-3.0)")
        for name, x in leaves.items():
            if isinstance(x, bool) or not isinstance(x, Real) or not math.isfinite(float(x)):
                raise TypeError(
                    f"leaf {name!r} must be a finite number (int or float), got {x!r:.60}"
                )
        if output is not None and not isinstance(output, str):
            raise TypeError(f"output must be the name of a variable of fn, got {output!r:.40}")
        self._fn = fn
        self._given_names = names_from(names)  # a bad names= fails here, with draw's message
        self._neurons = resolve_collapse(collapse, names)  # and a bad collapse= here
        self._output = output
        self._max_nodes = max_nodes
        self._last_moved: str | None = None
        self.root: Value | None = None
        self._shape: list | None = None
        self._named: dict[Value, str] = {}
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
    def _call(self, leaves: dict[str, Value]) -> Any:
        try:
            return self._fn(**leaves)
        except TypeError as e:
            try:
                inspect.signature(self._fn).bind(**leaves)
            except TypeError:
                raise TypeError(
                    f"fn cannot be called with the leaves {', '.join(leaves)}: {e}"
                ) from None
            raise

    def _run(self, values: dict[str, float]) -> Value:
        leaves = {k: Value(x, k) for k, x in values.items()}
        out = self._call(leaves)
        named = dict(self._given_names)
        if isinstance(out, Mapping):
            found = names_from(out)
            named.update({v: k for v, k in found.items() if v not in named})
            candidates = [k for k, v in out.items() if isinstance(v, Value) and k[:1] != '_']
            key = self._output or (candidates[-1] if candidates else None)
            if key is None or key not in out:
                raise ValueError(
                    f"fn returned its variables {candidates}, without the output {key!r}; "
                    "pass output='name of the output'"
                )
            out = out[key]
            named[out] = key
        if not isinstance(out, Value):
            raise TypeError(f"fn must return a Value (or its locals()), got {type(out).__name__}")
        check_size(out, self._max_nodes, 'Explorer')  # too large: says which limit works
        out.backward()
        self._leaf_values = leaves
        self._named = named
        return out

    def _name(self, v: Value, i: int, root: Value) -> str:
        return self._named.get(v) or v.label or ('out' if v is root else f'n{i}')

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
            name = self._name(v, i, root)
            names[f'{name}#{i}' if name in names else name] = copies[v]
        widest = {c: f'grad {_WIDEST}' for c in copies.values()}
        g, _ = build_graph(
            copies[root], names=names, show_local_grads=True, max_nodes=len(order),
            id_prefix=self.prefix, grad_text=widest,
            collapse=self._neurons.on(copies) if self._neurons else None,
        )  # fmt: skip
        self.names = list(names)  # in the order drawn: node i is order[i]
        self.svg = g.pipe(format='svg', encoding='utf-8')

    def _show(self, root: Value, values: dict[str, float]) -> None:
        order = collect_nodes(root, self._size(root))
        shape = _structure(order)
        if shape != self._shape:
            self._layout(root, order)
            self._shape = shape
        self.root = root
        grads = {k: self._leaf_values[k].grad for k in values}
        ref = self.reference
        out_name = self._name(root, len(order) - 1, root)
        view: dict[str, Any] = {
            'data': [f'data {fmt(v.data)}' for v in order],
            'grad': [f'grad {fmt(v.grad)}' for v in order],
            'local': [[fmt(d) for d in v.local_grads] for v in order],
            'output': root.data,
            'grads': grads,
            'values': dict(values),
            'out': out_name,
            'text': {
                'output': fmt(root.data),
                'grads': {k: fmt(g) for k, g in grads.items()},
                'values': {k: fmt(x) for k, x in values.items()},
            },
        }
        if ref:
            nudges = {k: values[k] - ref['values'][k] for k in values}
            delta = root.data - ref['output']
            predicted = math.fsum(ref['grads'][k] * nudges[k] for k in values)
            view.update(nudges=nudges, delta=delta, predicted=predicted)
            verdict = agreement(delta, predicted) if any(nudges.values()) else 'none'
            terms = [f"({fmt(ref['grads'][k])}) \u00d7 ({fmt(d)})" for k, d in nudges.items() if d]
            view['compare'] = {
                'verdict': verdict,
                'delta': fmt(delta),
                'predicted': fmt(predicted),
                'terms': ' + '.join(terms),
                'why': self._why(verdict, ref, grads, nudges, out_name),
            }
        self.view = view

    def _size(self, root: Value) -> int:
        return check_size(root, self._max_nodes, 'Explorer')

    @staticmethod
    def _why(verdict: str, ref: dict, grads: dict, nudges: dict, out: str) -> str:
        if verdict != 'poor':
            return ''
        moved = [k for k, d in nudges.items() if d]
        changed = ', '.join(
            f"d{out}/d{k} from {fmt(ref['grads'][k])} to {fmt(grads[k])}" for k in moved
        )
        return (
            f"the linear estimate is poor here: {out} curves between the two points "
            f"(its gradient changed along the way: {changed}), so grad \u00d7 nudge only "
            "predicts small nudges; a smaller nudge agrees better"
        )

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
