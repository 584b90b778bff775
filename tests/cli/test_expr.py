"""The safe expression parser: values, gradients, refusals, limits, fuzzing."""

from __future__ import annotations

import ast
import math
import time

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microgrid.cli.expr import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
    ExprError,
    evaluate,
    parse,
    parse_assignment,
    parse_assignments,
)
from microgrid.engine import Value

torch.set_default_dtype(torch.float64)

CLASSIC = 'tanh(x1*w1 + x2*w2 + b)'
CLASSIC_VALUES = {'x1': 2.0, 'x2': 0.0, 'w1': -3.0, 'w2': 1.0, 'b': 6.8813735870195432}


def leaves(values):
    return {k: Value(v, k) for k, v in values.items()}


# -- values and gradients ----------------------------------------------------


def test_classic_neuron_gradients():
    xs = leaves(CLASSIC_VALUES)
    out = evaluate(CLASSIC, xs)
    out.backward()
    assert out.data == pytest.approx(math.sqrt(0.5), abs=1e-12)
    grads = {k: v.grad for k, v in xs.items()}
    assert grads == pytest.approx({'x1': -1.5, 'w1': 1.0, 'x2': 0.5, 'w2': 0.0, 'b': 0.5})


# expression, the same in torch, values
TORCH_CASES = [
    (CLASSIC, lambda t: torch.tanh(t['x1'] * t['w1'] + t['x2'] * t['w2'] + t['b']), CLASSIC_VALUES),
    (
        'x**3 - 2*x*y + y/x',
        lambda t: t['x'] ** 3 - 2 * t['x'] * t['y'] + t['y'] / t['x'],
        {'x': 1.3, 'y': -0.7},
    ),
    (
        'exp(-x) * log(y) + sqrt(x*y)',
        lambda t: torch.exp(-t['x']) * torch.log(t['y']) + torch.sqrt(t['x'] * t['y']),
        {'x': 0.4, 'y': 2.5},
    ),
    (
        'sigmoid(x) + relu(y) + softplus(x - y) + abs(y)',
        lambda t: (
            torch.sigmoid(t['x'])
            + torch.relu(t['y'])
            + torch.nn.functional.softplus(t['x'] - t['y'])
            + torch.abs(t['y'])
        ),
        {'x': -0.3, 'y': 1.1},
    ),
    (
        'sin(x)**2 + cos(x*y) - -y',
        lambda t: torch.sin(t['x']) ** 2 + torch.cos(t['x'] * t['y']) + t['y'],
        {'x': 0.9, 'y': 2.0},
    ),
    (
        'leaky_relu(x) + leaky_relu(y, 0.2) + leaky_relu(x, slope=s)',
        lambda t: (
            torch.nn.functional.leaky_relu(t['x'], 0.01)
            + torch.nn.functional.leaky_relu(t['y'], 0.2)
            + torch.where(t['x'] > 0, t['x'], t['s'] * t['x'])
        ),
        {'x': -1.5, 'y': -2.0, 's': 0.3},
    ),
    (
        'x ** y + 2 ** x + x ** 2.5',
        lambda t: t['x'] ** t['y'] + 2 ** t['x'] + t['x'] ** 2.5,
        {'x': 1.7, 'y': 0.6},
    ),
    ('x*x*x + (x + 1) / (x - 3)', lambda t: t['x'] ** 3 + (t['x'] + 1) / (t['x'] - 3), {'x': 0.5}),
]


