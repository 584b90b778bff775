"""Higher order: gradients that are Values, against PyTorch float64, finite differences
and closed forms; the symbolic rule table against the float one; forward mode."""

from __future__ import annotations

import math

import pytest
import torch
from catalogue import BINARY, UNARY, Binary, Unary
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import evaluate, has_kink_near_zero, trees

import microgrid
from microgrid import Value
from microgrid.autograd import symbolic
from microgrid.autograd.functional import grad, hessian, hvp, jacobian, jvp
from microgrid.autograd.gradcheck import GradcheckError, gradgradcheck
from microgrid.autograd.symbolic import symbolic_local_grads
from microgrid.engine import _topological_order

torch.set_default_dtype(torch.float64)


def close(x: float, y: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    return math.isclose(x, y, rel_tol=rel, abs_tol=abs_)


def value(d) -> float:
    return d.data if isinstance(d, Value) else d


# -- the two tables never drift ------------------------------------------------------


def binary_forms(op: Binary):
    """x op y, x op c and c op x: both operands Values, or one of them a constant."""
    yield 'values', lambda a, b: op.mg(Value(a), Value(b))
    yield 'constant right', lambda a, b: op.mg(Value(a), b)
    yield 'constant left', lambda a, b: op.mg(a, Value(b))


@pytest.mark.parametrize('op', UNARY, ids=lambda o: o.name)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_symbolic_rule_equals_float_rule_unary(op: Unary, data) -> None:
    a = data.draw(op.domain)
    node = op.mg(Value(a))
    symbolic = symbolic_local_grads(node)
    assert len(symbolic) == len(node.local_grads)
    for d, f in zip(symbolic, node.local_grads):
        assert close(value(d), f, 1e-12, 1e-300), (op.name, a, value(d), f)


@pytest.mark.parametrize('op', BINARY, ids=lambda o: o.name)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_symbolic_rule_equals_float_rule_binary(op: Binary, data) -> None:
    a, b = data.draw(op.domain)
    for form, make in binary_forms(op):
        node = make(a, b)
        symbolic = symbolic_local_grads(node)
        assert len(symbolic) == len(node.local_grads), form
        for d, f in zip(symbolic, node.local_grads):
            assert close(value(d), f, 1e-12, 1e-300), (op.name, form, a, b, value(d), f)


def test_every_engine_op_has_a_symbolic_rule() -> None:
    made = {op.mg(Value(0.7)).op for op in UNARY} | {
        op.mg(Value(0.7), Value(1.3)).op for op in BINARY
    }
    made |= {microgrid.sum([Value(1.0)]).op, microgrid.dot([Value(1.0)], [Value(2.0)]).op}
    assert made <= set(symbolic.SYMBOLIC_RULES), made - set(symbolic.SYMBOLIC_RULES)


def test_symbolic_rules_of_sum_and_dot_with_constants_and_reuse() -> None:
    w, x, z = Value(0.5), Value(-1.5), Value(2.0)
    cases = [
        microgrid.dot([w, x, 3.0], [x, 2.0, z]),  # Value*Value, Value*const, const*Value
        microgrid.dot([w, x], [w, x]),  # reuse: the sum of squares
        microgrid.dot([w, 0.0], [0.0, x]),
        microgrid.sum([w, 1.0, x, w]),
    ]
    for node in cases:
        for d, f in zip(symbolic_local_grads(node), node.local_grads):
            assert value(d) == f


# -- second and third order against PyTorch -----------------------------------------


def torch_derivatives(f, a: float, order: int) -> list[float]:
    t = torch.tensor(a, requires_grad=True)
    y = f(t)
    out = []
    for _ in range(order):
        g = None
        if y.requires_grad:
            (g,) = torch.autograd.grad(y, t, create_graph=True, allow_unused=True)
        if g is None:  # a constant: every further derivative is 0
            out += [0.0] * (order - len(out))
            break
        out.append(g.item())
        y = g
    return out


def our_derivatives(f, a: float, order: int) -> list[float]:
    x = Value(a)
    y = f(x)
    out = []
    for _ in range(order):
        (y,) = grad(y, x, create_graph=True, allow_unused=True)
        if y is None:
            out += [0.0] * (order - len(out))
            break
        out.append(y.data)
    return out


@pytest.mark.parametrize('op', UNARY, ids=lambda o: o.name)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_unary_ops_to_third_order_match_torch(op: Unary, data) -> None:
    a = data.draw(op.domain)
    ours, theirs = our_derivatives(op.mg, a, 3), torch_derivatives(op.th, a, 3)
    for k, (u, t) in enumerate(zip(ours, theirs), 1):
        assert close(u, t, 1e-9, 1e-9), (op.name, a, k, u, t)


@pytest.mark.parametrize('op', BINARY, ids=lambda o: o.name)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_binary_op_hessians_match_torch(op: Binary, data) -> None:
    a, b = data.draw(op.domain)
    if op.name == '**' and b == 0:
        b = 0.5  # torch masks d/da a**b to 0 at b == 0, which makes its Hessian asymmetric
    ours = hessian(op.mg, [a, b])
    theirs = torch.autograd.functional.hessian(op.th, (torch.tensor(a), torch.tensor(b)))
    for i in range(2):
        for j in range(2):
            assert close(ours[i][j], theirs[i][j].item(), 1e-9, 1e-9), (op.name, a, b, i, j)


@pytest.mark.parametrize('op', BINARY, ids=lambda o: o.name)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_binary_ops_with_a_constant_operand_to_second_order(op: Binary, data) -> None:
    a, b = data.draw(op.domain)
    pairs = [
        (lambda x: op.mg(x, b), lambda t: op.th(t, torch.tensor(b)), a),
        (lambda x: op.mg(a, x), lambda t: op.th(torch.tensor(a), t), b),
    ]
    for mg, th, at in pairs:
        for k, (u, t) in enumerate(zip(our_derivatives(mg, at, 2), torch_derivatives(th, at, 2))):
            assert close(u, t, 1e-9, 1e-9), (op.name, a, b, k, u, t)


def torch_tree(tree, ts):
    return evaluate(tree, ts, torch_mode=True)


def torch_masks_pow(out: Value) -> bool:
    nodes = _topological_order(out)
    return any(n.op == '**' and len(n.parents) == 2 and n.parents[1].data == 0 for n in nodes)


def gradient_at(tree, point) -> list[float]:
    xs = [Value(v) for v in point]
    return [0.0 if g is None else g for g in grad(evaluate(tree, xs), xs, allow_unused=True)]


@settings(max_examples=150, deadline=None)
@given(tree=trees(), inputs=st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=3))
def test_random_expression_tree_hessians_match_torch(tree, inputs) -> None:
    if has_kink_near_zero(tree, inputs):
        return
    ours = hessian(lambda *xs: evaluate(tree, list(xs)), inputs)
    out = evaluate(tree, [Value(v) for v in inputs])
    if isinstance(out, Value) and torch_masks_pow(out):
        # torch's pow backward masks d/dbase to 0 where the exponent is 0, which loses a
        # term of its second derivative there: check against finite differences instead
        for j in range(3):
            up, down = list(inputs), list(inputs)
            up[j] += 1e-6
            down[j] -= 1e-6
            for i, (a, b) in enumerate(zip(gradient_at(tree, up), gradient_at(tree, down))):
                assert math.isclose(ours[i][j], (a - b) / 2e-6, rel_tol=1e-4, abs_tol=1e-4)
        return
    tin = tuple(torch.tensor(v) for v in inputs)

    def f(*ts):
        out = torch_tree(tree, list(ts))
        return out if isinstance(out, torch.Tensor) else torch.tensor(out)

    theirs = torch.autograd.functional.hessian(f, tin)
    for i in range(3):
        for j in range(3):
            t = theirs[i][j].item()
            assert math.isclose(ours[i][j], t, rel_tol=1e-9, abs_tol=1e-9), (i, j, ours, t)


