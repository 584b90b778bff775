"""fit, the optimizers and the losses refuse bad numbers: a non-finite target or input,
an optimizer step that would half-apply, a loss that blows up (the model goes back to the
last parameters whose loss was finite)."""

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
