"""check=True: run fn eagerly beside the replay and say where they differ.

Each function returns None when eager and replay agree, else the message that the
compiled function raises as a TraceMismatchError. Values agree to a tolerance (numpy sums
in another order than the engine), never bit for bit.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from microgrid import text as names
from microgrid.compiler.arguments import Flat, rebuild, unique
from microgrid.compiler.program import Program, const_key, needed, record, values_in
from microgrid.engine import Value
from microgrid.text import fmt as _fmt

__all__ = ['backward_mismatch', 'forward_mismatch']

_CONTROL_FLOW = (
    "Does fn's Python control flow depend on data (if x.data > 0, max over Values, a "
    "number computed from .data)? A trace freezes it; run such a fn eagerly."
)


def _close(a: float, b: float, scale: float = 0.0) -> bool:
    if a == b or (a != a and b != b):
        return True
    return abs(a - b) <= 1e-9 * (max(abs(a), abs(b)) + scale) + 1e-12


def forward_mismatch(
    fn: Callable, static_argnums: frozenset, program: Program, args: tuple, flat: Flat, data: float
) -> tuple[str | None, Any]:
    """Run fn eagerly on args: (what differs from the replay's result data, or None; the
    eager result, for backward_mismatch)."""
    numbers = flat.numbers()
    placeholders = [Value(x) for x in numbers.tolist()]
    call_args = rebuild(args, static_argnums, placeholders, flat.values)
    recorded, out = record(fn, call_args)
    if type(out) is not Value:
        return f"fn returned a {type(out).__name__} this time, not a Value", out
    replaced = _replaced_parameter(program, recorded, out, placeholders, flat.values)
    if replaced is not None:
        return replaced, out
    ops = [op for _, op, _ in needed(recorded, out)]
    if ops != program.ops:
        i = next((i for i, (a, b) in enumerate(zip(ops, program.ops)) if a != b), None)
        where = (
            f"node {i} is '{ops[i]}' now but was '{program.ops[i]}' when traced"
            if i is not None
            else f"fn made {len(ops)} nodes now but {len(program.ops)} when traced"
        )
        return f"this call builds a different graph than the trace: {where}. {_CONTROL_FLOW}", out
    changed = _changed_constants(program, recorded, out)
    if changed is not None or not _close(data, out.data):
        return (
            f"the replay gives {_fmt(data)} but fn run eagerly gives {_fmt(out.data)}. "
            f"{changed or _CONTROL_FLOW}"
        ), out
    return None, out


def _replaced_parameter(
    program: Program, recorded: list, out: Value, placeholders: list, arg_values: list
) -> str | None:
    """The leaf Values fn reads now must be the ones the trace recorded (a Value replaced
    where the guards do not look is otherwise replayed silently)."""
    made = {id(r[0]) for r in recorded}
    seen = {id(v) for v in placeholders} | {id(v) for v in arg_values}
    now: list[Value] = []
    for _, op, operands in needed(recorded, out):
        for v in values_in(op, operands):
            if id(v) not in seen and id(v) not in made:
                seen.add(id(v))
                now.append(v)
    if id(out) not in made and id(out) not in seen:
        now.append(out)
    then = program.param_values
    if len(now) == len(then) and all(map(operator.is_, now, then)):
        return None
    i = next((i for i, (a, b) in enumerate(zip(now, then)) if a is not b), min(len(now), len(then)))
    if i < len(now) and i < len(then):
        what = (
            f"parameter {i} of the trace is {names.name_of(then[i])} (data {_fmt(then[i].data)}) "
            f"but fn now reads {names.name_of(now[i])} (data {_fmt(now[i].data)}) there"
        )
    else:
        what = f"fn now reads {len(now)} parameter Values, the trace recorded {len(then)}"
    return (
        "a parameter that the trace recorded is no longer the one fn "
        f"uses: {what}. A Value was replaced (or added) where the guards do not look (an "
        "attribute of an object that is not a Module, a module's global, a container past "
        "GUARD_BUDGET); the replay would use the old one. Call reset() on the compiled "
        "function after such a change, or pass the Values as arguments."
    )


def _changed_constants(program: Program, recorded: list, out: Value) -> str | None:
    """None if the numbers fn used that are not its arguments (read from globals, arrays,
    attributes, or computed from .data) are the ones the trace baked in, else what to
    tell the user."""
    consts: dict[tuple, None] = {}
    for _, op, operands in needed(recorded, out):
        for c in (operands[0] + operands[1]) if op == 'dot' else operands:
            if type(c) is not Value:
                consts.setdefault(const_key(c), None)
    now = np.array([k[1] for k in consts], dtype=np.float64)
    then = program.consts
    if now.shape == then.shape and np.array_equal(now, then, equal_nan=True):
        return None
    new = [c for c in now.tolist() if c == c and not (then == c).any()][:3]
    what = f" (now {', '.join(map(_fmt, new))})" if new else ''
    return (
        f"A number fn uses that is not one of its arguments changed since the trace{what}; "
        "the replay uses the old one. Was data changed in place where the guards do not "
        "look (an array held by an object's attribute, an array past ARRAY_GUARD_BUDGET)? "
        "Pass such data as an argument (the numbers and arrays in the arguments are read "
        "on every call), or call reset() after changing it. Or does Python control flow "
        "in fn depend on data (a number computed from .data)? A trace freezes it."
    )


def backward_mismatch(
    out: Value, arg_values: list, program: Program, run: Any, grad: float
) -> str | None:
    """backward() under check=True: run eager backward from out and the replay's backward;
    the leaves' gradients (accumulated once, by the replay) must agree."""
    leaves = unique(list(arg_values) + list(program.param_values))
    before = [v.grad for v in leaves]
    out.backward(grad)
    eager = [v.grad - b for v, b in zip(leaves, before)]
    for v, b in zip(leaves, before):
        v.grad = b
    if run is not None:
        program.backward(run, grad)
    replay = [v.grad - b for v, b in zip(leaves, before)]
    scale = max((abs(x) for x in eager if math.isfinite(x)), default=0.0)
    for v, e, r in zip(leaves, eager, replay):
        if not _close(e, r, scale):
            return (
                f"the gradient of {names.name_of(v)} is {_fmt(r)} by the replay but "
                f"{_fmt(e)} by eager backward. {_CONTROL_FLOW}"
            )
    return None
