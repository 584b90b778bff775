"""check_engine: test a student's own Value class against microgrid's.

Duck typing only: the student's class is used through ``StudentValue(x)``, the operators
and methods it defines, ``.backward()``, ``.data`` and ``.grad``. The same expressions are
built in both engines and every node's data and grad compared. A wrong engine is reported
(printed, and a falsy result returned), never raised.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from microgrid.engine import Value

__all__ = ['EngineCheck', 'check_engine']


@dataclass(frozen=True)
class _Op:
    name: str  # as shown: 'a + b', 'tanh(a)'
    needs: str  # the attribute the class must define
    arity: int
    fn: Callable[..., Any]
    rule: str  # the local derivative(s), for the explanation
    ok: Callable[..., bool] = lambda *xs: True  # the inputs where the op is tested


def _away_from_zero(*xs: float) -> bool:
    return abs(xs[-1]) > 0.2


_OPS = [
    _Op('a + b', '__add__', 2, lambda a, b: a + b, 'd/da = 1 and d/db = 1'),
    _Op('a * b', '__mul__', 2, lambda a, b: a * b, 'd/da = b and d/db = a'),
    _Op('a - b', '__sub__', 2, lambda a, b: a - b, 'd/da = 1 and d/db = -1'),
    _Op('a / b', '__truediv__', 2, lambda a, b: a / b, 'd/da = 1/b and d/db = -a/b**2',
        _away_from_zero),
    _Op('-a', '__neg__', 1, lambda a: -a, 'd/da = -1'),
    _Op('a ** 2', '__pow__', 1, lambda a: a**2, 'd/da = 2*a'),
    _Op('a ** 3', '__pow__', 1, lambda a: a**3, 'd/da = 3*a**2'),
    _Op('tanh(a)', 'tanh', 1, lambda a: a.tanh(), 'd/da = 1 - tanh(a)**2'),
    _Op('exp(a)', 'exp', 1, lambda a: a.exp(), 'd/da = exp(a)', lambda a: abs(a) < 5),
    _Op('relu(a)', 'relu', 1, lambda a: a.relu(), 'd/da = 1 if a > 0 else 0',
        lambda a: abs(a) > 1e-3),
    _Op('sigmoid(a)', 'sigmoid', 1, lambda a: a.sigmoid(), 'd/da = s * (1 - s), s = sigmoid(a)'),
    _Op('log(a)', 'log', 1, lambda a: a.log(), 'd/da = 1/a', lambda a: a > 0.2),
]  # fmt: skip

# Inputs for the one-op tests: distinct, so that swapped derivatives show.
_SAMPLES: dict[int, list[tuple[float, ...]]] = {
    1: [(0.7,), (-1.3,), (1.9,)],
    2: [(1.5, -0.8), (-0.6, 2.5)],
}


@dataclass
class EngineCheck:
    """The verdict of check_engine: truthy (``.ok``) when the engine agrees with microgrid."""

    ok: bool
    message: str
    ops: tuple[str, ...] = ()
    expressions: int = 0
    first_wrong_op: str | None = None
    details: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return self.message


class _Wrong(Exception):
    """One disagreement; its message is the explanation for the student."""

    def __init__(self, message: str, op: str | None = None) -> None:
        super().__init__(message)
        self.op = op


def _f(x: Any) -> str:
    return f'{x:.6g}' if isinstance(x, float) else repr(x)


def _close(a: Any, b: float) -> bool:
    if isinstance(a, bool) or not isinstance(a, (int, float)):
        return False
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _student(call: Callable[[], Any], doing: str) -> Any:
    try:
        return call()
    except Exception as error:
        raise _Wrong(f'{doing} raised {type(error).__name__}: {error}') from None


def _number(obj: Any, attr: str, what: str) -> float:
    value = _student(lambda: getattr(obj, attr), f'reading {what}.{attr}')
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Wrong(f'{what}.{attr} should be a number, got {type(value).__name__}: {value!r}')
    return float(value)


def _leaf(cls: type, x: float) -> Any:
    return _student(lambda: cls(x), f'{cls.__name__}({_f(x)})')


def _defined(cls: type) -> list[_Op]:
    return [op for op in _OPS if callable(getattr(cls, op.needs, None))]


def _one_op(cls: type, op: _Op, xs: tuple[float, ...]) -> None:
    """out = op(leaves); backward; data and each leaf's grad against microgrid."""
    name = cls.__name__
    args = ', '.join(f'{v}={_f(x)}' for v, x in zip('ab', xs))
    ref_leaves = [Value(x) for x in xs]
    ref = op.fn(*ref_leaves)
    ref.backward()
    leaves = [_leaf(cls, x) for x in xs]
    out = _student(lambda: op.fn(*leaves), f'{op.name} with {name} values ({args})')
    data = _number(out, 'data', op.name)
    if not _close(data, ref.data):
        raise _Wrong(
            f'the forward pass of {op.name} is wrong: at {args} it should give '
            f'{_f(ref.data)}, your {name} gives {_f(data)}.',
            op.name,
        )
    _student(out.backward, f'({op.name}).backward() at {args}')
    for v, leaf, r in zip('ab', leaves, ref_leaves):
        grad = _number(leaf, 'grad', v)
        if not _close(grad, r.grad):
            raise _Wrong(
                f'the local derivative of {op.name} is wrong: at {args}, d out/d {v} '
                f'should be {_f(r.grad)} ({op.rule}), your backward gives {_f(grad)}.'
                + (
                    ' (A grad of 0: does backward start with out.grad = 1 and reach this node?)'
                    if grad == 0
                    else ''
                ),
                op.name,
            )


