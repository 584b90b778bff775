"""Module: the base of every model. It finds its parameters, names them, zeroes their
gradients, and gives and takes their values as a plain dict (``state_dict``).

Parameters are plain Values. A Module finds them by looking at its attributes: a Value,
a Module, or a list/tuple of them is registered under its attribute name
(``layers.0.neurons.3.w.1``).
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

from microgrid.engine import Value

__all__ = ['Module', 'zero_grads']


class Module:
    """Base class: Values, Modules and lists of them held in attributes are its parameters."""

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(dotted name, Value) for every parameter, each shared Value once, in a stable order."""
        out: list[tuple[str, Value]] = []
        _collect(self, '', out, set())
        return out

    def parameters(self) -> list[Value]:
        """Every parameter Value, in the order of named_parameters()."""
        out: list[Value] = []
        _collect(self, None, out, set())  # None: no names made (a regularizer asks each step)
        return out

    def zero_grad(self) -> None:
        """Set the grad of every parameter to 0 and clear its ``grad_value`` (the gradient
        kept as a Value by ``backward(create_graph=True)``), as torch's zero_grad clears
        ``.grad``: a gradient penalty written the torch way does not accumulate."""
        zero_grads(self.parameters())

    def state_dict(self) -> dict[str, float]:
        """{parameter name: its value}, a plain dict of floats (JSON-ready)."""
        return {name: float(p.data) for name, p in self.named_parameters()}

    def load_state_dict(self, state: Any) -> None:
        """Set every parameter from a dict like state_dict()'s; all checked before any is set."""
        named = self.named_parameters()
        values = _validated_state(state, [name for name, _ in named])
        for (_, p), v in zip(named, values):
            p.data = v


def _collect(obj: Any, prefix: str | None, out: list, seen: set) -> None:
    """Walk a Module's public attributes (and lists of them) for Values, adding to out
    (name, Value) pairs, or the Values alone where prefix is None (no names made)."""
    for name, v in vars(obj).items():
        if not name.startswith('_'):
            _collect_item(v, None if prefix is None else prefix + name, out, seen)


def _collect_item(v: Any, name: str | None, out: list, seen: set) -> None:
    if isinstance(v, Value):  # (a subclass too: microgrid.hessian's trace watches Values)
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v if name is None else (name, v))
    elif isinstance(v, Module):
        if id(v) not in seen:  # a submodule reached twice is counted once
            seen.add(id(v))
            _collect(v, None if name is None else name + '.', out, seen)
    elif isinstance(v, (list, tuple)):
        if name is None and {Value}.issuperset(map(type, v)):  # speed: Values only, at once
            fresh = [x for x in dict.fromkeys(v) if id(x) not in seen]  # (each once)
            seen.update(map(id, fresh))
            out += fresh
            return
        for i, item in enumerate(v):
            _collect_item(item, None if name is None else f"{name}.{i}", out, seen)


def _validated_state(state: Any, names: list[str]) -> list[float]:
    """The state's values as floats in the order of names, after checking names, count
    and types (nothing is built, so a hostile state costs only the checks)."""
    if not isinstance(state, dict):
        raise TypeError(f"load_state_dict: expected a dict, got {type(state).__name__}")
    missing = [k for k in names if k not in state]
    unexpected: list = []
    if missing or len(state) != len(names):
        known = set(names)
        unexpected = [k for k in state if k not in known]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing key(s) {_short(missing)}")
        if unexpected:
            parts.append(f"unexpected key(s) {_short(unexpected)}")
        raise ValueError(
            f"load_state_dict: {' and '.join(parts)} "
            f"(the model has {len(names)} parameters, the dict {len(state)} entries)"
        )
    values = []
    for name in names:
        v = state[name]
        if isinstance(v, bool) or not isinstance(v, Real):
            got = f"{type(v).__name__}: {v!r:.40}"
            raise TypeError(f"load_state_dict: {name!r} must be a real number, got {got}")
        try:
            f = float(v)
        except OverflowError:  # an int too large for a float
            f = math.inf
        if not math.isfinite(f):
            raise ValueError(f"load_state_dict: {name!r} is not finite ({v!r:.40})")
        values.append(f)
    return values


def _short(keys: list) -> str:
    shown = ', '.join(repr(k) for k in keys[:5])
    return f"{shown}, ... ({len(keys)} in all)" if len(keys) > 5 else shown


def zero_grads(params: list[Value]) -> None:
    """grad = 0 and grad_value = None for each parameter: what every zero_grad() does."""
    for p in params:
        p.grad = 0.0
        if p._meta is not None:  # only a Value with extras can hold a grad_value
            p.grad_value = None
