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
