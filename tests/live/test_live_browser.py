"""The live widgets in a real JupyterLab, driven by headless Chromium through playwright.

JupyterLab runs from this environment on 127.0.0.1 with a random port and a token; the
notebook tests/live/live_widgets.ipynb makes a Stepper, an Explorer and a Playground. Chromium
is Debian's (.ci/run installs it); playwright's own browser download is never used. The
test never skips: without Chromium it fails, saying what to install. The server and the
browser are stopped on every path (the server in its own process group).

Screenshots go to build/screenshots/ (test artifacts); with MICROGRID_UPDATE_ASSETS=1
they are also copied to docs/assets/ for the README.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser import ARGS, chromium_path, errors_of

pytestmark = pytest.mark.slow  # make test-fast skips it (pytest -m "not slow")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / 'tests' / 'live' / 'live_widgets.ipynb'
OVERRIDES = ROOT / 'jupyter' / 'microgrid-autodiff.json'  # installed into overrides.d
SHOTS = ROOT / 'build' / 'screenshots'
ASSETS = ROOT / 'docs' / 'assets'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """End the server and everything it started (kernels) by its process group."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # kernels left behind, if any
    except ProcessLookupError:
        pass
    proc.wait(10)


def wait_for_server(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f'JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}')
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f'JupyterLab did not answer within {timeout} s:\n{log.read_text()[-3000:]}')


@contextlib.contextmanager
def jupyter_server(work: Path, app: str):
    """JupyterLab or Notebook 7 on 127.0.0.1 with a token, serving work/nb; yields (base,
    token). Its settings are those a `pip install` of microgrid gives (the overrides.d file
    of jupyter/: the widgets' state is saved with the notebook). Stopped on every path."""
    (work / 'nb').mkdir(exist_ok=True)
    config = work / 'config'
    (config / 'labconfig').mkdir(parents=True, exist_ok=True)
    (config / 'labconfig' / 'page_config.json').write_text(
        json.dumps(
            {
                'disabledExtensions': {'@jupyterlab/apputils-extension:announcements': True},
            }
        )
    )  # no 'get notified about news?' toast over the widgets
    app_settings = work / 'app-settings'
    (app_settings / 'overrides.d').mkdir(parents=True, exist_ok=True)
    shutil.copy(OVERRIDES, app_settings / 'overrides.d' / OVERRIDES.name)
    settings = {
        'news_url': None,
        'expose_app_in_browser': True,
        'extension_manager': 'readonly',
        'check_for_updates_class': 'jupyterlab.NeverCheckForUpdate',
        'app_settings_dir': str(app_settings),
    }
    notebook7 = {'expose_app_in_browser': True, 'app_settings_dir': str(app_settings)}
    (config / 'jupyter_server_config.json').write_text(
        json.dumps({'LabApp': settings, 'JupyterNotebookApp': notebook7})
    )
    path = os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])
    env = {
        **os.environ,
        'JUPYTER_CONFIG_DIR': str(config),
        'PYTHONPATH': path,
        'JUPYTER_DATA_DIR': str(work / 'data'),
        'JUPYTER_RUNTIME_DIR': str(work / 'runtime'),
        'MPLBACKEND': 'Agg',
    }
    port, token = free_port(), os.urandom(16).hex()
    log = work / 'server.log'
    command = [sys.executable, '-m', 'jupyter', 'lab' if app == 'lab' else 'notebook']
    with open(log, 'wb') as out:
        proc = subprocess.Popen(
            [*command, '--no-browser', '--ServerApp.ip=127.0.0.1',
             f'--ServerApp.port={port}', '--ServerApp.port_retries=0',
             f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={work / "nb"}',
             f'--LabApp.workspaces_dir={work / "workspaces"}',
             *(['--allow-root'] if os.geteuid() == 0 else [])],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f'http://127.0.0.1:{port}'
    try:
        wait_for_server(f'{base}/api/status?token={token}', proc, log)
        yield base, token
    finally:
        stop(proc)


def serve(tmp_path_factory, app: str):
    """Start JupyterLab or Notebook 7, open the notebook in Chromium, run all cells; yields
    (page, errors, requests, base). The server and the browser are stopped on every path."""
    chromium = chromium_path()
    from playwright.sync_api import sync_playwright

    work = tmp_path_factory.mktemp(app)
    (work / 'nb').mkdir()
    shutil.copy(NOTEBOOK, work / 'nb' / NOTEBOOK.name)
    where = 'lab/tree' if app == 'lab' else 'notebooks'
    with jupyter_server(work, app) as (base, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            page = browser.new_page(viewport={'width': 1400, 'height': 1000})
            errors = errors_of(page)
            requests: list[str] = []
            page.on('request', lambda req: requests.append(req.url))
            page.goto(f'{base}/{where}/{NOTEBOOK.name}?token={token}')
            try:
                page.wait_for_function(KERNEL_IDLE, timeout=60_000)
                page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
                for kind in ('stepper', 'explorer', 'playground'):
                    page.wait_for_selector(f'.mg-{kind}[data-ready="1"]', timeout=60_000)
                page.wait_for_selector('.mg-stepper[data-ready="1"] >> nth=1')
                page.wait_for_selector('.mg-error >> text=microgrid widget error')
            except Exception:
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / f'live-failure-{app}.png'))
                raise
            yield page, errors, requests, base
        finally:
            browser.close()


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    yield from serve(tmp_path_factory, 'lab')


