"""The JupyterLite course (``make lite``) in headless Chromium with no network.

The built site (build/lite-site/) is served on 127.0.0.1 under a random path; Chromium
(Debian's, through playwright) resolves no other host (``--host-resolver-rules``), and every
request of the browser context, the Pyodide kernel's worker included, is recorded. Lessons 1
to 4 run cell by cell in the Pyodide kernel, and each code cell's output is compared with
the same lesson run by CPython (ipykernel, here): the same text, no error, and a picture
where CPython shows one, except matplotlib's, which in the browser comes from Pyodide's CDN:
there the cell shows its one-line offline notice. A Stepper of lesson 4 moves on next.

Never skipped: without the site or Chromium it fails, saying what to run or install.
"""

from __future__ import annotations

import functools
import http.server
import json
import math
import os
import re
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser import OFFLINE_ARGS, chromium_path

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / 'build' / 'lite-site'
NOTEBOOKS = ROOT / 'notebooks'
TIMES = ROOT / 'build' / 'lite-times.json'
LESSONS = ['01_', '02_', '03_', '04_']
CDN = 'https://cdn.jsdelivr.net/pyodide/'
PICTURES = ('image/png', 'image/svg+xml', 'image/gif')
WIDGET = 'application/vnd.jupyter.widget-view+json'

pytestmark = pytest.mark.slow


def lesson(prefix: str) -> Path:
    (path,) = NOTEBOOKS.glob(f'{prefix}*.ipynb')
    return path


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        '.wasm': 'application/wasm',
        '.mjs': 'text/javascript',
        '.js': 'text/javascript',
        '.json': 'application/json',
    }

    def __init__(self, *args, token: str, **kwargs):
        self.token = token
        super().__init__(*args, directory=str(SITE), **kwargs)

    def translate_path(self, path: str) -> str:
        prefix = f'/{self.token}/'
        if not path.startswith(prefix):
            return str(SITE / 'no-such-file')  # anything without the token: 404
        return super().translate_path('/' + path[len(prefix) :])

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope='module')
def server():
    if not (SITE / 'index.html').exists():
        pytest.fail('no JupyterLite site in build/lite-site: run `make lite` first')
    token = secrets.token_hex(8)
    httpd = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(Handler, token=token)
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{httpd.server_address[1]}/{token}'
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope='module')
def browser_context(server):
    from playwright.sync_api import sync_playwright

    requests: list[tuple[str, str]] = []  # (url, 'ok' | 'failed' | 'sent')
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=OFFLINE_ARGS)
        try:
            context = browser.new_context(viewport={'width': 1400, 'height': 1000})
            sent: dict[int, int] = {}

            def on_request(r):
                sent[id(r)] = len(requests)
                requests.append((r.url, 'sent'))

            def settle(r, state):
                index = sent.get(id(r))
                if index is not None:
                    requests[index] = (r.url, state)

            context.on('request', on_request)
            context.on('requestfinished', lambda r: settle(r, 'ok'))
            context.on('requestfailed', lambda r: settle(r, 'failed'))
            yield context, requests
            context.close()
        finally:
            browser.close()


# --- CPython: the same lessons, for the expected outputs ---------------------------------


@functools.cache
def cpython_run(prefix: str) -> tuple[list[dict], float]:
    """(code cells, seconds to run them) of a lesson executed by ipykernel here."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(lesson(prefix), as_version=4)
    # as lite/build.py ships it: without the course's regression checks (tagged check)
    nb.cells = [c for c in nb.cells if 'check' not in c.metadata.get('tags', [])]
    env = os.environ.copy()
    os.environ['MPLBACKEND'] = 'module://matplotlib_inline.backend_inline'
    os.environ['PYTHONPATH'] = os.pathsep.join(filter(None, [str(ROOT), env.get('PYTHONPATH')]))
    try:
        client = NotebookClient(nb, timeout=300, kernel_name='python3',
                                resources={'metadata': {'path': str(NOTEBOOKS)}})  # fmt: skip
        with client.setup_kernel():
            start = time.perf_counter()
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            took = time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(env)
    return [c for c in nb.cells if c.cell_type == 'code'], took


def text_of(outputs: list[dict], stream: str = 'stdout') -> str:
    parts = []
    for out in outputs:
        if out.get('output_type') == 'stream' and out.get('name') == stream:
            parts.append(''.join(out['text']))
        elif out.get('output_type') == 'execute_result':
            data = out.get('data', {})
            if not any(k in data for k in (*PICTURES, WIDGET)):
                parts.append(''.join(data.get('text/plain', '')) + '\n')
    return re.sub(r' at 0x[0-9a-f]+', ' at 0x...', ''.join(parts))


NUMBER = re.compile(r'[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?')


def same_text(got: str, want: str) -> bool:
    """Equal, but numbers within 1e-9 (relative): Pyodide's libm (musl, wasm) and CPython's
    here (glibc) may round tanh or exp differently in the last place. A size in KiB of a
    drawing is within 10%: the browser's Graphviz is Viz.js, not graphviz-pure."""
    got_parts, want_parts = NUMBER.split(got), NUMBER.split(want)
    if got_parts != want_parts:
        return False
    for i, (a, b) in enumerate(zip(NUMBER.findall(got), NUMBER.findall(want))):
        rel = 0.1 if got_parts[i + 1].startswith(' KiB') else 1e-9
        if a != b and not math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-12):
            return False
    return True


