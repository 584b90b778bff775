"""Second derivatives through dot(), against PyTorch float64 (issue 21).

create_graph must know which operands of a dot node were Values from the node's record,
never from the identity of numbers: shared floats, ``[c] * n``, literals and zeros are
all one float object in CPython, and used to make a linear function look quadratic."""

from __future__ import annotations

import copy
import math
import pickle

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

import microgrid
from microgrid import Value, nn

torch.set_default_dtype(torch.float64)


def tdot(ws, xs):
    """dot() for torch: the same expression on tensors and numbers."""
    return sum(w * x for w, x in zip(ws, xs))


def torch_hessian(fn, inputs: list[float]) -> list[list[float]]:
    t = torch.tensor(inputs)
    h = torch.autograd.functional.hessian(lambda v: fn(*v.unbind()), t)
    return h.tolist()


def assert_matrix_close(got, want, rel: float = 1e-12) -> None:
    assert len(got) == len(want)
    for row_got, row_want in zip(got, want):
        for g, w in zip(row_got, row_want):
            assert math.isclose(g, w, rel_tol=rel, abs_tol=1e-12), (got, want)


C = 0.7  # one float object, shared by every use below
SHARED = [C, C]

CASES = {
    # name: (function of the inputs written once for both libraries, inputs)
    'literals (issue 21)': (lambda dot, a, b: dot([a, b], [1.0, 1.0]), [1.0, 1.0]),
    'shared float': (lambda dot, a, b: dot([a, b], [C, C]), [C, C]),
    '[c] * n': (lambda dot, a, b: dot([a, b], [C] * 2), SHARED),
    'zeros': (lambda dot, a, b: dot([a, b], [0.0, 0.0]), [0.0, 0.0]),
    'numbers on the left': (lambda dot, a, b: dot([C, C], [a, b]), [C, C]),
    'a Value twice': (lambda dot, a, b: dot([a, a], [b, a]), [C, C]),
    'Values and numbers mixed': (lambda dot, a, b: dot([a, 2.0, b, C], [b, a, 3.0, C]), [C, C]),
    'a bias input': (lambda dot, a, b: dot([a, b, a], [b, C, 1.0]), [C, 1.0]),
    'squares': (lambda dot, a, b: dot([a, b], [a, b]), [0.0, 0.0]),
    'shared number, Values times Values': (lambda dot, a, b: dot([a, b, C], [b, a, C]), [C, C]),
    'nested dots': (
        lambda dot, a, b: dot([dot([a, b], [1.0, 1.0]), a], [dot([a, 1.0], [b, 1.0]), 1.0]),
        [1.0, 1.0],
    ),
}


@pytest.mark.parametrize('name', CASES)
def test_hessian_through_dot_matches_torch(name: str) -> None:
    fn, inputs = CASES[name]
    got = microgrid.hessian(lambda *v: fn(microgrid.dot, *v), inputs)
    assert_matrix_close(got, torch_hessian(lambda *v: fn(tdot, *v), inputs))


def test_the_hessian_of_a_linear_dot_is_zero() -> None:
    """The example of issue 21, which gave [[0, 1], [1, 0]]."""
    h = microgrid.hessian(lambda a, b: microgrid.dot([a, b], [1.0, 1.0]), [1.0, 1.0])
    assert h == [[0.0, 0.0], [0.0, 0.0]]


def least_squares(dot, rows, ys, ws):
    return sum((dot(ws, row) - y) ** 2 for row, y in zip(rows, ys))


