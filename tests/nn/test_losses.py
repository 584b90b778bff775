"""microgrid.losses against torch.nn.functional in float64: values and gradients."""

import math
import random

import pytest

from microgrid import losses
from microgrid.engine import Value, _topological_order


@pytest.fixture(scope='module')
def torch():
    return pytest.importorskip('torch', reason='torch (a dev dependency) is the reference here')


@pytest.fixture(scope='module')
def F(torch):
    return torch.nn.functional


def values(xs):
    return [Value(x) for x in xs]


def tens(torch, xs):
    return torch.tensor(xs, dtype=torch.float64, requires_grad=True)


def close(a, b, rel=1e-12, abs=1e-12):
    return a == pytest.approx(b, rel=rel, abs=abs)


RNG = random.Random(0)
SCORES = [RNG.uniform(-3, 3) for _ in range(9)]
SIGNS = [RNG.choice([-1, 1]) for _ in range(9)]
BITS = [(s + 1) // 2 for s in SIGNS]


# -- mse ------------------------------------------------------------------------------


def test_mse_of_a_list_of_values_matches_torch(torch, F):
    targets = [RNG.uniform(-1, 1) for _ in SCORES]
    ps = values(SCORES)
    loss = losses.mse(ps, targets)
    loss.backward()
    tp = tens(torch, SCORES)
    tl = F.mse_loss(tp, torch.tensor(targets, dtype=torch.float64))
    tl.backward()
    assert close(loss.data, tl.item())
    assert close([p.grad for p in ps], tp.grad.tolist())


def test_mse_of_a_list_of_lists_is_the_mean_over_every_element(torch, F):
    preds = [[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]]
    targets = [[0.0, 2.5, -1.0], [1.5, -1.0, 2.0]]
    ps = [values(row) for row in preds]
    loss = losses.mse(ps, targets)
    loss.backward()
    tp = tens(torch, preds)
    tl = F.mse_loss(tp, torch.tensor(targets, dtype=torch.float64))
    tl.backward()
    assert close(loss.data, tl.item())
    assert close([p.grad for row in ps for p in row], tp.grad.flatten().tolist())
    # closed form: (1 + 0.25 + 0 + 1 + 1 + 1) / 6
    assert close(loss.data, 4.25 / 6)


def test_mse_of_one_value():
    p = Value(3.0)
    loss = losses.mse(p, 1.0)
    loss.backward()
    assert loss.data == 4.0 and p.grad == 4.0


def test_mse_shapes_must_agree():
    with pytest.raises(ValueError, match='3 predictions but 2 targets'):
        losses.mse(values([1, 2, 3]), [1, 2])
    with pytest.raises(ValueError, match='sample 1 has 2 predictions but 1 targets'):
        losses.mse([values([1]), values([1, 2])], [[1], [2]])
    with pytest.raises(TypeError, match='target 0'):
        losses.mse(values([1]), ['a'])
    with pytest.raises(ValueError, match='empty'):
        losses.mse([], [])


# -- hinge --------------------------------------------------------------------------


def test_hinge_matches_torch_relu_of_the_margin(torch):
    ss = values(SCORES)
    loss = losses.hinge(ss, SIGNS)
    loss.backward()
    ts = tens(torch, SCORES)
    tl = torch.relu(1 - torch.tensor(SIGNS, dtype=torch.float64) * ts).mean()
    tl.backward()
    assert close(loss.data, tl.item())
    assert close([s.grad for s in ss], ts.grad.tolist())


def test_hinge_closed_form():
    # margins 1 - y*s: 1 - 2 = -1 -> 0;  1 - (-1)(0.5) = 1.5;  1 - 1*(-1) = 2
    ss = values([2.0, 0.5, -1.0])
    loss = losses.hinge(ss, [1, -1, 1])
    loss.backward()
    assert loss.data == pytest.approx(3.5 / 3)
    assert [s.grad for s in ss] == pytest.approx([0.0, 1 / 3, -1 / 3])


def test_hinge_accepts_a_model_output_of_one_element_lists():
    ss = [[Value(0.2)], [Value(-0.4)]]
    assert losses.hinge(ss, [1, -1]).data == pytest.approx((0.8 + 0.6) / 2)


@pytest.mark.parametrize('bad', [[1, 0], [1, 2], [1, 0.5]])
def test_hinge_wants_labels_of_plus_or_minus_one(bad):
    with pytest.raises(ValueError, match='labels must be \\+1 or -1') as info:
        losses.hinge(values([0.1, 0.2]), bad)
    assert 'index 1' in str(info.value)


def test_hinge_checks_lengths_and_types():
    with pytest.raises(ValueError, match='2 predictions but 3 labels'):
        losses.hinge(values([0.1, 0.2]), [1, 1, 1])
    with pytest.raises(TypeError, match='label 0'):
        losses.hinge(values([0.1]), ['1'])
    with pytest.raises(TypeError, match='prediction 0'):
        losses.hinge(['x'], [1])


# -- binary cross-entropy -------------------------------------------------------------


def test_bce_matches_torch_with_logits(torch, F):
    zs = values(SCORES)
    loss = losses.binary_cross_entropy(zs, BITS)
    loss.backward()
    tz = tens(torch, SCORES)
    tl = F.binary_cross_entropy_with_logits(tz, torch.tensor(BITS, dtype=torch.float64))
    tl.backward()
    assert close(loss.data, tl.item())
    assert close([z.grad for z in zs], tz.grad.tolist())


def test_bce_is_stable_at_huge_logits(torch, F):
    logits = [1000.0, -1000.0, 1000.0, -1000.0, 0.0]
    labels = [1, 0, 0, 1, 1]
    zs = values(logits)
    loss = losses.binary_cross_entropy(zs, labels)
    loss.backward()
    # Two confident right answers cost 0, two confident wrong ones 1000 each, the last log 2.
    assert close(loss.data, (2000 + math.log(2)) / 5)
    tz = tens(torch, logits)
    tl = F.binary_cross_entropy_with_logits(tz, torch.tensor(labels, dtype=torch.float64))
    tl.backward()
    assert close(loss.data, tl.item())
    assert close([z.grad for z in zs], tz.grad.tolist())
    assert [z.grad for z in zs] == pytest.approx([0.0, 0.0, 0.2, -0.2, -0.1])


def test_bce_accepts_probabilities_as_torch_does(torch, F):
    probs = [0.25, 0.5, 0.9]
    zs = values(SCORES[:3])
    loss = losses.binary_cross_entropy(zs, probs)
    loss.backward()
    tz = tens(torch, SCORES[:3])
    tl = F.binary_cross_entropy_with_logits(tz, torch.tensor(probs, dtype=torch.float64))
    tl.backward()
    assert close(loss.data, tl.item())
    assert close([z.grad for z in zs], tz.grad.tolist())


@pytest.mark.parametrize('bad', [-1, 2, 1.5])
def test_bce_refuses_labels_outside_zero_one(bad):
    with pytest.raises(ValueError, match='labels must be 0 or 1'):
        losses.binary_cross_entropy(values([0.0, 1.0]), [1, bad])


# -- softmax, log_softmax, cross-entropy -----------------------------------------------

LOGITS = [[RNG.uniform(-4, 4) for _ in range(4)] for _ in range(5)]
TARGETS = [RNG.randrange(4) for _ in range(5)]


@pytest.mark.parametrize('logits', [LOGITS[0], [1000.0, -1000.0, 999.0], [-1000.0, -1000.5]])
def test_softmax_and_log_softmax_match_torch(torch, F, logits):
    weights = [0.3, -1.2, 2.0, 0.7][: len(logits)]  # a weighted sum of outputs, to backprop
    for ours, theirs in ((losses.softmax, F.softmax), (losses.log_softmax, F.log_softmax)):
        zs = values(logits)
        out = ours(zs)
        assert isinstance(out, list) and all(type(o) is Value for o in out)
        sum(w * o for w, o in zip(weights, out)).backward()
        tz = tens(torch, logits)
        tout = theirs(tz, dim=0)
        (tout * torch.tensor(weights, dtype=torch.float64)).sum().backward()
        assert close([o.data for o in out], tout.tolist())
        assert all(math.isfinite(o.data) for o in out)
        assert close([z.grad for z in zs], tz.grad.tolist())


def test_softmax_sums_to_one():
    out = losses.softmax(values([2.0, 1.0, 0.1]))
    assert sum(o.data for o in out) == pytest.approx(1.0, rel=1e-15)
    e = [math.exp(2.0), math.exp(1.0), math.exp(0.1)]
    assert [o.data for o in out] == pytest.approx([v / sum(e) for v in e], rel=1e-14)


def test_cross_entropy_of_one_sample_matches_torch_and_the_closed_form(torch, F):
    zs = values(LOGITS[0])
    loss = losses.cross_entropy(zs, TARGETS[0])
    loss.backward()
    tz = tens(torch, LOGITS[0])
    tl = F.cross_entropy(tz.unsqueeze(0), torch.tensor([TARGETS[0]]))
    tl.backward()
    assert close(loss.data, tl.item())
    assert close([z.grad for z in zs], tz.grad.tolist())
    # d/dz_i = softmax_i - [i == target]
    e = [math.exp(z) for z in LOGITS[0]]
    want = [v / sum(e) - (i == TARGETS[0]) for i, v in enumerate(e)]
    assert close([z.grad for z in zs], want)


def test_cross_entropy_of_a_batch_matches_torch(torch, F):
    zs = [values(row) for row in LOGITS]
    loss = losses.cross_entropy(zs, TARGETS)
    loss.backward()
    tz = tens(torch, LOGITS)
    tl = F.cross_entropy(tz, torch.tensor(TARGETS))
    tl.backward()
    assert close(loss.data, tl.item())
    assert close([z.grad for row in zs for z in row], tz.grad.flatten().tolist())


def test_cross_entropy_is_stable_at_plus_minus_1000(torch, F):
    logits = [[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [-1000.0, -1000.0, -1000.0]]
    targets = [1, 2, 0]
    zs = [values(row) for row in logits]
    loss = losses.cross_entropy(zs, targets)
    loss.backward()
    tz = tens(torch, logits)
    tl = F.cross_entropy(tz, torch.tensor(targets))
    tl.backward()
    assert math.isfinite(loss.data)
    # 2000, then 1 + log(1 + e^-1), then log 3, averaged
    assert close(loss.data, (2000 + 1 + math.log1p(math.exp(-1)) + math.log(3)) / 3)
    assert close(loss.data, tl.item())
    assert close([z.grad for row in zs for z in row], tz.grad.flatten().tolist())


def test_cross_entropy_refuses_bad_targets():
    row = values([0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match='outside the classes 0..2'):
        losses.cross_entropy(row, 3)
    with pytest.raises(ValueError, match='target 0 is -1'):
        losses.cross_entropy(row, -1)
    with pytest.raises(TypeError, match='target'):
        losses.cross_entropy(row, True)
    with pytest.raises(TypeError, match='target'):
        losses.cross_entropy(row, 1.0)
    with pytest.raises(ValueError, match='2 samples of logits but 1 targets'):
        losses.cross_entropy([row, row], [0])
    with pytest.raises(ValueError, match='sample 1 has 2 logits, sample 0 has 3'):
        losses.cross_entropy([row, values([1, 2])], [0, 0])
    with pytest.raises(TypeError, match='batch'):
        losses.cross_entropy(row, [0, 1, 2])


def test_cross_entropy_takes_numpy_style_integer_targets():
    np = pytest.importorskip('numpy', reason='numpy (a dependency) supplies the integer type')
    row = values([0.1, 0.2, 0.3])
    assert losses.cross_entropy(row, np.int64(2)).data == losses.cross_entropy(row, 2).data


# -- l2 -------------------------------------------------------------------------------


def test_l2_is_the_sum_of_squares_as_one_node(torch):
    raw = [0.5, -1.5, 2.0, 0.25]
    ps = values(raw)
    reg = losses.l2(ps)
    reg.backward()
    tp = tens(torch, raw)
    tr = (tp**2).sum()
    tr.backward()
    assert close(reg.data, tr.item()) and close(reg.data, 6.5625)
    assert close([p.grad for p in ps], tp.grad.tolist())
    assert reg.op == 'dot' and len(_topological_order(reg)) == 1


def test_l2_takes_a_module_and_refuses_numbers():
    from microgrid import nn

    model = nn.MLP(2, [3, 1], seed=0)
    assert losses.l2(model).data == pytest.approx(sum(p.data**2 for p in model.parameters()))
    with pytest.raises(TypeError, match='parameter 1'):
        losses.l2([Value(1.0), 2.0])


def test_every_loss_returns_one_value():
    ss = values([0.3, -0.2])
    for loss in (
        losses.mse(ss, [0.0, 1.0]),
        losses.hinge(ss, [1, -1]),
        losses.binary_cross_entropy(ss, [1, 0]),
        losses.cross_entropy(ss, 0),
        losses.l2(ss),
    ):
        assert type(loss) is Value
