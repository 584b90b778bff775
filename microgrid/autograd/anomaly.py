"""The checks of ``detect_anomaly()``: the forward one as each node is made, and a
backward pass that checks every edge. microgrid.autograd.modes calls them for the threads that
have the switch on; the engine's fast path never sees them."""

from __future__ import annotations

import linecache
import math
import os
import sys
from typing import Any

from microgrid.engine import Value
from microgrid.text import name_of

__all__ = ['check_forward', 'checked_backward', 'user_site']

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def check_forward(node: Value, operands: Any) -> None:
    """Raise FloatingPointError if node is NaN, or infinite from finite operands."""
    site = user_site()
    node._meta = {**(node._meta or {}), 'site': site}
    values = [v.data for v in _flat(operands) if type(v) is Value]
    bad = math.isnan(node.data) or (math.isinf(node.data) and all(map(math.isfinite, values)))
    if bad:
        shown = ', '.join(_show(v) for v in _flat(operands))
        raise FloatingPointError(
            f"detect_anomaly: {node.op or 'an op'} gave {node.data!r} from operands ({shown}), "
            f"created at {site}"
        )


def checked_backward(order: list[Value]) -> None:
    """backward's loop, raising FloatingPointError at the first edge whose gradient
    turns NaN, or infinite from a finite upstream gradient."""
    for node in reversed(order):
        g = node.grad
        edges = iter(node._edges)
        for parent, local in zip(edges, edges):
            contribution = local * g
            if not math.isfinite(contribution) and math.isfinite(g) or math.isnan(contribution):
                site = (node._meta or {}).get('site') or 'an unknown place'
                raise FloatingPointError(
                    f"detect_anomaly: backward through {node.op} node {name_of(node)} "
                    f"(created at {site}) gave its parent {name_of(parent)} the gradient "
                    f"{local!r} * {g!r} = {contribution!r}"
                )
            parent.grad += contribution


def user_site() -> str:
    """Where the user's code made the node: file:line of the first caller outside the
    microgrid package; in Jupyter, the cell's line and its code."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return 'an unknown place'
    filename, line = frame.f_code.co_filename, frame.f_lineno
    if 'ipykernel_' in filename:  # Jupyter keeps a cell's code in a temporary file
        code = linecache.getline(filename, line).strip()
        return f"line {line} of the cell: {code}" if code else f"line {line} of the cell"
    return f"{filename}:{line}"


def _flat(operands: Any) -> list:
    out: list = []
    for o in operands:
        out.extend(o) if isinstance(o, (list, tuple)) else out.append(o)
    return out


def _show(v: Any) -> str:
    return f"{name_of(v)}={v.data!r}" if type(v) is Value else repr(v)
