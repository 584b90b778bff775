"""microgrid.hessian, the default: a replay where it is exact, the eager path elsewhere (issue 25).

A trace freezes Python's decisions about the numbers it traced. So a fn that makes one
(``if x.data > 0``, ``x > 0``, ``max()``, ...) must get eager's exact Hessian at points on
both sides, on every call; a branch-free loss must agree with torch float64 on the first,
the second (traced) and later (replayed) calls.
"""

from __future__ import annotations

import math
import threading

import pytest

import microgrid
from microgrid import Value, detect_anomaly, losses, nn, no_grad
from microgrid.autograd import functional, tracing
from microgrid.compiler import second_order
from microgrid.engine import topological_order

torch = pytest.importorskip('torch', reason='torch (a dev dependency) is the reference here')

hessian = microgrid.hessian
eager = functional.hessian


def test_the_top_level_hessian_is_the_dispatching_one_and_autograd_stays_eager():
    assert microgrid.hessian is second_order.hessian
    assert microgrid.compiler.hessian is second_order.hessian
    assert functional.hessian.__module__ == 'microgrid.autograd.functional'
    assert microgrid.higher.hessian is functional.hessian


def _state(fn):
    return second_order._SEEN.get(fn)


def _replayed(fn) -> bool:
    state = _state(fn)
    return isinstance(state, second_order._Replay) and state.program is not None


# -- Python decisions about traced numbers: eager, exactly, at every call -------------------


def _data(x):
    return x * x if x.data > 0 else -(x**3)


def _compare(x):
    return x * x if x > 0 else -(x**3)


def _reflected(x):
    return x * x if 0 < x else -(x**3)  # int.__lt__ gives up: x.__gt__(0) decides


def _max(x):
    return max(x, 1 - x) ** 3


def _sorted(x):
    return sorted([x, 1 - x])[0] ** 3


def _node_data(x):
    y = x * x * x
    return y * x if y.data > 0 else y * 3


def _truth(x):
    return x * x if x + 1.0 else x**4  # bool(): x + 1 != 0


def _formatted(x):
    return -(x**3) if f"{x:.1f}".startswith('-') else x * x


def _data_as_constant(x):
    return Value(x.data) * x * x  # eager: 2 * x; a replay would keep the traced x


def _under_no_grad(x):
    with no_grad():
        c = x * 1.0  # a number taken out of the graph
    return c * x * x


def _backward_inside(x):
    y = x * x * x
    y.backward()  # x.grad = 3 x^2 is a number fn may read
    return y * 2


def _type_test(x):
    return x * x if type(x) is Value else x * x * x  # not a read: the graph's shape tells


def _local_grads(x):
    y = x.tanh()
    return y * x if y.local_grads[0] > 0.5 else y * y


BRANCHY = [
    _data, _compare, _reflected, _max, _sorted, _node_data, _truth, _formatted,
    _data_as_constant, _under_no_grad, _backward_inside, _type_test, _local_grads,
]  # fmt: skip


@pytest.mark.parametrize('fn', BRANCHY, ids=lambda f: f.__name__)
def test_a_decision_about_a_traced_number_gives_eagers_hessian_on_both_sides(fn):
    points = [1.0, 1.0, -1.0, 2.0, -0.5, 0.25, -2.0, 1.0]
    got = [hessian(fn, p) for p in points]
    assert got == [eager(fn, p) for p in points]
    assert _state(fn) is second_order._EAGER  # and it stays eager
    assert not _replayed(fn)


def test_the_branchy_example_of_the_issue():
    def f(x):
        return x * x if x.data > 0 else -(x**3)

    assert [hessian(f, 1.0), hessian(f, 1.0), hessian(f, -1.0)] == [2.0, 2.0, 6.0]