# the first Stepper and Explorer are the classic neuron; the second ones the 402-node network
STEPPER, EXPLORER = ':nth-match(.mg-stepper, 1)', ':nth-match(.mg-explorer, 1)'
BIG, BIG_EXPLORER = ':nth-match(.mg-stepper, 2)', ':nth-match(.mg-explorer, 2)'
COLLAPSED = ':nth-match(.mg-stepper, 3)'  # the network again, each neuron one box
PLAYGROUND = '.mg-playground'


KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return k && k.status === 'idle' && document.querySelector('.jp-Notebook .jp-Cell');
}"""


def test_a_javascript_error_is_shown_as_text(lab):
    page, errors, _, _ = lab
    shown = page.inner_text('.mg-error >> text=microgrid widget error')
    assert 'TypeError' in shown or 'null' in shown or 'undefined' in shown, shown
    page.wait_for_selector(f'{COLLAPSED}[data-ready="1"]', timeout=60_000)
    assert page.locator('.mg-stepper').count() == 3  # the broken one left no half widget


def shoot(page, selector: str, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    page.locator(selector).screenshot(path=str(path))
    if os.environ.get('MICROGRID_UPDATE_ASSETS') == '1':
        ASSETS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, ASSETS / name)


def highlighted(page, which: str = STEPPER) -> list[str]:
    ids = page.eval_on_selector_all(f'{which} g.current', 'els => els.map(e => e.id)')
    return sorted(i.split('-', 1)[1] for i in ids)


def active_cell(page) -> int:
    return page.evaluate('window.jupyterapp.shell.currentWidget.content.activeCellIndex')


def position(page, which: str) -> str:
    return page.locator(which).get_attribute('data-position')


def test_stepper_next_moves_the_highlight_and_the_chain_rule_line(lab):
    page, errors, _, _ = lab
    st = page.locator(STEPPER)
    assert st.get_attribute('data-position') == '0'
    chain0, hot0 = page.inner_text(f'{STEPPER} .mg-chain'), highlighted(page)
    assert chain0.startswith('L.grad = 1.0')
    st.locator('[data-act=next]').click()
    page.wait_for_selector(f'{STEPPER}[data-position="1"]')
    chain1, hot1 = page.inner_text(f'{STEPPER} .mg-chain'), highlighted(page)
    assert hot1 != hot0 and any(i.startswith('e') for i in hot1)
    # L = tanh(d) * a: the first edge sends L.grad to one factor
    assert chain1 != chain0 and '+=' in chain1
    st.locator('[data-act=next]').click()
    page.wait_for_selector(f'{STEPPER}[data-position="2"]')
    assert highlighted(page) != hot1
    shoot(page, STEPPER, 'live-stepper.png')
    assert errors == []


def keys_stay_in_the_widgets(page) -> None:
    """Stepper keys move the step; an Explorer slider's arrow keys move the slider; the
    notebook's active cell never changes."""
    st = page.locator(STEPPER)
    n = int(st.locator('input[type=range]').get_attribute('max'))
    st.focus()
    cell = active_cell(page)
    page.keyboard.press('End')
    page.wait_for_function(f'document.querySelector(".mg-stepper").dataset.position == "{n}"')
    page.keyboard.press('ArrowLeft')
    page.wait_for_function(f'document.querySelector(".mg-stepper").dataset.position == "{n - 1}"')
    page.keyboard.press('Home')
    page.wait_for_function('document.querySelector(".mg-stepper").dataset.position == "0"')
    page.keyboard.press('ArrowDown')
    page.wait_for_function('document.querySelector(".mg-stepper").dataset.position == "1"')
    assert active_cell(page) == cell
    slider = page.locator(f'{EXPLORER} [data-leaf=a] input[type=range]')
    before = float(slider.input_value())
    slider.focus()
    cell = active_cell(page)
    page.keyboard.press('ArrowRight')
    page.keyboard.press('ArrowRight')
    page.wait_for_timeout(300)
    assert float(slider.input_value()) > before
    assert active_cell(page) == cell, 'an arrow key in the widget moved the notebook'


