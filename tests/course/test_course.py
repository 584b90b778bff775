"""The course: every lesson runs as a student gets it, and every exercise can fail and pass.

Each notebook is executed twice with nbclient:
1. as stored (exercise stubs unfilled) with Jupyter's normal inline backend (MPLBACKEND is
   removed from the kernel's environment, so ipykernel picks matplotlib-inline): no cell
   may write to stderr, every cell that calls a microgrid.plot function or draw must show
   an image, and every exercise's check must print ✗. The executed notebook is saved to
   build/executed/<stem>.ipynb for `make course-html`.
2. with each stub replaced by its solution from notebooks/solutions/<stem>.py (Agg, no
   pictures needed): every check must print ✓.
The course's own regression claims (tests/course/claims.py) run in the first pass, each as a
cell inserted after the cell it describes, and are removed before the executed copy is saved.
"""

from __future__ import annotations

import os
import re
import runpy
import time
from pathlib import Path

import pytest

from microgrid.course import check

pytestmark = pytest.mark.slow  # make test-fast skips it (pytest -m "not slow")

nbformat = pytest.importorskip('nbformat', reason='nbformat comes with the dev extra')
nbclient = pytest.importorskip('nbclient', reason='nbclient comes with the dev extra')

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / 'notebooks'
SOLUTIONS = NOTEBOOKS / 'solutions'
EXECUTED = ROOT / 'build' / 'executed'
LESSONS = sorted(NOTEBOOKS.glob('[0-9][0-9]_*.ipynb'))

EXERCISE = re.compile(r'# EXERCISE (\S+): \S')
SOLUTION = re.compile(r'^# SOLUTION (\S+)\s*$', re.M)
# A call of check() or of a checker like check_engine(), check_mlp(), check_training().
CHECK_CALL = re.compile(r'\bcheck(?:_\w+)?\(')
# A call of a picture-making function: microgrid.plot's plot_* or draw().
PICTURE = re.compile(r'\b(?:plot\.plot_\w+|plot_\w+|draw)\(')


# -----------------------------------------------------------------------------
# check() itself
# -----------------------------------------------------------------------------


def test_check_prints_a_tick_and_returns_true_when_right(capsys):
    assert check('the slope', 14.000000001, 14.0) is True
    assert check('two grads', [1.0, (2.0, 3.0)], [1, (2, 3)]) is True
    assert check('a word', 'relu', 'relu') is True
    assert capsys.readouterr().out == '✓ the slope\n✓ two grads\n✓ a word\n'


def test_check_prints_expected_got_and_hint_when_wrong(capsys):
    assert check('the slope', 13.9, 14.0, hint='6x - 4 at x = 3') is False
    out = capsys.readouterr().out
    assert out == '✗ the slope: expected 14, got 13.9. Hint: 6x - 4 at x = 3\n'
    assert check('close but not enough', 1.001, 1.0, rel=1e-4) is False
    assert check('loose enough', 1.001, 1.0, rel=1e-2) is True
    assert check('lengths', [1.0], [1.0, 2.0]) is False
    assert check('a Value counts as its data', type('V', (), {'data': 2.0})(), 2.0) is True


def test_check_reports_an_unfilled_stub_and_never_raises(capsys):
    assert check('stub', None, 1.0) is False
    assert check('stub in a list', [None, 2.0], [1.0, 2.0]) is False
    assert check('ellipsis', ..., 1.0) is False
    assert check('raises', lambda: 1 / 0, 1.0) is False
    assert check('callable', lambda: 2.0, 2.0) is True
    assert check('nan', float('nan'), float('nan')) is True
    assert check('nan is not a number', float('nan'), 1.0) is False
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == '✗ stub: not filled in yet (the answer is still None or ...).'
    assert lines[1].startswith('✗ stub in a list: not filled in yet')
    assert lines[3] == '✗ raises: your code raised ZeroDivisionError: division by zero.'
    assert check('a stub used', lambda: None.data, 1.0) is False
    assert capsys.readouterr().out == (
        "✗ a stub used: your code raised AttributeError: 'NoneType' object has no attribute"
        " 'data' (is a stub still returning None?).\n"
    )


# -----------------------------------------------------------------------------
# The notebooks as stored
# -----------------------------------------------------------------------------


def _code(cell) -> str:
    return cell.source if isinstance(cell.source, str) else ''.join(cell.source)


def _exercises(nb) -> list[tuple[int, str]]:
    out = []
    for i, cell in enumerate(nb.cells):
        first = _code(cell).split('\n', 1)[0]
        if cell.cell_type == 'code' and first.startswith('# EXERCISE'):
            match = EXERCISE.match(first)
            assert match, f'cell {i}: an exercise starts "# EXERCISE <id>: <title>": {first!r}'
            out.append((i, match.group(1)))
    return out


def _solutions(stem: str) -> dict[str, str]:
    path = SOLUTIONS / f'{stem}.py'
    if not path.exists():
        return {}
    text = path.read_text(encoding='utf-8')
    parts = SOLUTION.split(text)
    return {parts[i]: parts[i + 1].strip('\n') + '\n' for i in range(1, len(parts), 2)}


