"""What a command-line expression may contain: Python's ``ast`` of it, checked against a
whitelist and compiled to a postfix program for microgrid.cli.expr's stack machine.

The limits (MAX_LENGTH, MAX_NODES, MAX_DEPTH) are checked here, before any work that
could recurse or grow; checking uses an explicit stack, never recursion.
"""

from __future__ import annotations

import ast
import math
import operator
import re
import sys
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ['FUNCTIONS', 'MAX_DEPTH', 'MAX_LENGTH', 'MAX_NODES', 'ExprError', 'compile_source']

MAX_LENGTH = 50_000
"""The longest expression accepted, in characters."""
MAX_NODES = 10_000
"""The most nodes (numbers, names, operations and calls) an expression may have."""
MAX_DEPTH = 1_000
"""The deepest nesting an expression may have."""

FUNCTIONS = (
    'exp',
    'log',
    'sqrt',
    'tanh',
    'sigmoid',
    'relu',
    'leaky_relu',
    'softplus',
    'sin',
    'cos',
    'abs',
)
"""The functions an expression may call: the engine's unary ops."""

_BINARY: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ('+', operator.add),
    ast.Sub: ('-', operator.sub),
    ast.Mult: ('*', operator.mul),
    ast.Div: ('/', operator.truediv),
    ast.Pow: ('**', operator.pow),
}

# Operators that Python parses but expressions refuse, by the name a learner knows.
_REFUSED_OPERATORS = {
    ast.FloorDiv: '//',
    ast.Mod: '%',
    ast.MatMult: '@',
    ast.LShift: '<<',
    ast.RShift: '>>',
    ast.BitOr: '|',
    ast.BitXor: '^',
    ast.BitAnd: '&',
    ast.Not: 'not',
    ast.Invert: '~',
}

# Every other kind of Python expression, named for the error message.
_REFUSED_NODES = {
    ast.Attribute: 'attribute access',
    ast.Subscript: 'subscripts',
    ast.Slice: 'slices',
    ast.Lambda: 'lambdas',
    ast.ListComp: 'comprehensions',
    ast.SetComp: 'comprehensions',
    ast.DictComp: 'comprehensions',
    ast.GeneratorExp: 'generator expressions',
    ast.JoinedStr: 'strings',
    ast.FormattedValue: 'strings',
    ast.Compare: 'comparisons',
    ast.BoolOp: "'and' and 'or'",
    ast.IfExp: 'conditional expressions (if/else)',
    ast.NamedExpr: 'assignments (:=)',
    ast.Tuple: 'tuples (commas)',
    ast.List: 'lists',
    ast.Set: 'sets',
    ast.Dict: 'dicts',
    ast.Starred: 'starred arguments (*)',
    ast.Await: 'await expressions',
    ast.Yield: 'yield expressions',
    ast.YieldFrom: 'yield expressions',
}


class ExprError(ValueError):
    """An expression or a variable assignment that is not allowed, or cannot be computed."""


# Instructions of the compiled program, executed by a stack machine.
_CONST, _VAR, _UNARY, _BINARY_OP, _CALL = range(5)


def _one_line(s: str) -> str:
    return ' '.join(s.split())


