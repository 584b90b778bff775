"""A saved notebook reopened, in a real JupyterLab and Notebook 7 (headless Chromium).

The student runs the widget cells, the Playground plays, the notebook is saved, the kernel
is shut down and the tab closed; the notebook is opened again. With the widgets' state saved
in the notebook (the setting microgrid installs, jupyter/microgrid-autodiff.json), each
widget shows its last picture and says "run this cell again", never JupyterLab's "Error
displaying widget: model not found"; the Playground does not claim to play. See
test_live_browser.py for the server and the browser (both stopped on every path).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from browser import ARGS, chromium_path, errors_of
from test_live_browser import KERNEL_IDLE, SHOTS, jupyter_server

pytestmark = pytest.mark.slow

CELLS = [
    'from microgrid import Value\nfrom microgrid.live import Explorer, Playground, Stepper',
    "a, b = Value(2.0, 'a'), Value(-3.0, 'b')\nL = (a * b + 1.0).tanh()\n"
    'Stepper(L, names=locals())',
    'Explorer(lambda a, b: (a * b + 1.0).tanh(), a=2.0, b=-3.0)',
    "Playground('moons', hidden=[4], seed=0)",
]
WIDGETS = ('stepper', 'explorer', 'playground')


def notebook() -> str:
    cells = [
        {'cell_type': 'code', 'execution_count': None, 'id': f'c{i}', 'metadata': {},
         'outputs': [], 'source': src}
        for i, src in enumerate(CELLS)
    ]  # fmt: skip
    meta = {'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'}}
    return json.dumps({'cells': cells, 'metadata': meta, 'nbformat': 4, 'nbformat_minor': 5})


def saved_state(path: Path, timeout: float = 30) -> dict:
    """The widget state the front end wrote into the notebook file, once it is there."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            nb = json.loads(path.read_text(encoding='utf-8'))
        except (OSError, ValueError):
            nb = {}
        state = nb.get('metadata', {}).get('widgets', {})
        state = state.get('application/vnd.jupyter.widget-state+json', {}).get('state')
        if state and any('Playground' in json.dumps(m['state'])[:200000] for m in state.values()):
            return state
        time.sleep(0.5)
    pytest.fail(f'the saved notebook holds no widget state:\n{path.read_text()[:2000]}')


def reopen(tmp_path_factory, app: str):
    """Run, play, save, shut down, close, open again; yields (page, figures)."""
    chromium = chromium_path()
    from playwright.sync_api import sync_playwright

    work = tmp_path_factory.mktemp(f'reopen-{app}')
    (work / 'nb').mkdir()
    path = work / 'nb' / 'reopen.ipynb'
    path.write_text(notebook(), encoding='utf-8')
    where = 'lab/tree' if app == 'lab' else 'notebooks'
    with jupyter_server(work, app) as (base, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            url = f'{base}/{where}/reopen.ipynb?token={token}'
            page = browser.new_page(viewport={'width': 1400, 'height': 1000})
            page.goto(url)
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            for kind in WIDGETS:
                page.wait_for_selector(f'.mg-{kind}[data-ready="1"]', timeout=60_000)
            page.click('.mg-playground [data-act=play]')
            page.wait_for_selector('.mg-playground[data-running="1"]', timeout=20_000)
            page.wait_for_function(
                'document.querySelector(".mg-playground").dataset.frame > 2', timeout=30_000
            )
            page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
            state = saved_state(path)
            figures = {
                'file': path.stat().st_size,
                'models': len(state),
                'playground': max(len(json.dumps(m)) for m in state.values()),
            }
            page.evaluate('window.jupyterapp.shell.currentWidget.sessionContext.shutdown()')
            page.wait_for_function(
                '!window.jupyterapp.shell.currentWidget.sessionContext.session', timeout=30_000
            )
            page.close()
            page = browser.new_page(viewport={'width': 1400, 'height': 1000})
            errors = errors_of(page)
            page.goto(url)
            try:
                page.wait_for_selector('.mg-playground[data-ready="1"]', timeout=60_000)
                start = time.monotonic()
                page.wait_for_selector('.mg-playground[data-lost="1"]', timeout=10_000)
                figures['lost after'] = time.monotonic() - start
                for kind in WIDGETS:
                    page.wait_for_selector(f'.mg-{kind}[data-lost="1"]', timeout=10_000)
            except Exception:
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / f'live-reopen-failure-{app}.png'))
                raise
            figures['errors'] = errors
            figures['path'] = path
            yield page, figures
        finally:
            browser.close()


@pytest.fixture(scope='module', params=['lab', 'notebook'])
def reopened(request, tmp_path_factory):
    yield from reopen(tmp_path_factory, request.param)


def test_a_saved_notebook_reopened_says_run_this_cell_again(reopened, request):
    page, figures = reopened
    app = request.node.callspec.params['reopened']
    print(app, figures)
    text = page.inner_text('body')
    assert 'model not found' not in text
    # at once where the host marks the view disconnected (Lab, Notebook 7); else after 1.5 s
    # without an answer (pings every 0.5 s)
    assert figures['lost after'] < 3.5, figures
    for kind in WIDGETS:
        banner = page.inner_text(f'.mg-{kind} .mg-lost')
        assert 'run this cell again' in banner and 'saved notebook' in banner, banner
    # the last picture is there, and nothing claims to play
    pg = page.locator('.mg-playground')
    assert pg.get_attribute('data-running') == '0'
    play = pg.locator('[data-act=play]')
    assert play.is_disabled() and 'play' in play.inner_text() and 'pause' not in play.inner_text()
    assert int(pg.get_attribute('data-frame')) > 2  # the frame it was saved at
    assert pg.locator('[data-setting=hidden]').is_disabled()  # settings need the kernel
    ex = page.locator('.mg-explorer')
    assert ex.locator('input[type=range] >> nth=0').is_disabled()
    assert ex.locator('[data-act=zoom-in]').is_enabled()  # zooming needs no kernel
    # the Stepper's steps are all in the saved state: it still steps without a kernel
    st = page.locator('.mg-stepper')
    st.locator('[data-act=next]').click()
    page.wait_for_selector('.mg-stepper[data-position="1"]')
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f'live-reopened-{app}.png'))
    pg.screenshot(path=str(SHOTS / f'live-reopened-playground-{app}.png'))
    assert figures['playground'] < 200_000, figures  # the saved state stays small
    # Notebook 7.6.5 with JupyterLab 4.6.6 logs one error of its own at start-up
    assert [e for e in figures['errors'] if "reading 'schema'" not in e] == []


@pytest.mark.xfail(
    strict=True,
    reason='jupyterlab_widgets 3.0 saves only the widgets a kernel runs (get_state_sync keeps '
    'comm_live models): saving a reopened notebook before its cells run again drops the saved '
    'state, and the next reopen says "model not found" (jupyter-widgets/ipywidgets#3888, '
    'fix proposed in #4015). When this passes, the docs can drop their warning.',
)
def test_saving_the_reopened_notebook_keeps_the_saved_state(reopened):
    page, figures = reopened
    path = figures['path']
    before = path.stat().st_mtime_ns
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    end = time.monotonic() + 30
    while path.stat().st_mtime_ns == before and time.monotonic() < end:
        time.sleep(0.3)
    assert path.stat().st_mtime_ns != before, 'the notebook was not saved'
    nb = json.loads(path.read_text(encoding='utf-8'))
    state = nb['metadata'].get('widgets', {})
    state = state.get('application/vnd.jupyter.widget-state+json', {}).get('state', {})
    assert len(state) == figures['models']
