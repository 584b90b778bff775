"""Nothing silently wrong (issue 13): NaN travels, saves are atomic, loads stay cheap,
compile notices what it cannot replay, optimizers never half-apply a step, and the CLI
stays fast and traceback-free on big or hostile inputs."""

import math

import pytest

from microgrid import losses
from microgrid.engine import Value

NAN, INF = float('nan'), float('inf')


# -- losses.mse refuses non-finite targets, as hinge and bce do ------------------------


@pytest.mark.parametrize('bad', [NAN, INF, -INF])
def test_mse_refuses_a_non_finite_target(bad):
    with pytest.raises(ValueError, match=r'mse: target 1 is not finite'):
        losses.mse([Value(1.0), Value(2.0)], [0.0, bad])
    with pytest.raises(ValueError, match=r'mse: target 0 is not finite'):
        losses.mse([[Value(1.0), Value(2.0)]], [[0.0, bad]])


# -- optimizers: eps > 0, leaves only, all-or-nothing steps ----------------------------


def test_adam_refuses_eps_of_zero_or_less():
    from microgrid.optim import Adam

    for eps in (0, 0.0, -1e-8):
        with pytest.raises(ValueError, match=r'eps must be finite and > 0'):
            Adam([Value(1.0)], eps=eps)


def _three_params_with_a_bad_grad():
    ps = [Value(1.0), Value(2.0), Value(3.0)]
    for p in ps:
        p.grad = 0.5
    ps[2].grad = 'oops'  # the last one fails: the first two must not move
    return ps


@pytest.mark.parametrize(
    'make',
    [
        lambda ps: __import__('microgrid.optim').optim.SGD(ps, lr=0.1),
        lambda ps: __import__('microgrid.optim').optim.SGD(ps, lr=0.1, weight_decay=0.1),
        lambda ps: __import__('microgrid.optim').optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: __import__('microgrid.optim').optim.Adam(ps, lr=0.1),
        lambda ps: __import__('microgrid.optim').optim.Adam(ps, lr=0.1, weight_decay=0.1),
    ],
)
def test_a_failing_step_changes_nothing(make):
    ps = _three_params_with_a_bad_grad()
    opt = make(ps)
    state_before = {k: (list(v) if isinstance(v, list) else v) for k, v in vars(opt).items()}
    with pytest.raises(TypeError):
        opt.step()
    assert [p.data for p in ps] == [1.0, 2.0, 3.0]
    state_after = {k: (list(v) if isinstance(v, list) else v) for k, v in vars(opt).items()}
    assert state_after == state_before  # Adam's t, moments, SGD's buffer untouched
    # and once the grad is fixed the step is the ordinary one
    ps[2].grad = 0.5
    opt.step()
    assert all(p.data < d for p, d in zip(ps, [1.0, 2.0, 3.0]))


def test_a_failing_momentum_step_after_the_first_keeps_the_buffer():
    from microgrid.optim import SGD

    ps = [Value(1.0), Value(2.0)]
    opt = SGD(ps, lr=0.1, momentum=0.9)
    for p in ps:
        p.grad = 1.0
    opt.step()
    data, buf = [p.data for p in ps], list(opt._buf)
    ps[1].grad = Value(1.0)  # a Value is not a number here
    with pytest.raises(TypeError, match="parameter 1's grad must be a number"):
        opt.step()
    assert [p.data for p in ps] == data and opt._buf == buf


@pytest.mark.parametrize('name', ['SGD', 'Adam'])
def test_optimizers_refuse_interior_nodes_as_torch_does(name):
    from microgrid import optim

    a = Value(1.0)
    b = a * 2.0  # an interior node, not a leaf
    with pytest.raises(ValueError, match=r"parameter 1 is not a leaf \(it was computed by"):
        getattr(optim, name)([a, b], lr=0.1)


# -- fit(): non-finite data refused, a blow-up stops training and keeps what was learned --


def _mlp(seed=0):
    from microgrid.nn import MLP

    return MLP(2, [4, 1], seed=seed)


@pytest.mark.parametrize('bad', [NAN, INF, -INF])
def test_fit_refuses_non_finite_inputs_naming_row_and_column(bad):
    from microgrid.training import fit

    model = _mlp()
    before = [p.data for p in model.parameters()]
    X = [[0.0, 1.0], [1.0, 0.0], [2.0, bad]]
    with pytest.raises(ValueError, match=r'X\[2\]\[1\] is .* \(row 2, column 1\): inputs must be'):
        fit(model, X, [0, 1, 0], progress=False)
    assert [p.data for p in model.parameters()] == before


def test_fit_refuses_non_finite_labels_naming_the_row():
    from microgrid.training import fit

    with pytest.raises(ValueError, match=r'y\[1\] is nan \(row 1\): labels must be finite'):
        fit(_mlp(), [[0.0, 1.0], [1.0, 0.0]], [0.5, NAN], loss='mse', progress=False)
    model = _mlp()
    with pytest.raises(ValueError, match=r'y\[0\]\[0\] is inf \(row 0, column 0\)'):
        fit(model, [[0.0, 1.0]], [[INF]], loss='mse', progress=False)