@pytest.mark.parametrize('source, th, values', TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_gradients_match_pytorch(source, th, values):
    xs = leaves(values)
    out = evaluate(source, xs)
    out.backward()
    ts = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    t_out = th(ts)
    t_out.backward()
    assert out.data == pytest.approx(t_out.item(), rel=1e-12, abs=1e-12)
    for k in values:
        assert xs[k].grad == pytest.approx(ts[k].grad.item(), rel=1e-10, abs=1e-12), k


@pytest.mark.parametrize(
    'source, expected',
    [
        ('1 + 2 * 3', 7.0),
        ('2 ** 10', 1024.0),
        ('-2 ** 2', -4.0),  # Python's precedence: -(2**2)
        ('(-2) ** 2', 4.0),
        ('7 / 2', 3.5),
        ('+3 - -3', 6.0),
        ('exp(0) + log(1) + sqrt(16) + abs(-2.5)', 7.5),
        ('tanh(0) + sigmoid(0) + relu(-3) + softplus(0)', 0.5 + math.log(2)),
        ('sin(0) + cos(0)', 1.0),
        ('leaky_relu(-10) + leaky_relu(-10, 0.5) + leaky_relu(3, slope=0.5)', -0.1 - 5 + 3),
        ('0x10 + 1_000 + 1e-3', 16 + 1000 + 0.001),
    ],
)
def test_constants_only_give_a_float(source, expected):
    result = evaluate(source)
    assert type(result) is float
    assert result == pytest.approx(expected, rel=1e-15)


def test_numbers_are_constants_not_nodes():
    x = Value(3.0, 'x')
    out = evaluate('2 * x + 10 / 4', {'x': x})
    assert out.data == 8.5
    assert out.op == '+' and len(out.parents) == 1  # 10 / 4 was folded into 2.5
    (mul,) = out.parents
    assert mul.op == '*' and mul.parents == (x,) and mul.local_grads == (2.0,)


def test_a_variable_used_twice_is_one_leaf():
    x = Value(3.0, 'x')
    out = evaluate('x * x + x', {'x': x})
    out.backward()
    assert x.grad == 7.0  # 2x + 1


def test_leaky_relu_with_a_constant_x_and_a_variable_slope():
    s = Value(0.2, 's')
    out = evaluate('leaky_relu(-3, s)', {'s': s})
    out.backward()
    assert out.data == pytest.approx(-0.6) and s.grad == -3.0
    assert evaluate('leaky_relu(3, s)', {'s': s}) == 3.0  # x > 0 does not depend on the slope


def test_values_may_be_numbers_and_unused_names_are_ignored():
    out = evaluate('x + 1', {'x': 2, 'unused': 5.0})
    assert isinstance(out, Value) and out.data == 3.0
    assert out.parents[0].label == 'x'


def test_names_in_order_of_first_appearance():
    assert parse('b * a + exp(c) - a').names == ('b', 'a', 'c')
    assert parse('2 + 3').names == ()


def test_unicode_names_are_normalized_as_python_does():
    # NFKC: a fullwidth x is the name x, in the expression and in the values
    assert evaluate('\uff58 + 1', {'x': 1.0}).data == 2.0
    assert parse_assignment('\uff58=2') == ('x', 2.0)


def test_trace_lists_each_node_with_its_operands():
    xs = leaves({'x': 2.0, 'y': 3.0})
    trace: list = []
    out = parse('-(x * 2) + exp(y)').evaluate(xs, trace=trace)
    ops = [
        (op, [o if not isinstance(o, Value) else o.label or o.op for o in operands])
        for _, op, operands in trace
    ]
    assert ops == [('*', ['x', 2.0]), ('neg', ['*']), ('exp', ['y']), ('+', ['neg', 'exp'])]
    assert trace[-1][0] is out


def test_an_expression_is_reusable():
    e = parse('x ** 2')
    assert e.evaluate({'x': 3.0}).data == 9.0
    assert e.evaluate({'x': -4.0}).data == 16.0


# -- refusals -----------------------------------------------------------------


@pytest.mark.parametrize(
    'source, message',
    [
        ("__import__('os').system('echo hi')", 'attribute access (.system)'),
        ("__import__('os')", 'unknown function __import__()'),
        ('x.__class__', 'attribute access (.__class__)'),
        ('().__class__.__bases__', 'attribute access (.__bases__)'),
        ('().__class__.__bases__[0].__subclasses__()', 'attribute access (.__subclasses__)'),
        ('lambda: 1', 'lambdas are not allowed'),
        ('(lambda x: x)(2)', 'lambdas are not allowed'),
        ('[x for x in (1, 2)]', 'comprehensions are not allowed'),
        ('sum(x for x in (1, 2))', 'unknown function sum()'),
        ('exp(x for x in (1, 2))', 'generator expressions are not allowed'),
        ("'abc'", 'strings are not allowed'),
        ("exp('1')", 'strings are not allowed'),
        ("b'x'", 'strings are not allowed'),
        ("f'{x}'", 'strings are not allowed'),
        ('x[0]', 'subscripts are not allowed'),
        ('x < 1', 'comparisons are not allowed'),
        ('x and y', "'and' and 'or' are not allowed"),
        ('x if y else 1', 'conditional expressions'),
        ('(y := 2)', 'assignments (:=)'),
        ('x, y', 'tuples'),
        ('[x]', 'lists are not allowed'),
        ('{1: 2}', 'dicts are not allowed'),
        ('{1}', 'sets are not allowed'),
        ('x // 2', "operator '//'"),
        ('x % 2', "operator '%'"),
        ('x @ y', "operator '@'"),
        ('x ^ y', "operator '^'"),
        ('~x', "operator '~'"),
        ('not x', "operator 'not'"),
        ('1j', 'complex numbers are not allowed'),
        ('True + 1', 'True is not allowed'),
        ('None', 'None is not allowed'),
        ('...', 'Ellipsis is not allowed'),
        ('exp', 'exp is a function'),
        ('exp + 1', 'exp is a function'),
        ('open("f")', 'unknown function open()'),
        ('x(2)', 'unknown function x()'),
        ('1(2)', 'only these functions can be called'),
        ('exp(*x)', 'starred arguments'),
        ('exp(**x)', 'keyword unpacking'),
        ('exp(x, y)', 'exp() takes exactly 1 argument, got 2'),
        ('exp()', 'exp() takes exactly 1 argument, got 0'),
        ('exp(x=1)', "exp() has no keyword argument 'x'"),
        ('leaky_relu(x, 0.1, 0.2)', 'leaky_relu() takes 1 or 2 arguments'),
        ('leaky_relu(x, 0.1, slope=0.2)', 'slope is given twice'),
        ('leaky_relu(x, alpha=0.2)', "no keyword argument 'alpha'"),
        ('await x', 'await expressions are not allowed'),
        ('import os', 'invalid expression: invalid syntax'),
        ('x = 1', 'invalid expression'),
        ('x +', 'invalid expression'),
        ('x; y', 'invalid expression'),
        ('x\x00', 'null bytes'),
        ('', 'the expression is empty'),
        ('   ', 'the expression is empty'),
        ('1e999', 'too large for a float'),
        ('1' * 400 + ' + x', 'too large for a float'),
    ],
)
def test_refused_with_a_message_naming_the_problem(source, message):
    with pytest.raises(ExprError) as info:
        evaluate(source, {'x': 1.0, 'y': 2.0})
    assert message in str(info.value)
    assert '\n' not in str(info.value)


def test_injection_attempts_have_no_effect(tmp_path, monkeypatch):
    import builtins
    import os

    called = []
    monkeypatch.setattr(os, 'system', lambda *a: called.append(a) or 0)
    real_import = builtins.__import__
    monkeypatch.setattr(
        builtins, '__import__', lambda *a, **k: called.append(a[0]) or real_import(*a, **k)
    )
    target = tmp_path / 'pwned'
    attacks = [
        f"__import__('os').system('touch {target}')",
        f"open('{target}', 'w')",
        "().__class__.__bases__[0].__subclasses__()",
        f"(lambda: __import__('os').system('touch {target}'))()",
        f"exec('open({target!s})')",
        "eval('1')",
    ]
    for source in attacks:
        with pytest.raises(ExprError):
            evaluate(source, {'x': 1.0})
    assert not target.exists()
    assert called == []


def test_assignments():
    assert parse_assignments(['x=1', ' y = -2.5 ', 'z=1e-3', 'w=1_000']) == {
        'x': 1.0,
        'y': -2.5,
        'z': 0.001,
        'w': 1000.0,
    }
    assert list(parse_assignments(['b=1', 'a=2'])) == ['b', 'a']


@pytest.mark.parametrize(
    'text, message',
    [
        ('x', "'x' is not NAME=NUMBER"),
        ('x=', 'x=: the value is not a number'),
        ('x=abc', 'x=abc: the value is not a number'),
        ('x=1+1', 'the value is not a number'),
        ('=1', 'is not a valid variable name'),
        ('1x=1', "'1x' is not a valid variable name"),
        ('for=1', "'for' is not a valid variable name"),
        ('a.b=1', 'is not a valid variable name'),
        ('exp=2', 'exp is a function, so it cannot be a variable name'),
        ('x=nan', 'must be a finite number'),
        ('x=-inf', 'must be a finite number'),
        ('x=1e999', 'must be a finite number'),
    ],
)
def test_bad_assignments(text, message):
    with pytest.raises(ExprError) as info:
        parse_assignment(text)
    assert message in str(info.value)


def test_repeated_assignment():
    with pytest.raises(ExprError, match='variable x is given twice'):
        parse_assignments(['x=1', 'x=2'])


@pytest.mark.parametrize(
    'values, message',
    [
        ({'x': 1.0}, 'no value for y: give it as y=NUMBER'),
        ({}, 'no value for x, y: give it as x=NUMBER y=NUMBER'),
        ({'x': 1.0, 'y': 'two'}, 'y: a variable must be a number, got str'),
        ({'x': 1.0, 'y': True}, 'y: a variable must be a number, got bool'),
        ({'x': 1.0, 'y': None}, 'y: a variable must be a number, got NoneType'),
        ({'x': 1.0, 'y': math.nan}, 'y=nan: a variable must be a finite number'),
        ({'x': 1.0, 'y': Value(math.inf)}, 'y=inf: a variable must be a finite number'),
        ({'x': 1.0, 'y': 10**400}, 'y: the value is too large for a float'),
        ({'x': 1.0, 'y': 2.0, 'exp': 1.0}, 'exp is a function'),
        ({'x': 1.0, 'y': 2.0, 3: 1.0}, 'a variable name must be a str, got int'),
        ({'x': 1.0, 'y': 2.0, '\uff58': 1.0}, 'variable x is given twice'),
    ],
)
def test_bad_values(values, message):
    with pytest.raises(ExprError) as info:
        evaluate('x * y', values)
    assert message in str(info.value)


def test_not_a_string():
    with pytest.raises(ExprError, match='an expression must be a str, got int'):
        parse(3)  # type: ignore[arg-type]
    with pytest.raises(ExprError, match='an assignment must be a str'):
        parse_assignment(None)  # type: ignore[arg-type]


def test_the_error_is_a_value_error():
    assert issubclass(ExprError, ValueError)


# -- math errors from the engine ---------------------------------------------------


@pytest.mark.parametrize(
    'source, message',
    [
        ('2 ** 2 ** 2 ** 2 ** 2', 'math range error in 2.0 ** 65536.0'),  # a tower of exponents
        ('10 ** 10 ** 10', 'math range error'),
        ('x ** x ** x ** x', 'math range error'),
        ('exp(exp(exp(x + 2)))', 'exp(2.851123567946141e+64): math range error'),
        ('exp(1000)', 'exp(1000.0): math range error'),
        ('1e308 * 10', 'math range error: 1e308 * 10 is too large to compute (gives inf)'),
        ('x * 1e308 + 1e308 + 1e308', 'is too large to compute'),
        ('log(x - 3)', 'log(0.0): math domain error'),
        ('log(0)', 'math domain error'),
        ('sqrt(-x)', 'sqrt(-3.0): math domain error'),
        ('1 / (x - 3)', 'division by zero'),
        ('x / 0', 'division by zero in 3.0 / 0.0 (in x / 0)'),
        ('(x - 3) ** -1', '0.0 cannot be raised to a negative power'),
        ('(-x) ** 0.5', 'a negative base needs an integer exponent'),
    ],
)
def test_math_errors_become_expr_errors(source, message):
    with pytest.raises(ExprError) as info:
        evaluate(source, {'x': 3.0})
    assert message in str(info.value)


def test_the_error_names_the_failing_part():
    with pytest.raises(ExprError, match=r'\(in log\(x - 3\)\)$'):
        evaluate('exp(x) + 2 * log(x - 3)', {'x': 3.0})


# -- limits: a clear error, never a RecursionError or a hang -------------------------


def chain(op: str, n: int) -> str:
    return op.join(['x'] * n)


def test_depth_limit_exactly():
    # unary minus nests: x is at level MAX_DEPTH under MAX_DEPTH - 1 minus signs
    assert evaluate('-' * (MAX_DEPTH - 1) + 'x', {'x': 1.0}).data == -1.0
    with pytest.raises(
        ExprError, match=f'nested too deeply: more than {MAX_DEPTH} levels \\(the limit MAX_DEPTH'
    ):
        evaluate('-' * MAX_DEPTH + 'x', {'x': 1.0})
    # a flat chain of one precedence is one level, however long (issue 13)
    assert evaluate(chain('+', MAX_DEPTH + 1), {'x': 1.0}).data == MAX_DEPTH + 1


def test_node_limit_exactly():
    # groups of 500 x's summed: no deep nesting, only many nodes
    group = '(' + chain('+', 500) + ')'
    n_groups = MAX_NODES // 1000  # each group is 999 nodes, plus the '+' joining it
    source = '+'.join([group] * n_groups)
    nodes = n_groups * 999 + n_groups - 1
    assert nodes <= MAX_NODES
    assert evaluate(source, {'x': 1.0}).data == 500 * n_groups
    source += '+' + chain('+', MAX_NODES - nodes)  # (MAX_NODES - nodes) * 2 more nodes
    with pytest.raises(ExprError, match=f'more than {MAX_NODES} nodes'):
        parse(source)


def test_length_limit_is_checked_before_parsing():
    with pytest.raises(ExprError, match=f'too long: {MAX_LENGTH + 1} characters'):
        parse(' ' * (MAX_LENGTH + 1))


@pytest.mark.parametrize(
    'source',
    [
        '-' * (MAX_LENGTH - 1) + 'x',
        '-' * 3000 + 'x',
        '~' * 3000 + 'x',
        'not ' * 3000 + 'x',
        chain('**', 5000),
        chain('+', MAX_LENGTH // 2),
        '(' * 5000 + 'x' + ')' * 5000,
        'exp(' * 3000 + 'x' + ')' * 3000,
        '[' * 5000 + ']' * 5000,
        'x' + '.a' * 10000,
        'x' + '[0]' * 10000,
        'x' + '(1)' * 10000,
        'lambda: ' * 3000 + 'x',
        '1' * (MAX_LENGTH - 1),
        chain('+', 10) + ')' * 20000,
    ],
    ids=lambda s: f"{s[:12]}...{len(s)}",
)
def test_pathological_input_is_refused_quickly(source):
    start = time.perf_counter()
    with pytest.raises(ExprError) as info:
        evaluate(source, {'x': 1.0})
    assert time.perf_counter() - start < 5.0  # a hang would show here (the bound is generous)
    assert '\n' not in str(info.value)


def test_wide_expressions_within_the_limits_work():
    # 100 nested functions and a 999-term sum are well within the limits
    source = 'tanh(' * 100 + 'x' + ')' * 100
    assert evaluate(source, {'x': 0.5}).data == pytest.approx(
        _repeat(math.tanh, 100, 0.5), rel=1e-12
    )


def _repeat(f, n, x):
    for _ in range(n):
        x = f(x)
    return x


def test_a_long_chain_runs_backward_without_recursion():
    x = Value(1.0, 'x')
    out = evaluate(chain('*', MAX_DEPTH), {'x': x})  # x ** 1000
    out.backward()
    assert out.data == 1.0 and x.grad == pytest.approx(MAX_DEPTH)


# -- fuzzing -------------------------------------------------------------------

VALUES = {'x': 0.5, 'y': -1.5, 'z': 2.0}
EXPR_CHARS = (
    list("xyz0123456789.+-*/() e,_[]{}'\":=<>!~^%&|@#\\\n\tjJ")
    + list(FUNCTIONS)
    + [
        'lambda',
        '__class__',
        '__import__',
        'os',
        'not',
        'if',
        'else',
        'for',
        'in',
        'and',
    ]
)


def _accepts(source: str):
    try:
        result = evaluate(source, VALUES)
    except ExprError as e:
        assert str(e) and '\n' not in str(e)
        return None
    assert isinstance(result, (float, Value))
    data = result.data if isinstance(result, Value) else result
    assert math.isfinite(data)
    return data


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(EXPR_CHARS), max_size=30).map(''.join))
def test_fuzz_expression_like_text(source):
    _accepts(source)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_any_text(source):
    _accepts(source)


