"""Build the course as a static JupyterLite site that runs offline: ``make lite``.

The site (build/lite-site/) holds every lesson and its solutions, microgrid's own wheel built
from this checkout, and the widgets' front-end; the Python kernel is Pyodide, which runs in
the browser tab. Publishing it is copying that folder to any web server (or opening it from
127.0.0.1); see docs/lite.md.

What it downloads (once; cached in .registry-cache/, so a second build takes seconds):

- the Pyodide core from npm (``npm pack pyodide@PYODIDE``): the wasm, the standard library
  and the lock file; it carries no package wheels;
- from PyPI, with pip: the pure-Python wheels the kernel loads at start (micropip, IPython,
  jedi and their dependencies, at the versions Pyodide's lock names), comm, and the widgets'
  wheels (anywidget, ipywidgets, psygnal, ...) at the versions in EXTRA_WHEELS.

The lock file is rewritten: an entry with a wheel here gets that wheel's sha256 (PyPI's
wheels are not byte-identical to Pyodide's copies, and a wrong hash stops the kernel); every
other entry (numpy, matplotlib, ...) points at Pyodide's CDN, so those packages load when the
browser is online, and a cell that needs one prints one line when it is not (lite/kernel/).

Usage: python lite/build.py [--force]
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / '.registry-cache'
STAGE = ROOT / 'build' / 'lite'
OUT = ROOT / 'build' / 'lite-site'
NOTEBOOKS = ROOT / 'notebooks'
KERNEL_SRC = Path(__file__).resolve().parent / 'kernel'

# jupyterlite-pyodide-kernel 0.8.6 expects this Pyodide; the two must match.
PYODIDE = '314.0.6'
CDN = f'https://cdn.jsdelivr.net/pyodide/v{PYODIDE}/full/'
CORE_FILES = ['pyodide.mjs', 'pyodide.asm.mjs', 'pyodide.asm.wasm', 'python_stdlib.zip']
VIZ = '3.31.0'
# The kernel loads these (and what they depend on in the lock) before the first cell.
KERNEL_NEEDS = ['micropip', 'ipython', 'jedi']

# Pure-Python wheels from PyPI that Pyodide's lock does not have (or has at another version):
# (distribution, version, import names). comm is needed for the kernel to start at all.
EXTRA_WHEELS = [
    ('comm', '0.2.3', ['comm']),
    ('anywidget', '0.11.0', ['anywidget']),
    ('ipywidgets', '8.1.9', ['ipywidgets']),
    ('psygnal', '0.16.1', ['psygnal']),
    ('typing-extensions', '4.16.0', ['typing_extensions']),
    ('jupyterlab-widgets', '3.0.17', ['jupyterlab_widgets']),
    ('graphviz', '0.21', ['graphviz']),
    ('tqdm', '4.70.1', ['tqdm']),
]
PIP_DOWNLOAD = [
    '-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:',
    '--python-version', '3.14', '--implementation', 'py', '--abi', 'none', '--platform', 'any',
]  # fmt: skip
LITE_KERNEL = 'microgrid-lite'  # the kernel-side start-up (lite/kernel/), built here
SITE_PACKAGES = '/lib/python3.14/site-packages'


def log(message: str) -> None:
    print(f'lite: {message}', flush=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def canonical(name: str) -> str:
    return name.lower().replace('_', '-').replace('.', '-')


# --- downloads (cached) ---------------------------------------------------------------


def pyodide_core() -> Path:
    """The npm package's folder (package/), unpacked in the cache."""
    tgz = CACHE / f'pyodide-{PYODIDE}.tgz'
    if not tgz.exists():
        log(f'npm pack pyodide@{PYODIDE}')
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(['npm', 'pack', '--silent', f'pyodide@{PYODIDE}'], cwd=CACHE, check=True)
    unpacked = CACHE / f'pyodide-{PYODIDE}'
    if not (unpacked / 'package' / 'pyodide-lock.json').exists():
        with tarfile.open(tgz) as tar:
            tar.extractall(unpacked, filter='data')
    return unpacked / 'package'


def viz_js() -> Path:
    """Viz.js (Graphviz in WebAssembly, one ES module) from npm: the browser's ``dot``."""
    tgz = CACHE / f'viz-js-viz-{VIZ}.tgz'
    if not tgz.exists():
        log(f'npm pack @viz-js/viz@{VIZ}')
        subprocess.run(['npm', 'pack', '--silent', f'@viz-js/viz@{VIZ}'], cwd=CACHE, check=True)
    target = CACHE / f'viz-{VIZ}.js'
    if not target.exists():
        with tarfile.open(tgz) as tar:
            member = tar.extractfile('package/dist/viz.js')
            assert member is not None
            target.write_bytes(member.read())
    return target