def test_fit_stops_when_the_loss_blows_up_and_keeps_the_last_finite_parameters():
    from microgrid import losses
    from microgrid.optim import SGD
    from microgrid.training import fit

    model = _mlp(seed=1)
    X = [[1.0, 2.0], [-1.0, 0.5], [3.0, -2.0]]
    y = [10.0, -4.0, 7.0]
    seen = []  # the parameters before each epoch (full batch: one step per epoch)

    def remember(epoch, history):
        seen.append([p.data for p in model.parameters()])

    start = [p.data for p in model.parameters()]
    opt = SGD(model.parameters(), lr=1e150)
    with pytest.raises(FloatingPointError) as info:
        fit(model, X, y, loss='mse', optimizer=opt, epochs=50, progress=False, callback=remember)
    msg = str(info.value)
    for words in (
        'epoch',
        'batch 0',
        'learning rate 1e+150',
        'lower learning rate',
        'detect_anomaly()',
    ):
        assert words in msg, (words, msg)
    params = [p.data for p in model.parameters()]
    assert all(math.isfinite(d) for d in params)
    # the kept parameters are ones at which the loss was finite: the start or an epoch's end
    assert params in [start, *seen]
    loss = losses.mse([model(x) for x in X], y).data
    assert math.isfinite(loss)
    assert isinstance(info.value.history['loss'], list)


def test_fit_stops_when_a_parameter_becomes_nan_in_the_update():
    from microgrid.nn import MLP
    from microgrid.optim import SGD
    from microgrid.training import fit

    model = MLP(1, [1], seed=0)
    before = [p.data for p in model.parameters()]

    def loss_with_nan_grad(outputs, labels):
        # a finite loss whose gradient is NaN: sqrt at 0 has an infinite derivative
        d = outputs[0] - outputs[0]
        return (d * d) ** 0.5 * 0.0 + outputs[0] * 0.0

    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(
        FloatingPointError,
        match=r'parameter \d \(layers\.0\.neurons\.0\.[wb][.0-9]*\) became nan at epoch 0',
    ):
        fit(model, [[1.0]], [1.0], loss=loss_with_nan_grad, optimizer=opt, progress=False)
    assert [p.data for p in model.parameters()] == before


def test_fit_refuses_an_optimizer_that_holds_none_of_the_models_parameters():
    from microgrid.optim import Adam
    from microgrid.training import fit

    model, other = _mlp(0), _mlp(1)
    with pytest.raises(ValueError, match=r"the optimizer holds none of the model's 17 parameters"):
        fit(model, [[0.0, 1.0]], [1], optimizer=Adam(other.parameters()), progress=False)


# -- nn.save is atomic; paths are str or os.PathLike ------------------------------------

_SAVE_IN_A_LIMITED_CHILD = r'''
import resource, signal, sys
from microgrid import nn
path, limit, ignore = sys.argv[1], int(sys.argv[2]), sys.argv[3] == 'ignore'
# Python ignores SIGXFSZ (the write fails with EFBIG); by default the kernel kills the writer
signal.signal(signal.SIGXFSZ, signal.SIG_IGN if ignore else signal.SIG_DFL)
model = nn.MLP(20, [40, 40, 1], seed=1)  # a file far larger than the limit
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    nn.save(model, path)
except OSError as e:
    print('refused:', e.errno)
    sys.exit(3)
sys.exit(0)
'''