@settings(max_examples=100, deadline=None)
@given(
    tree=trees(),
    inputs=st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=3),
    tangent=st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=3),
)
def test_jvp_equals_grad_on_random_trees(tree, inputs, tangent) -> None:
    xs = [Value(v) for v in inputs]
    out = evaluate(tree, xs)
    if not isinstance(out, Value):
        return
    g = [0.0 if d is None else d for d in grad(out, xs, allow_unused=True)]
    y, directional = jvp(lambda *vs: evaluate(tree, list(vs)), inputs, tangent)
    assert y == out.data
    expected = sum(gi * ti for gi, ti in zip(g, tangent))
    assert math.isclose(directional, expected, rel_tol=1e-9, abs_tol=1e-9)
    for i in range(3):  # one pass per input gives one component of the gradient
        e = [float(i == k) for k in range(3)]
        assert jvp(lambda *vs: evaluate(tree, list(vs)), inputs, e)[1] == pytest.approx(
            g[i], rel=1e-12, abs=1e-12
        )


# -- semantics ---------------------------------------------------------------------


def test_reuse_a_cubed_to_fourth_order() -> None:
    a = Value(2.0, 'a')
    y = a * a * a
    (d1,) = grad(y, a, create_graph=True)
    (d2,) = grad(d1, a, create_graph=True)
    (d3,) = grad(d2, a, create_graph=True)
    (d4,) = grad(d3, a, create_graph=True, allow_unused=True)
    assert (d1.data, d2.data, d3.data) == (12.0, 12.0, 6.0)
    assert d4 is None or d4.data == 0.0
    assert a.grad == 0.0  # grad() touches no .grad


