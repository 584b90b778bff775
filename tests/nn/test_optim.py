"""microgrid.optim against torch.optim and torch.optim.lr_scheduler, step by step."""

import math
import random

import pytest

from microgrid import nn, optim
from microgrid.engine import Value


@pytest.fixture(scope='module')
def torch():
    return pytest.importorskip('torch', reason='torch (a dev dependency) is the reference here')


START = [0.5, -1.25, 2.0, 0.0, -0.3]


def loss_of(ps, k):
    """A loss whose gradient changes with the parameters and the step: sum c_i p_i^2 + sin."""
    return sum((i + 1) * 0.3 * p * p + (p * (0.1 * k + i)).sin() for i, p in enumerate(ps))


def torch_loss_of(torch, t, k):
    c = torch.tensor([(i + 1) * 0.3 for i in range(len(START))], dtype=torch.float64)
    phase = torch.tensor([0.1 * k + i for i in range(len(START))], dtype=torch.float64)
    return (c * t * t + torch.sin(t * phase)).sum()


def run_both(torch, make_ours, make_theirs, steps=8, lr_changes=None):
    """Take the same steps with both optimizers; return both parameter histories."""
    ps = [Value(v) for v in START]
    t = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    ours, theirs = make_ours(ps), make_theirs([t])
    got, want = [], []
    for k in range(steps):
        if lr_changes and k in lr_changes:
            ours.lr = lr_changes[k]
            for g in theirs.param_groups:
                g['lr'] = lr_changes[k]
        ours.zero_grad()
        loss_of(ps, k).backward()
        ours.step()
        theirs.zero_grad()
        torch_loss_of(torch, t, k).backward()
        theirs.step()
        got.append([p.data for p in ps])
        want.append(t.detach().tolist())
    return got, want


def assert_same(got, want):
    for k, (g, w) in enumerate(zip(got, want)):
        assert g == pytest.approx(w, rel=1e-12, abs=1e-13), f"step {k}"


@pytest.mark.parametrize(
    'kwargs',
    [
        {'lr': 0.1},
        {'lr': 0.05, 'momentum': 0.9},
        {'lr': 0.1, 'weight_decay': 0.01},
        {'lr': 0.02, 'momentum': 0.5, 'weight_decay': 0.1},
    ],
)
def test_sgd_matches_torch(torch, kwargs):
    got, want = run_both(
        torch, lambda ps: optim.SGD(ps, **kwargs), lambda ts: torch.optim.SGD(ts, **kwargs)
    )
    assert_same(got, want)
    assert got[-1] != got[0]


@pytest.mark.parametrize(
    'kwargs',
    [
        {},
        {'lr': 0.05},
        {'lr': 0.01, 'betas': (0.8, 0.99), 'eps': 1e-6},
        {'lr': 0.02, 'weight_decay': 0.1},
    ],
)
def test_adam_matches_torch(torch, kwargs):
    got, want = run_both(
        torch,
        lambda ps: optim.Adam(ps, **kwargs),
        lambda ts: torch.optim.Adam(ts, **kwargs),
        steps=12,
    )
    assert_same(got, want)


@pytest.mark.parametrize('name', ['SGD', 'Adam'])
def test_changing_lr_between_steps_matches_torch(torch, name):
    kwargs = {'lr': 0.1, 'momentum': 0.9} if name == 'SGD' else {'lr': 0.1}
    got, want = run_both(
        torch,
        lambda ps: getattr(optim, name)(ps, **kwargs),
        lambda ts: getattr(torch.optim, name)(ts, **kwargs),
        steps=8,
        lr_changes={3: 0.03, 6: 0.0},
    )
    assert_same(got, want)
    assert got[7] == got[6]  # lr 0: SGD with momentum and Adam both stand still


def test_first_sgd_step_by_hand():
    p = Value(2.0)
    p.grad = 0.5
    opt = optim.SGD([p], lr=0.1)
    opt.step()
    assert p.data == 2.0 - 0.1 * 0.5


def test_first_adam_step_moves_each_parameter_by_lr():
    # With bias correction, the first step is lr * g / (|g| + eps): almost exactly lr.
    ps = [Value(1.0), Value(-1.0)]
    ps[0].grad, ps[1].grad = 3.0, -1e-3
    optim.Adam(ps, lr=0.01).step()
    assert ps[0].data == pytest.approx(1.0 - 0.01, rel=1e-9)
    assert ps[1].data == pytest.approx(-1.0 + 0.01, rel=1e-6)


def test_updates_touch_data_only_and_build_no_graph():
    model = nn.MLP(2, [4, 1], seed=0)
    params = model.parameters()
    for opt in (
        optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=0.1),
        optim.Adam(params, lr=0.1, weight_decay=0.1),
    ):
        for _ in range(2):
            opt.zero_grad()
            model([1.0, -2.0]).backward()
            before = [p.data for p in params]
            opt.step()
            assert model.parameters() == params  # the same Value objects
            assert all(type(p.data) is float and p.op == '' and p.parents == () for p in params)
            assert [p.data for p in params] != before


def test_zero_grad_zeroes_every_parameter():
    ps = [Value(1.0), Value(2.0)]
    ps[0].grad, ps[1].grad = 1.5, -2.0
    optim.SGD(ps, lr=0.1).zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]


def test_optimizers_take_a_module_or_a_generator():
    model = nn.MLP(2, [3, 1], seed=0)
    assert optim.SGD(model, lr=0.1).params == model.parameters()
    assert optim.Adam(p for p in model.parameters()).params == model.parameters()