@pytest.mark.parametrize('how', ['ignore', 'killed'])
def test_a_failed_save_leaves_the_old_file_byte_for_byte(tmp_path, how):
    pytest.importorskip('resource', reason='RLIMIT_FSIZE needs a POSIX system')
    import os
    import subprocess
    import sys

    from microgrid import nn

    path = tmp_path / 'model.json'
    nn.save(nn.MLP(2, [3, 1], seed=0), path)
    old = path.read_bytes()
    limit = len(old) * 3  # the old file fits, the new one does not
    env = {**os.environ, 'PYTHONDONTWRITEBYTECODE': '1'}
    child = subprocess.run(
        [sys.executable, '-c', _SAVE_IN_A_LIMITED_CHILD, str(path), str(limit), how],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if how == 'ignore':
        assert child.returncode == 3, child.stderr
        assert 'refused: 27' in child.stdout  # EFBIG
        # the temporary file was removed too
        assert sorted(os.listdir(tmp_path)) == ['model.json']
    else:
        import signal

        assert child.returncode == -signal.SIGXFSZ, (child.returncode, child.stderr)
    assert path.read_bytes() == old
    assert nn.load(path).state_dict() == nn.MLP(2, [3, 1], seed=0).state_dict()


def test_save_replaces_the_file_and_keeps_its_mode(tmp_path):
    import os

    from microgrid import nn

    path = tmp_path / 'model.json'
    path.write_text('old')
    os.chmod(path, 0o640)
    model = nn.MLP(2, [2, 1], seed=3)
    nn.save(model, str(path))
    assert nn.load(path).state_dict() == model.state_dict()
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ['model.json']


def test_save_and_load_take_only_str_or_pathlike(tmp_path):
    import os

    from microgrid import nn

    target = tmp_path / 'fd.json'
    fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with pytest.raises(TypeError, match='save: path must be a str or os.PathLike, got int'):
            nn.save(nn.MLP(2, [1], seed=0), fd)
        os.fstat(fd)  # still open: save neither wrote to nor closed the descriptor
    finally:
        os.close(fd)
    assert target.read_bytes() == b''
    for bad in (3, b'model.json', None, 2.5):
        with pytest.raises(TypeError, match='load: path must be a str or os.PathLike'):
            nn.load(bad)


# -- nn.load refuses hostile files cheaply ----------------------------------------------


def _hostile_text(nin, entries, key_digits=8):
    head = (
        '{"format": "microgrid.MLP", "version": 1, "nin": ' + str(nin) + ', "nouts": [1], '
        '"activation": "relu", "state": {'
    )
    body = ','.join(f'"k{i:0{key_digits}d}":0' for i in range(entries))
    return head + body + '}}'


def test_load_refuses_a_20mb_file_claiming_a_huge_architecture_cheaply(tmp_path):
    import time
    import tracemalloc

    from microgrid import nn

    path = tmp_path / 'huge.json'
    path.write_text(_hostile_text(5_999_999, 1_600_000))  # ~22 MB of wrong keys
    size = path.stat().st_size
    assert size > 20e6
    start = time.perf_counter()
    with pytest.raises(ValueError, match='LOAD_MAX_PARAMETERS'):
        nn.load(path)
    assert time.perf_counter() - start < 2.0
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match='LOAD_MAX_PARAMETERS'):
            nn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * size, (peak, size)


def test_load_checks_the_state_before_building_any_value(tmp_path, monkeypatch):
    from microgrid import nn

    def no_model(*args, **kwargs):
        raise AssertionError('an MLP was built for a file that does not match')

    monkeypatch.setattr(nn, 'MLP', no_model)
    path = tmp_path / 'wrong.json'
    path.write_text(_hostile_text(49_999, 50_000))  # the right count, the wrong keys
    with pytest.raises(ValueError, match=r"'state' does not match the architecture nin=49999") as e:
        nn.load(path)
    assert "missing key(s) 'layers.0.neurons.0.w.0'" in str(e.value)
    assert "unexpected key(s) such as 'k00000000'" in str(e.value)
    text = _hostile_text(2_000_000, 3)
    path.write_text(text)
    with pytest.raises(ValueError, match='more than 1000000 parameters'):
        nn.load(path)


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
    assert f(_X).data == _loss(guarded_model, _X).data
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


def test_save_and_load_share_the_parameter_limit(tmp_path, monkeypatch):
    from microgrid import nn

    model = nn.MLP(3, [4, 1], seed=0)  # 21 parameters
    nn.save(model, tmp_path / 'ok.json')
    monkeypatch.setattr(nn, 'LOAD_MAX_PARAMETERS', 20)
    with pytest.raises(ValueError, match=r'save: the model has 21 parameters, more than load'):
        nn.save(model, tmp_path / 'big.json')
    assert not (tmp_path / 'big.json').exists()
    with pytest.raises(ValueError, match=r'has more than 20 parameters \(LOAD_MAX_PARAMETERS\)'):
        nn.load(tmp_path / 'ok.json')
    monkeypatch.setattr(nn, 'LOAD_MAX_PARAMETERS', 21)
    assert nn.load(tmp_path / 'ok.json').state_dict() == model.state_dict()


def _refused_cheaply(path, words):
    import time
    import tracemalloc

    from microgrid import nn

    size = path.stat().st_size
    start = time.perf_counter()
    with pytest.raises(ValueError, match=words):
        nn.load(path)
    spent = time.perf_counter() - start
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=words):
            nn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert spent < 2.0, spent
    assert peak < 3 * size, (peak, size)


def test_load_refuses_a_large_file_whose_keys_or_count_do_not_fit_before_parsing(tmp_path):
    # within the limit, with the right count but none of the right keys: ~21 MB
    path = tmp_path / 'wrong_keys.json'
    path.write_text(_hostile_text(999_999, 1_000_000, key_digits=15))
    assert path.stat().st_size > 20e6
    _refused_cheaply(path, r"'state' does not match the architecture nin=999999, nouts=\[1\]")
    # a count that does not fit the architecture
    path = tmp_path / 'wrong_count.json'
    path.write_text(_hostile_text(499_999, 900_000, key_digits=15))
    _refused_cheaply(path, r'has 500000 parameters but .* holds 900000 entries')


def test_a_large_saved_model_still_loads(tmp_path):
    from microgrid import nn

    model = nn.MLP(100, [150, 150, 1], seed=2)  # 37,951 parameters, a file over 1 MiB
    nn.save(model, tmp_path / 'big.json')
    assert (tmp_path / 'big.json').stat().st_size > 1 << 20
    assert nn.load(tmp_path / 'big.json').state_dict() == model.state_dict()


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
