"""The Playground as a browser sees it: painted frames a second, bytes a second over the
websocket, and the longest gaps, in JupyterLab driven by headless Chromium.

    python benchmarks/live_browser.py                    # this tree and commit 8307587
    python benchmarks/live_browser.py --against REV      # another commit to compare with
    python benchmarks/live_browser.py --seconds 8

For each tree (this one, and REV unpacked with ``git archive`` into a temporary folder),
JupyterLab starts on 127.0.0.1 with a token and the tree on PYTHONPATH; a notebook makes
``Playground(**settings)``; the play button is pressed and, for ``--seconds``:
- painted fps: how often the widget's ``data-frame`` changes (each change is a paint);
- kB/s: the bytes the kernel sends to the widget (JSON state and binary buffers, counted
  at the widget's comm; the websocket adds a small header per message);
- longest paint gap: the most time between two paints;
- longest freeze: the most time between two animation frames (the page not answering).
Goal (issue 24): the default paints >= 10 fps, < 200 kB/s, no paint gap > 250 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tests'))  # the browser tests' Chromium: its path and flags

from browser import ARGS, chromium_path  # noqa: E402

CASES = {
    'default: Playground()': {},
    'moons 2-16-16-1, batch 32': {'hidden': [16, 16], 'batch_size': 32},
    'fps=30, resolution=80': {'hidden': [16, 16], 'batch_size': 32, 'fps': 30, 'resolution': 80},
}

# what the kernel sends to the widget: JSON state and binary buffers, with the time
COUNT = """import json, time
from microgrid.live import Playground
pg = Playground(**{settings!r})
_sent, _send = [], pg.comm.send
def _count(data=None, metadata=None, buffers=None):
    size = len(json.dumps(data, default=str))
    size += sum(getattr(b, 'nbytes', None) or len(b) for b in buffers or [])
    _sent.append((time.time(), size))
    return _send(data=data, metadata=metadata, buffers=buffers)
pg.comm.send = _count
pg"""
READ = """async () => {
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const f = k.requestExecute({ code: 'print(json.dumps(_sent))' });
  let out = '';
  f.onIOPub = (m) => { if (m.header.msg_type === 'stream') out += m.content.text; };
  await f.done;
  return out;
}"""
WATCH = """() => {
  const w = window.__mg = { paints: [], rafs: 0, freeze: 0, bytes: 0 };
  const root = document.querySelector('.mg-playground');
  new MutationObserver(() => w.paints.push(performance.now()))
    .observe(root, { attributes: true, attributeFilter: ['data-frame'] });
  let last = performance.now();
  const tick = (t) => {
    w.freeze = Math.max(w.freeze, t - last);
    last = t;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def notebook(settings: dict) -> dict:
    code = COUNT.format(settings=settings)
    cell = {
        'cell_type': 'code',
        'execution_count': None,
        'metadata': {},
        'outputs': [],
        'source': code,
    }
    spec = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    return {'cells': [cell], 'metadata': {'kernelspec': spec}, 'nbformat': 4, 'nbformat_minor': 5}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def measure(tree: Path, settings: dict, seconds: float) -> dict:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix='mg-bench-'))
    (work / 'nb').mkdir()
    (work / 'nb' / 'bench.ipynb').write_text(json.dumps(notebook(settings)))
    config = work / 'config'
    config.mkdir()
    (config / 'jupyter_server_config.json').write_text(
        json.dumps(
            {
                'LabApp': {
                    'news_url': None,
                    'expose_app_in_browser': True,
                    'check_for_updates_class': 'jupyterlab.NeverCheckForUpdate',
                }
            }
        )
    )
    env = {
        **os.environ,
        'JUPYTER_CONFIG_DIR': str(config),
        'PYTHONPATH': str(tree),
        'JUPYTER_DATA_DIR': str(work / 'data'),
        'JUPYTER_RUNTIME_DIR': str(work / 'rt'),
    }
    port, token = free_port(), os.urandom(16).hex()
    proc = subprocess.Popen(
        [
            sys.executable,
            '-m',
            'jupyter',
            'lab',
            '--no-browser',
            '--ServerApp.ip=127.0.0.1',
            f'--ServerApp.port={port}',
            f'--IdentityProvider.token={token}',
            f'--ServerApp.root_dir={work / "nb"}',
            f'--LabApp.workspaces_dir={work / "ws"}',
            *(['--allow-root'] if os.geteuid() == 0 else []),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f'http://127.0.0.1:{port}'
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f'{base}/api/status?token={token}', timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=ARGS)
            try:
                page = browser.new_page(viewport={'width': 1400, 'height': 1000})
                page.goto(f'{base}/lab/tree/bench.ipynb?token={token}')
                page.wait_for_function(
                    '() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;'
                    ' const k = w && w.sessionContext && w.sessionContext.session'
                    ' && w.sessionContext.session.kernel; return k && k.status === "idle"; }',
                    timeout=90_000,
                )
                page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
                page.wait_for_selector('.mg-playground', timeout=90_000)
                time.sleep(1.0)
                page.evaluate(WATCH)
                page.locator('.mg-playground [data-act=play]').click()
                time.sleep(1.0)  # warm up
                page.evaluate('() => { window.__mg.paints = []; window.__mg.freeze = 0; }')
                t0 = time.time()
                time.sleep(seconds)
                t1 = time.time()
                dt = t1 - t0
                w = page.evaluate('() => window.__mg')
                page.locator('.mg-playground [data-act=play]').click()
                sent = json.loads(page.evaluate(READ))
                sent_bytes = sum(n for t, n in sent if t0 <= t <= t1)
                paints = w['paints']
                gaps = [b - a for a, b in zip(paints, paints[1:])]
                return {
                    'fps': len(paints) / dt,
                    'kBps': sent_bytes / dt / 1000,
                    'gap': max(gaps) if gaps else float('inf'),
                    'freeze': w['freeze'],
                }
            finally:
                browser.close()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


def unpack(rev: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix='mg-rev-'))
    archive = subprocess.run(
        ['git', '-C', str(ROOT), 'archive', rev, 'microgrid'], capture_output=True, check=True
    ).stdout
    subprocess.run(['tar', '-x', '-C', str(folder)], input=archive, check=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--against', default='8307587')
    parser.add_argument('--seconds', type=float, default=8.0)
    args = parser.parse_args()
    old = unpack(args.against)
    try:
        load = os.getloadavg()
        print(
            f'date: {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, {os.cpu_count()} '
            f'cores, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}'
        )
        print('| case | tree | painted fps | kB/s | longest paint gap (ms) | longest freeze (ms) |')
        print('|---|---|---:|---:|---:|---:|')
        for name, settings in CASES.items():
            for label, tree in (('before ' + args.against, old), ('this tree', ROOT)):
                r = measure(tree, settings, args.seconds)
                print(
                    f"| {name} | {label} | {r['fps']:.1f} | {r['kBps']:.0f} | "
                    f"{r['gap']:.0f} | {r['freeze']:.0f} |",
                    flush=True,
                )
    finally:
        shutil.rmtree(old, ignore_errors=True)


if __name__ == '__main__':
    main()
