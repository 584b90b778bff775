"""microgrid.compile: a replay equals running fn eagerly, on every later call.

Each test traces fn on one set of inputs, then compares the replay on OTHER inputs
(after parameter updates) with fn run eagerly on those inputs: values and gradients
to 1e-12.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import microgrid
from microgrid import Value, losses, nn

REL = 1e-12


def close(a: float, b: float, scale: float = 1.0) -> bool:
    return a == b or (a != a and b != b) or abs(a - b) <= REL * max(abs(a), abs(b), scale)


def eager_and_compiled(fn, compiled, args, leaves):
    """(value, grads) of fn run eagerly and of the replay, for the same args and leaves."""
    for p in leaves:
        p.grad = 0.0
    out = fn(*args)
    out.backward()
    eager = (out.data, [p.grad for p in leaves])
    for p in leaves:
        p.grad = 0.0
    res = compiled(*args)
    res.backward()
    replay = (res.data, [p.grad for p in leaves])
    for p in leaves:
        p.grad = 0.0
    return eager, replay


def assert_same(eager, replay) -> None:
    (ev, eg), (rv, rg) = eager, replay
    scale = max([1.0, *map(abs, eg)])
    assert close(rv, ev), (rv, ev)
    bad = [(i, r, e) for i, (r, e) in enumerate(zip(rg, eg)) if not close(r, e, scale)]
    assert not bad, bad[:5]


def moons(n: int, seed: int):
    rng = random.Random(seed)
    xs = [[rng.uniform(-1.5, 2.5), rng.uniform(-1.0, 1.5)] for _ in range(n)]
    ys = [1.0 if rng.random() < 0.5 else -1.0 for _ in range(n)]
    return xs, ys


# -- MLPs -------------------------------------------------------------------------------


@pytest.mark.parametrize('activation', ['relu', 'tanh', 'sigmoid', 'leaky_relu', 'linear'])
def test_mlp_training_steps_match_eager(activation: str) -> None:
    model = nn.MLP(2, [8, 8, 1], activation=activation, seed=1)
    params = model.parameters()

    def loss_fn(xs, ys):
        return losses.hinge([model(x) for x in xs], ys) + 1e-3 * losses.l2(model)

    compiled = microgrid.compile(loss_fn, static_argnums=(1,))
    for step in range(4):
        xs, ys = moons(12, seed=step)  # new inputs every step; labels are static
        eager, replay = eager_and_compiled(loss_fn, compiled, (xs, ys), params)
        assert_same(eager, replay)
        for p, g in zip(params, replay[1]):  # an optimizer step: the replay must see it
            p.data -= 0.5 * g
    assert compiled.traces == 4  # the labels changed every step


def test_mlp_with_inputs_as_a_numpy_array_and_labels_closed_over() -> None:
    model = nn.MLP(3, [5, 4, 1], seed=2)
    xs, ys = moons(10, seed=3)
    X = np.array([[a, b, a * b] for a, b in xs])

    def loss_fn(X):
        return losses.mse([model(row) for row in X.tolist()], ys)

    def replayed(X):
        return losses.mse([model(row) for row in X], ys)

    compiled = microgrid.compile(replayed)
    for k in range(3):
        X2 = X + 0.1 * k
        eager, replay = eager_and_compiled(
            loss_fn, lambda X: compiled(X), (X2,), model.parameters()
        )
        assert_same(eager, replay)
    assert compiled.traces == 1


def test_the_demo_step_is_one_matrix_product_per_layer() -> None:
    model = nn.MLP(2, [16, 16, 1], seed=0)
    xs, ys = moons(20, seed=0)
    compiled = microgrid.compile(
        lambda xs: losses.hinge([model(x) for x in xs], ys) + 1e-4 * losses.l2(model)
    )
    groups = compiled(xs)._program.groups
    kinds = [type(g).__name__ for g in groups if g.op == 'dot']
    assert kinds == ['_MatrixDot'] * 4  # three layers, and l2's dot(params, params)


# -- every loss -------------------------------------------------------------------------


def _logits_model(nout: int) -> nn.MLP:
    return nn.MLP(2, [6, nout], activation='tanh', seed=nout)


LOSSES = {
    'mse': (1, lambda out, t: losses.mse(out, t), lambda rng: rng.uniform(-1, 1)),
    'mse-many': (3, lambda out, t: losses.mse(out, t), lambda rng: [rng.uniform(-1, 1)] * 3),
    'hinge': (1, lambda out, t: losses.hinge(out, t), lambda rng: rng.choice([-1.0, 1.0])),
    'bce': (1, lambda out, t: losses.binary_cross_entropy(out, t), lambda rng: rng.choice([0, 1])),
    'bce-prob': (1, lambda out, t: losses.binary_cross_entropy(out, t), lambda rng: rng.random()),
    'cross_entropy': (3, lambda out, t: losses.cross_entropy(out, t), lambda rng: rng.randrange(3)),
    'softmax': (
        3,
        lambda out, t: microgrid.sum(losses.softmax(o)[k] for o, k in zip(out, t)),
        lambda rng: rng.randrange(3),
    ),
    'log_softmax': (
        3,
        lambda out, t: microgrid.sum(losses.log_softmax(o)[k] for o, k in zip(out, t)),
        lambda rng: rng.randrange(3),
    ),
}


def test_the_loss_list_covers_every_public_loss() -> None:
    public = {
        name
        for name, f in vars(losses).items()
        if callable(f)
        and not name.startswith('_')
        and getattr(f, '__module__', '') == losses.__name__
    }
    covered = {'mse', 'hinge', 'binary_cross_entropy', 'cross_entropy', 'softmax', 'log_softmax'}
    assert public == covered | {'l2'}  # l2 is in every loss below; a new loss goes in LOSSES


@pytest.mark.parametrize('name', list(LOSSES))
def test_every_loss_matches_eager(name: str) -> None:
    nout, loss, label = LOSSES[name]
    model = _logits_model(nout)
    rng = random.Random(5)
    targets = [label(rng) for _ in range(8)]

    def fn(xs, targets):
        return loss([model(x) for x in xs], targets) + 0.01 * losses.l2(model)

    compiled = microgrid.compile(fn, static_argnums=(1,))
    for seed in range(3):
        xs, _ = moons(8, seed=10 + seed)
        eager, replay = eager_and_compiled(fn, compiled, (xs, targets), model.parameters())
        assert_same(eager, replay)
    assert compiled.traces == 1


# -- random expressions -------------------------------------------------------------------

# Each op keeps any real input inside its domain, so that other inputs can be replayed.
UNARY = {
    'neg': lambda x: -x,
    'abs': abs,
    'relu': lambda x: x.relu(),
    'leaky': lambda x: x.leaky_relu(0.1),
    'tanh': lambda x: x.tanh(),
    'sigmoid': lambda x: x.sigmoid(),
    'softplus': lambda x: x.softplus(),
    'sin': lambda x: x.sin(),
    'cos': lambda x: x.cos(),
    'exp': lambda x: x.tanh().exp(),
    'log': lambda x: (x * x + 0.5).log(),
    'sqrt': lambda x: (x * x + 0.1).sqrt(),
    'square': lambda x: x**2,
    'cube': lambda x: x**3.0,
    'root': lambda x: (abs(x) + 0.2) ** 0.5,
    'two-to': lambda x: 2 ** x.tanh(),
    'const-minus': lambda x: 3 - x,
    'const-over': lambda x: 1.5 / (x * x + 1.0),
    'times-const': lambda x: x * -2.5,
    'plus-const': lambda x: 0.75 + x,
    'minus-const': lambda x: x - 4,
}
BINARY = {
    '+': lambda x, y: x + y,
    '-': lambda x, y: x - y,
    '*': lambda x, y: x * y,
    '/': lambda x, y: x / (y * y + 1.0),
    'pow': lambda x, y: (x * x + 0.5) ** y.tanh(),
    'leaky-slope': lambda x, y: x.leaky_relu(y.sigmoid()),
}


def trees() -> st.SearchStrategy:
    leaf = st.one_of(
        st.tuples(st.just('in'), st.integers(0, 5)),
        st.tuples(st.just('const'), st.floats(-3, 3, allow_nan=False)),
    )
    return st.recursive(
        leaf,
        lambda kids: st.one_of(
            st.tuples(st.sampled_from(sorted(UNARY)), kids),
            st.tuples(st.sampled_from(sorted(BINARY)), kids, kids),
            st.tuples(st.just('sum'), st.lists(kids, min_size=0, max_size=4)),
            st.tuples(st.just('dot'), st.lists(st.tuples(kids, kids), min_size=0, max_size=4)),
        ),
        max_leaves=14,
    )


def evaluate(tree, inputs):
    kind = tree[0]
    if kind == 'in':
        return inputs[tree[1]]
    if kind == 'const':
        return tree[1]
    if kind == 'sum':
        return microgrid.sum([evaluate(t, inputs) for t in tree[1]])
    if kind == 'dot':
        pairs = [(evaluate(a, inputs), evaluate(b, inputs)) for a, b in tree[1]]
        return microgrid.dot([a for a, _ in pairs], [b for _, b in pairs])
    args = [evaluate(t, inputs) for t in tree[1:]]
    if all(type(a) is not Value for a in args):  # numbers only: make one a Value
        args[0] = Value(args[0])
    if kind in UNARY:
        return UNARY[kind](args[0])
    x, y = args
    return BINARY[kind](x if type(x) is Value else Value(x), y if type(y) is Value else Value(y))


inputs6 = st.lists(st.floats(-2, 2, allow_nan=False), min_size=6, max_size=6)
rows = st.lists(st.tuples(st.floats(-2, 2), st.floats(-2, 2)), min_size=2, max_size=5)


@settings(max_examples=200, deadline=None)
@given(tree=trees(), first=inputs6, later=inputs6, first_rows=rows, data=st.data())
def test_random_expressions_replay_as_eager(tree, first, later, first_rows, data) -> None:
    # inputs 0-1 are Value arguments, 2-3 numbers fed each call (one pair per row: the
    # tree is evaluated on every row, so that each op runs as a vectorised group), and
    # 4-5 parameters that fn closes over, read on each call
    params = [Value(first[4]), Value(first[5])]

    def fn(v0, v1, pairs):
        outs = [evaluate(tree, [v0, v1, n2, n3, *params]) for n2, n3 in pairs]
        return microgrid.sum(outs) * 1.0

    compiled = microgrid.compile(fn)
    compiled(Value(first[0]), Value(first[1]), [list(r) for r in first_rows])  # the trace
    later_rows = data.draw(
        st.lists(st.tuples(st.floats(-2, 2), st.floats(-2, 2)), min_size=len(first_rows),
                 max_size=len(first_rows))
    )  # fmt: skip
    b0, b1 = Value(later[0]), Value(later[1])
    params[0].data, params[1].data = later[4], later[5]
    args = (b0, b1, [list(r) for r in later_rows])
    eager, replay = eager_and_compiled(fn, compiled, args, [b0, b1, *params])
    assert_same(eager, replay)
    assert compiled.traces == 1


@pytest.mark.parametrize('n_rows', [1, 3], ids=['alone', 'vectorised'])
@pytest.mark.parametrize('op', sorted(UNARY) + sorted(BINARY))
def test_every_op_replays_on_both_signs(op: str, n_rows: int) -> None:
    # one row runs each node on Python floats, three rows as numpy groups
    w = Value(0.7)

    def fn(rows):
        outs = []
        for a, b in rows:
            x, y = w * a, w * b + 0.1
            outs.append(UNARY[op](x) if op in UNARY else BINARY[op](x, y))
        return microgrid.sum(outs)

    compiled = microgrid.compile(fn)
    compiled([[0.3, -0.4]] * n_rows)
    for a, b in [(1.3, -0.6), (-1.1, 0.8), (-0.2, -1.7), (2.0, 1.5)]:
        rows = [[a + 0.1 * i, b - 0.2 * i] for i in range(n_rows)]
        assert_same(*eager_and_compiled(fn, compiled, (rows,), [w]))
    assert compiled.traces == 1


# -- the trace is kept per structure of the arguments --------------------------------------


def test_a_new_structure_retraces_and_each_trace_is_kept() -> None:
    w = Value(0.5)

    def fn(xs):
        return microgrid.sum([(w * x).tanh() for x in xs])

    compiled = microgrid.compile(fn)
    assert close(compiled([1.0, 2.0]).data, fn([1.0, 2.0]).data)
    assert close(compiled([3.0, -1.0]).data, fn([3.0, -1.0]).data)
    assert compiled.traces == 1  # same structure, new numbers: a replay
    assert close(compiled([1.0, 2.0, 3.0]).data, fn([1.0, 2.0, 3.0]).data)
    assert compiled.traces == 2  # a longer list
    compiled([0.5, 0.25])
    compiled([0.5, 0.25, 1.0])
    assert compiled.traces == 2  # both structures are kept
    x = Value(2.0)
    r = compiled([x, 1.0])  # a Value where a number was: another structure
    assert compiled.traces == 3
    r.backward()
    assert close(x.grad, 0.5 * (1 - math.tanh(1.0) ** 2))


def test_the_same_value_in_two_places_is_one_leaf() -> None:
    compiled = microgrid.compile(lambda a, b: a * b + a)
    x, y, z = Value(3.0), Value(4.0), Value(5.0)
    r = compiled(x, y)
    r.backward()
    assert (r.data, x.grad, y.grad) == (15.0, 5.0, 3.0)
    r = compiled(z, z)  # z * z + z: traced again, as one leaf
    r.backward()
    assert (r.data, z.grad, compiled.traces) == (30.0, 11.0, 2)


# -- check=True and the limitation it guards ---------------------------------------------


def branchy(x):
    if x.data > 0:  # Python control flow on data: the trace keeps one branch
        return x * 2.0
    return x * 3.0


def test_data_dependent_control_flow_is_frozen_by_the_trace() -> None:
    compiled = microgrid.compile(branchy)
    assert compiled(Value(1.0)).data == 2.0
    assert compiled(Value(-1.0)).data == -2.0  # eager gives -3: the documented limitation


def test_check_catches_data_dependent_control_flow() -> None:
    compiled = microgrid.compile(branchy, check=True)
    assert compiled(Value(1.0)).data == 2.0
    assert compiled(Value(5.0)).data == 10.0  # same branch: fine
    with pytest.raises(microgrid.TraceMismatchError, match=r'-2\.0.*-3\.0.*control flow'):
        compiled(Value(-1.0))


def test_check_catches_a_different_graph_and_frozen_numbers() -> None:
    def grows(xs):
        terms = [x * x for x in xs if x.data > 0]  # how many terms depends on the data
        return microgrid.sum(terms) + 0.0

    compiled = microgrid.compile(grows, check=True)
    compiled([1.0, 2.0])
    with pytest.raises(microgrid.TraceMismatchError, match='different graph'):
        compiled([1.0, -2.0])

    def frozen(x):
        return x * x.data  # .data becomes a constant of the trace

    compiled = microgrid.compile(frozen, check=True)
    x = Value(2.0)
    r = compiled(x)
    r.backward()
    assert x.grad == 2.0  # d/dx of x * c, c = 2: what eager says too
    with pytest.raises(microgrid.TraceMismatchError, match='eagerly gives 9'):
        compiled(Value(3.0))


def test_check_compares_gradients_and_leaves_them_as_one_backward_makes() -> None:
    w = Value(0.3)
    compiled = microgrid.compile(lambda xs: microgrid.dot([w, w], xs).relu(), check=True)
    r = compiled([1.0, 2.0])
    r.backward()
    r.backward()
    assert w.grad == pytest.approx(6.0, rel=1e-15)  # leaves accumulate, as eager


# -- semantics of the result -------------------------------------------------------------


def test_results_keep_their_own_forward_and_leaves_accumulate() -> None:
    w = Value(2.0)
    compiled = microgrid.compile(lambda x: (w * x) ** 2)
    r1 = compiled(1.0)
    r2 = compiled(3.0)  # a later call does not disturb r1's arrays
    r1.backward()
    assert w.grad == 2 * 2.0 * 1.0  # d/dw (w x)^2 = 2 w x^2 at x = 1
    r2.backward()
    assert w.grad == 4.0 + 2 * 2.0 * 9.0
    assert (r1.data, r2.data, r1.grad) == (4.0, 36.0, 1.0)
    r2.backward(grad=0.5)
    assert w.grad == 40.0 + 18.0


def test_parameters_are_read_on_every_call() -> None:
    w = Value(1.0)
    compiled = microgrid.compile(lambda x: w * x)
    assert compiled(3.0).data == 3.0
    w.data = -2.0
    assert compiled(3.0).data == -6.0


def test_no_grad_and_detect_anomaly() -> None:
    w = Value(1.5)
    compiled = microgrid.compile(lambda x: (w * x).tanh())
    with microgrid.no_grad():
        r = compiled(2.0)  # the first call traces even under no_grad
        r.backward()
    assert r.data == pytest.approx(math.tanh(3.0)) and w.grad == 0.0
    assert compiled.traces == 1
    r = compiled(2.0)
    r.backward()
    assert w.grad == pytest.approx(2.0 * (1 - math.tanh(3.0) ** 2))
    with microgrid.detect_anomaly():
        out = compiled(2.0)  # eager under detect_anomaly: anomalies found at their source
    assert type(out) is Value


def test_domain_errors_are_the_engines() -> None:
    compiled = microgrid.compile(lambda x: x.log() + (x - 1.0).sqrt())
    assert compiled(2.0).data == pytest.approx(math.log(2.0) + 1.0)
    with pytest.raises(ValueError, match=r'log\(-1\.0\): math domain error'):
        compiled(-1.0)
    with pytest.raises(ValueError, match=r'sqrt\(-0\.5\)'):
        compiled(0.5)
    divide = microgrid.compile(lambda x, y: x / y)
    divide(1.0, 2.0)
    with pytest.raises(ZeroDivisionError, match='division by zero'):
        divide(1.0, 0.0)


def test_importing_the_module_keeps_microgrid_compile_the_function() -> None:
    import microgrid.compile  # importing the module must not rebind the name
    from microgrid.compile import compile as compile_fn

    assert microgrid.compile is compile_fn


def test_custom_ops_are_refused_at_trace_time() -> None:
    def custom(x):
        return Value.from_op(x.data**2, [x], [2 * x.data], 'square')

    with pytest.raises(ValueError, match=r"'square'.*from_op.*cannot be replayed"):
        microgrid.compile(custom)(Value(3.0))

    def impostor(x):  # a built-in name with another rule
        return Value.from_op(x.data * 3, [x], [3.0], 'relu')

    with pytest.raises(ValueError, match=r"says op 'relu' but is not"):
        microgrid.compile(impostor)(Value(3.0))


@pytest.mark.parametrize(
    'make, error, message',
    [
        (lambda: microgrid.compile(3), TypeError, 'callable'),
        (lambda: microgrid.compile(lambda x: x, check='yes'), TypeError, 'check'),
        (lambda: microgrid.compile(lambda x: x, static_argnums=['a']), TypeError, 'positions'),
        (lambda: microgrid.compile(lambda x: 3.0)(1.0), TypeError, 'must return a Value'),
        (lambda: microgrid.compile(lambda x: x)(x=1.0), TypeError, 'by position'),
        (lambda: microgrid.compile(lambda x: x * 2)(Value(1.0) * 2), ValueError, 'outside fn'),
        (lambda: microgrid.compile(lambda x, d: x * 2)(1.0, {}), TypeError, 'hashable'),
        (lambda: microgrid.compile(lambda x: x)(np.array(['a'])), TypeError, 'real numbers'),
    ],
)
def test_bad_use_gets_a_clear_error(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()


def test_a_value_made_outside_fn_from_others_is_refused() -> None:
    a = Value(2.0)
    h = a * 3.0  # interior: a replay could not pass gradients on to a

    with pytest.raises(ValueError, match=r"'\*' node made outside fn"):
        microgrid.compile(lambda x: h * x)(1.0)