def _reused(cls: type, op: _Op) -> None:
    """a op a: a node used twice must collect both contributions (+=, not =)."""
    ref_a = Value(1.5)
    ref = op.fn(ref_a, ref_a)
    ref.backward()
    a = _leaf(cls, 1.5)
    out = _student(lambda: op.fn(a, a), f'{op.name.replace("b", "a")} with one {cls.__name__}')
    _student(out.backward, f'({op.name.replace("b", "a")}).backward()')
    grad = _number(a, 'grad', 'a')
    if not _close(grad, ref_a.grad):
        raise _Wrong(
            f'{op.name.replace("b", "a")} at a=1.5: a.grad should be {_f(ref_a.grad)}, your '
            f'backward gives {_f(grad)}.\n  A node used twice gets one contribution per use: '
            'backward must ADD to a gradient (+=), not overwrite it (=).',
            op.name,
        )


def _build(cls: type, plan: list[tuple[_Op, tuple[int, ...]]], xs: list[float]) -> list[Any]:
    nodes = [_leaf(cls, x) for x in xs]
    for op, picks in plan:
        operands = [nodes[i] for i in picks]
        made = _student(lambda: op.fn(*operands), f'{op.name} in a bigger expression')  # noqa: B023
        nodes.append(made)
    return nodes


def _describe(plan: list[tuple[_Op, tuple[int, ...]]], n_leaves: int) -> list[str]:
    names = [f'x{i}' for i in range(n_leaves)]
    lines = []
    for k, (op, picks) in enumerate(plan):
        name = f'n{k}'
        expr = op.name
        for v, i in zip('ab', picks):
            expr = expr.replace(v, names[i])
        lines.append(f'{name} = {expr}')
        names.append(name)
    return lines


def _compare(cls: type, plan: list[tuple[_Op, tuple[int, ...]]], xs: Any, why: str) -> None:
    """Build the same graph in both engines; backward from the last node; compare all."""
    ref = [Value(x) for x in xs]
    for op, picks in plan:
        ref.append(op.fn(*[ref[i] for i in picks]))
    ref[-1].backward()
    nodes = _build(cls, plan, xs)
    lines = _describe(plan, len(xs))
    names = [f'x{i}' for i in range(len(xs))] + [f'n{k}' for k in range(len(plan))]
    leaves = ', '.join(f'x{i}={_f(x)}' for i, x in enumerate(xs))
    program = f'with {leaves}: ' + '; '.join(lines)
    for k, (node, r) in enumerate(zip(nodes, ref)):
        data = _number(node, 'data', names[k])
        if not _close(data, r.data):
            wrong_op = plan[k - len(xs)][0].name if k >= len(xs) else None
            raise _Wrong(f'{why}:\n  {program}\n  {names[k]} should be {_f(r.data)}, yours is '
                         f'{_f(data)}.', wrong_op)  # fmt: skip
    _student(nodes[-1].backward, f'{names[-1]}.backward() ({program})')
    # Walk from the root towards the leaves: the first wrong grad is the first place
    # where a wrong contribution arrived (everything after it in the graph is right).
    for k in reversed(range(len(nodes))):
        grad = _number(nodes[k], 'grad', names[k])
        if not _close(grad, ref[k].grad):
            users = [f'{names[len(xs) + j]} = {lines[j].split(" = ")[1]}'
                     for j, (_, picks) in enumerate(plan) if k in picks]  # fmt: skip
            raise _Wrong(
                f'{why}:\n  {program}; backward from {names[-1]}.\n  {names[k]}.grad should be '
                f'{_f(ref[k].grad)}, yours is {_f(grad)}. It gets its gradient from '
                + (', '.join(users) or 'nothing: it is the root, whose grad must be 1')
                + '.',
                None,
            )


