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


# -- the player's entry points check their arguments at the door -------------------------


def _small_graph():
    a, b = Value(2.0, 'a'), Value(-3.0, 'b')
    return a * b + a


@pytest.mark.parametrize(
    'call, error, words',
    [
        (
            lambda p, L, t: p.backprop_gif(L, t / 'x.gif', loop='a'),
            TypeError,
            'loop must be an int',
        ),
        (
            lambda p, L, t: p.backprop_gif(L, t / 'x.gif', loop=-1),
            ValueError,
            'loop must be an int in',
        ),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', loop=True), TypeError, 'loop'),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', duration='9'), TypeError, 'duration'),
        (
            lambda p, L, t: p.backprop_gif(L, t / 'x.gif', last_duration=1.5),
            TypeError,
            'last_duration',
        ),
        (lambda p, L, t: p.backprop_gif(L, 3), TypeError, 'path must be a str or os.PathLike'),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', scale='2'), TypeError, 'scale'),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', rankdir=1), TypeError, 'rankdir'),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', rankdir='XY'), ValueError, 'rankdir'),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', max_nodes='5'), TypeError, 'max_nodes'),
        (lambda p, L, t: p.backprop_gif('L', t / 'x.gif'), TypeError, 'needs a Value'),
        (lambda p, L, t: p.backprop_frames(L, 7), TypeError, 'folder must be a str'),
        (lambda p, L, t: p.backprop_frames(L, t, format=None), TypeError, 'format must be a str'),
        (lambda p, L, t: p.backprop_frames(L, t, names=[1]), TypeError, 'names must be a mapping'),
        (lambda p, L, t: p.backprop_player(L, path=5), TypeError, 'path must be a str'),
        (lambda p, L, t: p.backprop_player(L, interval='fast'), TypeError, 'interval'),
        (
            lambda p, L, t: p.backprop_player(L, show_local_grads='no'),
            TypeError,
            'show_local_grads',
        ),
        (lambda p, L, t: p.backprop_player(L, max_nodes=0), ValueError, 'max_nodes'),
    ],
)
def test_player_entry_points_check_argument_types_at_the_door(
    call, error, words, tmp_path, monkeypatch
):
    from microgrid import player

    def no_work(*args, **kwargs):
        raise AssertionError('work started before the arguments were checked')

    monkeypatch.setattr(player, '_scene', no_work)
    with pytest.raises(error, match=words):
        call(player, _small_graph(), tmp_path)
    assert list(tmp_path.iterdir()) == []


# -- the CLI: linear in NAME=VALUE arguments, flat chains, errors that name the limit ----


def _run_cli(argv, capsys):
    from microgrid import cli

    rc = cli.main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_handles_50k_assignments_in_linear_time(capsys):
    import time

    n = 50_000
    argv = ['grad', 'x0 * x1 + x49999'] + [f'x{i}={i % 7}' for i in range(n)]
    start = time.process_time()  # CPU time of this process: other jobs do not inflate it
    rc, out, err = _run_cli(argv, capsys)
    spent = time.process_time() - start
    assert rc == 0, err
    assert float(out.splitlines()[0].split(' = ')[1]) == 5.0  # 0 * 1 + (49999 % 7 = 5)
    rows = [line.split() for line in out.splitlines()[3:]]
    assert len(rows) == n
    assert [rows[0][0], *map(float, rows[0][1:3])] == ['x0', 0.0, 1.0]
    assert [rows[1][0], *map(float, rows[1][1:3])] == ['x1', 1.0, 0.0]
    assert rows[5][-4:] == ['(not', 'in', 'the', 'expression)']
    # quadratic handling took ~10 s of CPU at this size; linear takes well under 1 s
    assert spent < 5.0, spent


def test_a_flat_chain_reaches_the_node_limit_not_the_depth_limit(capsys):
    from microgrid.expr import MAX_DEPTH, MAX_NODES, ExprError, evaluate

    for op, n, want in [('+', 1001, 1001.0), ('+', 5000, 5000.0), ('*', 3000, 1.0)]:
        assert evaluate(op.join(['x'] * n), {'x': 1.0}).data == want
    assert evaluate(' - '.join(['x'] * 2000), {'x': 1.0}).data == -1998.0
    with pytest.raises(ExprError, match=f'more than {MAX_NODES} nodes \\(the limit MAX_NODES\\)'):
        evaluate('+'.join(['x'] * 5001), {'x': 1.0})
    with pytest.raises(ExprError, match=f'more than {MAX_DEPTH} levels \\(the limit MAX_DEPTH'):
        evaluate('-' * 1500 + 'x', {'x': 1.0})
    with pytest.raises(ExprError, match="nested too deeply for Python's parser"):
        evaluate('(' * 300 + 'x' + ')' * 300, {'x': 1.0})
    rc, out, err = _run_cli(['grad', '+'.join(['x'] * 1001), 'x=2'], capsys)
    assert rc == 0 and out.splitlines()[-1].split()[0] == 'x'
    assert [float(t) for t in out.splitlines()[-1].split()[1:]] == [2.0, 1001.0]


def test_cli_gives_the_finite_power_and_never_the_raw_errno_tuple(capsys, monkeypatch):
    rc, out, err = _run_cli(['grad', 'x**-1', 'x=1e-300'], capsys)
    assert rc == 0, err
    assert 'x**-1 = 1e+300' in out and '-inf' in out
    # whatever raises a bare (errno, text) OverflowError, the CLI names it in words
    from microgrid import cli

    def overflow(*args, **kwargs):
        raise OverflowError(34, 'Numerical result out of range')

    monkeypatch.setattr(cli.Value, 'tanh', overflow)
    rc, out, err = _run_cli(['grad', 'tanh(x)', 'x=1'], capsys)
    assert rc == 2
    assert "(34, 'Numerical result out of range')" not in err
    assert 'math range error: the result is too large (Numerical result out of range)' in err
    assert 'Traceback' not in err and '(in tanh(x))' in err
    monkeypatch.setitem(cli._COMMANDS, 'grad', overflow)
    rc, out, err = _run_cli(['grad', 'x', 'x=1'], capsys)
    assert rc == 2 and 'Traceback' not in err
    assert "(34, 'Numerical" not in err and 'math range error' in err


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