def test_there_are_at_least_ten_lessons_numbered_in_order():
    stems = [p.stem for p in LESSONS]
    assert len(stems) >= 10, stems
    assert [int(s[:2]) for s in stems] == list(range(1, len(stems) + 1)), stems
    assert stems[2] == '03_build_your_own_engine'


@pytest.mark.parametrize('path', LESSONS, ids=lambda p: p.stem)
def test_lesson_is_stored_clean_with_checked_exercises(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == 'code':
            assert not cell.outputs and cell.execution_count is None, f'cell {i} has outputs'
    # JupyterLab saves the live widgets' state here (microgrid turns saveState on)
    assert 'widgets' not in nb.metadata, 'the widget state is saved: remove metadata.widgets'
    exercises = _exercises(nb)
    assert 2 <= len(exercises) <= 4, f'{path.stem}: {len(exercises)} exercises, want 2-4'
    solutions = _solutions(path.stem)
    assert sorted(solutions) == sorted(e for _, e in exercises), (
        f'{path.stem}: solutions {sorted(solutions)} do not match the exercises'
    )
    for i, ex in exercises:
        assert ex.startswith(path.stem[:2] + '-'), f'{ex}: ids start with the lesson number'
        follower = nb.cells[i + 1]
        assert follower.cell_type == 'code' and CHECK_CALL.search(_code(follower)), (
            f'{ex}: the cell after the stub must call check() or a check_*() of microgrid.course'
        )
    for i, cell in enumerate(nb.cells):
        src = _code(cell)
        if cell.cell_type == 'code':
            assert not re.search(r'^\s*assert ', src, re.M), (
                f'{path.stem} cell {i}: an assert in a lesson; move it to tests/course/claims.py'
            )
        assert 'plt.show()' not in src or 'plot.' not in src, (
            f'{path.stem} cell {i}: plt.show() next to a pyplot-less microgrid.plot figure'
        )


@pytest.mark.parametrize('path', LESSONS, ids=lambda p: p.stem)
def test_regression_claims_live_in_the_tests_not_in_hidden_cells(path):
    """No lesson has a cell tagged check (tags are invisible in Jupyter): the course's own
    regression checks are in claims.py."""
    nb = nbformat.read(path, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if 'check' in c.metadata.get('tags', [])]
    assert not tagged, f'{path.stem}: cells {tagged} are tagged check; move them to claims.py'
    ids = {c.get('id') for c in nb.cells}
    assert set(CLAIMS.get(path.stem, {})) <= ids, f'{path.stem}: claims after missing cells'


def test_exercise_ids_are_unique_across_the_course():
    ids = [e for p in LESSONS for _, e in _exercises(nbformat.read(p, as_version=4))]
    assert len(ids) == len(set(ids)), sorted(ids)


# -----------------------------------------------------------------------------
# Executed
# -----------------------------------------------------------------------------


CLAIMS = runpy.run_path(str(Path(__file__).with_name('claims.py')))['CLAIMS']
CLAIM = 'course-claim'


def _with_claims(nb, stem: str):
    """nb with each claim of CLAIMS[stem] as a cell after the cell it names, run in a function
    so that its names stay local."""
    claims = CLAIMS.get(stem, {})
    ids = [c.get('id') for c in nb.cells]
    missing = sorted(set(claims) - set(ids))
    assert not missing, f'{stem}: claims for cells that are not there: {missing}'
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.get('id') in claims:
            body = ''.join('    ' + line + '\n' for line in claims[cell.id].splitlines())
            code = f'def _claim():\n{body}\n\n_claim()\ndel _claim\n'
            cells.append(nbformat.v4.new_code_cell(code, metadata={'tags': [CLAIM]}))
    nb.cells = cells
    return nb


def _without_claims(nb):
    nb.cells = [c for c in nb.cells if CLAIM not in c.metadata.get('tags', [])]
    return nb


def _execute(nb, inline: bool):
    env = dict(os.environ)
    env.pop('MPLBACKEND', None)  # ipykernel then chooses matplotlib-inline
    if not inline:
        env['MPLBACKEND'] = 'Agg'
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [str(ROOT), env.get('PYTHONPATH')]))
    client = nbclient.NotebookClient(
        nb, timeout=180, kernel_name='python3', resources={'metadata': {'path': str(NOTEBOOKS)}}
    )
    started = time.perf_counter()
    client.execute(env=env)
    return time.perf_counter() - started


def _text(cell) -> str:
    return ''.join(o.get('text', '') for o in cell.outputs if o.output_type == 'stream')


def _check_lines(cell) -> list[str]:
    return [line for line in _text(cell).splitlines() if line[:2] in ('✓ ', '✗ ')]


