"""The engine: every op's value and derivative, backward's semantics, errors."""

from __future__ import annotations

import math
import sys
from fractions import Fraction

import numpy as np
import pytest
import torch
from catalogue import BINARY, UNARY, Binary, Unary
from hypothesis import given, settings
from hypothesis import strategies as st

import microgrid
from microgrid import Value

torch.set_default_dtype(torch.float64)


def close(x: float, y: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    return math.isclose(x, y, rel_tol=rel, abs_tol=abs_)


def central_difference(f, a: float, h: float = 1e-6) -> float:
    return (f(a + h) - f(a - h)) / (2 * h)


# -- every op against its closed form, PyTorch and finite differences --------------


@pytest.mark.parametrize('op', UNARY, ids=lambda o: o.name)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_unary_op_value_and_derivative(op: Unary, data) -> None:
    a = data.draw(op.domain)
    x = Value(a)
    y = op.mg(x)
    y.backward()
    assert close(y.data, op.f(a)), (y.data, op.f(a))
    assert close(x.grad, op.df(a)), (x.grad, op.df(a))
    # the recorded local derivative is the same number backward used
    assert y.parents == (x,) and close(y.local_grads[0], op.df(a))
    # PyTorch float64
    t = torch.tensor(a, requires_grad=True)
    out = op.th(t)
    out.backward()
    assert close(y.data, out.item()), (y.data, out.item())
    assert close(x.grad, t.grad.item()), (x.grad, t.grad.item())


@pytest.mark.parametrize('op', BINARY, ids=lambda o: o.name)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_binary_op_value_and_derivatives(op: Binary, data) -> None:
    a, b = data.draw(op.domain)
    x, y = Value(a), Value(b)
    z = op.mg(x, y)
    z.backward()
    assert close(z.data, op.f(a, b))
    assert close(x.grad, op.dfa(a, b)) and close(y.grad, op.dfb(a, b))
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    tz = op.th(tx, ty)
    tz.backward()
    assert close(z.data, tz.item())
    assert close(x.grad, tx.grad.item()) and close(y.grad, ty.grad.item())
    # a constant on either side is not a node, and gives the same derivative
    left, right = op.mg(a, y), op.mg(x, b)
    assert left.parents == (y,) and right.parents == (x,)
    assert close(left.data, z.data) and close(right.data, z.data)
    assert close(left.local_grads[0], op.dfb(a, b)) and close(right.local_grads[0], op.dfa(a, b))


@pytest.mark.parametrize('op', UNARY, ids=lambda o: o.name)
def test_unary_derivative_matches_finite_differences(op: Unary) -> None:
    for a in (-1.7, -0.3, 0.4, 1.3, 2.9):
        if op.name in ('log', 'sqrt', 'cube-root') and a <= 0:
            continue
        x = Value(a)
        op.mg(x).backward()
        numeric = central_difference(lambda v: op.mg(Value(v)).data, a)
        assert math.isclose(x.grad, numeric, rel_tol=1e-6, abs_tol=1e-8), (a, x.grad, numeric)


# -- random expression trees against PyTorch ------------------------------------------

# Each tree node is (op name, children); leaves are ('x', i) or ('c', constant).
# Ops are wrapped so that every generated tree is defined everywhere.
SAFE = {
    'add': (2, lambda a, b: a + b),
    'sub': (2, lambda a, b: a - b),
    'mul': (2, lambda a, b: a * b),
    'div': (2, lambda a, b: a / (b * b + 1.0)),
    'pow': (2, lambda a, b: (a * a + 0.5) ** (b.tanh() if hasattr(b, 'tanh') else math.tanh(b))),
    'ipow': (1, lambda a: a**3),
    'neg': (1, lambda a: -a),
    'exp': (1, lambda a: a.tanh().exp()),
    'log': (1, lambda a: (a * a + 0.25).log()),
    'sqrt': (1, lambda a: (a * a + 0.1).sqrt()),
    'tanh': (1, lambda a: a.tanh()),
    'sigmoid': (1, lambda a: a.sigmoid()),
    'softplus': (1, lambda a: a.softplus()),
    'sin': (1, lambda a: a.sin()),
    'cos': (1, lambda a: a.cos()),
    'relu': (1, lambda a: a.relu()),
    'leaky_relu': (1, lambda a: a.leaky_relu(0.2)),
    'abs': (1, lambda a: abs(a)),
}

TORCH_OVERRIDES = {
    # the stable form, as microgrid's: softplus(threshold=1e6) overflows to inf at 1000
    'softplus': lambda a: torch.logaddexp(a, torch.zeros_like(a)),
    'leaky_relu': lambda a: torch.nn.functional.leaky_relu(a, 0.2),
}

N_INPUTS = 3


def trees(max_leaves: int = 12):
    leaf = st.one_of(
        st.tuples(st.just('x'), st.integers(0, N_INPUTS - 1)),
        st.tuples(st.just('c'), st.floats(-3, 3, allow_nan=False).filter(lambda c: c != 0)),
    )

    def extend(children):
        unary = st.tuples(st.sampled_from([k for k, v in SAFE.items() if v[0] == 1]), children)
        binary = st.tuples(
            st.sampled_from([k for k, v in SAFE.items() if v[0] == 2]), children, children
        )
        return st.one_of(unary, binary)

    return st.recursive(leaf, extend, max_leaves=max_leaves)


def evaluate(tree, xs, torch_mode: bool = False):
    kind = tree[0]
    if kind == 'x':
        return xs[tree[1]]
    if kind == 'c':
        return tree[1]
    args = [evaluate(t, xs, torch_mode) for t in tree[1:]]
    if not isinstance(args[0], (Value, torch.Tensor)):  # a constant subtree: make it a leaf
        args[0] = torch.tensor(args[0]) if torch_mode else Value(args[0])
    if torch_mode and kind in TORCH_OVERRIDES:
        return TORCH_OVERRIDES[kind](*args)
    return SAFE[kind][1](*args)


def has_kink_near_zero(tree, xs) -> bool:
    """relu, leaky_relu and abs are not differentiable at 0: skip inputs that sit there."""
    kind = tree[0]
    if kind in ('x', 'c'):
        return False
    if kind in ('relu', 'leaky_relu', 'abs'):
        inner = evaluate(tree[1], [Value(v) for v in xs])
        if abs(inner.data if isinstance(inner, Value) else inner) < 1e-6:
            return True
    return any(has_kink_near_zero(t, xs) for t in tree[1:])


@settings(max_examples=300, deadline=None)
@given(tree=trees(), inputs=st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=3))
def test_random_expression_trees_match_torch(tree, inputs) -> None:
    if has_kink_near_zero(tree, inputs):
        return
    xs = [Value(v) for v in inputs]
    out = evaluate(tree, xs)
    if not isinstance(out, Value):
        return  # the tree was a lone constant
    out.backward()
    ts = [torch.tensor(v, requires_grad=True) for v in inputs]
    tout = evaluate(tree, ts, torch_mode=True)
    if not tout.requires_grad:
        return
    tout.backward()
    assert math.isclose(out.data, tout.item(), rel_tol=1e-9, abs_tol=1e-12), (out.data, tout)
    for x, t in zip(xs, ts):
        tg = 0.0 if t.grad is None else t.grad.item()
        assert math.isclose(x.grad, tg, rel_tol=1e-9, abs_tol=1e-9), (x.grad, tg)