def test_an_op_is_not_a_decision_abs_and_relu_are_replayed_while_their_pieces_hold():
    def f(x, y):
        return abs(x) ** 3 + (x * y).relu() * y * y

    # the symbolic derivatives of abs and relu are constants chosen by their operand's
    # sign: a sign that changes brings a new trace (traces 1, 2, 3 below)
    points = [[1.0, 2.0], [1.0, 2.0], [0.5, 3.0], [2.0, 1.0], [-1.0, 2.0], [-2.0, 0.5]]
    points += [[-0.5, -3.0], [-1.0, -1.0], [-2.0, -0.25]]
    for p in points:
        assert _close(hessian(f, p), eager(f, p)), p
    assert _replayed(f) and _state(f).compiled.traces == 3


def test_reads_of_other_threads_values_or_plain_values_do_not_count():
    outside = Value(3.0)

    def f(x):
        assert outside.data == 3.0 and outside > 1  # not a traced number
        return outside * x * x

    for p in (1.0, 1.0, -2.0):
        assert math.isclose(hessian(f, p), 6.0, rel_tol=1e-15)
    assert _replayed(f)


# -- a branch-free loss: torch float64, on every call ------------------------------------------

X = [[0.5, -1.0], [1.0, 2.0], [-0.3, 0.7], [2.0, 0.1], [-1.2, -0.4], [0.2, 0.3]]
Y = [1.0, -1.0, 1.0, -1.0, 1.0, -1.0]


def _model_and_loss():
    model = nn.MLP(2, [4, 4, 1], activation='tanh', seed=5)
    first = model.layers[0].neurons[0]
    start = [p.data for p in (*first.w, first.b)]

    def loss_of(w0, w1, b):
        first.w[0], first.w[1], first.b = w0, w1, b  # the side effect of the benchmark's fn
        return losses.hinge([model(x) for x in X], Y) + 1e-3 * losses.l2(model)

    return model, loss_of, start


def _torch_hessian(model, point):
    layers = [
        (
            torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64),
            torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64),
        )
        for layer in model.layers
    ]
    X_t = torch.tensor(X, dtype=torch.float64)
    y_t = torch.tensor(Y, dtype=torch.float64)

    def f(p):
        (W1, b1), (W2, b2), (W3, b3) = layers
        W1 = torch.cat([p[:2][None, :], W1[1:]])
        b1 = torch.cat([p[2:], b1[1:]])
        a = torch.tanh(torch.tanh(X_t @ W1.T + b1) @ W2.T + b2)
        s = (a @ W3.T + b3)[:, 0]
        l2 = sum((t * t).sum() for t in (W1, b1, W2, b2, W3, b3))
        return torch.relu(1.0 - y_t * s).mean() + 1e-3 * l2

    p = torch.tensor(point, dtype=torch.float64)
    return torch.autograd.functional.hessian(f, p).tolist()


def _close(a, b):
    a, b = (a, b) if isinstance(a, list) else ([[a]], [[b]])
    return all(
        math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-13)
        for ra, rb in zip(a, b)
        for x, y in zip(ra, rb)
    )


def test_a_branch_free_mlp_loss_agrees_with_torch_on_the_first_second_and_later_calls():
    model, loss_of, start = _model_and_loss()
    moved = [s + 0.3 for s in start]
    for i, point in enumerate([start, start, start, moved, start, moved]):
        values = [Value(x) for x in point]
        H = hessian(loss_of, values)
        assert _close(H, _torch_hessian(model, point)), i
        assert all(v.grad == 0.0 for v in values)
    assert _replayed(loss_of) and _state(loss_of).compiled.traces == 1
    assert all(p.grad == 0.0 and type(p) is Value for p in model.parameters())
    assert all(type(p) is Value for p in model.layers[0].neurons[0].w)  # plain again


class _Counter:
    calls = 0


def test_replays_do_not_run_fn_its_side_effects_happen_on_the_first_two_calls():
    counter = _Counter()

    def f(x, y):
        counter.calls += 1  # an attribute of a plain object: not guarded
        return (x * y).tanh() * x

    for _ in range(5):
        assert _close(hessian(f, [0.3, -0.8]), eager(f, [0.3, -0.8]))
    assert counter.calls == 2 + 5  # eager, traced; then only the five eager references

    calls = []  # a list fn reaches is guarded: changed by every call, it brings new
    # traces, and after MAX_TRACES_IN_A_ROW of them fn is eager (every call runs it)

    def g(x, y):
        calls.append(1)
        return (x * y).tanh() * x

    for _ in range(6):
        assert _close(hessian(g, [0.3, -0.8]), eager(g, [0.3, -0.8]))
    assert len(calls) == 6 + 6 and _state(g) is second_order._EAGER


