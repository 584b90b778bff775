"""gradcheck(): backward() against central finite differences, naming the wrong node."""

from __future__ import annotations

import pytest
from catalogue import BINARY, UNARY

import microgrid
from microgrid import GradcheckError, Value, gradcheck

# -- custom ops made with from_op ---------------------------------------------------------


def cube(x: Value) -> Value:
    return Value.from_op(x.data**3, (x,), (3 * x.data**2,), 'cube')


def wrong_cube(x: Value) -> Value:
    return Value.from_op(x.data**3, (x,), (2 * x.data**2,), 'wrong_cube')


@pytest.mark.parametrize('op', UNARY, ids=lambda o: o.name)
def test_gradcheck_passes_every_unary_op(op) -> None:
    a = 0.7 if op.name not in ('relu', 'abs', 'leaky_relu') else -0.6
    assert gradcheck(op.mg, [Value(a)]) is True


@pytest.mark.parametrize('op', BINARY, ids=lambda o: o.name)
def test_gradcheck_passes_every_binary_op(op) -> None:
    assert gradcheck(op.mg, [Value(1.3), Value(0.8)]) is True


def test_gradcheck_passes_sum_dot_and_custom_ops() -> None:
    xs = [Value(v) for v in (0.3, -1.2, 2.0)]
    assert gradcheck(lambda *v: microgrid.sum(v) * microgrid.dot(v, v[::-1]), xs)
    assert gradcheck(lambda x: cube(x).tanh(), [Value(0.4)])


def test_gradcheck_catches_and_names_a_wrong_custom_op() -> None:
    x, w = Value(0.7, 'x'), Value(1.5, 'w')
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, w: (wrong_cube(x * w) + w).tanh(), [x, w])
    message = str(info.value)
    assert 'input 0 (x = 0.7)' in message and 'backward gives' in message
    assert "the 'wrong_cube' node" in message
    assert x.grad == 0.0 and x.data == 0.7  # the inputs are left as they were


def test_gradcheck_message_has_both_numbers() -> None:
    x = Value(2.0, 'x')
    with pytest.raises(GradcheckError) as info:
        gradcheck(wrong_cube, [x])
    first_line = str(info.value).splitlines()[0]
    assert 'backward gives 8.0, finite differences give 12.0000' in first_line


def test_gradcheck_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match='input 0 must be a Value'):
        gradcheck(lambda x: x, [1.0])
    with pytest.raises(TypeError, match='must return a Value'):
        gradcheck(lambda x: 1.0, [Value(1.0)])