# -- the graph ------------------------------------------------------------------------


def test_node_records_parents_local_grads_and_op() -> None:
    a, b = Value(2.0, 'a'), Value(-3.0, 'b')
    c = a * b
    assert (c.data, c.op, c.parents, c.local_grads) == (-6.0, '*', (a, b), (-3.0, 2.0))
    assert a.op == '' and a.parents == () and a.local_grads == () and a.grad == 0.0
    assert not hasattr(c, '__dict__')  # __slots__: no per-node dict
    d = c.tanh()
    assert d.local_grads == pytest.approx((1 - math.tanh(-6.0) ** 2,), rel=1e-15)


def test_classic_neuron() -> None:
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    assert o.data == pytest.approx(math.sqrt(0.5), rel=1e-12)
    grads = [v.grad for v in (x1, w1, x2, w2, b)]
    assert grads == pytest.approx([-1.5, 1.0, 0.5, 0.0, 0.5], abs=1e-12)


def test_reused_nodes_accumulate() -> None:
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0
    a.grad = 0.0
    c = a * a
    c.backward()
    assert a.grad == 6.0
    a.grad = 0.0
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0 and b.grad == 2.0


def test_second_backward_doubles_leaves_but_not_interior_nodes() -> None:
    a, w = Value(1.5), Value(-2.0)
    h = a * w
    y = h.tanh() * 3.0
    y.backward()
    first = (a.grad, w.grad, h.grad, y.grad)
    y.backward()
    assert a.grad == pytest.approx(2 * first[0]) and w.grad == pytest.approx(2 * first[1])
    assert (h.grad, y.grad) == (first[2], first[3])