# -- what the trace assumed changes: a new trace --------------------------------------------

SCALE = 2.0


def test_a_rebound_global_brings_a_new_trace():
    global SCALE

    def f(x):
        return SCALE * x * x * x

    try:
        assert [hessian(f, 1.0) for _ in range(3)] == [12.0] * 3
        SCALE = 5.0
        assert math.isclose(hessian(f, 1.0), 30.0, rel_tol=1e-15)
        assert _state(f).compiled.traces == 2
    finally:
        SCALE = 2.0


def test_a_parameters_number_and_a_decision_about_it_are_followed():
    w = Value(2.0)

    def f(x):
        return w * x * x * x if w.data > 0 else -(x**4)  # w is not traced, but compared

    assert [hessian(f, 1.0) for _ in range(3)] == [12.0] * 3
    w.data = 3.0
    assert math.isclose(hessian(f, 1.0), 18.0, rel_tol=1e-15)
    w.data = -1.0
    assert hessian(f, 1.0) == eager(f, 1.0) == -12.0


def test_a_fn_whose_numbers_change_on_every_call_becomes_eager():
    w = Value(1.0)

    def f(x):
        return w * x * x * x

    for i in range(2 + second_order.MAX_TRACES_IN_A_ROW):
        w.data = 1.0 + i
        assert math.isclose(hessian(f, 1.0), 6.0 * (1 + i), rel_tol=1e-15)
    assert _state(f) is second_order._EAGER


# -- where the replay cannot run: the eager answer, or eager's error ----------------------------


def test_fallbacks_custom_op_anomaly_and_a_number():
    def custom(x):
        a = x._data  # (the private slot: not a watched read; the op stops the replay)
        return Value.from_op(a**3, [x], [3 * a**2], 'cube') + x * x

    for _ in range(3):  # eager's error each time
        with pytest.raises(NotImplementedError, match="'cube' node .* no symbolic derivative"):
            hessian(custom, 2.0)

    def const(x, y):
        return 3.0

    assert [hessian(const, [1.0, 2.0]) for _ in range(3)] == [[[0.0, 0.0], [0.0, 0.0]]] * 3

    def f(x):
        return (x * x * x).tanh()

    with detect_anomaly():
        got = [hessian(f, 0.3) for _ in range(3)]
    assert got == [eager(f, 0.3)] * 3
    assert _state(f).compiled is None  # nothing was traced under detect_anomaly()
    with detect_anomaly():
        with pytest.raises(FloatingPointError):
            hessian(lambda x: x * math.inf * x, 1.0)


def test_bad_input_gets_eagers_error():
    def f(x):
        return x * x

    for _ in range(3):
        with pytest.raises(TypeError, match='hessian: input 0'):
            hessian(f, ['a'])


# -- threads: only the tracing thread's Values are watched ----------------------------------------


def test_another_thread_building_graphs_during_a_trace_sees_plain_values():
    started, done = threading.Event(), threading.Event()
    seen: dict = {}

    def other():
        started.wait(10)
        a = Value(0.5)
        out = (a * a).tanh() + a.exp() * 2
        nodes = topological_order(out)
        seen['types'] = {type(v) for v in [a, out, *nodes]}
        seen['read'] = out.data > 0  # a read in another thread: not the trace's
        done.set()

    thread = threading.Thread(target=other)
    thread.start()

    def f(x, y):
        z = (x * y).tanh()
        if tracing.is_tracing():  # the traced call: let the other thread work now
            assert type(z) is tracing.Watched
            started.set()
            done.wait(10)
        return z * x

    try:
        for _ in range(3):
            assert _close(hessian(f, [0.3, 0.6]), eager(f, [0.3, 0.6]))
    finally:
        started.set()
        thread.join(10)
    assert seen['types'] == {Value} and seen['read'] is True
    assert _replayed(f)


