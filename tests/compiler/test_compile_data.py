"""compile never replays stale data (issue 21).

Numbers fn reads from outside its arguments are baked into the trace as constants. The
guards compare the numpy arrays fn reaches (globals, closure cells, and the lists, dicts
and Modules reachable from them) byte for byte before each replay, so an array changed in
place brings a new trace. Where the guards do not look, check=True names the cause.
"""

from __future__ import annotations

import numpy as np
import pytest

import microgrid
from microgrid import Value, losses, nn

W = np.array([0.5, -0.25, 0.1])
X = np.array([[0.5, -1.0], [1.0, 2.0], [-0.3, 0.7], [2.0, 0.1]])
Y = [1.0, -1.0, 1.0, -1.0]
MODEL = nn.MLP(2, [4, 1], seed=0)


def _weighted(x):
    return (x * W[0] + W[1] * x * x + W[2]).tanh()


def _data_loss(scale):
    return losses.mse([MODEL(row) for row in X.tolist()], Y) * scale


def test_a_global_array_changed_in_place_is_not_replayed_stale():
    f = microgrid.compile(_weighted)
    x = Value(1.5)
    assert f(x).data == pytest.approx(_weighted(Value(1.5)).data, rel=1e-12)
    W[0] = 10.0  # in place: the same object, other numbers
    try:
        r = f(x)
        assert r.data == pytest.approx(_weighted(Value(1.5)).data, rel=1e-12)
        assert r.data == pytest.approx(np.tanh(1.5 * 10.0 - 0.25 * 2.25 + 0.1), rel=1e-12)
        assert f.traces == 2
    finally:
        W[0] = 0.5


def test_a_global_dataset_centred_in_place_is_not_replayed_stale():
    global X
    f = microgrid.compile(_data_loss)
    before = f(2.0).data
    assert before == pytest.approx(_data_loss(2.0).data, rel=1e-12)
    saved = X.copy()
    X -= X.mean(0)
    try:
        r = f(2.0)
        eager = _data_loss(2.0)
        assert r.data == pytest.approx(eager.data, rel=1e-12)
        assert abs(r.data - before) > 1e-3  # the data really changed the loss
        r.backward()
        compiled = [p.grad for p in MODEL.parameters()]
        MODEL.zero_grad()
        eager.backward()
        assert compiled == pytest.approx([p.grad for p in MODEL.parameters()], rel=1e-9)
        MODEL.zero_grad()
    finally:
        X = saved


def test_an_array_in_a_closed_over_dict_is_guarded_too():
    table = {'w': np.array([2.0])}
    f = microgrid.compile(lambda x: x * table['w'][0])
    assert f(Value(3.0)).data == 6.0
    table['w'][0] = 5.0
    assert f(Value(3.0)).data == 15.0


def test_an_unchanged_array_brings_no_new_trace():
    f = microgrid.compile(_weighted)
    for x in (0.5, 1.0, 2.0):
        f(Value(x))
    assert f.traces == 1


def test_check_names_an_array_changed_where_the_guards_do_not_look():
    class Holder:  # not a Module: its attributes are not guarded
        pass

    h = Holder()
    h.w = np.array([2.0, 1.0])
    f = microgrid.compile(lambda x: x * h.w[0] + h.w[1], check=True)
    assert f(Value(3.0)).data == 7.0
    h.w[0] = 4.0
    with pytest.raises(microgrid.TraceMismatchError) as info:
        f(Value(3.0))
    message = str(info.value)
    assert 'not one of its arguments changed since the trace (now 4.0)' in message
    assert 'pass such data as an argument' in message.lower()
    f.reset()
    assert f(Value(3.0)).data == 13.0


def test_a_loss_given_plain_number_targets_points_to_static_argnums():
    model = nn.MLP(2, [3, 1], seed=0)
    f = microgrid.compile(lambda xs, ys: losses.mse([model(x) for x in xs], ys))
    with pytest.raises(TypeError, match=r'static_argnums=\(1,\)'):
        f(X.tolist(), Y)
    g = microgrid.compile(lambda xs, ys: losses.mse([model(x) for x in xs], ys), static_argnums=1)
    eager = losses.mse([model(x) for x in X.tolist()], Y).data
    assert g(X.tolist(), Y).data == pytest.approx(eager, rel=1e-12)


def test_an_error_of_fn_itself_gets_no_static_argnums_hint():
    f = microgrid.compile(lambda x: x * [1.0, 2.0])  # wrong eagerly too
    with pytest.raises(TypeError) as info:
        f(Value(1.0))
    assert 'static_argnums' not in str(info.value)


def test_a_data_list_changed_in_place_between_calls_is_read_again():
    # the compiled function remembers the last list of numbers it converted; a list
    # changed in place (a row, an item, or its length) must be converted anew
    f = microgrid.compile(lambda xs: losses.mse([MODEL(x) for x in xs], Y))
    rows = [list(r) for r in X.tolist()]

    def eager():
        return losses.mse([MODEL(x) for x in rows], Y).data

    assert f(rows).data == pytest.approx(eager(), rel=1e-12)
    rows[1][0] = 7.0  # an item of a row
    assert f(rows).data == pytest.approx(eager(), rel=1e-12)
    rows[2] = [-4.0, 0.25]  # a row replaced
    assert f(rows).data == pytest.approx(eager(), rel=1e-12)
    arrays = [np.array(r) for r in rows]  # rows that are arrays: never remembered
    f(arrays)
    arrays[0][1] = 9.0
    rows[0][1] = 9.0
    assert f(arrays).data == pytest.approx(eager(), rel=1e-12)
    assert f.traces == 2  # a list of arrays is another structure than a list of lists