def test_constants_give_constant_derivatives() -> None:
    x = Value(1.5)
    (d,) = grad(3.0 * x + 2.0, x, create_graph=True)
    assert isinstance(d, Value) and d.data == 3.0 and not d.parents
    with pytest.raises(RuntimeError, match='not used'):
        grad(d, x)
    assert grad(d, x, allow_unused=True) == (None,)
    assert hessian(lambda x: 3.0 * x + 2.0, 1.5) == 0.0
    assert hessian(lambda x, y: 7.0, [1.0, 2.0]) == [[0.0, 0.0], [0.0, 0.0]]


def test_grad_of_several_outputs_with_grad_outputs() -> None:
    x, y = Value(0.5, 'x'), Value(-2.0, 'y')
    outs = [x * y, (x + y).exp()]
    gx, gy = grad(outs, [x, y], grad_outputs=[2.0, 3.0])
    e = math.exp(-1.5)
    assert close(gx, 2 * -2.0 + 3 * e) and close(gy, 2 * 0.5 + 3 * e)
    # a Value seed takes part in the graph: d/dv (v * dy/dx) = dy/dx
    v = Value(4.0)
    (g,) = grad(x * x, x, grad_outputs=v, create_graph=True)
    assert g.data == 4.0 and grad(g, v)[0] == 1.0


def test_unused_input_is_named() -> None:
    x, z = Value(1.0, 'x'), Value(2.0, 'z')
    with pytest.raises(RuntimeError, match=r"input 1 \(z = 2\.0\) is not used"):
        grad(x * x, [x, z])
    assert grad(x * x, [x, z], allow_unused=True) == (2.0, None)
    with pytest.raises(TypeError, match='input 0 must be a Value'):
        grad(x * x, [1.0])


def test_no_grad_inside_makes_a_constant() -> None:
    x = Value(0.8)

    def f(x):
        with microgrid.no_grad():
            c = x * x  # a constant as far as gradients go
        return c * x.sin()

    t = torch.tensor(0.8, requires_grad=True)
    with torch.no_grad():
        tc = t * t
    ty = tc * t.sin()
    (tg,) = torch.autograd.grad(ty, t, create_graph=True)
    (tgg,) = torch.autograd.grad(tg, t)
    (g,) = grad(f(x), x, create_graph=True)
    (gg,) = grad(g, x)
    assert close(g.data, tg.item()) and close(gg, tgg.item())


def test_create_graph_under_no_grad_still_builds_the_graph() -> None:
    # as torch: create_graph decides, not the surrounding grad mode
    x = Value(0.5)
    y = x.tanh()
    with microgrid.no_grad():
        (g,) = grad(y, x, create_graph=True)
        assert g.parents  # a graph, built although no_grad is on
        (gg,) = grad(g, x)
    t = math.tanh(0.5)
    assert close(gg, -2 * t * (1 - t * t))
    with microgrid.no_grad():  # and no_grad is still on afterwards
        assert not (x * x).parents