def closure(packages: dict, names: list[str]) -> list[str]:
    """names and everything they depend on in the lock."""
    key = {canonical(n): n for n in packages}  # depends spell prompt_toolkit, the key -
    seen: list[str] = []
    todo = list(names)
    while todo:
        name = key[canonical(todo.pop())]
        if name not in seen:
            seen.append(name)
            todo += packages[name]['depends']
    return sorted(seen)


def pip_download(specs: list[str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    log(f'pip download {" ".join(specs)}')
    subprocess.run([sys.executable, *PIP_DOWNLOAD, '-d', str(folder), *specs], check=True)


def wheel_for(folder: Path, name: str, version: str) -> Path | None:
    for path in folder.glob('*.whl'):
        dist, ver = path.name.split('-')[:2]
        if canonical(dist) == canonical(name) and ver == version:
            return path
    return None


def lock_wheels(lock: dict) -> list[Path]:
    """The lock's wheels the kernel needs at start, from PyPI, named as the lock names them."""
    packages = lock['packages']
    names = closure(packages, KERNEL_NEEDS)
    folder = CACHE / 'lock-wheels'
    wanted = {packages[n]['file_name']: f"{n}=={packages[n]['version']}" for n in names}
    missing = [spec for file, spec in wanted.items() if not (folder / file).exists()]
    if missing:
        pip_download(missing, folder)
    for file in wanted:
        if not (folder / file).exists():
            raise SystemExit(f'lite: pip did not give {file}, the file the Pyodide lock names')
    return [folder / file for file in wanted]


def extra_wheels() -> list[tuple[Path, list[str]]]:
    folder = CACHE / 'extra-wheels'
    missing = [f'{n}=={v}' for n, v, _ in EXTRA_WHEELS if wheel_for(folder, n, v) is None]
    if missing:
        pip_download(missing, folder)
    found = []
    for name, version, imports in EXTRA_WHEELS:
        path = wheel_for(folder, name, version)
        if path is None:
            raise SystemExit(f'lite: pip did not download {name}=={version}')
        found.append((path, imports))
    return found


def microgrid_wheel() -> Path:
    """microgrid's wheel, built from this checkout (never cached: it is the thing taught)."""
    folder = STAGE.parent / 'lite-wheel'
    shutil.rmtree(folder, ignore_errors=True)
    log('building microgrid-autodiff wheel from the checkout')
    pip = [sys.executable, '-m', 'pip', 'wheel', '--quiet', '--no-deps']
    subprocess.run([*pip, '-w', str(folder), str(ROOT)], check=True)
    (wheel,) = folder.glob('microgrid_autodiff-*.whl')
    return wheel


def kernel_wheel(folder: Path) -> Path:
    """The start-up wheel: lite/kernel/ as the package microgrid_lite, with an IPython
    profile whose start-up file installs it (the kernel sets IPYTHONDIR to that profile)."""
    version = '1.0'
    wheel = folder / f'microgrid_lite-{version}-py3-none-any.whl'
    dist_info = f'microgrid_lite-{version}.dist-info'
    files = {
        'microgrid_lite/__init__.py': (KERNEL_SRC / 'microgrid_lite.py').read_bytes(),
        'microgrid_lite/ipython/profile_default/startup/00-microgrid.py': (
            b'import microgrid_lite\n\nmicrogrid_lite.install()\n'
        ),
        f'{dist_info}/METADATA': (
            f'Metadata-Version: 2.1\nName: {LITE_KERNEL}\nVersion: {version}\n'
            'Summary: microgrid course start-up for the JupyterLite kernel\n'
        ).encode(),
        f'{dist_info}/WHEEL': (
            b'Wheel-Version: 1.0\nGenerator: microgrid lite/build.py\nRoot-Is-Purelib: true\n'
            b'Tag: py3-none-any\n'
        ),
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
        record.append(f'{name},sha256={digest},{len(data)}')
    record.append(f'{dist_info}/RECORD,,')
    files[f'{dist_info}/RECORD'] = ('\n'.join(record) + '\n').encode()
    with zipfile.ZipFile(wheel, 'w', zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            zf.writestr(info, data, zipfile.ZIP_DEFLATED)
    return wheel


# --- the lock ---------------------------------------------------------------------------


def lock_entry(wheel: Path, name: str, version: str, imports: list[str]) -> dict:
    return {
        'name': name,
        'version': version,
        'file_name': wheel.name,
        'install_dir': 'site',
        'sha256': sha256(wheel),
        'package_type': 'package',
        'imports': imports,
        'depends': [],
        'unvendored_tests': False,
    }


def edited_lock(lock: dict, local: dict[str, Path], added: dict[str, dict]) -> dict:
    """The lock with every local wheel's own sha256; the rest point at Pyodide's CDN.

    ``local`` maps lock names to the wheels beside the lock; ``added`` are new entries
    (the extra wheels and microgrid's), which replace the lock's entry of the same name.
    """
    packages = {}
    for name, entry in lock['packages'].items():
        entry = dict(entry)
        if name in added:
            continue
        if name in local:
            entry['sha256'] = sha256(local[name])
        else:  # numpy, matplotlib, ...: from the CDN when online (their sha256 is right)
            entry['file_name'] = CDN + entry['file_name']
        packages[name] = entry
    packages.update(added)
    bundled = {canonical(n) for n in [*local, *added]}
    for name in local:
        for dep in packages[name]['depends']:
            if canonical(dep) not in bundled:
                raise SystemExit(f'lite: {name} needs {dep}, which is not bundled')
    return {'info': lock['info'], 'packages': dict(sorted(packages.items()))}


# --- the site -------------------------------------------------------------------------------


def lessons() -> list[Path]:
    return sorted(NOTEBOOKS.glob('[0-9][0-9]_*.ipynb'))


def lesson_title(path: Path) -> str:
    for cell in json.loads(path.read_text(encoding='utf-8')).get('cells', []):
        if cell.get('cell_type') == 'markdown':
            for line in ''.join(cell.get('source', '')).splitlines():
                if line.startswith('# '):
                    return line[2:].strip()
    return path.stem.replace('_', ' ')


OFFLINE_TEXT = (
    'Works with no network: the engine, every lesson cell that computes, the exercise '
    'checks, the graph drawings (Graphviz runs in the page, as Viz.js) and the live Stepper '
    'and Explorer. Needs a network: cells that plot with matplotlib or use numpy, and the '
    "Playground (it draws with numpy). In the browser those come from Pyodide's CDN; with "
    'no network such a cell prints one line saying so, and the rest of the lesson runs.'
)


def student_copy(path: Path) -> str:
    """The lesson as a student gets it: without the cells tagged check (the course's own
    regression checks, for the tests; the docs site leaves them out too)."""
    nb = json.loads(path.read_text(encoding='utf-8'))
    nb['cells'] = [c for c in nb['cells'] if 'check' not in c.get('metadata', {}).get('tags', [])]
    return json.dumps(nb, indent=1, ensure_ascii=False) + '\n'


def landing_page(titles: list[tuple[str, str]]) -> str:
    items = '\n'.join(
        f'<li><a href="lab/index.html?path={html.escape(name)}">{html.escape(title)}</a></li>'
        for name, title in titles
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>microgrid: the course in your browser</title>
<!-- JupyterLite's pages read the root's configuration from this element (no redirect here) -->
<script id="jupyter-config-data" type="application/json" data-jupyter-lite-root=".">{{}}</script>
<style>body{{font-family:system-ui,sans-serif;max-width:46em;margin:2em auto;padding:0 1em;
line-height:1.5}}li{{margin:.2em 0}}</style></head>
<body>
<h1>microgrid: the course in your browser</h1>
<p>Each lesson opens in JupyterLab, running in this tab: Python is Pyodide (WebAssembly), and
nothing is installed on your computer. All you need is a modern browser (a recent Chrome,
Edge, Firefox or Safari). The first lesson takes about ten seconds to start.</p>
<h2>The lessons</h2>
<ol>
{items}
</ol>
<p>The <a href="lab/index.html">file browser</a> has every lesson and, in
<code>solutions/</code>, their solutions.</p>
<h2>What works offline</h2>
<p>{html.escape(OFFLINE_TEXT)}</p>
<p>Your edits are kept in this browser only (its local storage); download a notebook to keep
it elsewhere.</p>
</body></html>
"""


def stage(lock_path: Path, core: Path, wheels: list[Path], extras, micro: Path) -> None:
    shutil.rmtree(STAGE, ignore_errors=True)
    static = STAGE / 'static' / 'pyodide'
    static.mkdir(parents=True)
    for name in CORE_FILES:
        shutil.copy2(core / name, static / name)
    shutil.copy2(viz_js(), static / 'viz.js')
    lock = json.loads(lock_path.read_text())
    local = {}
    by_file = {e['file_name']: n for n, e in lock['packages'].items()}
    for wheel in wheels:
        shutil.copy2(wheel, static / wheel.name)
        local[by_file[wheel.name]] = static / wheel.name
    added = {}
    start = []
    for wheel, imports in extras:
        shutil.copy2(wheel, static / wheel.name)
        dist, version = wheel.name.split('-')[:2]
        name = canonical(dist)
        added[name] = lock_entry(static / wheel.name, name, version, imports)
        start.append(name)
    shutil.copy2(micro, static / micro.name)
    version = micro.name.split('-')[1]
    added['microgrid-autodiff'] = lock_entry(static / micro.name, 'microgrid-autodiff', version,
                                             ['microgrid'])  # fmt: skip
    kernel = kernel_wheel(static)
    added[LITE_KERNEL] = lock_entry(kernel, LITE_KERNEL, '1.0', ['microgrid_lite'])
    start += ['microgrid-autodiff', LITE_KERNEL]
    (static / 'pyodide-lock.json').write_text(json.dumps(edited_lock(lock, local, added)))

    files = STAGE / 'files'
    (files / 'solutions').mkdir(parents=True)
    titles = []
    for nb in lessons():
        (files / nb.name).write_text(student_copy(nb), encoding='utf-8')
        titles.append((nb.name, lesson_title(nb)))
    for sol in sorted((NOTEBOOKS / 'solutions').glob('*.py')):
        shutil.copy2(sol, files / 'solutions' / sol.name)
    (files / 'README.md').write_text(
        '# microgrid: the course in your browser\n\nOpen a lesson (01_... to '
        f'{len(titles):02d}_...) and run its cells; the solutions are in `solutions/`.\n\n'
        + OFFLINE_TEXT
        + '\n'
    )
    settings = {
        'disablePyPIFallback': True,
        'loadPyodideOptions': {
            # loaded from the lock before the kernel starts: the kernel then skips piplite
            'packages': ['micropip', *start],
            'env': {'IPYTHONDIR': f'{SITE_PACKAGES}/microgrid_lite/ipython'},
        },
    }
    config = {
        'jupyter-lite-schema-version': 0,
        'jupyter-config-data': {
            'appName': 'microgrid course',
            # window.jupyterapp: lets tests/lite/test_lite_browser.py drive JupyterLab
            'exposeAppInBrowser': True,
            'litePluginSettings': {'@jupyterlite/pyodide-kernel-extension:kernel': settings},
        },
    }
    (STAGE / 'jupyter-lite.json').write_text(json.dumps(config, indent=2))
    build_config = {'LiteBuildConfig': {'contents': [str(files)], 'output_dir': str(OUT)}}
    (STAGE / 'jupyter_lite_config.json').write_text(json.dumps(build_config, indent=2))
    (STAGE / 'landing.html').write_text(landing_page(titles))


def build() -> float:
    start = time.perf_counter()
    core = pyodide_core()
    lock = json.loads((core / 'pyodide-lock.json').read_text())
    wheels = lock_wheels(lock)
    extras = extra_wheels()
    micro = microgrid_wheel()
    stage(core / 'pyodide-lock.json', core, wheels, extras, micro)
    shutil.rmtree(OUT, ignore_errors=True)
    jupyter_lite = Path(sys.executable).parent / 'jupyter-lite'
    log('jupyter lite build')
    subprocess.run(
        [str(jupyter_lite), 'build', '--lite-dir', str(STAGE), '--output-dir', str(OUT)],
        cwd=STAGE, check=True,
    )  # fmt: skip
    shutil.copy2(STAGE / 'landing.html', OUT / 'index.html')
    for source_map in OUT.rglob('*.map'):  # half the size; only a debugger asks for them
        source_map.unlink()
    took = time.perf_counter() - start
    size = sum(p.stat().st_size for p in OUT.rglob('*') if p.is_file())
    count = sum(1 for p in OUT.rglob('*') if p.is_file())
    log(f'built {OUT.relative_to(ROOT)} in {took:.1f} s: {size / 1e6:.1f} MB, {count} files')
    return took


if __name__ == '__main__':
    build()