def compile_source(source: str) -> tuple[str, list[tuple[int, Any, ast.AST]], tuple[str, ...]]:
    """Check an expression and compile it: (the stripped source, its postfix program, its
    variables in order of first appearance); an ExprError names what is not allowed."""
    if not isinstance(source, str):
        raise ExprError(f"an expression must be a str, got {type(source).__name__}")
    if len(source) > MAX_LENGTH:
        raise ExprError(
            f"the expression is too long: {len(source)} characters (the limit is {MAX_LENGTH})"
        )
    source = source.strip()
    if not source:
        raise ExprError('the expression is empty')
    if _least_nodes(source) > MAX_NODES:  # before Python's parser builds a huge tree
        raise ExprError(_too_large())
    try:
        tree = _ast_parse(source)
    except SyntaxError as e:
        if 'too many nested parentheses' in str(e.msg):
            raise ExprError(_too_deep_for_python()) from None
        where = f" at column {e.offset}" if e.offset else ''
        raise ExprError(f"invalid expression: {_one_line(str(e.msg))}{where}") from None
    except RecursionError:  # deeper than _ast_parse allows: past MAX_DEPTH (see there)
        raise ExprError(_too_deep()) from None
    except MemoryError:  # the C parser's own stack
        raise ExprError(_too_deep_for_python()) from None
    except ValueError as e:  # null bytes, on Python 3.10 and 3.11
        raise ExprError(f"invalid expression: {_one_line(str(e))}") from None
    program, names = _compile(tree.body)
    return source, program, names


_TOKEN = re.compile(r'(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[^\W\d]\w*(\s*=(?!=))?|(\*\*|[-+*/])')


def _least_nodes(source: str) -> int:
    """A lower bound on the nodes _compile counts, from the text alone: every number,
    name (but a keyword argument's) and operator is one node."""
    return sum(1 for m in _TOKEN.finditer(source) if m.group(1) is None)


def _ast_parse(source: str) -> ast.Expression:
    """ast.parse in 'eval' mode. A long flat chain (x+x+...+x) is a deep left-leaning
    tree, which CPython turns into Python objects recursively, within three times the
    recursion limit: retry once with room for 7,500 levels, more than a flat chain of
    MAX_NODES nodes needs (5,000) and a small C stack holds. Deeper still is past
    MAX_DEPTH, since _least_nodes() let through at most MAX_NODES nodes."""
    with warnings.catch_warnings():  # e.g. SyntaxWarning on '1(2)': we refuse it anyway
        warnings.simplefilter('ignore')
        try:
            return ast.parse(source, mode='eval')
        except RecursionError:
            limit = sys.getrecursionlimit()
            if limit >= 2500:
                raise
        try:
            sys.setrecursionlimit(2500)
            return ast.parse(source, mode='eval')
        finally:
            sys.setrecursionlimit(limit)


def _too_large() -> str:
    return f"the expression is too large: more than {MAX_NODES} nodes (the limit MAX_NODES)"


def _too_deep() -> str:
    return (
        f"the expression is nested too deeply: more than {MAX_DEPTH} levels (the limit "
        "MAX_DEPTH; brackets, calls and unary minus nest, a flat chain such as x+x+x does not)"
    )


def _too_deep_for_python() -> str:
    return (
        "the expression is nested too deeply for Python's parser, which allows about 200 "
        "nested brackets and a few thousand nested operators"
    )


def _compile(root: ast.expr) -> tuple[list[tuple[int, Any, ast.AST]], tuple[str, ...]]:
    """Check every node against the whitelist and emit a postfix program, without recursion."""
    program: list[tuple[int, Any, ast.AST]] = []
    names: dict[str, None] = {}
    count = 0
    # (node, depth, instruction or None): None means the children are not pushed yet.
    stack: list[tuple[ast.expr, int, tuple[int, Any] | None]] = [(root, 1, None)]
    while stack:
        node, depth, instruction = stack.pop()
        if instruction is not None:
            program.append((*instruction, node))
            continue
        count += 1
        if count > MAX_NODES:
            raise ExprError(_too_large())
        if depth > MAX_DEPTH:
            raise ExprError(_too_deep())
        instruction, children = _check(node)
        if instruction[0] == _VAR:
            names[instruction[1]] = None
        stack.append((node, depth, instruction))
        stack.extend((child, _depth(node, child, depth), None) for child in reversed(children))
    return program, tuple(names)