def test_grad_does_not_touch_grad() -> None:
    x = Value(1.0)
    x.grad = 5.0
    y = x.exp()
    grad(y, x, create_graph=True)
    grad(y, x)
    assert x.grad == 5.0 and y.grad == 0.0


def test_from_op_has_no_symbolic_rule() -> None:
    x = Value(0.3)
    y = Value.from_op(math.sinh(x.data), [x], [math.cosh(x.data)], 'sinh')
    assert grad(y * y, x)[0] == pytest.approx(2 * math.sinh(0.3) * math.cosh(0.3))
    with pytest.raises(NotImplementedError, match=r"'sinh' node .* no symbolic derivative"):
        grad(y * y, x, create_graph=True)


# -- the functional API against torch.autograd.functional -------------------------------


def f3(a, b, c):
    return (a * b).tanh() + (b - c).exp() * a + c.log() * c.sqrt()


def f3_torch(a, b, c):
    return (a * b).tanh() + (b - c).exp() * a + c.log() * c.sqrt()


POINT = [0.4, -0.3, 1.7]


def test_hessian_jacobian_hvp_jvp_match_torch() -> None:
    tp = tuple(torch.tensor(v) for v in POINT)
    H = torch.autograd.functional.hessian(f3_torch, tp)
    ours = hessian(f3, POINT)
    for i in range(3):
        for j in range(3):
            assert close(ours[i][j], H[i][j].item())
    v = [0.3, -1.0, 2.0]
    out, hv = hvp(f3, POINT, v)
    tout, thv = torch.autograd.functional.hvp(f3_torch, tp, tuple(torch.tensor(t) for t in v))
    assert close(out, tout.item()) and all(close(a, b.item()) for a, b in zip(hv, thv))
    out, jv = jvp(f3, POINT, v)
    tout, tjv = torch.autograd.functional.jvp(f3_torch, tp, tuple(torch.tensor(t) for t in v))
    assert close(out, tout.item()) and close(jv, tjv.item())

    def g(a, b, c):
        return [a * b * c, (a - c).sin()]

    J = jacobian(g, POINT)
    TJ = torch.autograd.functional.jacobian(lambda a, b, c: (a * b * c, (a - c).sin()), tp)
    for i in range(2):
        for j in range(3):
            assert close(J[i][j], TJ[i][j].item())


def test_single_inputs_and_values_as_inputs() -> None:
    x = Value(0.7)
    x.grad = 9.0
    assert close(hessian(lambda x: x.sin(), x), -math.sin(0.7))
    assert close(jacobian(lambda x: x.sin(), x), math.cos(0.7))
    assert close(jacobian(lambda x: [x.sin(), x * x], 0.7)[1], 1.4)
    assert hvp(lambda x: x * x * x, 2.0, 1.0) == (8.0, 12.0)
    assert jvp(lambda x: x * x * x, 2.0, 0.5) == (8.0, 6.0)
    assert x.grad == 9.0 and not x.parents  # the inputs' numbers are used, nothing touched
    with pytest.raises(TypeError, match='input 0 must be a number or a Value'):
        hessian(lambda x: x, ['a'])
    with pytest.raises(ValueError, match='2 tangents for 1 inputs'):
        jvp(lambda x: x, [1.0], [1.0, 2.0])


def test_mlp_loss_hessian_matches_torch() -> None:
    from microgrid import nn

    model = nn.MLP(2, [3, 1], activation='tanh', seed=3)
    params = model.parameters()
    xs, ys = [[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8]], [1.0, -1.0, 1.0]
    chosen = params[:4] + params[-2:]
    data = [p.data for p in params]

    # the loss as a function of the chosen parameters: they replace the model's Values
    def mg_loss(*vals):
        ws = list(params)
        for k, p in enumerate(chosen):
            ws[params.index(p)] = vals[k]
        return _mlp_loss(ws, xs, ys, lambda s: s.tanh(), lambda a: a.relu())

    def th_loss(*vals):
        ws = [torch.tensor(d) for d in data]
        for k, p in enumerate(chosen):
            ws[params.index(p)] = vals[k]
        return _mlp_loss(ws, xs, ys, torch.tanh, torch.relu)

    point = [p.data for p in chosen]
    H = hessian(mg_loss, point)
    TH = torch.autograd.functional.hessian(th_loss, tuple(torch.tensor(v) for v in point))
    for i in range(len(point)):
        for j in range(len(point)):
            assert close(H[i][j], TH[i][j].item()), (i, j)