def test_least_squares_hessian_at_zero_with_one_hot_rows() -> None:
    """H = 2 X^T X: the one-hot rows hold 0.0 and 1.0, the weights start at 0.0."""
    rows = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    ys = [1.0, 0.0, 2.0, 1.0]
    got = microgrid.hessian(lambda *w: least_squares(microgrid.dot, rows, ys, w), [0.0] * 3)
    want = torch_hessian(lambda *w: least_squares(tdot, rows, ys, w), [0.0] * 3)
    assert want == [[4.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]
    assert_matrix_close(got, want)


def neuron_with(ws: list, b) -> nn.Neuron:
    n = nn.Neuron(len(ws), activation='linear', seed=0)
    n.w, n.b = list(ws), b
    return n


def test_neuron_with_zeroed_weights_hessian_in_the_inputs() -> None:
    """(n(x) - 1)^2 with w = 0 is 2 w w^T = 0 in x (it was -2 off the diagonal)."""

    def loss_mg(*x):
        return (neuron_with([Value(0.0), Value(0.0)], Value(0.0))(list(x)) - 1.0) ** 2

    def loss_torch(*x):
        return (tdot([0.0, 0.0, 0.0], [*x, 1.0]) - 1.0) ** 2

    got = microgrid.hessian(loss_mg, [0.0, 0.0])
    assert_matrix_close(got, torch_hessian(loss_torch, [0.0, 0.0]))
    assert got == [[0.0, 0.0], [0.0, 0.0]]


def test_neuron_with_zeroed_weights_hessian_in_the_weights() -> None:
    """Weights and inputs hold one float object 0.0: it gave -2 off the diagonal."""
    zero = 0.0
    x = [zero, zero]

    def loss(dot, w0, w1, b):
        return (dot([w0, w1, b], [*x, 1.0]) - 1.0) ** 2

    got = microgrid.hessian(lambda *w: (neuron_with(w[:2], w[2])(x) - 1.0) ** 2, [zero] * 3)
    want = torch_hessian(lambda *w: loss(tdot, *w), [zero] * 3)
    assert_matrix_close(got, want)
    assert_matrix_close(microgrid.hessian(lambda *w: loss(microgrid.dot, *w), [zero] * 3), want)


@pytest.mark.parametrize('name', CASES)
def test_hvp_through_dot_matches_torch(name: str) -> None:
    fn, inputs = CASES[name]
    v = [0.3, -1.1]
    value, hv = microgrid.hvp(lambda *x: fn(microgrid.dot, *x), inputs, v)
    t_value, t_hv = torch.autograd.functional.hvp(
        lambda t: fn(tdot, *t.unbind()), torch.tensor(inputs), torch.tensor(v)
    )
    assert math.isclose(value, t_value.item(), rel_tol=1e-12, abs_tol=1e-12)
    for g, w in zip(hv, t_hv.tolist()):
        assert math.isclose(g, w, rel_tol=1e-12, abs_tol=1e-12), (hv, t_hv)


def third_derivative_torch(fn, inputs: list[float]) -> list[float]:
    xs = [torch.tensor(x, requires_grad=True) for x in inputs]
    (g,) = torch.autograd.grad(fn(*xs), xs[0], create_graph=True)
    (h,) = torch.autograd.grad(g, xs[0], create_graph=True)
    return (
        [0.0 if d is None else d.item() for d in torch.autograd.grad(h, xs, allow_unused=True)]
        if h.requires_grad
        else [0.0] * len(xs)
    )


def cubic(dot, a, b):
    """A cubic whose dots have shared floats, literals and a Value on both sides."""
    s = dot([a, b], [C, C])
    return dot([s, a, b], [dot([a, b], [a, 1.0]), s, 1.0])


@pytest.mark.parametrize('inputs', [[1.0, 1.0], [0.0, 0.0], [C, C], [0.5, -2.0]])
def test_grad_with_create_graph_twice_matches_torch(inputs: list[float]) -> None:
    xs = [Value(x) for x in inputs]
    (g,) = microgrid.grad(cubic(microgrid.dot, *xs), xs[0], create_graph=True)
    (h,) = microgrid.grad(g, xs[0], create_graph=True)
    got = [0.0 if d is None else d for d in microgrid.grad(h, xs, allow_unused=True)]
    want = third_derivative_torch(lambda *t: cubic(tdot, *t), inputs)
    for g3, w3 in zip(got, want):
        assert math.isclose(g3, w3, rel_tol=1e-12, abs_tol=1e-12), (got, want)


def test_backward_create_graph_through_a_dot_of_literals() -> None:
    """backward(create_graph=True), then backward through grad_value: the grad of a
    gradient that is a constant is zero, not a cross term."""
    a, b = Value(1.0), Value(1.0)
    microgrid.dot([a, b], [1.0, 1.0]).backward(create_graph=True)
    assert a.grad_value.data == 1.0
    assert microgrid.grad(a.grad_value, [a, b], allow_unused=True) == (None, None)


ZERO, ONE = 0.0, 1.0  # one float object each, shared by operands and inputs below
KINDS = ['a', 'b', 'zero', 'one', 'shared', 'other']
NUMBERS = st.sampled_from(['zero', 'one', 'shared'])


def operand(kind: str, a, b):
    return {'a': a, 'b': b, 'zero': ZERO, 'one': ONE, 'shared': C, 'other': -1.3}[kind]


@settings(max_examples=80, deadline=None)
@given(
    ws=st.lists(st.sampled_from(KINDS), min_size=1, max_size=4),
    xs=st.lists(st.one_of(NUMBERS, st.sampled_from(KINDS)), min_size=4, max_size=4),
    inputs=st.lists(st.sampled_from([ZERO, ONE, C]), min_size=2, max_size=2),
)
@example(ws=['a', 'b'], xs=['one', 'one', 'a', 'a'], inputs=[ONE, ONE])
@example(ws=['b', 'a', 'a'], xs=['zero', 'zero', 'b', 'a'], inputs=[ZERO, ZERO])
@example(ws=['shared', 'a', 'b'], xs=['b', 'shared', 'shared', 'a'], inputs=[C, C])
def test_hessian_of_random_dots_matches_torch(ws: list, xs: list, inputs: list) -> None:
    """Values, literals, shared floats and zeros in any place of a dot, at inputs that
    are the same float objects: d + d * d for d = dot(ws, xs), against torch."""

    def fn(dot, a, b):
        d = dot([operand(k, a, b) for k in ws], [operand(k, a, b) for k in xs[: len(ws)]])
        return d + d * d

    got = microgrid.hessian(lambda a, b: fn(microgrid.dot, a, b), inputs)
    # + 0 * a: a tensor even when every operand is a number (the Hessian is 0 then)
    assert_matrix_close(got, torch_hessian(lambda a, b: fn(tdot, a, b) + 0.0 * a, inputs))


@pytest.mark.parametrize('copy_of', [copy.deepcopy, lambda v: pickle.loads(pickle.dumps(v))])
def test_a_dot_node_is_not_copied_as_torch_refuses_non_leaf_tensors(copy_of) -> None:
    """Interior nodes are refused by copy and pickle (tests/engine has the leaf cases), so
    a shared, read-only record is never copied into another graph."""
    a, b = Value(1.0), Value(1.0)
    for out in (microgrid.dot([a, b], [b, a]), microgrid.dot([a, b, a], [b, a, 1.0])):
        with pytest.raises(RuntimeError, match='only leaf Values'):
            copy_of(out)


def test_a_shared_dot_record_refuses_changes_in_place() -> None:
    a, b = Value(1.0), Value(2.0)
    node = microgrid.dot([a, b], [b, a])
    with pytest.raises(TypeError, match='never change it in place'):
        node._meta['name'] = 'n'
    node.grad_value = Value(1.0)  # replaced, not changed: the record stays
    assert node._meta['dot'] == () and microgrid.dot([b, a], [a, b])._meta == {'dot': ()}