def kinds(outputs: list[dict]) -> set[str]:
    found = set()
    for out in outputs:
        found |= set(out.get('data', {})) & {*PICTURES, WIDGET}
        if out.get('output_type') == 'error':
            found.add('error')
    return found


# --- the browser ---------------------------------------------------------------------------

NOTEBOOK_STATE = """() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.model || !panel.sessionContext) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = [];
  const model = panel.content.model;
  for (let i = 0; i < model.cells.length; i++) {
    const c = model.cells.get(i);
    if (c.type !== 'code') continue;
    cells.push({count: c.executionCount, outputs: c.outputs.toJSON()});
  }
  return {kernel: kernel ? kernel.status : null, busy: panel.sessionContext.kernelDisplayStatus,
          cells};
}"""


def wait_for(page, check, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        state = page.evaluate(NOTEBOOK_STATE)
        if state is not None and check(state):
            return state
        page.wait_for_timeout(200)
    pytest.fail(f'timed out after {timeout:.0f} s waiting for {what}: {state}')


def run_in_browser(context, base: str, prefix: str):
    """Open a lesson in JupyterLab, run every cell; return (page, cells, timings)."""
    page = context.new_page()
    try:
        return run_all(page, base, prefix)
    except BaseException:
        page.close()
        raise


def run_all(page, base: str, prefix: str):
    start = time.perf_counter()
    page.goto(f'{base}/lab/index.html?path={lesson(prefix).name}')
    wait_for(page, lambda s: s['kernel'] == 'idle', 240, 'the Pyodide kernel to start')
    ready = time.perf_counter()
    n = len(page.evaluate(NOTEBOOK_STATE)['cells'])
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    first = None
    end = time.monotonic() + 300
    while time.monotonic() < end:
        state = page.evaluate(NOTEBOOK_STATE)
        counts = [c['count'] for c in state['cells']]
        if first is None and counts and counts[0] is not None:
            first = time.perf_counter()
        errors = [c for c in state['cells'] if 'error' in kinds(c['outputs'])]
        if (all(c is not None for c in counts) or errors) and state['kernel'] == 'idle':
            break
        page.wait_for_timeout(100)
    done = time.perf_counter()
    times = {'kernel_ready_s': ready - start, 'first_cell_s': (first or done) - start,
             'run_all_s': done - ready, 'cells': n}  # fmt: skip
    return page, state['cells'], times


def record(prefix: str, times: dict) -> None:
    TIMES.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(TIMES.read_text()) if TIMES.exists() else {}
    data[prefix] = times
    TIMES.write_text(json.dumps(data, indent=2))


@pytest.mark.parametrize('prefix', LESSONS)
def test_lesson_runs_offline_in_the_browser(browser_context, server, prefix):
    context, requests = browser_context
    page, cells, times = run_in_browser(context, server, prefix)
    try:
        check_lesson(page, cells, times, prefix)
    finally:
        page.close()
    check_requests(requests, server)


def check_lesson(page, cells, times, prefix):
    expected, cpython_s = cpython_run(prefix)
    times['cpython_run_s'] = cpython_s
    record(prefix, times)
    assert len(cells) == len(expected)
    notices = 0
    for i, (got, want) in enumerate(zip(cells, expected)):
        where = f'{lesson(prefix).name}, code cell {i}:\n{"".join(want.source)[:300]}'
        got_text, want_text = text_of(got['outputs']), text_of(want.outputs)
        assert 'error' not in kinds(got['outputs']), f'{where}\nerror: {got["outputs"]}'
        assert got['count'] is not None, f'{where}\nnot run'
        # nothing on stderr that CPython does not show (no warning, no loader message)
        got_err, want_err = text_of(got['outputs'], 'stderr'), text_of(want.outputs, 'stderr')
        assert same_text(got_err, want_err), f'{where}\nstderr: {got_err!r}'
        notice = re.search(r'^\[needs network\] This cell needs (\w+).*\n', got_text, flags=re.M)
        if notice:
            notices += 1
            # the notice, after what the cell printed before it needed the module
            assert got_text.endswith(notice.group(0)), where
            assert want_text.startswith(got_text[: notice.start()]), where
            assert notice.group(1) in ('matplotlib', 'numpy'), where
            assert 'image/png' in kinds(want.outputs) or 'plt' in ''.join(want.source), where
            continue
        assert same_text(got_text, want_text), f'{where}\n{got_text!r}\n!=\n{want_text!r}'
        # the same drawings (SVG, from Viz.js) and widgets; a matplotlib picture only with
        # its notice (above)
        assert kinds(want.outputs) <= kinds(got['outputs']), f'{where}\n{got["outputs"]}'
    if prefix == '01_':
        assert notices >= 1  # lesson 1 plots: its cells say so, one line each
    if prefix == '04_':
        stepper = page.locator('.mg-stepper').first
        stepper.wait_for(timeout=30_000)
        before = stepper.get_attribute('data-position')
        stepper.locator('[data-act=next]').click()
        page.wait_for_selector('.mg-stepper[data-position="1"]', timeout=10_000)
        assert before == '0'


def check_requests(requests, server):
    # Nothing was fetched from another host: the only attempts are Pyodide's CDN, for
    # numpy or matplotlib, and they never got an answer.
    host = urlsplit(server).netloc
    for url, state in requests:
        parts = urlsplit(url)
        if parts.scheme in ('data', 'blob') or parts.netloc == host:
            continue
        assert url.startswith(CDN) and state != 'ok', f'a request left 127.0.0.1: {url} ({state})'
