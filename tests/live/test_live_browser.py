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

pytestmark = pytest.mark.slow  # make test-fast skips it (pytest -m "not slow")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / 'tests' / 'live' / 'live_widgets.ipynb'
SHOTS = ROOT / 'build' / 'screenshots'
ASSETS = ROOT / 'docs' / 'assets'
ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
        '--disable-background-networking']  # fmt: skip


def chromium_path() -> str:
    for name in ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'):
        found = shutil.which(name)
        if found:
            return found
    if Path('/usr/bin/chromium').exists():
        return '/usr/bin/chromium'
    pytest.fail(
        'the live-widget browser test needs Chromium and none was found: install it '
        '(Debian/Ubuntu: apt-get install chromium, as .ci/run does)'
    )


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


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    chromium = chromium_path()
    from playwright.sync_api import sync_playwright

    work = tmp_path_factory.mktemp('lab')
    (work / 'nb').mkdir()
    shutil.copy(NOTEBOOK, work / 'nb' / NOTEBOOK.name)
    config = work / 'config'
    config.mkdir()
    (config / 'labconfig').mkdir()
    (config / 'labconfig' / 'page_config.json').write_text(
        json.dumps(
            {
                'disabledExtensions': {'@jupyterlab/apputils-extension:announcements': True},
            }
        )
    )  # no 'get notified about news?' toast over the widgets
    (config / 'jupyter_server_config.json').write_text(json.dumps({
        'LabApp': {'news_url': None, 'expose_app_in_browser': True,
                   'extension_manager': 'readonly',
                   'check_for_updates_class': 'jupyterlab.NeverCheckForUpdate'},
    }))  # fmt: skip
    path = os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(config), 'PYTHONPATH': path,
           'JUPYTER_DATA_DIR': str(work / 'data'), 'JUPYTER_RUNTIME_DIR': str(work / 'runtime'),
           'MPLBACKEND': 'Agg'}  # fmt: skip
    port, token = free_port(), os.urandom(16).hex()
    log = work / 'lab.log'
    with open(log, 'wb') as out:
        proc = subprocess.Popen(
            [sys.executable, '-m', 'jupyter', 'lab', '--no-browser', '--ServerApp.ip=127.0.0.1',
             f'--ServerApp.port={port}', '--ServerApp.port_retries=0',
             f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={work / "nb"}',
             f'--LabApp.workspaces_dir={work / "workspaces"}',
             *(['--allow-root'] if os.geteuid() == 0 else [])],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f'http://127.0.0.1:{port}'
    try:
        wait_for_server(f'{base}/api/status?token={token}', proc, log)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
            try:
                page = browser.new_page(viewport={'width': 1400, 'height': 1000})
                errors: list[str] = []
                requests: list[str] = []
                page.on('pageerror', lambda exc: errors.append(str(exc)))
                page.on('request', lambda req: requests.append(req.url))
                page.goto(f'{base}/lab/tree/{NOTEBOOK.name}?token={token}')
                try:
                    page.wait_for_function(KERNEL_IDLE, timeout=60_000)
                    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
                    for kind in ('stepper', 'explorer', 'playground'):
                        page.wait_for_selector(f'.mg-{kind}[data-ready="1"]', timeout=60_000)
                    page.wait_for_selector('.mg-error >> text=microgrid widget error')
                except Exception:
                    SHOTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(SHOTS / 'live-failure.png'))
                    raise
                yield page, errors, requests, base
            finally:
                browser.close()
    finally:
        stop(proc)


KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return k && k.status === 'idle' && document.querySelector('.jp-Notebook .jp-Cell');
}"""


def test_a_javascript_error_is_shown_as_text(lab):
    page, errors, _, _ = lab
    shown = page.inner_text('.mg-error >> text=microgrid widget error')
    assert 'TypeError' in shown or 'null' in shown or 'undefined' in shown, shown
    assert page.locator('.mg-stepper').count() == 1  # the broken one left no half widget


def shoot(page, selector: str, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    page.locator(selector).screenshot(path=str(path))
    if os.environ.get('MICROGRID_UPDATE_ASSETS') == '1':
        ASSETS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, ASSETS / name)


def highlighted(page) -> list[str]:
    ids = page.eval_on_selector_all('.mg-stepper g.current', 'els => els.map(e => e.id)')
    return sorted(i.split('-', 1)[1] for i in ids)


def test_stepper_next_moves_the_highlight_and_the_chain_rule_line(lab):
    page, errors, _, _ = lab
    st = page.locator('.mg-stepper')
    assert st.get_attribute('data-position') == '0'
    chain0, hot0 = page.inner_text('.mg-stepper .mg-chain'), highlighted(page)
    assert chain0.startswith('L.grad = 1.0')
    st.locator('[data-act=next]').click()
    page.wait_for_selector('.mg-stepper[data-position="1"]')
    chain1, hot1 = page.inner_text('.mg-stepper .mg-chain'), highlighted(page)
    assert hot1 != hot0 and any(i.startswith('e') for i in hot1)
    # L = tanh(d) * a: the first edge sends L.grad to one factor
    assert chain1 != chain0 and '+=' in chain1
    st.locator('[data-act=next]').click()
    page.wait_for_selector('.mg-stepper[data-position="2"]')
    assert highlighted(page) != hot1
    n = int(st.locator('input[type=range]').get_attribute('max'))
    st.focus()
    page.keyboard.press('End')
    page.wait_for_selector(f'.mg-stepper[data-position="{n}"]')
    page.keyboard.press('ArrowLeft')
    page.wait_for_selector(f'.mg-stepper[data-position="{n - 1}"]')
    page.keyboard.press('Home')
    page.wait_for_selector('.mg-stepper[data-position="0"]')
    st.locator('[data-act=next]').click()
    st.locator('[data-act=next]').click()
    page.wait_for_selector('.mg-stepper[data-position="2"]')
    shoot(page, '.mg-stepper', 'live-stepper.png')
    assert errors == []


def explorer_grads(page) -> dict[str, float]:
    texts = page.eval_on_selector_all(
        '.mg-explorer .mg-leaf-grad', 'els => els.map(e => e.textContent)'
    )
    return {t.split(' = ')[0].split()[-1]: float(t.split(' = ')[1]) for t in texts}


def test_explorer_slider_changes_the_grads_shown(lab):
    page, errors, _, _ = lab
    ex = page.locator('.mg-explorer')
    before = explorer_grads(page)
    # (a*b + c).tanh() at a=2, b=-3, c=6.5: grads (1 - t^2) * (b, a, 1)
    t = math.tanh(2.0 * -3.0 + 6.5)
    assert before['a'] == pytest.approx((1 - t * t) * -3.0, abs=1e-4)
    svg_before = page.inner_text('.mg-explorer .mg-svg')
    updates = int(ex.get_attribute('data-updates'))
    ex.locator('[data-leaf=a] input[type=range]').fill('1.9')
    page.wait_for_function(
        f'document.querySelector(".mg-explorer").dataset.updates > {updates}', timeout=10_000
    )
    after = explorer_grads(page)
    t = math.tanh(1.9 * -3.0 + 6.5)
    assert after != before
    assert after['b'] == pytest.approx((1 - t * t) * 1.9, abs=1e-4)
    assert after['c'] == pytest.approx(1 - t * t, abs=1e-4)
    assert page.inner_text('.mg-explorer .mg-svg') != svg_before  # the drawing follows
    assert 'change of out' in page.inner_text('.mg-explorer .mg-nudge')
    shoot(page, '.mg-explorer', 'live-explorer.png')
    assert errors == []


def snapshot(page) -> tuple[str, str]:
    image = page.eval_on_selector('.mg-playground .mg-boundary', 'c => c.toDataURL()')
    return image, page.inner_text('.mg-playground .mg-status')


def test_playground_changes_while_playing_and_stops_when_paused(lab):
    page, errors, requests, base = lab
    pg = page.locator('.mg-playground')
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
    shoot(page, '.mg-playground', 'live-playground.png')
    pg.locator('[data-act=play]').click()  # pause
    page.wait_for_selector('.mg-playground[data-running="0"]')
    time.sleep(0.6)
    c = snapshot(page)
    time.sleep(1.0)
    d = snapshot(page)
    assert c == d, 'the playground still changes after pause'
    loss = float(d[1].split('loss train ')[1].split()[0])
    first = float(start[1].split('loss train ')[1].split()[0])
    assert loss < first
    assert errors == []
    local = [u for u in requests if not u.startswith((base, 'data:', 'blob:'))]
    assert local == [], f'the page fetched from outside the server: {local[:5]}'
