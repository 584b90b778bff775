"""What nn promises, held to it (issue 21): zero_grad() clears grad_value as torch's clears
.grad; fit() keeps its FloatingPointError promise on every blow-up path; odd NaNs in the data
are refused up front; a save always loads back equal, or is refused before the file is touched."""

import math
from decimal import Decimal

import pytest

from microgrid import Value, data, nn, optim
from microgrid.training import fit

torch = pytest.importorskip('torch', reason='torch float64 is the reference for these tests')


# -- zero_grad() clears grad_value: a gradient penalty written the torch way -----------------


def _penalty_run_microgrid(steps, zero):
    model = nn.MLP(2, [3, 1], activation='tanh', seed=0)
    params = model.parameters()
    opt = optim.SGD(params, lr=0.05)
    X, Y = [[0.5, -1.0], [1.5, 0.25], [-0.7, 0.9]], [1.0, -1.0, 0.5]
    history = []
    for _ in range(steps):
        zero(model, opt)
        loss = sum((model(x) - y) ** 2 for x, y in zip(X, Y)) / len(X)
        loss.backward(create_graph=True)
        penalty = sum(p.grad_value**2 for p in params)
        zero(model, opt)
        (loss + 0.5 * penalty).backward()
        opt.step()
        history.append((loss.data, penalty.data, [p.data for p in params]))
    return model, history


def _penalty_run_torch(model, steps):
    net = nn.to_torch(model)
    params = [p for layer in net if hasattr(layer, 'weight') for p in (layer.weight, layer.bias)]
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    X = torch.tensor([[0.5, -1.0], [1.5, 0.25], [-0.7, 0.9]], dtype=torch.float64)
    Y = torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((net(X).squeeze(1) - Y) ** 2).mean()
        loss.backward(create_graph=True)
        penalty = sum((p.grad**2).sum() for p in params)
        opt.zero_grad()
        (loss + 0.5 * penalty).backward()
        opt.step()
        history.append((loss.item(), penalty.item()))
    return history


@pytest.mark.filterwarnings('ignore:Using backward\\(\\) with create_graph=True')
@pytest.mark.parametrize('who', ['module', 'optimizer'])
def test_a_gradient_penalty_loop_written_the_torch_way_matches_torch(who):
    zero = (lambda m, o: m.zero_grad()) if who == 'module' else (lambda m, o: o.zero_grad())
    start = nn.MLP(2, [3, 1], activation='tanh', seed=0)
    ours = _penalty_run_microgrid(6, zero)[1]
    theirs = _penalty_run_torch(start, 6)
    for (loss, penalty, _), (t_loss, t_penalty) in zip(ours, theirs):
        assert loss == pytest.approx(t_loss, rel=1e-10)
        assert penalty == pytest.approx(t_penalty, rel=1e-10)


def test_zero_grad_clears_grad_value():
    w = Value(3.0)
    (w * w).backward(create_graph=True)
    assert w.grad_value.data == 6.0
    opt = optim.SGD([w], lr=0.1)
    opt.zero_grad()
    assert w.grad == 0.0 and w.grad_value is None
    model = nn.MLP(1, [1], seed=0)
    (model([2.0]) ** 2).backward(create_graph=True)
    assert all(p.grad_value is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad_value is None and p.grad == 0.0 for p in model.parameters())


# -- fit() keeps its promise on every blow-up path -------------------------------------------


def _finite_loss(model, X, y):
    out = [model(x) for x in X]
    return sum(((o - t) ** 2).data for o, t in zip(out, y)) / len(X)


def test_fit_with_mse_and_a_huge_learning_rate_raises_floating_point_error_and_restores():
    X, y = data.make_moons(40, noise=0.1, seed=1)
    model = nn.MLP(2, [8, 8, 1], seed=0)
    with pytest.raises(FloatingPointError, match=r'fit: .* at epoch \d+, batch \d+') as e:
        fit(
            model,
            X,
            [float(v) for v in y],
            loss='mse',
            epochs=20,
            progress=False,
            optimizer=optim.SGD(model.parameters(), lr=1e200),
        )
    assert all(math.isfinite(p.data) for p in model.parameters())
    assert math.isfinite(_finite_loss(model, X, y))
    assert isinstance(e.value.history, dict)


@pytest.mark.parametrize('op', ['pow', 'exp'])
def test_fit_with_a_custom_loss_that_overflows_raises_floating_point_error_and_restores(op):
    X, y = data.make_moons(30, noise=0.1, seed=2)
    model = nn.MLP(2, [6, 1], seed=0)

    def loss(outputs, labels):
        squares = [(o - t) ** 2 for o, t in zip(outputs, labels)]
        terms = [(s**8 if op == 'pow' else s.exp()) for s in squares]
        return sum(terms) / len(terms)

    with pytest.raises(FloatingPointError, match=r'overflow') as e:
        fit(
            model,
            X,
            [float(v) for v in y],
            loss=loss,
            epochs=50,
            progress=False,
            optimizer=optim.SGD(model.parameters(), lr=1e30),
        )
    assert isinstance(e.value.__cause__, OverflowError)
    # the model is left where the loss was last finite
    outputs = [model(x) for x in X]
    assert math.isfinite(loss(outputs, [float(v) for v in y]).data)