def test_keys_stay_inside_the_focused_widget_in_lab(lab):
    page, errors, _, _ = lab
    keys_stay_in_the_widgets(page)
    assert errors == []


def explorer_grads(page) -> dict[str, float]:
    texts = page.eval_on_selector_all(
        f'{EXPLORER} .mg-leaf-grad', 'els => els.map(e => e.textContent)'
    )
    return {t.split(' = ')[0].split('/d')[-1]: float(t.split(' = ')[1]) for t in texts}


def updates(page, which: str) -> int:
    return int(page.locator(which).get_attribute('data-updates'))


def wait_updates(page, which: str, more_than: int) -> None:
    n = 1 if which == BIG_EXPLORER else 0
    page.wait_for_function(
        f'document.querySelectorAll(".mg-explorer")[{n}].dataset.updates > {more_than}',
        timeout=10_000,
    )


def test_explorer_slider_and_enter_change_the_grads_shown(lab):
    page, errors, _, _ = lab
    ex = page.locator(EXPLORER)
    ex.locator('[data-leaf=a] input[type=range]').fill('2')
    page.wait_for_timeout(300)
    before = explorer_grads(page)
    # (a*b + c).tanh() at a=2, b=-3, c=6.5: grads (1 - t^2) * (b, a, 1)
    t = math.tanh(2.0 * -3.0 + 6.5)
    assert before['a'] == pytest.approx((1 - t * t) * -3.0, rel=1e-5)
    svg_before = page.inner_text(f'{EXPLORER} .mg-svg')
    n = updates(page, EXPLORER)
    ex.locator('[data-leaf=a] input[type=range]').fill('1.9')
    wait_updates(page, EXPLORER, n)
    after = explorer_grads(page)
    t = math.tanh(1.9 * -3.0 + 6.5)
    assert after != before
    assert after['b'] == pytest.approx((1 - t * t) * 1.9, rel=1e-5)
    assert after['c'] == pytest.approx(1 - t * t, rel=1e-5)
    assert page.inner_text(f'{EXPLORER} .mg-svg') != svg_before  # the drawing follows
    assert 'change of out' in page.inner_text(f'{EXPLORER} .mg-nudge')
    # Enter in a number box applies it (JupyterLab used to swallow it)
    n = updates(page, EXPLORER)
    box = ex.locator('[data-leaf=c] input[type=number]')
    box.fill('6.25')
    box.press('Enter')
    wait_updates(page, EXPLORER, n)
    t = math.tanh(1.9 * -3.0 + 6.25)
    assert explorer_grads(page)['c'] == pytest.approx(1 - t * t, rel=1e-5)
    shoot(page, EXPLORER, 'live-explorer.png')
    assert errors == []