def _mlp_loss(ws, xs, ys, tanh, relu):
    """MLP(2, [3, 1]) with tanh, the hinge loss and L2, from a flat parameter list."""
    total = 0.0
    for x, y in zip(xs, ys):
        hidden = []
        for n in range(3):
            w0, w1, b = ws[3 * n : 3 * n + 3]
            hidden.append(tanh(w0 * x[0] + w1 * x[1] + b))
        v = ws[9:13]
        score = v[0] * hidden[0] + v[1] * hidden[1] + v[2] * hidden[2] + v[3]
        total = total + relu(1.0 - y * score)
    reg = 0.0
    for w in ws:
        reg = reg + w * w
    return total / len(xs) + 1e-2 * reg


# -- gradgradcheck ---------------------------------------------------------------------


def test_gradgradcheck_passes_on_correct_rules() -> None:
    xs = [Value(0.3, 'x'), Value(-0.7, 'y'), Value(1.2, 'z')]
    assert gradgradcheck(lambda x, y, z: f3(x, y, z) + microgrid.dot([x, y], [z, x]), xs)


def test_gradgradcheck_names_a_rule_without_the_right_derivative(monkeypatch) -> None:
    # the right value, but a constant: its derivative (the second order) is lost
    monkeypatch.setitem(symbolic.SYMBOLIC_RULES, 'tanh', lambda o, a: (1.0 - o.data * o.data,))
    xs = [Value(0.3, 'x'), Value(-0.7, 'y')]
    with pytest.raises(GradcheckError, match=r"(?s)d2/dx dx is wrong.*the 'tanh' node"):
        gradgradcheck(lambda x, y: (x * y).tanh() + x.sin() * y, xs)


def test_gradgradcheck_names_a_rule_with_the_wrong_value(monkeypatch) -> None:
    monkeypatch.setitem(symbolic.SYMBOLIC_RULES, 'sin', lambda o, a: (a.sin(),))
    xs = [Value(0.3, 'x'), Value(-0.7, 'y')]
    with pytest.raises(
        GradcheckError, match=r"(?s)gradgradcheck: .*'sin' node .*symbolic rule gives"
    ):
        gradgradcheck(lambda x, y: (x * y).tanh() + x.sin() * y, xs)


# -- seeing it ---------------------------------------------------------------------------


def test_explain_and_draw_work_on_a_gradient_graph() -> None:
    x = Value(0.5, 'x')
    y = x.tanh()
    (g,) = grad(y, x, create_graph=True)
    t = math.tanh(0.5)
    assert close(g.data, 1 - t * t)
    text = microgrid.explain(x, g)
    assert f'{-2 * t * (1 - t * t):.6g}' in text, text
    source = microgrid.draw(g).source
    for op in ('tanh', '*', '-'):
        assert f'label="{op}"' in source or op in source


# -- backward(create_graph=True) and grad_value -------------------------------------------


@pytest.mark.filterwarnings('ignore:Using backward.. with create_graph')
def test_backward_create_graph_leaves_grad_value_and_float_grad() -> None:
    x, w = Value(0.5, 'x'), Value(-1.2, 'w')
    y = (x * w).tanh() * x
    y.backward(create_graph=True)
    tx, tw = torch.tensor(0.5, requires_grad=True), torch.tensor(-1.2, requires_grad=True)
    ty = (tx * tw).tanh() * tx
    ty.backward(create_graph=True)
    assert close(x.grad, tx.grad.item()) and close(w.grad, tw.grad.item())
    assert isinstance(x.grad_value, Value) and x.grad_value.data == x.grad
    assert y.grad == 1.0 and y.grad_value is None  # only leaves get grad_value, as in torch
    # differentiate the gradient again: the double-backward semantics of torch
    gx = x.grad_value
    x.grad, w.grad = 0.0, 0.0
    gx.backward()
    tgx = tx.grad
    tx.grad, tw.grad = None, None
    tgx.backward()
    assert close(x.grad, tx.grad.item()) and close(w.grad, tw.grad.item())