def test_backward_with_a_seed_gradient() -> None:
    x = Value(2.0)
    y = x * x
    y.backward(grad=0.5)
    assert x.grad == 2.0 and y.grad == 0.5


def test_backward_on_a_leaf_accumulates() -> None:
    x = Value(2.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_interior_node_shared_by_two_roots_holds_latest_call() -> None:
    x = Value(1.0)
    h = x * 2.0
    y1, y2 = h * 3.0, h * 5.0
    y1.backward()
    assert h.grad == 3.0
    y2.backward()
    assert h.grad == 5.0 and x.grad == 2 * 3.0 + 2 * 5.0


def test_no_grad_records_no_parents() -> None:
    a = Value(2.0)
    with microgrid.no_grad():
        b = a * 3.0 + 1.0
        s = microgrid.sum([a, b])
    assert b.data == 7.0 and b.parents == () and b.op == '' and s.parents == ()
    c = a * 3.0  # recording is back on
    assert c.parents == (a,)
    with microgrid.no_grad():
        with microgrid.no_grad():
            pass
        assert (a * a).parents == ()  # an inner exit does not switch recording back on


def test_sum_is_one_node() -> None:
    xs = [Value(float(i)) for i in range(5)]
    s = microgrid.sum([*xs, 10.0, xs[0]])
    assert s.op == 'sum' and s.data == 20.0
    assert s.parents == (*xs, xs[0]) and s.local_grads == (1.0,) * 6
    (s * s).backward()
    assert [x.grad for x in xs] == [80.0, 40.0, 40.0, 40.0, 40.0]
    assert microgrid.sum([]).data == 0.0


def test_dot_is_one_node() -> None:
    ws = [Value(1.0), Value(-2.0), Value(0.5)]
    xs = [Value(3.0), 4.0, Value(-1.0)]
    d = microgrid.dot(ws, xs)
    assert d.op == 'dot' and d.data == 3.0 - 8.0 - 0.5
    assert len(d.parents) == 5  # three weights, two Value inputs: constants are not nodes
    d.backward()
    assert [w.grad for w in ws] == [3.0, 4.0, -1.0]
    assert (xs[0].grad, xs[2].grad) == (1.0, 0.5)
    with pytest.raises(ValueError, match='differ in length'):
        microgrid.dot(ws, xs[:2])


def test_dot_matches_torch() -> None:
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=20), rng.normal(size=20)
    ws, xs = [Value(v) for v in w], [Value(v) for v in x]
    d = microgrid.dot(ws, xs).tanh()
    d.backward()
    tw, tx = torch.tensor(w, requires_grad=True), torch.tensor(x, requires_grad=True)
    td = torch.dot(tw, tx).tanh()
    td.backward()
    assert d.data == pytest.approx(td.item(), rel=1e-12)
    assert [v.grad for v in ws] == pytest.approx(tw.grad.tolist(), rel=1e-9)
    assert [v.grad for v in xs] == pytest.approx(tx.grad.tolist(), rel=1e-9)


def test_million_node_chain_at_default_recursion_limit() -> None:
    assert sys.getrecursionlimit() <= 1000 or True  # whatever the limit, no recursion is used
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y * 1.000001
    y.backward()
    assert y.data == pytest.approx(1.000001**1_000_000, rel=1e-9)
    assert x.grad == pytest.approx(1.000001**1_000_000, rel=1e-9)


def test_deep_chain_of_unary_ops() -> None:
    x = Value(0.5)
    y = x
    for _ in range(20_000):
        y = y.sin()
    y.backward()
    # d/dx sin^n(x) = prod cos(sin^k(x)): check against a float loop
    a, g = 0.5, 1.0
    for _ in range(20_000):
        g *= math.cos(a)
        a = math.sin(a)
    assert y.data == pytest.approx(a, rel=1e-12) and x.grad == pytest.approx(g, rel=1e-9)


# -- stability --------------------------------------------------------------------------


@pytest.mark.parametrize('a', [-1000.0, 1000.0])
def test_sigmoid_tanh_softplus_are_stable(a: float) -> None:
    for fn, value, grad in (
        (Value.sigmoid, float(a > 0), 0.0),
        (Value.tanh, math.copysign(1.0, a), 0.0),
        (Value.softplus, max(a, 0.0), float(a > 0)),
    ):
        x = Value(a)
        y = fn(x)
        y.backward()
        assert math.isfinite(y.data) and math.isfinite(x.grad)
        assert y.data == value and x.grad == grad


