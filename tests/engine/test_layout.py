"""The engine as a lesson (issue 22): formatted, no exemptions, no patching at import,
and one seam for the switches."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import microgrid

PACKAGE = Path(microgrid.__file__).parent
ENGINE = PACKAGE / 'engine.py'


def test_engine_has_no_format_exemptions_and_no_joined_statements() -> None:
    text = ENGINE.read_text()
    assert 'fmt:' not in text
    tree = ast.parse(text)
    compound = (ast.FunctionDef, ast.If, ast.For, ast.While, ast.With, ast.Try, ast.ClassDef)
    for node in ast.walk(tree):  # no `if x: y` with the body on the header's line
        if isinstance(node, compound):
            assert node.body[0].lineno > node.lineno, f"line {node.lineno}: body on the header"
    simple = [
        n.lineno for n in ast.walk(tree) if isinstance(n, ast.stmt) and 'body' not in n._fields
    ]
    assert len(simple) == len(set(simple)), "two statements on one line (;)"


def test_engine_is_formatted_by_ruff_and_has_no_per_file_ignores() -> None:
    pyproject = (PACKAGE.parent / 'pyproject.toml').read_text()
    assert '"microgrid/engine.py"' not in pyproject
    ruff = shutil.which('ruff') or str(Path(sys.executable).with_name('ruff'))
    if not Path(ruff).exists():
        pytest.skip('ruff (a dev dependency) is not installed')
    for args in (['format', '--check'], ['check']):
        done = subprocess.run([ruff, *args, str(ENGINE)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


_SNAPSHOT = """
import json, pkgutil, importlib, microgrid
from microgrid.engine import Value
def snap():
    return sorted(dir(Value)), sorted(Value.__dict__)
before = snap()
import microgrid.engine as engine
seam = {k: getattr(engine, k) for k in ('_hooks', '_on_create', '_on_backward')}
names = [m.name for m in pkgutil.walk_packages(microgrid.__path__, 'microgrid.')
         if not m.name.endswith('__main__')]
skipped = []
for name in names:
    try:
        importlib.import_module(name)
    except ImportError as e:  # an optional dependency (numpy, anywidget, ...) is missing
        skipped.append(name)
after = snap()
print(json.dumps({'same': before == after, 'added': sorted(set(after[1]) - set(before[1])),
                  'names': len(names), 'skipped': skipped,
                  'hooks': engine._hooks, 'on_create': seam['_on_create'] is engine._on_create}))
"""


def _declared_in_engine() -> set[str]:
    """The names the class body of Value in engine.py declares."""
    tree = ast.parse(ENGINE.read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == 'Value']
    names = set()
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign) or isinstance(node, ast.AnnAssign) and node.value:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def test_importing_every_submodule_changes_nothing_on_value() -> None:
    done = subprocess.run(
        [sys.executable, '-c', _SNAPSHOT], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result['names'] > 20
    assert result['same'], f"imports added {result['added']} to Value"
    assert result['hooks'] == 0 and result['on_create']  # no import turns a hook on
    # `import microgrid` itself imports much: so also, every attribute of Value after all
    # imports is one that engine.py's class body declares (or Python makes)
    from microgrid.engine import Value

    automatic = {'__module__', '__qualname__', '__doc__', '__annotations__', '__dict__',
                 '__weakref__', '__firstlineno__', '__static_attributes__'}  # fmt: skip
    declared = _declared_in_engine() | set(Value.__slots__) | automatic
    assert set(Value.__dict__) - declared == set()


def test_no_module_writes_into_the_engine_or_patches_value() -> None:
    """The switches reach the engine through engine.switch_hooks only; nothing assigns to
    engine.<name> or Value.<name> from outside engine.py."""
    offenders = []
    for path in PACKAGE.rglob('*.py'):
        if path == ENGINE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            for t in targets:
                for sub in ast.walk(t):
                    if (
                        isinstance(sub, ast.Attribute)
                        and isinstance(sub.value, ast.Name)
                        and sub.value.id in ('engine', 'Value')
                    ):
                        offenders.append(f"{path.name}:{node.lineno} {sub.value.id}.{sub.attr}")
    assert offenders == []


def test_the_seam_counts_threads_and_calls_the_hooks() -> None:
    from microgrid import engine

    seen = []
    engine.switch_hooks(True, lambda node, operands: seen.append(node.op), lambda order: False)
    try:
        assert engine._hooks == 1
        (engine.Value(1.0) * 2).backward()
        assert seen == ['*']
    finally:
        engine.switch_hooks(False)
    assert engine._hooks == 0
    engine.switch_hooks(False)  # one too many: the count stays at 0
    assert engine._hooks == 0
    (engine.Value(1.0) * 2).backward()
    assert seen == ['*']


def test_old_import_paths_are_aliases_of_the_new_modules() -> None:
    import microgrid.anomaly
    import microgrid.autograd.anomaly
    import microgrid.autograd.modes
    import microgrid.autograd.steps
    import microgrid.autograd.tracing
    import microgrid.steps
    import microgrid.switches
    import microgrid.tracing
    from microgrid.engine import _topological_order, topological_order

    assert microgrid.switches is microgrid.autograd.modes
    assert microgrid.anomaly is microgrid.autograd.anomaly
    assert microgrid.tracing is microgrid.autograd.tracing
    assert microgrid.steps is microgrid.autograd.steps
    assert _topological_order is topological_order
