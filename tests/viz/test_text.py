"""microgrid.text: the names and numbers every instrument prints, so they all read alike."""

from __future__ import annotations

import pytest

import microgrid
from microgrid import Value
from microgrid.text import display_name, fmt, name_of, names_from, plain, wrap


def test_automatic_names_are_short_stable_and_yield_to_labels() -> None:
    x = Value(3.0)
    y = x * x
    text = [str(s) for s in y.backward_steps()]
    ny, nx = microgrid.name_of(y), microgrid.name_of(x)
    assert ny.startswith('v') and ny[1:].isdigit() and nx != ny
    assert text[1] == f'{nx}.grad += d{ny}/d{nx} * {ny}.grad = 3.0 * 1.0 = 3.0  ({nx}.grad = 3.0)'
    assert [str(s) for s in y.backward_steps()][0] == f'{ny}.grad = 1.0  (seed: d{ny}/d{ny})'
    y.label = 'y'
    assert str(next(y.backward_steps())) == 'y.grad = 1.0  (seed: dy/dy)'


@pytest.mark.parametrize(
    'x, text',
    [
        (0.5, '0.5'),
        (-3, '-3.0'),
        (1, '1.0'),
        (0.4999999999999998, '0.5'),
        (6.8813735870195432, '6.88137'),
        (1e-300, '1e-300'),
        (float('inf'), 'inf'),
        (float('nan'), 'nan'),
    ],
)
def test_one_number_format(x, text):
    assert fmt(x) == text


def test_the_calculator_asks_for_more_digits():
    assert fmt(0.7071067811865476, digits=10) == '0.7071067812'
    assert fmt(2.0, digits=10) == '2.0'


def test_composite_labels_are_wrapped_in_a_formula():
    assert plain('L0.n3.w1') and plain('w[2]') and not plain('x1*w1 + x2*w2')
    assert wrap('x1*w1') == '(x1*w1)' and wrap('x') == 'x'
    v = Value(1.0, 'x1*w1')
    assert display_name(v) == '(x1*w1)' and display_name(v, {v: 'n'}) == 'n'


def test_a_shown_node_keeps_its_automatic_name():
    v = Value(2.0) * 3.0
    first = name_of(v)
    assert name_of(v) == first and first.startswith('v')


def test_names_from_a_mapping_or_a_module():
    a = Value(1.0)
    assert names_from({'a': a, '_hidden': a, 'n': 3}) == {a: 'a'}
    model = microgrid.nn.MLP(2, [1], seed=0)
    names = names_from(model)
    assert sorted(names.values()) == ['L0.n0.b', 'L0.n0.w0', 'L0.n0.w1']
    with pytest.raises(TypeError, match='names must be a mapping'):
        names_from([a])
