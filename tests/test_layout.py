"""The map of microgrid, and the house rules it keeps.

A newcomer reads LAYOUT top to bottom: engine.py first (the lesson: the op table, Value,
backward), then text.py (how every instrument writes names and numbers), then autograd/
(what is built on backward), nn/ (networks and training), and the packages above them
(pictures, compile, live widgets, the command line, the course). Where a change goes:
a new op is a row in engine.OPS (and in the symbolic and numpy tables, kept in step by
their tests); a new picture goes to viz/, a new command to cli/, a new widget to live/.

The rules, checked for every module of the package:
- it has a row in LAYOUT (its one job), or is an alias of a moved module (ALIASES);
- it is at most MAX_LINES lines and has ``__all__``;
- its imports go one way: a module imports only the standard library, modules of its own
  package, and packages of a lower RANK; function-level (lazy) imports count too;
- there is no import cycle (lazy imports included); a cycle is reported as a path.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / 'microgrid'
MAX_LINES = 400

# Every module and its one job, in reading order. Paths are relative to the repository.
LAYOUT = {
    'microgrid/__init__.py': 'the public names, imported at once or on first use',
    'microgrid/__main__.py': '`python -m microgrid`: the command line',
    'microgrid/engine.py': 'the lesson: the op table (OPS), Value, sum/dot, backward',
    'microgrid/_numbers.py': "number coercion, domain errors, pow's limits (what rules call)",
    'microgrid/_dot.py': "dot()'s edges built fast, and the node records (_meta) it shares",
    'microgrid/_micrograd.py': "micrograd's private names on a Value: _prev and _op",
    'microgrid/text.py': 'display names, the number format, wrapped labels, step text',
    # autograd/: what is built on backward
    'microgrid/autograd/__init__.py': 'the autograd package: its public names',
    'microgrid/autograd/modes.py': 'the switches: no_grad, enable_grad, set_grad_enabled, ...',
    'microgrid/autograd/anomaly.py': "detect_anomaly's checks and where a NaN was made",
    'microgrid/autograd/tracing.py': 'watching node creation (what compile traces with)',
    'microgrid/autograd/functional.py': 'grad, hessian, jacobian, hvp, jvp',
    'microgrid/autograd/symbolic.py': 'SYMBOLIC_RULES: each derivative as Values (create_graph)',
    'microgrid/autograd/gradcheck.py': 'gradcheck and gradgradcheck against finite differences',
    'microgrid/autograd/steps.py': 'backward one chain-rule step at a time (backward_steps)',
    'microgrid/autograd/explain.py': 'explain(): every path from an input to the output',
    'microgrid/autograd/copying.py': 'copy and pickle of leaves (nodes refused, as in PyTorch)',
    # nn/: networks and training
    'microgrid/nn/__init__.py': 'the nn package: its public names',
    'microgrid/nn/module.py': 'Module: parameters, zero_grad',
    'microgrid/nn/layers.py': 'Neuron, Layer, MLP and the activations',
    'microgrid/nn/losses.py': 'the losses',
    'microgrid/nn/optim.py': 'the optimizers and learning-rate schedules',
    'microgrid/nn/data.py': 'the small data sets and batches',
    'microgrid/nn/training.py': 'fit and accuracy',
    'microgrid/nn/checks.py': "what fit and accuracy check before training",
    'microgrid/nn/interop.py': 'to_torch: the same network in PyTorch',
    'microgrid/nn/serialization.py': 'save and load a model, safely',
    # compiler/: compile(f), a numpy replay of a traced graph
    'microgrid/compiler/__init__.py': 'the compiler package: compile',
    'microgrid/compiler/api.py': 'compile(): the function users call',
    'microgrid/compiler/arguments.py': 'flattening arguments and results',
    'microgrid/compiler/rules.py': 'NUMPY_RULES: each op and its derivative with numpy',
    'microgrid/compiler/kernels.py': 'vectorised kernels for groups of nodes',
    'microgrid/compiler/program.py': 'building the replayed program from a trace',
    'microgrid/compiler/check.py': 'check=True: the compiled result against the eager one',
    'microgrid/compiler/guards.py': 'when a trace is stale and compile traces again',
    'microgrid/compiler/second_order.py': 'hessian by replaying the traced gradient graph',
    # viz/: pictures
    'microgrid/viz/__init__.py': 'the pictures package (imports nothing)',
    'microgrid/viz/draw.py': 'the graph as Graphviz DOT: draw(root)',
    'microgrid/viz/collapse.py': "a neuron drawn as one box: which Values each neuron's box holds",
    'microgrid/viz/render.py': 'finding and running a renderer (dot or graphviz-pure)',
    'microgrid/viz/scene.py': "one backward pass as frames on one layout (the player's model)",
    'microgrid/viz/player.py': 'the backprop player (HTML), its frames and GIF',
    'microgrid/viz/raster.py': "the renderers' SVG as PNG, without a browser",
    'microgrid/viz/plot.py': 'loss curves, decision boundaries, weight images (matplotlib)',
    'microgrid/viz/figures.py': "the figures' plumbing: a Figure that shows itself, the grid",
    'microgrid/viz/animation.py': 'training and weights animated, as GIFs',
    # live/: widgets in Jupyter
    'microgrid/live/__init__.py': 'the live widgets: Stepper, Explorer, Playground',
    'microgrid/live/_base.py': "the widgets' shared base and their JavaScript",
    'microgrid/live/explorer.py': 'Explorer: sliders on the inputs of a function',
    'microgrid/live/playground.py': 'Playground: train a network and watch it',
    'microgrid/live/stepper.py': 'Stepper: backward step by step, in a widget',
    'microgrid/live/_lifecycle.py': "the widgets' heartbeat: views alive, kernel interrupts",
    'microgrid/live/_pg_data.py': "the Playground's data sets and input features",
    'microgrid/live/_pg_frames.py': "the Playground's frames: maps, curves, the network drawn",
    'microgrid/live/_pg_thread.py': "the Playground's training, in a thread or an asyncio task",
    # cli/: the command line
    'microgrid/cli/__init__.py': 'the command line package: main',
    'microgrid/cli/app.py': 'main(): parsing the command line, errors as one line, dispatch',
    'microgrid/cli/commands.py': 'the commands: grad, step, draw, demo',
    'microgrid/cli/expr.py': 'an expression and its stack machine',
    'microgrid/cli/syntax.py': "what an expression may contain: Python's ast, checked",
    'microgrid/cli/demo.py': 'the demo: two moons trained, its pictures',
    # course/: the lessons' helpers
    'microgrid/course/__init__.py': 'the course package: check',
    'microgrid/course/exercises.py': "the exercises' checks",
    'microgrid/course/engine_check.py': "check_engine: a student's engine against the rules",
    'microgrid/course/nn_check.py': "check_mlp, check_training: a student's network and loop",
    'microgrid/course/__main__.py': '`python -m microgrid.course html`: the lessons as pages',
    'microgrid/course/html.py': 'the lessons as static HTML pages',
}

# Old import paths kept working by a module alias (a shim file; see test_aliases_...).
ALIASES = {
    'microgrid/draw.py': 'microgrid.viz.draw',
    'microgrid/player.py': 'microgrid.viz.player',
    'microgrid/raster.py': 'microgrid.viz.raster',
    'microgrid/plot.py': 'microgrid.viz.plot',
    'microgrid/expr.py': 'microgrid.cli.expr',
    'microgrid/demo.py': 'microgrid.cli.demo',
    'microgrid/names.py': 'microgrid.text',
    'microgrid/labels.py': 'microgrid.text',
    'microgrid/switches.py': 'microgrid.autograd.modes',
    'microgrid/anomaly.py': 'microgrid.autograd.anomaly',
    'microgrid/tracing.py': 'microgrid.autograd.tracing',
    'microgrid/steps.py': 'microgrid.autograd.steps',
    'microgrid/higher.py': 'microgrid.autograd.functional',
    'microgrid/gradcheck.py': 'microgrid.autograd.gradcheck',
    'microgrid/explain.py': 'microgrid.autograd.explain',
    'microgrid/losses.py': 'microgrid.nn.losses',
    'microgrid/optim.py': 'microgrid.nn.optim',
    'microgrid/data.py': 'microgrid.nn.data',
    'microgrid/training.py': 'microgrid.nn.training',
    'microgrid/saving.py': 'microgrid.nn.serialization',
    'microgrid/compile.py': 'microgrid.compiler.api',
    'microgrid/guards.py': 'microgrid.compiler.guards',
    'microgrid/engine_check.py': 'microgrid.course.engine_check',
}


# Which package each part of the tree belongs to, and its rank: a module may import its own
# package and packages of a LOWER rank only. engine imports only the standard library.
RANK = {
    'engine': 0,  # engine.py, _numbers.py
    'text': 1,
    'autograd': 2,
    'nn': 3,  # nn may use autograd (no_grad); autograd never imports nn
    'viz': 4,
    'compiler': 4,
    'live': 5,
    'cli': 5,
    'course': 5,
    'top': 6,  # microgrid/__init__.py and __main__.py
}

# Lazy (function-level) imports that go up on purpose, each a documented seam:
# (importer, imported) -> why. They are left out of the cycle check too.
SEAMS: dict[tuple[str, str], str] = {
    ('microgrid.engine', 'microgrid.autograd.steps'): 'Value.backward_steps(), on first use',
    ('microgrid.engine', 'microgrid.autograd.functional'): 'backward(create_graph=True)',
    ('microgrid.engine', 'microgrid.autograd.copying'): 'copy and pickle of a Value',
    ('microgrid.cli.app', 'microgrid'): 'the --version text reads microgrid.__version__',
}


def package_of(path: str) -> str:
    """The package a module file belongs to (see RANK)."""
    parts = Path(path).parts  # ('microgrid', 'viz', 'draw.py')
    if len(parts) == 3:
        return parts[1]
    stem = Path(path).stem
    tops = {
        '__init__': 'top',
        '__main__': 'top',
        '_numbers': 'engine',
        '_dot': 'engine',
        '_micrograd': 'engine',
    }
    return tops.get(stem, stem)


def module_name(path: str) -> str:
    name = path.removesuffix('.py').replace('/', '.')
    return name.removesuffix('.__init__')


def source_files() -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob('*.py'))


MODULES = {module_name(p): p for p in source_files()}


def resolve(name: str) -> str:
    """A module name with aliases replaced by the module they stand for."""
    for path, target in ALIASES.items():
        if module_name(path) == name:
            return target
    return name


def imports_of(path: str) -> list[tuple[str, int, bool]]:
    """(module, line, lazy) for every microgrid module that ``path`` imports, at any depth
    of the file (``lazy``: inside a function). ``from microgrid import x`` is microgrid.x
    when x is a module, else microgrid itself."""
    tree = ast.parse((ROOT / path).read_text(encoding='utf-8'))
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split('.')[0] == 'microgrid':
                        found.append((resolve(alias.name), child.lineno, lazy))
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                if child.module.split('.')[0] == 'microgrid':
                    for alias in child.names:
                        sub = f'{child.module}.{alias.name}'
                        target = sub if resolve(sub) in MODULES or sub in MODULES else child.module
                        found.append((resolve(target), child.lineno, lazy))
            visit(child, inner)

    visit(tree, False)
    return found


def test_every_module_has_a_row_in_the_map():
    unknown = [p for p in source_files() if p not in LAYOUT and p not in ALIASES]
    assert unknown == [], f'modules missing from LAYOUT (give each its one job): {unknown}'


def test_every_row_of_the_map_exists():
    missing = [p for p in LAYOUT if not (ROOT / p).is_file()]
    assert missing == [], f'LAYOUT names modules that do not exist: {missing}'


@pytest.mark.parametrize('path', list(LAYOUT))
def test_each_module_is_short_and_declares_all(path):
    text = (ROOT / path).read_text(encoding='utf-8')
    lines = text.count('\n')
    assert lines <= MAX_LINES, f'{path}: {lines} lines; move a job out (never golf)'
    assert '__all__' in assigned_names(text), f'{path} has no __all__'


def assigned_names(text: str) -> set[str]:
    """The names a module assigns at its top level."""
    names = set()
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


@pytest.mark.parametrize('path', sorted(ALIASES))
def test_aliases_are_the_module_they_stand_for(path):
    old, new = module_name(path), ALIASES[path]
    assert importlib.import_module(old) is importlib.import_module(new)
    body = [n for n in ast.parse((ROOT / path).read_text(encoding='utf-8')).body]
    assert len(body) <= 6, f'{path} should be only a docstring and the alias'


def test_draw_and_compile_stay_functions_after_importing_their_modules():
    import microgrid
    import microgrid.cli.app
    import microgrid.draw
    import microgrid.viz.draw

    assert callable(microgrid.draw) and callable(microgrid.compile)
    assert callable(microgrid.cli.main)  # the console script's microgrid.cli:main
    assert not isinstance(microgrid.draw, type(microgrid))


def allowed(here: str, there: str) -> bool:
    """Whether a module of package ``here`` may import one of package ``there``."""
    return there == here or RANK[there] < RANK[here]


def test_the_direction_check_can_fail():
    assert not allowed('engine', 'text') and not allowed('text', 'autograd')
    assert not allowed('autograd', 'nn') and not allowed('viz', 'compiler')
    assert allowed('viz', 'text') and allowed('cli', 'viz') and allowed('nn', 'engine')


def test_imports_go_one_way():
    wrong = []
    for name, path in MODULES.items():
        if path in ALIASES:
            continue
        here = package_of(path)
        for target, line, lazy in imports_of(path):
            if target not in MODULES:
                continue
            there = package_of(MODULES[target])
            if allowed(here, there) or (name, target) in SEAMS:
                continue
            how = 'lazily ' if lazy else ''
            wrong.append(f'{path}:{line} ({here}) {how}imports {target} ({there})')
    assert wrong == [], 'imports against the layers:\n' + '\n'.join(wrong)


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan), as a path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return cycles


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        if path in ALIASES:
            continue
        graph[name] = {
            t
            for t, _, _ in imports_of(path)
            if t in MODULES and t != name and (name, t) not in SEAMS
        }
    return graph


def test_no_import_cycles():
    graph = import_graph()
    graph.pop('microgrid', None)  # the package's __init__ imports the public names
    cycles = find_cycles(graph)
    assert cycles == [], 'import cycles (lazy imports included): ' + '; '.join(
        ' -> '.join([*c, c[0]]) for c in cycles
    )


def test_the_cycle_finder_can_fail():
    graph = {'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}
    assert find_cycles(graph) == [['a', 'b', 'c']]
    assert find_cycles({'a': {'b'}, 'b': set()}) == []


def test_no_package_hides_a_module_of_its_own_behind_a_name():
    """A package that binds a name equal to one of its modules (``cli.main`` the function,
    ``autograd.explain``) hides that module from ``microgrid.x.y`` attribute access, from
    the alias shims and from the API reference."""
    hidden = []
    for path in source_files():
        if not path.endswith('__init__.py'):
            continue
        folder = (ROOT / path).parent
        modules = {p.stem for p in folder.glob('*.py')} | {p.name for p in folder.iterdir()}
        bound = assigned_names((ROOT / path).read_text(encoding='utf-8'))
        for node in ast.parse((ROOT / path).read_text(encoding='utf-8')).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.count('.') >= 2:
                bound |= {a.asname or a.name for a in node.names}
        aliases = {Path(a).stem for a in ALIASES if (ROOT / a).parent == folder}
        # microgrid.draw, .compile, .explain, .gradcheck: the function owns the name on
        # purpose; the module there is only an alias of an old path (see the test above)
        hidden += [f'{path}: {n}' for n in sorted(bound & modules - aliases) if n != '__init__']
    assert hidden == [], f'names that hide a module of the same package: {hidden}'
