"""How every instrument writes a node's name and a number, so they all read alike.

``name_of(v)`` is a node's label, or a short automatic name (``v1``, ``v2``, ...) that it
keeps once shown. ``display_name(v)`` is the name to print for a Value: its label (or
automatic name such as ``v3``), wrapped in parentheses when it is not a plain name, so
that a lecture-style label reads clearly inside a formula: ``d(x1*w1 + x2*w2)/d(x1*w1)``,
``(x1*w1).grad``. ``fmt(x)`` is the one number format: exact when short
(``0.5``, ``-3.0``), six significant digits otherwise (``0.4999999999999998`` reads
``0.5``), and always a float (``1.0``, never ``1``). ``step_text(step)`` is a
backward step as a line of the chain rule."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from typing import Any

from microgrid.engine import Value

__all__ = [
    'display_name',
    'fmt',
    'name_of',
    'names_from',
    'plain',
    'short_name',
    'short_parameter_names',
    'step_text',
    'wrap',
]

_next_number = itertools.count(1)  # thread-safe: next() on a count is atomic


def name_of(v: Value) -> str:
    """The label of v, or its automatic name such as 'v3'."""
    if v.label:
        return v.label
    meta = v._meta
    if meta is None or 'name' not in meta:
        meta = v._meta = {**(meta or {}), 'name': f"v{next(_next_number)}"}
    return meta['name']


# A plain name needs no parentheses: x, w1, _t, layer names such as L0.n3.w1 or w[2].
_PLAIN = re.compile(r'[A-Za-z_][A-Za-z0-9_]*(?:(?:\.[A-Za-z0-9_]+)|(?:\[[0-9]+\]))*')


def plain(text: str) -> bool:
    """True if ``text`` reads as one name without parentheses."""
    return _PLAIN.fullmatch(text) is not None


def wrap(text: str) -> str:
    """``text`` as it goes into a formula: as is if plain, else in parentheses."""
    return text if plain(text) else f"({text})"


def display_name(v: Value, names: Mapping[Value, str] | None = None) -> str:
    """The name to print for v inside a formula: ``x1``, ``v3``, ``(x1*w1 + x2*w2)``.

    ``names`` maps Values to names that win over their labels (as draw's names=).
    """
    text = names.get(v) if names else None
    return wrap(text or name_of(v))


def fmt(x: float, digits: int = 6) -> str:
    """A number as every instrument prints it: exact when short, else ``digits`` significant.

    Always reads as a float: 1.0 (never 1), -1.5, 0.5 for 0.4999999999999998,
    6.88137 for 6.8813735870195432, 1e-300, inf, nan. The command line's ``grad``,
    a calculator, asks for 10 digits; everything else uses the default 6.
    """
    x = float(x)
    text = repr(x)
    if len(text) > max(10, digits + 2):
        text = f"{x:.{digits}g}"
    if math.isfinite(x) and not any(c in text for c in '.en'):
        text += '.0'
    return text


def step_text(step: Any, names: Mapping[Value, str] | None = None) -> str:
    """One backward step as a line: ``p.grad += dn/dp * n.grad = local * upstream = ...``."""
    n = display_name(step.node, names)
    if step.parent is None:
        return f"{n}.grad = {fmt(step.upstream)}  (seed: d{n}/d{n})"
    p = display_name(step.parent, names)
    return (
        f"{p}.grad += d{n}/d{p} * {n}.grad = {fmt(step.local_grad)} * {fmt(step.upstream)}"
        f" = {fmt(step.contribution)}  ({p}.grad = {fmt(step.parent_grad)})"
    )


def short_name(name: str) -> str:
    """A dotted Module name, short: ``layers.0.neurons.3.w.1`` reads ``L0.n3.w1``."""
    parts: list[str] = []
    for seg in name.split('.'):
        if seg.isdigit() and parts:
            parts[-1] += seg
        else:
            parts.append({'layers': 'L', 'neurons': 'n'}.get(seg, seg))
    return '.'.join(parts)


def short_parameter_names(model: Any) -> dict[Value, str]:
    """{parameter: short name} from a Module's named_parameters(), for pictures.

    ``layers.0.neurons.3.w.1`` becomes ``L0.n3.w1`` and ``layers.1.neurons.0.b`` becomes
    ``L1.n0.b``: a list index joins the name before it, ``layers`` reads ``L`` and
    ``neurons`` reads ``n``. If two short names would clash, the full names are used.
    """
    full = list(model.named_parameters())
    out = {value: short_name(name) for name, value in full}
    if len(set(out.values())) < len(out):
        return {value: name for name, value in full}
    return out


def names_from(names: Any) -> dict[Value, str]:
    """{Value: name} from a mapping such as locals() (the first name of a Value wins) or
    from a Module (its parameters, in short_parameter_names' form)."""
    if names is None:
        return {}
    if not isinstance(names, Mapping) and callable(getattr(names, 'named_parameters', None)):
        return short_parameter_names(names)
    if not isinstance(names, Mapping):
        raise TypeError(
            "names must be a mapping such as locals() or a Module such as an MLP, "
            f"got {type(names).__name__}"
        )
    out: dict[Value, str] = {}
    for key, value in names.items():
        if isinstance(value, Value) and isinstance(key, str) and not key.startswith('_'):
            out.setdefault(value, key)
    return out