# Random ASTs, unparsed to text: whitelisted and refused nodes mixed, with a reference
# evaluator (plain floats and the math module) saying what the answer must be.

_SAFE_BINOPS = [ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow]
_ALL_BINOPS = _SAFE_BINOPS + [ast.FloorDiv, ast.Mod, ast.MatMult, ast.BitXor, ast.LShift]


class Refused(Exception):
    pass


class MathFail(Exception):
    pass


def _load(name):
    return ast.Name(id=name, ctx=ast.Load())


def _safe_leaf():
    return st.one_of(
        st.sampled_from(['x', 'y', 'z']).map(_load),
        st.integers(0, 6).map(lambda n: ast.Constant(value=n)),
        st.floats(0, 4, allow_nan=False).map(lambda f: ast.Constant(value=f)),
    )


def _leaf():
    return st.one_of(
        _safe_leaf(),
        st.sampled_from(['s', True, None, 2j, b'b']).map(lambda v: ast.Constant(value=v)),
        st.sampled_from(['exp', '__import__', 'w']).map(_load),  # w has no value
    )


def _safe_extend(children):
    return st.one_of(
        st.builds(
            lambda l, op, r: ast.BinOp(l, op(), r),
            children,
            st.sampled_from(_SAFE_BINOPS),
            children,
        ),
        st.builds(
            lambda op, x: ast.UnaryOp(op(), x), st.sampled_from([ast.USub, ast.UAdd]), children
        ),
        st.builds(lambda f, x: ast.Call(_load(f), [x], []), st.sampled_from(FUNCTIONS), children),
        st.builds(lambda x, s: ast.Call(_load('leaky_relu'), [x, s], []), children, children),
    )