@pytest.mark.parametrize(
    'bad', [Decimal('NaN'), Decimal('sNaN'), Decimal('Infinity')], ids=['nan', 'snan', 'inf']
)
def test_fit_refuses_a_decimal_nan_in_the_data_naming_the_row(bad):
    model = nn.MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match=r'X\[1\]\[0\] .*row 1, column 0'):
        fit(model, [[0.0, 1.0], [bad, 2.0]], [0, 1], progress=False)
    with pytest.raises(ValueError, match=r'y\[1\] .*row 1'):
        fit(model, [[0.0, 1.0], [1.0, 2.0]], [0.0, bad], loss='mse', progress=False)


def test_fit_refuses_a_0d_tensor_nan_in_the_data_naming_the_row():
    model = nn.MLP(2, [2, 1], seed=0)
    nan = torch.tensor(float('nan'), dtype=torch.float64)
    with pytest.raises(ValueError, match=r'X\[0\]\[1\] .*row 0, column 1'):
        fit(model, [[0.0, nan], [1.0, 2.0]], [0, 1], progress=False)
    with pytest.raises(ValueError, match=r'y\[0\] .*row 0'):
        fit(model, [[0.0, 1.0], [1.0, 2.0]], [nan, 1.0], loss='mse', progress=False)


# -- a save loads back equal, or is refused before the old file is touched ---------------------


def _same_model(a, b, X):
    assert a.state_dict() == b.state_dict()
    for x in X:
        oa, ob = a(x), b(x)
        oa, ob = (oa if isinstance(oa, list) else [oa]), (ob if isinstance(ob, list) else [ob])
        assert [v.data for v in oa] == [v.data for v in ob]


def test_a_model_whose_head_was_replaced_saves_and_loads_back_equal(tmp_path):
    model = nn.MLP(2, [4, 4, 1], activation='tanh', seed=0)
    model.layers[-1] = nn.Layer(4, 3, activation='linear', seed=5)
    nn.save(model, tmp_path / 'm.json')
    back = nn.load(tmp_path / 'm.json')
    assert back.nouts == [4, 4, 3]
    _same_model(model, back, [[0.1, 0.2], [-1.0, 2.0]])


def test_a_model_whose_head_changed_activation_saves_and_loads_back_equal(tmp_path):
    model = nn.MLP(2, [4, 1], activation='relu', seed=0)
    model.layers[-1] = nn.Layer(4, 1, activation='sigmoid', seed=5)
    nn.save(model, tmp_path / 'm.json')
    back = nn.load(tmp_path / 'm.json')
    assert back.output_activation == 'sigmoid'
    _same_model(model, back, [[0.1, 0.2], [-1.0, 2.0]])


@pytest.mark.parametrize('how', ['tied weight', 'mismatched layers', 'mixed hidden'])
def test_a_model_that_cannot_load_back_is_refused_before_the_old_file_is_touched(tmp_path, how):
    model = nn.MLP(2, [3, 3, 1], seed=0)
    path = tmp_path / 'm.json'
    path.write_text('old contents')
    if how == 'tied weight':
        model.layers[1].neurons[0].w[0] = model.layers[0].neurons[0].w[0]
        words = r"save: .*parameter.*'layers.1.neurons.0.w.0'"
    elif how == 'mismatched layers':
        model.layers[1] = nn.Layer(5, 3, seed=1)
        words = r'save: layers\[1\] takes 5 inputs but layers\[0\] gives 3'
    else:
        model.layers[1] = nn.Layer(3, 3, activation='tanh', seed=1)
        words = r'save: .*hidden layers .*one activation'
    with pytest.raises(ValueError, match=words):
        nn.save(model, path)
    assert path.read_text() == 'old contents'


def test_numpy_float32_data_saves_as_json_floats(tmp_path):
    np = pytest.importorskip('numpy')
    model = nn.MLP(2, [2, 1], seed=0)
    p = model.parameters()[0]
    p.data = np.float32(0.25)
    assert type(model.state_dict()[model.named_parameters()[0][0]]) is float
    nn.save(model, tmp_path / 'm.json')
    assert nn.load(tmp_path / 'm.json').parameters()[0].data == 0.25


def test_sgd_and_adam_read_numpy_scalars_in_data_as_floats():
    np = pytest.importorskip('numpy')
    for make in (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps)):
        model = nn.MLP(2, [3, 1], seed=0)
        ps = model.parameters()
        model([1.0, 2.0]).backward()
        for p in ps:  # a step by hand, in numpy's float32
            p.data += -np.float32(0.1) * p.grad
        opt = make(ps)
        for _ in range(2):
            opt.zero_grad()
            model([1.0, 2.0]).backward()
            opt.step()
        assert all(type(p.data) is float for p in ps)
