"""compile's part of "nothing silently wrong" (issues 13 and 21), moved here from
tests/test_robustness.py: NaN and tiny powers replay as eager computes them, and the
guards trace again when a global model, a closed-over list or a Module's Value changes.

A replay is compared with eager to a tolerance, never with ``==`` (numpy sums in another
order than the engine, and AVX-512 kernels in yet another).
"""

import math

import pytest

from microgrid import losses
from microgrid.engine import Value

NAN, INF = float('nan'), float('inf')


# -- NaN travels through relu, abs and leaky_relu; 1e-300 ** -1 is finite -----------------
# The eager halves follow the engine's rules (issue 13's engine part); the compiled replay
# must agree with them, both for a lone node (the engine's scalar rule) and for a group
# of nodes replayed with numpy.


def _eager_and_compiled(fn, xs):
    """[(data, grads)] for fn run eagerly, compiled on one node, and compiled in a batch."""
    import microgrid
    from microgrid.engine import sum as vsum

    out = []
    vs = [Value(x) for x in xs]
    r = vsum([fn(v) for v in vs])
    r.backward()
    out.append((r.data, [v.grad for v in vs]))
    one = microgrid.compile(lambda v: fn(v))
    one(Value(0.5))  # traced at an ordinary point, replayed at the special ones
    grads, total = [], 0.0
    for x in xs:
        v = Value(x)
        r1 = one(v)
        r1.backward()
        total += r1.data
        grads.append(v.grad)
    out.append((total, grads))
    batch = microgrid.compile(lambda vs: vsum([fn(v) for v in vs]))
    batch([Value(0.5 + i) for i in range(len(xs))])
    vs = [Value(x) for x in xs]
    r2 = batch(vs)
    r2.backward()
    out.append((r2.data, [v.grad for v in vs]))
    return out


def _same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize(
    'name, fn',
    [
        ('relu', lambda v: v.relu()),
        ('abs', lambda v: abs(v)),
        ('leaky_relu', lambda v: v.leaky_relu()),
    ],
)
def test_nan_through_relu_abs_leaky_relu_is_nan_with_a_nan_gradient(name, fn):
    # PyTorch: torch.relu(nan) is nan and its gradient nan; the same for abs, leaky_relu
    for data, grads in _eager_and_compiled(fn, [NAN, -2.0]):
        assert math.isnan(data), name
        assert math.isnan(grads[0]), name
        assert _same(grads[1], {'relu': 0.0, 'abs': -1.0, 'leaky_relu': 0.01}[name])


def test_compiled_batch_replay_gives_nan_through_relu_abs_leaky_relu():
    # the numpy half on its own (the eager half is the engine's): traced at ordinary
    # points, replayed with a NaN among them
    import microgrid
    from microgrid.engine import sum as vsum

    for name, fn in [('relu', Value.relu), ('abs', abs), ('leaky_relu', Value.leaky_relu)]:
        f = microgrid.compile(lambda vs, fn=fn: vsum([fn(v) for v in vs]))
        f([Value(1.0), Value(-1.0), Value(3.0)])
        vs = [Value(NAN), Value(-2.0), Value(4.0)]
        r = f(vs)
        r.backward()
        assert math.isnan(r.data), name
        assert math.isnan(vs[0].grad), name
        assert vs[2].grad == 1.0, name
        assert vs[1].grad == {'relu': 0.0, 'abs': -1.0, 'leaky_relu': 0.01}[name]


def test_nan_through_relu_abs_leaky_relu_is_nan_in_torch_too():
    torch = pytest.importorskip('torch', reason='torch (a dev dependency) is the reference here')
    F = torch.nn.functional
    for fn in (torch.relu, torch.abs, F.leaky_relu):
        assert math.isnan(fn(torch.tensor([math.nan], dtype=torch.float64)).item())


def test_a_tiny_number_to_the_power_minus_one_is_finite_with_derivative_minus_inf():
    # PyTorch: torch.tensor(1e-300, dtype=float64) ** -1 is 1e300, its gradient -inf
    for data, grads in _eager_and_compiled(lambda v: v**-1, [1e-300]):
        assert data == pytest.approx(1e300, rel=1e-15)  # numpy may round the last bit
        assert grads == [-math.inf]


def test_compiled_replay_of_a_tiny_power_in_a_batch():
    import microgrid
    from microgrid.engine import sum as vsum

    f = microgrid.compile(lambda vs: vsum([v**-1 for v in vs]))
    f([Value(2.0), Value(4.0)])
    vs = [Value(1e-300), Value(2.0)]
    r = f(vs)
    r.backward()
    assert r.data == pytest.approx(1e300, rel=1e-15)
    assert [v.grad for v in vs] == [-math.inf, -0.25]


# -- compile's guards: a re-bound model or a grown parameter list brings a new trace ----

_X = [[0.5, -1.0], [1.0, 2.0], [-0.3, 0.7]]
_Y = [1.0, -1.0, 1.0]
guarded_model = None  # a global that the compiled lambdas below read


def _loss(m, xs):
    return losses.mse([m(x) for x in xs], _Y)


def _grads(model):
    return [p.grad for p in model.parameters()]