def _extend(children):
    call_names = st.sampled_from([*FUNCTIONS, *FUNCTIONS, 'open', 'eval', 'x'])
    lambda_args = ast.arguments(
        posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
    )
    return st.one_of(
        st.builds(
            lambda l, op, r: ast.BinOp(l, op(), r),
            children,
            st.sampled_from(_SAFE_BINOPS * 3 + _ALL_BINOPS),
            children,
        ),
        st.builds(
            lambda op, x: ast.UnaryOp(op(), x),
            st.sampled_from([ast.USub, ast.USub, ast.UAdd, ast.Not, ast.Invert]),
            children,
        ),
        st.builds(
            lambda f, args: ast.Call(_load(f), args, []),
            call_names,
            st.lists(children, min_size=1, max_size=2),
        ),
        st.builds(
            lambda x, s: ast.Call(_load('leaky_relu'), [x], [ast.keyword('slope', s)]),
            children,
            children,
        ),
        st.builds(lambda x: ast.Attribute(x, '__class__', ast.Load()), children),
        st.builds(lambda x: ast.Subscript(x, ast.Constant(0), ast.Load()), children),
        st.builds(lambda x: ast.Lambda(lambda_args, x), children),
        st.builds(lambda a, b: ast.Compare(a, [ast.Lt()], [b]), children, children),
    )