def _order_case(binary: list[_Op]) -> list[tuple[_Op, tuple[int, ...]]]:
    """n0 = x0 . x1; n1 = n0 . x2; n2 = n0 . n1: n0 reaches n2 at two depths."""
    first, second, third = (binary * 3)[:3]
    return [(first, (0, 1)), (second, (3, 2)), (third, (3, 4))]


def _random_plan(
    rng: random.Random, ops: list[_Op], xs: list[float], size: int
) -> list[tuple[_Op, tuple[int, ...]]]:
    """A random graph on which microgrid's numbers stay finite and in every op's domain."""
    values = [Value(x) for x in xs]
    plan: list[tuple[_Op, tuple[int, ...]]] = []
    while len(plan) < size:
        for _ in range(50):
            op = rng.choice(ops)
            last = len(values) - 1  # chain through the newest node: one connected graph
            picks = (
                (last,) if op.arity == 1 else tuple(rng.sample([last, rng.randrange(last + 1)], 2))
            )
            datas = [values[i].data for i in picks]
            if not op.ok(*datas):
                continue
            try:
                out = op.fn(*[values[i] for i in picks])
            except (ValueError, ZeroDivisionError, OverflowError):
                continue
            if abs(out.data) < 20 and all(abs(v) < 20 for v in datas):
                break
        else:
            break
        values.append(out)
        plan.append((op, picks))
    return plan


def check_engine(
    student_class: type, *, expressions: int = 30, seed: int = 0, verbose: bool = True
) -> EngineCheck:
    """Test a home-made Value class against microgrid, op by op and on random graphs.

    Only the ops the class defines are tested (``+ * - /``, ``-a``, ``** 2``, ``** 3``,
    ``tanh exp relu sigmoid log``). Checks each op's forward value and local derivatives,
    a node used twice (``a + a``), the backward order on a graph where one node is
    reached at two depths, then ``expressions`` random graphs. Prints the verdict (with
    the first op or node that is wrong) when ``verbose``; returns a truthy EngineCheck
    when everything agrees. Never raises on a wrong engine.
    """
    name = getattr(student_class, '__name__', repr(student_class))
    ops = _defined(student_class) if isinstance(student_class, type) else []
    shown = tuple(dict.fromkeys(op.name for op in ops))
    if not ops:
        return _verdict(EngineCheck(
            False, f'✗ check_engine: {name} defines none of the ops it can test '
            '(__add__, __mul__, __sub__, __truediv__, __neg__, __pow__, tanh, exp, relu, '
            'sigmoid, log).'), verbose)  # fmt: skip
    if not callable(getattr(student_class, 'backward', None)):
        return _verdict(EngineCheck(False, f'✗ check_engine: {name} has no backward() method.',
                                    shown), verbose)  # fmt: skip
    binary = [op for op in ops if op.arity == 2]
    done = 0
    try:
        for op in ops:
            for xs in _SAMPLES[op.arity]:
                if op.ok(*xs):
                    _one_op(student_class, op, xs)
        for op in binary:
            _reused(student_class, op)
        if binary:
            _compare(student_class, _order_case(binary), [0.5, -1.5, 2.0],
                     'a node reached along two paths of different lengths (backward must '
                     'visit nodes in reverse topological order, each once)')  # fmt: skip
        rng = random.Random(seed)
        for _ in range(expressions):
            leaves = [round(rng.uniform(-2, 2), 3) for _ in range(rng.randint(1, 3))]
            plan = _random_plan(rng, ops, leaves, rng.randint(2, 8))
            if plan:
                _compare(student_class, plan, leaves, 'a random expression disagrees')
            done += 1
    except _Wrong as wrong:
        head = f'✗ check_engine: {name} is wrong' + (
            f' (first wrong op: {wrong.op}).' if wrong.op else '.'
        )
        message = head + '\n  ' + str(wrong)
        return _verdict(EngineCheck(False, message, shown, done, wrong.op), verbose)
    message = (f'✓ check_engine: {name} agrees with microgrid on {", ".join(shown)}, '
               f'a + a, the backward order, and {done} random expressions.')  # fmt: skip
    return _verdict(EngineCheck(True, message, shown, done), verbose)


def _verdict(result: EngineCheck, verbose: bool) -> EngineCheck:
    if verbose:
        print(result.message)
    return result