@pytest.mark.slow
@pytest.mark.parametrize('path', LESSONS, ids=lambda p: p.stem)
def test_lesson_runs_inline_with_pictures_no_stderr_and_unfilled_checks_fail(path):
    nb = _with_claims(nbformat.read(path, as_version=4), path.stem)
    seconds = _execute(nb, inline=True)
    _without_claims(nb)
    EXECUTED.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, EXECUTED / path.name)
    print(f'{path.stem}: {seconds:.1f} s')
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != 'code':
            continue
        src = _code(cell)
        for out in cell.outputs:
            if out.output_type == 'stream' and out.name == 'stderr':
                problems.append(f'cell {i} wrote to stderr: {out.text[:300]!r}')
        if PICTURE.search(src):
            images = [
                key
                for out in cell.outputs
                if out.output_type in ('display_data', 'execute_result')
                for key in out.get('data', {})
                if key.startswith('image/')
            ]
            if not images:
                problems.append(f'cell {i} makes a picture but shows none: {src[:80]!r}')
    for i, ex in _exercises(nb):
        lines = _check_lines(nb.cells[i + 1])
        if not lines or any(not line.startswith('✗ ') for line in lines):
            problems.append(f'{ex}: an unfilled stub must fail its check, printed {lines}')
    assert not problems, '\n'.join(problems)


@pytest.mark.slow
@pytest.mark.parametrize('path', LESSONS, ids=lambda p: p.stem)
def test_every_check_passes_with_the_solutions(path):
    nb = nbformat.read(path, as_version=4)
    solutions = _solutions(path.stem)
    exercises = _exercises(nb)
    assert exercises and solutions
    for i, ex in exercises:
        nb.cells[i].source = solutions[ex]
    _execute(nb, inline=False)
    for i, ex in exercises:
        lines = _check_lines(nb.cells[i + 1])
        assert lines and all(line.startswith('✓ ') for line in lines), (ex, lines)


def test_build_html_embeds_pictures_and_reuses_executed_notebooks(tmp_path):
    from microgrid.course import build_html

    lessons, executed, out = tmp_path / 'notebooks', tmp_path / 'executed', tmp_path / 'site'
    lessons.mkdir()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell('# Lesson 1 · <Nudging>'),
        nbformat.v4.new_code_cell('picture()'),
        nbformat.v4.new_code_cell('assert hidden', metadata={'tags': ['check']}),
        nbformat.v4.new_code_cell('Stepper(y)'),
    ])  # fmt: skip
    nbformat.write(nb, lessons / '01_nudging.ipynb')
    png = (
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9'
        'awAAAABJRU5ErkJggg=='
    )
    nb.cells[1].outputs = [
        nbformat.v4.new_output('display_data', data={'image/png': png}),
        nbformat.v4.new_output('display_data', data={'image/gif': 'R0lGODlhAQABAAAAACw='}),
    ]
    widget = {'model_id': 'abc', 'version_major': 2, 'version_minor': 0}
    nb.cells[3].outputs = [
        nbformat.v4.new_output(
            'display_data',
            data={'application/vnd.jupyter.widget-view+json': widget, 'text/plain': 'Stepper'},
        )
    ]
    executed.mkdir()
    nbformat.write(nb, executed / '01_nudging.ipynb')  # newer than the lesson: reused, not run
    pages = build_html(lessons, out, executed)
    assert [p.name for p in pages] == ['01_nudging.html', 'index.html']
    page = pages[0].read_text(encoding='utf-8')
    assert f'data:image/png;base64,{png}' in page
    assert 'src="data:image/gif;base64,R0lGODlhAQABAAAAACw="' in page  # as an <img>
    assert 'assert hidden' not in page  # the student's page: no regression checks
    assert 'Live widget' in page and 'make course' in page  # a note, not an empty box
    assert 'href="../lite-site/lab/index.html?path=01_nudging.ipynb"' in page  # make lite's
    index = pages[1].read_text(encoding='utf-8')
    assert '<a href="01_nudging.html">Lesson 1 · &lt;Nudging&gt;</a>' in index
    with pytest.raises(FileNotFoundError, match='no lessons'):
        build_html(tmp_path / 'executed' / 'nothing', out)


@pytest.mark.slow
def test_lesson_11_runs_without_torch_and_says_so(tmp_path):
    """torch is not in the course extra: lesson 11 must run without it, with a visible note."""
    blocker = tmp_path / 'torch'
    blocker.mkdir()
    (blocker / '__init__.py').write_text("raise ImportError('No module named torch (blocked)')\n")
    path = NOTEBOOKS / '11_onward_to_pytorch.ipynb'
    nb = nbformat.read(path, as_version=4)
    old = os.environ.get('PYTHONPATH')
    os.environ['PYTHONPATH'] = os.pathsep.join(filter(None, [str(tmp_path), old]))
    try:
        _execute(nb, inline=False)
    finally:
        if old is None:
            os.environ.pop('PYTHONPATH')
        else:
            os.environ['PYTHONPATH'] = old
    text = '\n'.join(_text(c) for c in nb.cells if c.cell_type == 'code')
    assert 'PyTorch is not installed' in text and 'pip install torch' in text
    assert text.count('(needs PyTorch: see the top of the lesson)') == 3
