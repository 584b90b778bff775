"""One set of op names everywhere (issue 22): the engine's OPS, the symbolic rules and
the numpy rules are keyed by the same names, and the lists kept elsewhere come from OPS."""

from __future__ import annotations

import importlib

from microgrid import engine

OP_NAMES = {
    '+',
    '-',
    '*',
    '/',
    '**',
    'leaky_relu',
    'neg',
    'abs',
    'exp',
    'log',
    'sqrt',
    'tanh',
    'sigmoid',
    'relu',
    'softplus',
    'sin',
    'cos',
    'sum',
    'dot',
}


def _table(module: str, name: str) -> dict:
    return getattr(importlib.import_module(module), name)


def test_the_engine_table_has_one_rule_per_op() -> None:
    assert set(engine.OPS) == OP_NAMES
    assert all(callable(rule) for rule in engine.OPS.values())


def test_the_rules_give_result_and_local_derivatives() -> None:
    assert engine.OPS['*'](3.0, 4.0) == (12.0, 4.0, 3.0)
    assert engine.OPS['tanh'](0.0) == (0.0, 1.0)
    assert engine.OPS['sum']([1.0, 2.0]) == (3.0, [1.0, 1.0])
    assert engine.OPS['dot']([1.0, 2.0], [3.0, 4.0]) == (11.0, [3.0, 4.0], [1.0, 2.0])


def test_the_symbolic_table_has_the_same_ops() -> None:
    assert set(_table('microgrid.autograd.symbolic', 'SYMBOLIC_RULES')) == set(engine.OPS)


def test_the_numpy_table_has_the_same_ops() -> None:
    assert set(_table('microgrid.compiler.rules', 'NUMPY_RULES')) == set(engine.OPS)


def test_the_lists_kept_elsewhere_name_only_engine_ops() -> None:
    # expr.FUNCTIONS (what the CLI's expressions may call) and engine_check's ops keep their
    # own lists, each a chosen subset; every name in them must be an op of the engine.
    from microgrid import expr
    from microgrid.course import engine_check

    assert set(expr.FUNCTIONS) <= set(engine.OPS)
    dunder = {
        '__add__': '+',
        '__mul__': '*',
        '__sub__': '-',
        '__truediv__': '/',
        '__neg__': 'neg',
        '__pow__': '**',
    }
    checked = {dunder.get(op.needs, op.needs) for op in engine_check._OPS}
    assert checked <= set(engine.OPS), checked - set(engine.OPS)