@pytest.mark.parametrize('how', ['MLP', 'nn.load'])
def test_compile_traces_again_when_a_global_model_is_rebound(how, tmp_path):
    global guarded_model
    import microgrid
    from microgrid import nn

    guarded_model = nn.MLP(2, [4, 1], seed=0)
    f = microgrid.compile(lambda xs: _loss(guarded_model, xs))
    # numpy sums in another order than eager (AVX-512 kernels): a few ulps, never ==
    assert f(_X).data == pytest.approx(_loss(guarded_model, _X).data, rel=1e-12)
    if how == 'MLP':
        guarded_model = nn.MLP(2, [4, 1], seed=123)
    else:
        nn.save(nn.MLP(2, [4, 1], seed=123), tmp_path / 'm.json')
        guarded_model = nn.load(tmp_path / 'm.json')
    r = f(_X)
    eager = _loss(guarded_model, _X)
    assert r.data == pytest.approx(eager.data, rel=1e-12)
    r.backward()
    compiled_grads = _grads(guarded_model)
    guarded_model.zero_grad()
    eager.backward()
    assert compiled_grads == pytest.approx(_grads(guarded_model), rel=1e-9, abs=1e-12)
    assert any(compiled_grads) and f.traces == 2


def test_compile_traces_again_when_a_closed_over_parameter_list_grows():
    import microgrid
    from microgrid.engine import sum as vsum

    ps = [Value(1.0), Value(2.0)]
    f = microgrid.compile(lambda x: vsum(ps) * x)
    assert f(1.0).data == 3.0
    ps.append(Value(10.0))
    r = f(1.0)
    assert r.data == 13.0 and f.traces == 2
    r.backward()
    assert [p.grad for p in ps] == [1.0, 1.0, 1.0]


def test_compile_traces_again_when_a_closure_variable_or_a_value_in_a_module_changes():
    import microgrid
    from microgrid import nn

    model = nn.MLP(2, [3, 1], seed=0)
    scale = Value(2.0)
    f = microgrid.compile(lambda xs: _loss(model, xs) * scale)
    f(_X)

    def rebind():
        nonlocal scale
        scale = Value(3.0)

    rebind()
    assert f(_X).data == pytest.approx((_loss(model, _X) * 3.0).data, rel=1e-12)
    model.layers[0].neurons[1].w[0] = Value(5.0)  # a Value replaced deep inside the model
    r = f(_X)
    assert r.data == pytest.approx((_loss(model, _X) * 3.0).data, rel=1e-12)
    r.backward()
    assert model.layers[0].neurons[1].w[0].grad != 0.0
    assert f.traces == 3


def test_compile_does_not_trace_again_while_nothing_changes():
    import microgrid
    from microgrid import nn
    from microgrid.optim import SGD

    model = nn.MLP(2, [4, 1], seed=0)
    opt = SGD(model.parameters(), lr=0.05)
    f = microgrid.compile(lambda xs: _loss(model, xs))
    for _ in range(5):
        loss = f(_X)
        opt.zero_grad()
        loss.backward()
        opt.step()  # in-place updates of .data are read by the replay, no new trace
    assert f.traces == 1
    assert f(_X).data == pytest.approx(_loss(model, _X).data, rel=1e-12)


def test_check_names_a_replaced_parameter_the_guards_cannot_see():
    import microgrid

    class Holder:  # not a Module: its attributes are not guarded
        pass

    h = Holder()
    h.w = Value(2.0)
    f = microgrid.compile(lambda x: h.w * x, check=True)
    assert f(3.0).data == 6.0
    h.w = Value(5.0)
    with pytest.raises(
        microgrid.TraceMismatchError,
        match='a parameter that the trace recorded is no longer the one fn uses',
    ) as info:
        f(3.0)
    assert 'control flow' not in str(info.value)
    f.reset()
    assert f(3.0).data == 15.0


def test_an_mlp_fed_one_nan_input_reports_a_nan_loss_eager_and_compiled():
    # before issue 13: relu turned the NaN into 0, so the loss looked finite (0.0 or 1.0)
    # while backward had already made most of the parameters' grads NaN
    import microgrid
    from microgrid import nn

    model = nn.MLP(2, [8, 8, 1], seed=0)
    X = [[0.5, -1.0], [NAN, 0.3], [1.0, 2.0]]

    def loss_fn(xs):
        return losses.hinge([model(x) for x in xs], [1, -1, 1])

    eager = loss_fn(X)
    eager.backward()
    assert math.isnan(eager.data)
    assert any(math.isnan(p.grad) for p in model.parameters())
    model.zero_grad()
    f = microgrid.compile(loss_fn)
    f([[0.5, -1.0], [0.1, 0.3], [1.0, 2.0]])  # traced on finite data
    r = f(X)
    r.backward()
    assert math.isnan(r.data)
    assert any(math.isnan(p.grad) for p in model.parameters())


def test_compile_of_a_bound_method_watches_its_objects_attributes():
    import microgrid

    class Scaler:
        def __init__(self):
            self.w = Value(2.0)

        def loss(self, x):
            return self.w * x

    s = Scaler()
    f = microgrid.compile(s.loss)
    assert f(3.0).data == 6.0
    s.w = Value(5.0)
    r = f(3.0)
    assert r.data == 15.0 and f.traces == 2
    r.backward()
    assert s.w.grad == 3.0
