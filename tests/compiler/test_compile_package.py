"""The compiler package: import paths that keep working, one table of numpy rules, layout."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import microgrid
from microgrid import engine
from microgrid.compiler import rules

PACKAGE = Path(microgrid.__file__).parent / 'compiler'


@pytest.mark.parametrize(
    'code',
    [
        'import microgrid.compile\nassert callable(microgrid.compile)\n'
        'assert microgrid.compile is microgrid.compiler.compile',
        'from microgrid.compile import TraceMismatchError, compile\n'
        'import microgrid\nassert compile is microgrid.compile\n'
        'assert TraceMismatchError is microgrid.TraceMismatchError',
        'import microgrid.guards, microgrid.compiler.guards as g\n'
        'assert microgrid.guards is g and callable(microgrid.compile)',
        'import sys, microgrid\nassert "numpy" not in sys.modules  # heavy: loaded on first use',
    ],
)
def test_old_import_paths_keep_working_in_a_fresh_interpreter(code: str) -> None:
    # a fresh process: importing microgrid.compile for the first time must not re-bind
    # the top-level function to the module
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_numpy_rules_cover_exactly_the_engines_ops() -> None:
    ops = set(getattr(engine, 'OPS', ())) or set(rules.ENGINE_RULES) | rules.REDUCTIONS
    assert set(rules.NUMPY_RULES) == ops
    assert rules.UNARY_OPS | rules.BINARY_OPS | rules.REDUCTIONS == set(rules.NUMPY_RULES)
    assert set(rules.ENGINE_RULES) == rules.UNARY_OPS | rules.BINARY_OPS


def test_each_compiler_module_is_at_most_400_lines_with_all() -> None:
    for path in sorted(PACKAGE.glob('*.py')):
        text = path.read_text()
        assert len(text.splitlines()) <= 400, path.name
        names = {
            t.id
            for node in ast.parse(text).body
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        assert '__all__' in names, path.name