# -- the Value constructor and operand types --------------------------------------------


@pytest.mark.parametrize(
    'data',
    [3, 2.5, True, np.float64(1.5), np.float32(1.5), np.int64(7), Fraction(1, 4)],
    ids=lambda d: type(d).__name__,
)
def test_value_accepts_real_numbers(data) -> None:
    v = Value(data)
    assert type(v.data) is float and v.data == float(data)
    assert type((v + data).data) is float and (v + data).parents == (v,)


@pytest.mark.parametrize(
    'data', ['1.0', None, 1 + 2j, np.complex128(1), [1.0], object(), b'1', Value(1.0)]
)
def test_value_rejects_non_numbers_naming_the_type(data) -> None:
    with pytest.raises(TypeError, match=type(data).__name__):
        Value(data)


def test_operations_with_non_numbers_raise_type_error() -> None:
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+: 'Value' and 'str'"):
        Value(1) + 'x'
    with pytest.raises(TypeError, match=r"for \*: 'NoneType' and 'Value'"):
        None * Value(1)
    with pytest.raises(TypeError, match='complex'):
        Value(1) ** (1 + 1j)
    with pytest.raises(TypeError, match='sum'):
        microgrid.sum([Value(1), 'x'])
    with pytest.raises(TypeError, match='slope'):
        Value(1).leaky_relu('x')
    with pytest.raises(TypeError, match='label'):
        Value(1, label=3)


# -- errors follow Python's math module -------------------------------------------------


@pytest.mark.parametrize(
    'make, error, message',
    [
        (lambda: Value(0.0).log(), ValueError, r'log\(0\.0\).*domain'),
        (lambda: Value(-2.0).log(), ValueError, r'log\(-2\.0\).*domain'),
        (lambda: Value(-1.0).sqrt(), ValueError, r'sqrt\(-1\.0\).*domain'),
        (lambda: Value(1.0) / 0, ZeroDivisionError, r'division by zero in 1\.0 / 0\.0'),
        (lambda: 1 / Value(0.0), ZeroDivisionError, r'division by zero in 1\.0 / 0\.0'),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, r'0\.0 \*\* -1\.0'),
        (lambda: 0 ** Value(-2.0), ZeroDivisionError, r'0\.0 \*\* -2\.0'),
        (lambda: Value(-8.0) ** (1 / 3), ValueError, r'-8\.0 \*\* 0\.333.*negative base'),
        (lambda: Value(1000.0).exp(), OverflowError, r'exp\(1000\.0\).*range'),
        (lambda: Value(10.0) ** 400, OverflowError, r'range.*10\.0 \*\* 400\.0'),
    ],
)
def test_math_errors_name_the_op_and_operand(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()


def test_edge_derivatives_follow_torch() -> None:
    # sqrt at 0 has an infinite slope; x**0 has slope 0; relu and abs have slope 0 at 0.
    for make, expected in (
        (lambda x: x.sqrt(), math.inf),
        (lambda x: x**0, 0.0),
        (lambda x: x.relu(), 0.0),
        (lambda x: abs(x), 0.0),
        (lambda x: x**2, 0.0),
        (lambda x: x**1, 1.0),
    ):
        x = Value(0.0)
        make(x).backward()
        t = torch.tensor(0.0, requires_grad=True)
        make(t).backward()
        assert x.grad == expected == t.grad.item()
    x, y = Value(-2.0), Value(3.0)
    (x**y).backward()
    assert x.grad == 12.0 and math.isnan(y.grad)  # d/dy (-2)^y is undefined, as in torch


def test_repr_is_one_short_line() -> None:
    a = Value(2.0, label='a')
    b = a * 3
    b.backward()
    assert repr(a) == "Value('a', data=2, grad=3)"
    assert repr(b) == "Value(data=6, grad=1, op='*')"
    assert f'{b:.2f}' == '6.00'


def test_comparisons_look_at_data() -> None:
    a, b = Value(1.0), Value(2.0)
    assert a < b and b > a and a <= 1 and b >= 2.0
    assert max([a, b]) is b
    assert len({a, Value(1.0)}) == 2  # identity hashing: equal data, different nodes


def test_import_is_light() -> None:
    import subprocess

    code = (
        'import sys, microgrid; '
        "heavy = [m for m in ('numpy', 'torch', 'graphviz', 'matplotlib', 'tqdm', 'PIL') "
        'if m in sys.modules]; print(heavy)'
    )
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '[]'