@pytest.mark.parametrize(
    'make, error, words',
    [
        (lambda p: optim.SGD(p, lr=-0.1), ValueError, 'lr'),
        (lambda p: optim.SGD(p, lr='0.1'), TypeError, 'lr'),
        (lambda p: optim.SGD(p, lr=math.nan), ValueError, 'lr'),
        (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), ValueError, 'momentum'),
        (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), ValueError, 'weight_decay'),
        (lambda p: optim.Adam(p, betas=(0.9, 1.0)), ValueError, 'betas[1]'),
        (lambda p: optim.Adam(p, betas=0.9), TypeError, 'betas'),
        (lambda p: optim.Adam(p, eps=-1e-8), ValueError, 'eps'),
        (lambda p: optim.SGD([], lr=0.1), ValueError, 'empty'),
        (lambda p: optim.SGD([p[0], 1.0], lr=0.1), TypeError, 'parameter 1'),
        (lambda p: optim.SGD([p[0], p[0]], lr=0.1), ValueError, 'more than once'),
        (lambda p: optim.SGD(p[0], lr=0.1), TypeError, 'iterable'),
    ],
)
def test_bad_arguments_are_refused(make, error, words):
    with pytest.raises(error) as info:
        make([Value(1.0), Value(2.0)])
    assert words in str(info.value)


def test_setting_a_bad_lr_is_refused():
    opt = optim.Adam([Value(1.0)])
    with pytest.raises(ValueError, match='lr'):
        opt.lr = -1.0
    assert opt.lr == 1e-3


# -- schedules --------------------------------------------------------------------------


def schedule_pair(torch, ours, theirs, lr, epochs):
    opt = optim.SGD([Value(1.0)], lr=lr)
    t_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched, t_sched = ours(opt), theirs(t_opt)
    got, want, seen = [sched.get_last_lr()], [t_sched.get_last_lr()], [opt.lr]
    for _ in range(epochs):
        opt.step()
        t_opt.step()
        sched.step()
        t_sched.step()
        got.append(sched.get_last_lr())
        want.append(t_sched.get_last_lr())
        seen.append(opt.lr)
    return got, want, seen


@pytest.mark.parametrize('step_size, gamma', [(3, 0.1), (1, 0.5), (10, 0.9)])
def test_step_lr_matches_torch(torch, step_size, gamma):
    got, want, seen = schedule_pair(
        torch,
        lambda o: optim.StepLR(o, step_size, gamma),
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma),
        lr=0.5,
        epochs=25,
    )
    assert [g[0] for g in got] == pytest.approx([w[0] for w in want], rel=1e-14)
    assert seen == [g[0] for g in got]
    assert seen == pytest.approx([0.5 * gamma ** (k // step_size) for k in range(26)], rel=1e-12)


@pytest.mark.parametrize(
    'start, end, total', [(1.0, 0.1, 100), (1 / 3, 1.0, 5), (0.5, 0.0, 7), (1.0, 1.0, 3)]
)
def test_linear_lr_matches_torch(torch, start, end, total):
    got, want, seen = schedule_pair(
        torch,
        lambda o: optim.LinearLR(o, start, end, total),
        lambda o: torch.optim.lr_scheduler.LinearLR(o, start, end, total),
        lr=0.2,
        epochs=total + 5,
    )
    assert [g[0] for g in got] == pytest.approx([w[0] for w in want], rel=1e-12, abs=1e-15)
    closed = [0.2 * (start + (end - start) * min(k, total) / total) for k in range(total + 6)]
    assert seen == pytest.approx(closed, rel=1e-12, abs=1e-15)


def test_linear_lr_gives_micrograds_demo_schedule():
    opt = optim.SGD([Value(1.0)], lr=1.0)
    sched = optim.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=100)
    lrs = []
    for _ in range(100):
        lrs.append(opt.lr)
        sched.step()
    assert lrs == pytest.approx([1.0 - 0.9 * k / 100 for k in range(100)], rel=1e-12)


def test_schedules_refuse_bad_arguments():
    opt = optim.SGD([Value(1.0)], lr=1.0)
    with pytest.raises(ValueError, match='step_size'):
        optim.StepLR(opt, 0)
    with pytest.raises(TypeError, match='step_size'):
        optim.StepLR(opt, 2.5)
    with pytest.raises(ValueError, match='start_factor'):
        optim.LinearLR(opt, 0.0, 1.0, 5)
    with pytest.raises(ValueError, match='start_factor'):
        optim.LinearLR(opt, 1.5, 1.0, 5)
    with pytest.raises(ValueError, match='end_factor'):
        optim.LinearLR(opt, 1.0, 2.0, 5)
    with pytest.raises(ValueError, match='total_iters'):
        optim.LinearLR(opt, 1.0, 0.5, 0)
    with pytest.raises(TypeError, match='optimizer'):
        optim.StepLR('sgd', 5)
    assert opt.lr == 1.0  # nothing refused changed it


def test_adam_on_a_model_lowers_the_loss():
    # A sanity run on real gradients: 30 Adam steps on a 2-4-1 regression.
    rng = random.Random(0)
    X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(20)]
    y = [x0 * x1 for x0, x1 in X]
    model = nn.MLP(2, [8, 1], activation='tanh', seed=0)
    opt = optim.Adam(model.parameters(), lr=0.05)
    from microgrid import losses

    first = None
    for _ in range(60):
        loss = losses.mse([model(x) for x in X], y)
        first = first if first is not None else loss.data
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.data < 0.2 * first
