"""The course's own regression checks: claims about the lessons' outputs, run by the tests.

They used to be hidden assert cells (tagged ``check``) in the lessons, where a student could
not see them and a failed one stopped Run All. Now each lesson holds only what the student
sees, and tests/course/test_course.py inserts each claim as a cell right after the cell whose
id is its key, runs the lesson, and removes the claims again before it saves the executed copy.

Convention: ``CLAIMS[lesson stem][id of the cell the claim follows] = code``. No lesson has a
cell tagged ``check`` any more (test_regression_claims_live_in_the_tests_not_in_hidden_cells
requires it of every lesson): a new regression check goes here, under the id of the cell
whose output it describes, written as plain asserts. A claim runs inside a function, so its names
stay local (use ``globals()``, not ``locals()``, for the lesson's names); it must not change
the lesson's objects, since the student's run has no claims. A claim that a sentence of the
prose relies on says so in a comment.
"""

from __future__ import annotations

__all__ = ['CLAIMS']

CLAIMS: dict[str, dict[str, str]] = {
    '01_derivatives_by_nudging': {
        'cell-03': '''\
assert math.isclose(slope, 14.003, rel_tol=1e-6)  # 6x - 4 = 14, plus 3h from the curvature
''',
        'cell-11': '''\
assert 1e-10 <= best <= 1e-5  # near the square root of the float precision
''',
        'cell-16': '''\
assert math.isclose(slopes['a'], b, rel_tol=1e-5)
assert math.isclose(slopes['b'], a, rel_tol=1e-5)
assert math.isclose(slopes['c'], 1.0, rel_tol=1e-5)
''',
        'cell-22': '''\
assert math.isclose(dy_du, 0.7115, abs_tol=1e-4) and math.isclose(chain, nudged, rel_tol=1e-8)
''',
        'cell-25': '''\
assert math.isclose(by_the_rule, nudged, rel_tol=1e-8)
''',
    },
    '02_the_value': {
        'cell-03': '''\
assert e.parents == (a, b) and e.local_grads == (-3.0, 2.0)
''',
        'cell-06': '''\
assert a.parents == () and a.op == ''
assert k.parents[0].op == '*' and k.parents[0].parents == (a,)
''',
        'cell-09': '''\
assert math.isclose((x**2).local_grads[0], 1.0)
assert math.isclose(x.tanh().local_grads[0], 1 - math.tanh(0.5) ** 2)
''',
        'cell-19': '''\
assert (a.grad, b.grad, c.grad, f.grad) == (6.0, -4.0, -2.0, 4.0)
''',
        'cell-22': '''\
source = microgrid.draw(r, names=globals()).source
assert 'p' in source and 'q' in source
''',
    },
    '03_build_your_own_engine': {
        'cell-18': '''\
assert good and good.ops == ('a + b', 'a * b', 'tanh(a)', 'exp(a)')
''',
        'cell-25': '''\
assert not bug1 and 'a + a at a=1.5: a.grad should be 2, your backward gives 1' in bug1.message
assert not bug2 and 'reverse topological order' in bug2.message
assert not bug3 and bug3.first_wrong_op == 'tanh(a)'
''',
    },
    '04_backprop_by_hand_and_by_steps': {
        'cell-09': '''\
for name, g in by_hand.items():
    assert math.isclose(v[name].grad, g, abs_tol=1e-12), name
''',
        'cell-18': '''\
assert wrong != 7.0 and a.grad == 7.0
''',
        'cell-21': '''\
assert a.grad == 1.0
''',
        'cell-24': '''\
assert twice == 12.0 and a.grad == 6.0
''',
    },
    '05_neuron_layer_mlp': {
        'cell-04': '''\
v = Value(0.0)
v.sigmoid().backward()
assert v.grad == 0.25
for x in (-3.0, 0.5, 4.0):
    v = Value(x)
    v.tanh().backward()
    assert math.isclose(v.grad, 1 - math.tanh(x) ** 2)
''',
        'cell-07': '''\
assert len(model.parameters()) == 337  # (2+1)*16 + (16+1)*16 + (16+1)*1
''',
        'cell-19': '''\
assert results['tanh', 'uniform'][-1] > 0.8  # saturated
assert results['tanh', 'xavier'][-1] < 0.6 * results['tanh', 'xavier'][0]  # fading
gained = results['tanh', 'xavier x 5/3']
assert 0.8 < gained[-1] / gained[0] < 1.25  # steady
assert results['relu', 'uniform'][-1] > 50 * results['relu', 'uniform'][0]  # exploding
he = results['relu', 'he']
assert 0.2 < he[-1] / he[0] < 5  # stable
''',
        'cell-23': '''\
for init in ['uniform', 'xavier', 'he']:
    s = signal['sigmoid', init]
    assert s[0] < 1e-3 * s[-1]  # vanishing
    assert 2.0 < (s[-1] / s[0]) ** (1 / 11) < 4.5  # "about 2 to 4 at every layer"
assert signal['relu', 'uniform'][0] > 50 * signal['relu', 'uniform'][-1]  # exploding
assert signal['relu', 'xavier'][0] < 0.1 * signal['relu', 'xavier'][-1]  # shrinking
he = signal['relu', 'he']
assert 0.2 < he[0] / he[-1] < 5  # steady
''',
    },
    '06_training_on_two_moons': {
        'cell-04': '''\
assert accuracy >= 0.95  # the loop reaches at least 95% accuracy
''',
        'cell-14': '''\
too_big = histories['too big (8.0)']['loss']
assert final['good (0.5)'] < final['too small (0.01)']
assert final['scheduled (1.0 -> 0.1)'] < final['too small (0.01)']
assert max(too_big) > 1e4 * too_big[0]  # 8.0 blows the loss up by more than 10^4
assert alive == 0 and big > 1e8  # no relu alive in layer 2, sum of w² above 10^8
assert len(noticed) == 1 and noticed[0].startswith('too big')  # fit() warned once, about 8.0
''',
        'cell-17': '''\
assert h_mini['loss'][-1] < h_full['loss'][-1]  # mini-batches end lower (10 steps per epoch)
''',
        'cell-20': '''\
assert results['Adam']['loss'][-1] < results['SGD']['loss'][-1]
''',
        'cell-23': '''\
from PIL import Image as PILImage

with PILImage.open(gif) as im:
    assert im.n_frames == 11  # epoch 0, then every 2nd of 20
assert anim['accuracy'][-3:] == [1.0, 1.0, 1.0] and anim['loss'][-1] < 0.01  # converged
''',
    },
    '07_regression_and_local_minima': {
        'cell-05': '''\
assert math.isclose(L, loss.data, rel_tol=1e-12)
assert all(math.isclose(p, q, rel_tol=1e-12) for p, q in zip(by_hand, by_engine))
assert len(by_hand) == len(by_engine) == 9  # "all nine gradients"
''',
        'cell-14': '''\
assert h_reg['loss'][-1] < 0.02  # the regression MSE ends below 0.02
''',
        'cell-17': '''\
assert all(a >= 0.95 for a in trained.values())  # all four data sets learnt to at least 95%
''',
        'cell-22': '''\
assert abs(curves['seed 6'][99] - curves['seed 6'][-1]) < 0.005  # flat for its last 200 epochs
assert curves['seed 4'][-1] < curves['seed 6'][-1] - 0.05  # seed 4 ends at least 0.05 lower
assert worse == len(around)  # every nudge around seed 6 is worse
''',
        'cell-25': '''\
assert max(dead_curve) - min(dead_curve) < 1e-3  # the dead network never moves
assert any('dead relu' in str(w.message) for w in caught)  # fit() said so
''',
    },
    '08_recognising_the_digit_5': {
        'cell-03': '''\
assert test_acc5 >= 0.93  # the 5-detector beats 93% on test images
''',
        'cell-09': '''\
assert f'{similar:.2f}' == '0.86'  # "a correlation of 0.86"
''',
        'cell-12': '''\
assert math.isclose(ce.data, -math.log(probs[0].data), rel_tol=1e-12)  # -log p of the true class
''',
        'cell-22': '''\
assert 0.5 < acc_lin < 0.98 and 0.5 < test_acc < 0.98  # hard, but learnable
assert history['loss'][-1] < 0.5 * history['loss'][0]  # the hidden-layer model halves its loss
''',
        'cell-25': '''\
assert sum(matrix[i][i] for i in range(10)) == round(test_acc * len(y_test))  # right answers
assert sum(map(sum, matrix)) == len(y_test)  # every test image counted once
''',
    },
    '09_softmax_and_overfitting': {
        'cell-03': '''\
assert all(abs(z.grad - (p[i] - y_onehot[i])) < 1e-12 for i, z in enumerate(zs))  # p - y
''',
        'cell-06': '''\
assert fused == 800.0  # the fused loss is 800
''',
        'cell-15': '''\
no_l2, with_l2 = curves[0.0], curves[1e-2]
assert no_l2['train'][-1] < 0.1  # no L2: learnt by heart
assert no_l2['validation'][-1] > 1.2 * min(no_l2['validation'])  # ends 20% above its best
assert with_l2['validation'][-1] < no_l2['validation'][-1]  # L2 ends lower on validation
''',
        'cell-21': '''\
no_l2 = curves[0.0]
assert tiny['L1 = 0.003'] > tiny['L2 = 0.01']  # L1 zeroes more weights than L2
assert l1_val < no_l2['validation'][-1]  # L1 ends lower on validation than no penalty
''',
        'cell-24': '''\
assert gap < 0.1  # averaged dropout outputs stay within 0.1 of the plain ones
''',
    },
    '10_momentum_and_adam': {
        'cell-04': '''\
dist = {name: math.hypot(*pts[-1]) for name, pts in paths.items()}
assert dist['SGD + momentum 0.8, lr 0.3'] < 0.3 * dist['SGD, lr 0.9']
assert dist['Adam, lr 0.3'] < 0.3 * dist['SGD, lr 0.9']
sgd_b = [p[1] for p in paths['SGD, lr 0.9']][:10]
assert all(u * v < 0 for u, v in zip(sgd_b, sgd_b[1:]))  # the zig-zag: b flips sign
''',
        'cell-14': '''\
sgd_ratios = [b / a for a, b in zip(sgd_l2, sgd_l2[1:])]
adam_ratios = [b / a for a, b in zip(adam_l2, adam_l2[1:])]
assert all(math.isclose(r, 0.99, rel_tol=1e-9) for r in sgd_ratios)  # 1 - 2 lr lambda
assert max(adam_ratios) - min(adam_ratios) > 0.1  # Adam + L2: no fixed fraction
''',
    },
    '11_onward_to_pytorch': {
        'cell-03': '''\
assert all(abs(a - b) < 1e-12 for ra, rb in zip(grad_W, outer) for a, b in zip(ra, rb))
assert all(abs(n.b.grad - d) < 1e-12 for n, d in zip(layer.neurons, delta))
''',
        'cell-09': '''\
assert abs(loss_mg.data - loss_torch.item()) < 1e-12
''',
        'cell-11': '''\
assert worst < 1e-12
''',
        'cell-17': '''\
assert max(abs(a - b) for a, b in zip(out_m, out_t)) < 1e-12
''',
        'cell-20': '''\
assert abs(eager_out.data - compiled_out.data) < 1e-12
assert max(abs(a - b) for a, b in zip(eager_grads, compiled_grads)) < 1e-12
''',
        'cell-23': '''\
assert 'control flow' in str(caught)
''',
    },
    '12_common_mistakes': {
        'cell-03': '''\
assert x.grad != 7.0 and 'the sum over 3 paths' in explain_text
x2 = Value(3.0)
f(x2).backward()
assert x2.grad == 7.0 and abs(nudged - 7.0) < 1e-6
''',
        'cell-07': '''\
assert max(forgot[1:]) > 0.75 and min(forgot[1:]) < 0.07  # "between about 0.06 and 0.8"
assert round(min(forgot[100:]), 3) == 0.068 and round(right[-1], 3) == 0.196
assert max(forgot[100:]) > 2 * min(forgot[100:])  # then it swings
assert all(a >= b for a, b in zip(right[5:], right[6:]))  # the right loop goes steadily down
''',
        'cell-10': '''\
assert w.grad == 6.0 and fresh_w.grad == 10.0
''',
        'cell-18': '''\
assert good[-1] < 1e-6 and bad[-1] > bad[0] * 1e6
''',
        'cell-21': '''\
assert 'gave inf' in message and 'loss = error * error' in message
''',
        'cell-24': '''\
assert "'cube' node" in message
''',
    },
    '13_curvature_and_newton': {
        'cell-3': '''\
errors = [(f(1.5 + h) - 2 * f(1.5) + f(1.5 - h)) / h**2 + math.sin(1.5) for h in (1e-1, 1e-2, 1e-3)]
assert [f'{e:.1e}' for e in errors] == ['8.3e-04', '8.3e-06', '8.3e-08']
late = [(f(1.5 + h) - 2 * f(1.5) + f(1.5 - h)) / h**2 + math.sin(1.5) for h in (1e-5, 1e-7)]
assert [f'{e:.1e}' for e in late] == ['-4.3e-07', '-1.7e-03']
''',
        'cell-14': '''\
assert math.isclose(d2y, -2 * t * (1 - t * t), rel_tol=1e-12)
''',
        'cell-28': '''\
assert loss_at(newton_path[-1]) < loss_at(gd_path[-1])
assert max(abs(v) for v in gradient(loss, newton_path[-1])) < 1e-9
''',
        'cell-32': '''\
assert abs(newton[-1] - 0.169) < 0.01 and derivatives(bumpy, newton[-1])[1] < 0
assert bumpy(gd[-1]) < bumpy(0.3)
''',
    },
    '14_forward_vs_reverse_mode': {
        'cell-5': '''\
assert forward_mode(y, {xs[0]: 1.0})[0] == jvp(f, [1.0, 2.0, 3.0], [1.0, 0.0, 0.0])[1]
assert [adjoint[x] for x in xs] == list(grad(f(*xs), xs))
''',
        'cell-11': '''\
xs = [Value(0.1 * k) for k in range(10)]
out = chain(*xs)
by_reverse = grad(out, xs)
by_forward = [
    jvp(chain, [x.data for x in xs], [float(i == k) for k in range(10)])[1] for i in range(10)
]
assert all(math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15) for a, b in zip(by_reverse, by_forward))
''',
        'cell-14': '''\
assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(column, rows))
''',
        'cell-20': '''\
assert forward_work == len(params) * reverse_work  # "exactly the number of parameters"
pairs = zip(by_reverse, by_forward)
assert all(math.isclose(a or 0.0, b, rel_tol=1e-9, abs_tol=1e-12) for a, b in pairs)
''',
    },
}