def test_watch_reads_restores_plain_values_even_when_fn_raises():
    x = Value(1.0)
    made = []
    with pytest.raises(ZeroDivisionError):
        with tracing.watch_reads([x]) as notes:
            y = x * 2
            made.append(y)
            assert type(x) is tracing.Watched and type(y) is tracing.Watched
            _ = y.data
            1 / 0
    assert notes == ['.data']
    assert type(x) is Value and type(y) is Value


# -- the symbolic rules' own decisions (a derivative at 0, a negative base): eager's answer --


def _same(a, b):
    if isinstance(a, list):
        return all(_same(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)


def _outcome(h, fn, p):
    try:
        return h(fn, p)
    except Exception as e:
        return type(e)


SINGULAR = [
    (lambda x, y: x**y, [[2.0, 3.0], [2.0, 3.0], [0.0, 0.5], [0.0, 3.0], [-1.0, 2.0], [0.0, -1.0]]),
    (lambda x, y: y**x, [[2.0, 3.0], [2.0, 3.0], [1.0, 0.0], [1.0, -2.0], [2.0, 0.0]]),
    (lambda x: x**0.5 * x, [2.0, 2.0, 0.0, 1.0]),
    (lambda x: x**-1.5 + x, [2.0, 2.0, 0.0, 1.0]),
    (lambda x: (x * x).sqrt() * x, [2.0, 2.0, 0.0, -1.0]),
    (lambda x: (x * 1e200) ** 2 * x, [1.0, 1.0, 1e200, 0.0]),
    (lambda x: x.leaky_relu(0.1) ** 3, [1.0, 1.0, 2.0, -1.0, 0.0, -2.0, math.nan]),
    (lambda x: x.relu() ** 3 + x * x, [1.0, 1.0, 0.0, -1.0, math.inf]),
]


@pytest.mark.parametrize('case', range(len(SINGULAR)))
def test_at_singular_points_the_default_gives_eagers_answer_or_error(case):
    fn, points = SINGULAR[case]
    for p in points:
        got, want = _outcome(hessian, fn, p), _outcome(eager, fn, p)
        assert got == want if isinstance(want, type) else _same(got, want), p


def test_threads_calling_hessian_of_one_fn_at_once_get_their_own_points():
    def f(x, y):
        return (x * y).tanh() * x + abs(y) ** 3

    points = [[0.1 * i, 0.5 - 0.2 * i] for i in range(8)]
    want = [eager(f, p) for p in points]
    got: dict = {}

    def work(k):
        for _ in range(3):
            for i in range(k, len(points), 2):
                got.setdefault(i, []).append(hessian(f, points[i]))

    threads = [threading.Thread(target=work, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(got) == list(range(len(points)))
    assert all(_close(h, want[i]) for i, hs in got.items() for h in hs)


def test_a_relu_mlp_whose_activation_pattern_changes_gets_eagers_hessian():
    model = nn.MLP(2, [6, 6, 1], activation='relu', seed=11)
    first, last = model.layers[0].neurons[0], model.layers[-1].neurons[0]

    # a first-layer weight and bias, and a last-layer weight: d score / d last.w[0] is a
    # relu unit's output, so the gradient graph holds relu nodes (with first-layer inputs
    # only it holds none, and relu's frozen 0/1 multiply factors free of the inputs)
    def loss_of(w0, b, v):
        first.w[0], first.b, last.w[0] = w0, b, v
        scores = [model(x) for x in X]
        return losses.hinge(scores, Y) + 1e-2 * losses.l2(model) + (w0 * v * b).tanh()

    start = [first.w[0].data, first.b.data, last.w[0].data]
    p2, p3 = [3.0, 1.5, -2.0], [-4.0, -2.0, 0.5]
    points = [start, start, start, p2, p2, p3, p3, start, start]  # new pattern: new trace
    want = [eager(loss_of, p) for p in points]  # first: each call of fn changes the model
    for p, w in zip(points, want):
        assert _close(hessian(loss_of, p), w), p
    state = _state(loss_of)
    assert isinstance(state, second_order._Replay) and state.compiled.traces >= 3