def test_the_402_node_network_is_legible_zoomable_and_follows_the_step(lab):
    page, errors, _, _ = lab
    big = page.locator(BIG)
    view = big.locator('.mg-view')
    box = view.bounding_box()
    assert 100 < box['height'] <= 470, box  # a fixed-height view, not 10,777 px
    controls = big.locator('.mg-controls >> nth=0').bounding_box()
    assert controls['y'] < box['y']  # controls on top
    sizes = page.eval_on_selector_all(
        f'{BIG} .mg-view svg text',
        'els => els.filter(e => e.textContent.trim()).slice(0, 50)'
        '.map(e => e.getBoundingClientRect().height)',
    )
    assert min(sizes) >= 12, sizes  # text at least 12 px at the default zoom
    names = page.locator(f'{BIG} .mg-view').text_content()
    assert 'L0.n0.w0' in names and 'L2.n0.b' in names
    big.focus()
    for _ in range(3):
        page.keyboard.press('End')
    page.wait_for_function('document.querySelectorAll(".mg-stepper")[1].dataset.position == "641"')
    hot = page.locator(f'{BIG} g.current[id*="-v"] >> nth=0').bounding_box()  # the node updated
    box = view.bounding_box()  # the page scrolled to the focused widget
    inside = box['x'] <= hot['x'] + hot['width'] / 2 <= box['x'] + box['width']
    assert inside and box['y'] <= hot['y'] + hot['height'] / 2 <= box['y'] + box['height']
    width = view.locator('svg').bounding_box()['width']
    big.locator('[data-act=zoom-in]').click()
    assert view.get_attribute('data-zoom') == '1.25'
    assert view.locator('svg').bounding_box()['width'] == pytest.approx(1.25 * width, rel=0.01)
    big.locator('[data-act=zoom-1]').click()
    shoot(page, BIG, 'live-stepper-network.png')
    big.locator('[data-act=fit]').click()
    assert float(view.get_attribute('data-zoom')) < 1
    shoot(page, BIG, 'live-stepper-network-fit.png')
    bx = page.locator(BIG_EXPLORER)
    assert 'L0.n0.w0' in page.locator(f'{BIG_EXPLORER} .mg-view').text_content()
    assert bx.locator('.mg-view').bounding_box()['height'] <= 470
    shoot(page, BIG_EXPLORER, 'live-explorer-network.png')
    assert errors == []


def test_the_collapsed_network_is_a_box_per_neuron_and_steps_between_them(lab):
    page, errors, _, _ = lab
    page.wait_for_selector(f'{COLLAPSED}[data-ready="1"]', timeout=60_000)
    st = page.locator(COLLAPSED)
    view = st.locator('.mg-view')
    assert 100 < view.bounding_box()['height'] <= 470
    assert st.locator('input[type=range]').get_attribute('max') == '641'  # all 642 steps
    texts = page.eval_on_selector_all(
        f'{COLLAPSED} .mg-view svg text', 'els => els.map(e => e.textContent)'
    )
    boxes = [t for t in texts if t.endswith('parameters')]
    assert len(boxes) == 33 and 'L1.n15' in texts and 'L2.n0' in texts
    assert not any(t.startswith('L0.n0.w') for t in texts)  # folded into the box
    sizes = page.eval_on_selector_all(
        f'{COLLAPSED} .mg-view svg text',
        'els => els.filter(e => e.textContent.trim()).map(e => e.getBoundingClientRect().height)',
    )
    assert min(sizes) >= 12, sizes
    st.focus()
    page.keyboard.press('Home')
    for _ in range(20):  # step 20: the gradient from L2.n0 into a neuron of layer 1
        page.keyboard.press('ArrowRight')
    page.wait_for_function('document.querySelectorAll(".mg-stepper")[2].dataset.position == "20"')
    hot = highlighted(page, COLLAPSED)
    assert len(hot) == 3 and hot[0].startswith('e') and 'v401' in hot, hot
    chain = page.inner_text(f'{COLLAPSED} .mg-chain')
    assert chain.startswith('L1.n') and '.grad += dL2.n0/dL1.n' in chain, chain
    assert 'rounded box: a neuron' in page.inner_text(f'{COLLAPSED} .mg-legend')
    shoot(page, COLLAPSED, 'live-stepper-collapsed.png')
    page.keyboard.press('End')  # the last step, inside L0.n0: its box is coloured
    page.wait_for_function('document.querySelectorAll(".mg-stepper")[2].dataset.position == "641"')
    hot = highlighted(page, COLLAPSED)
    assert len(hot) == 1 and hot[0].startswith('v')
    chain = page.inner_text(f'{COLLAPSED} .mg-chain')
    assert chain.startswith('L0.n0.')
    # the button draws every node again, at the same step; and the boxes back
    st.locator('[data-act=collapse]').click()
    count_nodes = (
        'document.querySelectorAll(".mg-stepper")[2].querySelectorAll(".mg-view g.node").length'
    )
    page.wait_for_function(f'{count_nodes} > 402')  # 402 Values and their op ovals
    st = page.locator(COLLAPSED)
    assert st.get_attribute('data-position') == '641'
    assert page.inner_text(f'{COLLAPSED} .mg-chain') == chain
    assert 'L0.n0.w0' in page.locator(f'{COLLAPSED} .mg-view').text_content()
    assert st.locator('[data-act=collapse]').inner_text() == 'neurons as boxes'
    st.locator('[data-act=collapse]').click()
    page.wait_for_function(f'{count_nodes} == 33')
    assert page.locator(COLLAPSED).get_attribute('data-position') == '641'
    assert errors == []