@pytest.mark.filterwarnings('ignore:Using backward.. with create_graph')
def test_grad_value_accumulates_like_torch_and_resets_with_none() -> None:
    x = Value(2.0)
    (x**3).backward(create_graph=True)
    (x**3).backward(create_graph=True)
    assert x.grad == 24.0 and x.grad_value.data == 24.0  # 2 * 3x^2
    (d2,) = grad(x.grad_value, x)
    assert d2 == 24.0  # 2 * 6x
    t = torch.tensor(2.0, requires_grad=True)
    (t**3).backward(create_graph=True)
    (t**3).backward(create_graph=True)
    assert t.grad.item() == 24.0 and torch.autograd.grad(t.grad, t)[0].item() == 24.0
    x.grad_value = None
    assert x.grad_value is None
    (x * x).backward()  # a plain backward does not touch grad_value
    assert x.grad_value is None and x.grad == 28.0
    with pytest.raises(TypeError, match='grad_value must be a Value or None'):
        x.grad_value = 3.0


def test_backward_create_graph_under_no_grad_and_with_a_value_seed() -> None:
    x = Value(0.3)
    y = x.sin()
    seed = Value(2.0)
    with microgrid.no_grad():
        y.backward(seed, create_graph=True)
    assert close(x.grad, 2 * math.cos(0.3))
    assert grad(x.grad_value, seed)[0] == pytest.approx(math.cos(0.3))
    assert grad(x.grad_value, x)[0] == pytest.approx(-2 * math.sin(0.3))


def test_plain_backward_is_unchanged_by_create_graph_support() -> None:
    # the float pass and the Value pass give the same .grad on every node
    x, y = Value(0.7), Value(-0.4)
    z = ((x * y).exp() + x / y).tanh() * microgrid.dot([x, y], [y, 2.0])
    z.backward()
    plain = [n.grad for n in (x, y, z)]
    x.grad = y.grad = 0.0
    z.backward(create_graph=True)
    assert [n.grad for n in (x, y, z)] == pytest.approx(plain, rel=1e-15)


def test_a_from_op_node_under_a_builtin_name_or_changed_data_is_caught() -> None:
    x = Value(0.3)
    fake = Value.from_op(math.tanh(0.3), [x], [0.5], 'tanh')  # the wrong local derivative
    with pytest.raises(RuntimeError, match=r"'tanh' node .* recorded the local derivative 0\.5"):
        grad(fake, x, create_graph=True)
    w = Value(2.0)
    y = x * w
    w.data = 5.0  # changed after the forward pass, as torch's in-place modification
    with pytest.raises(RuntimeError, match='changed after the forward pass'):
        grad(y, x, create_graph=True)


def test_the_readme_picture_is_the_graph_microgrid_draws_for_d_tanh() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    assert '](docs/images/d_tanh.svg)' in (root / 'README.md').read_text()
    svg = (root / 'docs' / 'images' / 'd_tanh.svg').read_text()
    x = Value(0.5, 'x')
    y = x.tanh()
    y.label = 'y'
    (dy,) = grad(y, x, create_graph=True)
    assert [n.op for n in _topological_order(dy)] == ['tanh', '*', '-']
    for text in ('tanh', 'y*y', 'y&#39;', '0.786448', '0.213552'):
        assert text in svg, text


def test_create_graph_at_the_edges_gives_the_float_rules_limits() -> None:
    cases = [
        (0.0, lambda x: x.sqrt()),
        (0.0, lambda x: x**0.5),
        (0.0, lambda x: x**0),
        (0.0, lambda x: x**2),
        (1e-300, lambda x: x**-1),
        (0.0, lambda x: 0.0**x),
    ]
    for a, f in cases:
        x = Value(a)
        y = f(x)
        y.backward()
        (g,) = grad(y, x, create_graph=True, allow_unused=True)
        assert (0.0 if g is None else g.data) == x.grad, (a, g, x.grad)
    x = Value(0.0)
    (g,) = grad(x**2, x, create_graph=True)
    assert grad(g, x)[0] == 2.0  # the second derivative of x**2 at 0 is not lost