# Operators of one precedence: a chain of them (a - b + c) is one level.
_LEVEL: dict[type, int] = {ast.Add: 0, ast.Sub: 0, ast.Mult: 1, ast.Div: 1, ast.Pow: 2}
_LEVEL.update(dict.fromkeys(_REFUSED_OPERATORS, -1))  # refused anyway, by _check


def _depth(parent: ast.expr, child: ast.expr, depth: int) -> int:
    """A child's level: the same as its parent's along a chain of binary operators of one
    precedence (the left operand, or the right one for **), one deeper otherwise."""
    if isinstance(parent, ast.BinOp) and isinstance(child, ast.BinOp):
        if _LEVEL[type(child.op)] == _LEVEL[type(parent.op)]:
            along = parent.right if isinstance(parent.op, ast.Pow) else parent.left
            if child is along:
                return depth
    return depth + 1


def _check(node: ast.expr) -> tuple[tuple[int, Any], list[ast.expr]]:
    """The instruction for an allowed node and its operands, or an ExprError naming the problem."""
    if isinstance(node, ast.Constant):
        return (_CONST, _constant(node.value)), []
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExprError(f"{node.id} is a function: call it, as in {node.id}(x)")
        return (_VAR, node.id), []
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            return (_UNARY, '-' if isinstance(node.op, ast.USub) else '+'), [node.operand]
        raise ExprError(f"the operator {_operator(node.op)} is not allowed")
    if isinstance(node, ast.BinOp):
        if type(node.op) in _BINARY:
            return (_BINARY_OP, _BINARY[type(node.op)]), [node.left, node.right]
        raise ExprError(f"the operator {_operator(node.op)} is not allowed (use + - * / **)")
    if isinstance(node, ast.Call):
        return _check_call(node)
    raise ExprError(_refusal(node))


def _check_call(node: ast.Call) -> tuple[tuple[int, Any], list[ast.expr]]:
    func = node.func
    if not isinstance(func, ast.Name):
        if not isinstance(func, (ast.Constant, ast.BinOp, ast.UnaryOp, ast.Call)):
            raise ExprError(_refusal(func))
        raise ExprError(f"only these functions can be called: {', '.join(FUNCTIONS)}")
    name = func.id
    if name not in FUNCTIONS:
        raise ExprError(
            f"unknown function {_one_line(name)[:40]}(): the functions are {', '.join(FUNCTIONS)}"
        )
    for a in node.args:
        if isinstance(a, ast.Starred):
            raise ExprError('starred arguments (*) are not allowed')
    args = list(node.args)
    for kw in node.keywords:
        if kw.arg is None:
            raise ExprError('keyword unpacking (**) is not allowed')
        if name != 'leaky_relu' or kw.arg != 'slope':
            raise ExprError(f"{name}() has no keyword argument {kw.arg!r}")
        if len(args) != 1:
            raise ExprError('leaky_relu() takes x and slope: slope is given twice or x is missing')
        args.append(kw.value)
    if name == 'leaky_relu':
        if len(args) not in (1, 2):
            raise ExprError(f"leaky_relu() takes 1 or 2 arguments (x, slope), got {len(args)}")
    elif len(args) != 1:
        raise ExprError(f"{name}() takes exactly 1 argument, got {len(args)}")
    return (_CALL, (name, len(args))), args


def _constant(value: Any) -> float:
    if isinstance(value, (str, bytes)):
        raise ExprError('strings are not allowed')
    if isinstance(value, complex):
        raise ExprError(f"complex numbers are not allowed: {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExprError(f"{value!r} is not allowed, only numbers")
    try:
        f = float(value)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f):
        raise ExprError('a number in the expression is too large for a float')
    return f


def _operator(op: ast.AST) -> str:
    return repr(_REFUSED_OPERATORS.get(type(op), type(op).__name__))


def _refusal(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"attribute access (.{_one_line(node.attr)[:40]}) is not allowed"
    what = _REFUSED_NODES.get(type(node), f"{type(node).__name__} expressions")
    return f"{what} are not allowed"