def snapshot(page) -> tuple[str, str]:
    image = page.eval_on_selector('.mg-playground .mg-boundary', 'c => c.toDataURL()')
    return image, page.inner_text('.mg-playground .mg-status')


def test_playground_changes_while_playing_and_stops_when_paused(lab):
    page, errors, requests, base = lab
    pg = page.locator(PLAYGROUND)
    start = snapshot(page)
    pg.locator('[data-act=play]').click()
    page.wait_for_selector('.mg-playground[data-running="1"]')
    frame = int(pg.get_attribute('data-frame'))
    page.wait_for_function(
        f'document.querySelector(".mg-playground").dataset.frame > {frame + 3}', timeout=20_000
    )
    a = snapshot(page)
    time.sleep(0.6)
    b = snapshot(page)
    assert a[0] != start[0] and b[0] != a[0], 'the boundary image does not change while playing'
    assert b[1] != a[1], 'the loss text does not change while playing'
    pg.locator('.mg-neuron >> nth=0').hover()  # its output map, enlarged
    page.wait_for_timeout(200)
    shoot(page, PLAYGROUND, 'live-playground-hover.png')
    page.mouse.move(0, 0)
    pg.locator('[data-act=play]').click()  # pause
    page.wait_for_selector('.mg-playground[data-running="0"]')
    end = time.monotonic() + 10  # frames already on their way may still arrive (2 busy cores)
    c = snapshot(page)
    while True:
        time.sleep(1.0)
        d = snapshot(page)
        if c == d or time.monotonic() > end:
            break
        c = d
    assert c == d, 'the playground still changes after pause'
    loss = float(d[1].split('loss train ')[1].split()[0])
    first = float(start[1].split('loss train ')[1].split()[0])
    assert loss < first
    shoot(page, PLAYGROUND, 'live-playground.png')
    # Enter in the hidden-layers field applies it; the + button adds a layer
    field = pg.locator('[data-setting=hidden]')
    field.fill('3, 2')
    field.press('Enter')
    page.wait_for_function('document.querySelectorAll(".mg-playground .mg-neuron").length == 5')
    pg.locator('[data-act=layer-plus]').click()
    page.wait_for_function('document.querySelectorAll(".mg-playground .mg-neuron").length == 7')
    assert errors == []
    local = [u for u in requests if not u.startswith((base, 'data:', 'blob:'))]
    assert local == [], f'the page fetched from outside the server: {local[:5]}'


def test_after_a_kernel_restart_the_widgets_say_so_and_do_not_claim_to_play(lab):
    page, errors, _, _ = lab  # the last test: the kernel is restarted
    page.evaluate('window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()')
    t = time.monotonic()
    page.wait_for_selector(f'{EXPLORER}[data-lost="1"]', timeout=15_000)
    page.wait_for_selector('.mg-playground[data-lost="1"]', timeout=5_000)
    took = time.monotonic() - t
    assert took < 8, took
    assert 'run this cell again' in page.inner_text(f'{EXPLORER} .mg-lost')
    play = page.locator('.mg-playground [data-act=play]')
    play.click(force=True)
    assert play.is_disabled() and 'play' in play.inner_text() and 'pause' not in play.inner_text()
    assert page.locator('.mg-playground').get_attribute('data-running') == '0'
    shoot(page, PLAYGROUND, 'live-playground-restarted.png')