def _reference(node):
    """The value the expression must have, by plain float arithmetic (small trees only)."""
    if isinstance(node, ast.Constant):
        if type(node.value) not in (int, float):
            raise Refused
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in VALUES:
            raise Refused
        return VALUES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _reference(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in _SAFE_BINOPS:
        a, b = _reference(node.left), _reference(node.right)
        try:
            if isinstance(node.op, ast.Pow):
                r = math.pow(a, b)
            elif isinstance(node.op, ast.Div):
                r = a / b
            else:
                r = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}[type(node.op)]
        except (ArithmeticError, ValueError):
            raise MathFail from None
        return _finite(r)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        args = list(node.args) + [k.value for k in node.keywords]
        if name not in FUNCTIONS or (
            len(args) != 1 and not (name == 'leaky_relu' and len(args) == 2)
        ):
            raise Refused
        vs = [_reference(a) for a in args]
        try:
            return _finite(_FUNCS[name](*vs))
        except (ArithmeticError, ValueError):
            raise MathFail from None
    raise Refused


def _finite(r):
    if not math.isfinite(r):
        raise MathFail
    return r


def _sigmoid(a):
    return 1 / (1 + math.exp(-a)) if a >= 0 else math.exp(a) / (1 + math.exp(a))


_FUNCS = {
    'exp': math.exp,
    'log': math.log,
    'sqrt': math.sqrt,
    'tanh': math.tanh,
    'sigmoid': _sigmoid,
    'relu': lambda a: max(a, 0.0),
    'softplus': lambda a: max(a, 0.0) + math.log1p(math.exp(-abs(a))),
    'sin': math.sin,
    'cos': math.cos,
    'abs': abs,
    'leaky_relu': lambda a, s=0.01: a if a > 0 else s * a,
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.recursive(_safe_leaf(), _safe_extend, max_leaves=12),  # mostly computable
        st.recursive(_leaf(), _extend, max_leaves=12),  # mostly refused
    )
)
def test_fuzz_random_asts_against_a_reference(tree):
    source = ast.unparse(ast.fix_missing_locations(ast.Expression(tree)))
    try:
        expected = _reference(tree)
    except (Refused, MathFail):
        with pytest.raises(ExprError):
            evaluate(source, VALUES)
        return
    got = _accepts(source)
    assert got is not None, source
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), source
