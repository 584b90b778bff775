"""MkDocs hooks: the parts of the site that are made from the project at build time.

- **API pages**, one per part of the public layout (``API_PAGES``: Value, autograd, nn,
  pictures, compile, live, the command line, the course), each a mkdocstrings
  ``::: microgrid.<module>`` block per module (the docstrings are the only copy). A new public
  module is one new line in ``API_PAGES``; tests/docs/test_docs.py fails until it is there.
- **The course**: every lesson in ``notebooks/``, rendered by mkdocs-jupyter (not executed
  again) from the executed copy in ``build/executed/<stem>.ipynb`` that the course test
  writes. A copy that is missing or older than its notebook is executed here, once.
- **Code that runs**: a fenced block opened with ```` ```python run ```` is executed when the
  page is built (one namespace per page), and the page shows the code, what it printed, and
  every picture it passed to ``show(...)``: so each picture is made by the build from the code
  beside it. ```` ```python run needs=Value._prev,nn.MLP ```` runs only once those names exist
  in microgrid (for pages written ahead of a feature); otherwise it is shown with a note.
- **Benchmarks** and **Changelog**: BENCHMARKS.md and CHANGELOG.md, rendered as they are.
- **Offline**: MathJax and the search plugin's file:// shim come from the npm registry
  (``npm pack mathjax@MATHJAX``, ``npm pack iframe-worker@IFRAME_WORKER``, cached in
  .registry-cache/) into site/assets/, so the site loads nothing from other hosts.
  Each lesson page links to the lesson in the browser (the JupyterLite site of ``make lite``,
  copied to site/lite/ when it is built).
"""

from __future__ import annotations

import base64
import contextlib
import html
import inspect
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / 'microgrid'
NOTEBOOKS = ROOT / 'notebooks'
EXECUTED = ROOT / 'build' / 'executed'
log = logging.getLogger('mkdocs.hooks.microgrid')
CACHE = ROOT / '.registry-cache'
LITE_SITE = ROOT / 'build' / 'lite-site'
MATHJAX = '3.2.2'
# The offline plugin's search shim (so search works from file://), which it loads from a CDN.
IFRAME_WORKER = '1.0.4'
SHIM_CDN = 'https://unpkg.com/iframe-worker/shim'
# What the pages use of MathJax's package: the TeX-to-HTML bundle, the TeX extensions it
# loads on demand, and its fonts.
MATHJAX_PARTS = ('es5/tex-mml-chtml.js', 'es5/input/tex/extensions/', 'es5/output/chtml/fonts/')

# The API reference follows what users call, not the files: one page per part of the public
# layout, each with its modules in reading order as (section title, module). A module that
# does not exist (yet) is left out, so the old and the new place of a module that is moving
# can both be listed. tests/docs/test_docs.py fails when a public module is on no page.
API_PAGES: list[tuple[str, list[tuple[str, str]]]] = [
    ('Value and its ops', [('Value, sum, dot, backward', 'microgrid.engine')]),
    (
        'Autograd: functions and modes',
        [
            ('grad, hessian, jacobian, hvp, jvp', 'microgrid.autograd.functional'),
            ('Modes: no_grad, enable_grad, detect_anomaly', 'microgrid.autograd.modes'),
            ('Backward step by step', 'microgrid.autograd.steps'),
            ('explain', 'microgrid.autograd.explain'),
            ('gradcheck', 'microgrid.autograd.gradcheck'),
            ('Anomaly checks', 'microgrid.autograd.anomaly'),
            ('Symbolic rules (create_graph)', 'microgrid.autograd.symbolic'),
            ('Copy and pickle', 'microgrid.autograd.copying'),
            ('Tracing', 'microgrid.autograd.tracing'),
            ('The autograd package', 'microgrid.autograd'),
        ],
    ),
    (
        'nn: networks and training',
        [
            ('Modules and layers', 'microgrid.nn'),
            ('Module', 'microgrid.nn.module'),
            ('Neuron, Layer, MLP', 'microgrid.nn.layers'),
            ('Losses', 'microgrid.nn.losses'),
            ('Optimizers', 'microgrid.nn.optim'),
            ('Data', 'microgrid.nn.data'),
            ('Training', 'microgrid.nn.training'),
            ("fit's checks", 'microgrid.nn.checks'),
            ('Saving and loading', 'microgrid.nn.serialization'),
            ('To PyTorch', 'microgrid.nn.interop'),
        ],
    ),
    (
        'Pictures: draw, player, plot',
        [
            ('draw', 'microgrid.viz.draw'),
            ('The backprop player', 'microgrid.viz.player'),
            ('Plots', 'microgrid.viz.plot'),
            ('Names and numbers in every picture', 'microgrid.text'),
            ('Renderers', 'microgrid.viz.render'),
            ("The player's frames", 'microgrid.viz.scene'),
            ('SVG to PNG', 'microgrid.viz.raster'),
            ('The pictures package', 'microgrid.viz'),
        ],
    ),
    (
        'compile',
        [
            ('compile', 'microgrid.compiler'),
            ('The compiled function', 'microgrid.compiler.api'),
            ('Guards', 'microgrid.compiler.guards'),
            ('hessian, replayed when that is exact', 'microgrid.compiler.second_order'),
        ],
    ),
    ('Live widgets', [('Stepper, Explorer, Playground', 'microgrid.live')]),
    (
        'The command line',
        [
            ('microgrid', 'microgrid.cli.app'),
            ('The commands', 'microgrid.cli.commands'),
            ('Expressions', 'microgrid.cli.expr'),
            ('What an expression may contain', 'microgrid.cli.syntax'),
            ('The demo', 'microgrid.cli.demo'),
            ('The cli package', 'microgrid.cli'),
        ],
    ),
    (
        'The course',
        [
            ('Course helpers', 'microgrid.course'),
            ('Exercises', 'microgrid.course.exercises'),
            ('Check your engine', 'microgrid.course.engine_check'),
            ('Check your MLP', 'microgrid.course.nn_check'),
            ('The course as HTML', 'microgrid.course.html'),
        ],
    ),
]

# micrograd's names for Value's internals, documented once (not among Value's members).
MICROGRAD_NAMES = ['_prev', '_op', '_backward']


def module_exists(module: str) -> bool:
    """Whether ``microgrid.x`` (or ``microgrid.x.y``) is in the source tree, and not an
    alias of a module that moved (an alias is documented at its new place)."""
    path = ROOT.joinpath(*module.split('.'))
    file = path.with_suffix('.py') if path.with_suffix('.py').is_file() else path / '__init__.py'
    return file.is_file() and 'this alias keeps the old import path' not in file.read_text()


def api_pages() -> list[tuple[str, list[tuple[str, str]]]]:
    """API_PAGES with the modules that exist (a page with none is left out)."""
    pages = []
    for title, sections in API_PAGES:
        present = [(t, m) for t, m in sections if module_exists(m)]
        if present:
            pages.append((title, present))
    return pages


def api_modules() -> list[tuple[str, str]]:
    """The (section title, module) pairs of every page, in reading order."""
    return [pair for _, sections in api_pages() for pair in sections]


def _slug(title: str) -> str:
    return re.sub(r'[^a-z0-9]+', '-', title.split(':')[0].lower()).strip('-')


def api_page_uri(module: str) -> str:
    """The page that documents ``module`` (an alias of a moved module: its new page)."""
    for title, sections in API_PAGES:
        if any(m == module for _, m in sections):
            return f'api/{_slug(title)}.md'
    return f"api/{module.removeprefix('microgrid.').replace('.', '_')}.md"


def api_page(title: str, sections: list[tuple[str, str]]) -> str:
    """The markdown of one API page: each module's docstring and its public names."""
    parts = [f'# {title}\n']
    for section, module in sections:
        parts.append(
            f'## {section}\n\n'
            f'::: {module}\n'
            '    options:\n'
            '      show_root_heading: false\n'
            '      show_root_toc_entry: false\n'
            '      heading_level: 3\n'
        )
    if any(m == 'microgrid.engine' for _, m in sections):
        parts.append(micrograd_section())
    return '\n'.join(parts)


def micrograd_section() -> str:
    """micrograd's names for a Value's parents, op and backward step, documented once."""
    lines = [
        '## Compatibility: micrograd\'s names\n',
        "micrograd's own spellings work on a Value, so the lecture's code runs as written. "
        "They are not part of microgrid's API: use the names beside them.\n",
        '| micrograd | microgrid | what it is |',
        '|---|---|---|',
    ]
    from microgrid.engine import Value

    instead = {'_prev': '`parents`', '_op': '`op`', '_backward': '`propagate()`'}
    for name in MICROGRAD_NAMES:
        obj = inspect.getattr_static(Value, name, None)
        if obj is None:
            continue
        what = _first_line(obj).replace('|', r'\|')  # a property's own doc
        lines.append(f'| `{name}` | {instead.get(name, "")} | {what} |')
    return '\n'.join(lines) + '\n'


def _first_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ''
    return doc.strip().split('\n\n', 1)[0].replace('\n', ' ')


def api_index() -> str:
    """The API's front page: every name of ``microgrid.__all__``, linked to its entry."""
    import microgrid

    rows = []
    for name in microgrid.__all__:
        obj = getattr(microgrid, name)
        if inspect.ismodule(obj):
            target = f'[`microgrid.{name}`]({api_page_uri(obj.__name__)[4:]})'
            what = _first_line(obj)
        else:
            qual = f'{obj.__module__}.{obj.__qualname__}'
            target = f'[`{name}`][{qual}]'
            what = _first_line(obj)
        what = what.replace('|', r'\|')
        rows.append(f'| {target} | {what} |')
    modules = '\n'.join(
        f'- [{title}]({api_page_uri(sections[0][1])[4:]}): '
        + ', '.join(f'`{m}`' for _, m in sections)
        for title, sections in api_pages()
    )
    return (
        '# API reference\n\n'
        'Generated from the docstrings. `import microgrid` gives these names; heavy modules '
        '(numpy, matplotlib, graphviz) load on first use.\n\n'
        '| name | what it is |\n|---|---|\n' + '\n'.join(rows) + '\n\n'
        '## By part\n\n' + modules + '\n'
    )


# ---------------------------------------------------------------------------------------
# The course
# ---------------------------------------------------------------------------------------


def lessons() -> list[Path]:
    return sorted(NOTEBOOKS.glob('[0-9][0-9]_*.ipynb'))


def lesson_title(path: Path) -> str:
    nb = json.loads(path.read_text(encoding='utf-8'))
    for cell in nb.get('cells', []):
        if cell.get('cell_type') == 'markdown':
            text = ''.join(cell.get('source', ''))
            found = re.search(r'^#\s+(.+)$', text, flags=re.M)
            if found:
                return found.group(1).strip()
    return path.stem.replace('_', ' ')


def staged_notebook(path: Path) -> str:
    """An executed lesson as the site shows it: the student's page of microgrid.course.html
    (no check/solution cells, live widgets as a note, GIFs as images)."""
    from microgrid.course.html import student_notebook

    nb = json.loads(path.read_text(encoding='utf-8'))
    return json.dumps(student_notebook(nb, instruments='../instruments.html'))


def execute_missing_lessons() -> list[Path]:
    """Execute every lesson whose build/executed copy is missing or older than it."""
    stale = [
        nb for nb in lessons()
        if not (EXECUTED / nb.name).exists()
        or (EXECUTED / nb.name).stat().st_mtime < nb.stat().st_mtime
    ]  # fmt: skip
    if not stale:
        return []
    import nbformat
    from nbclient import NotebookClient

    EXECUTED.mkdir(parents=True, exist_ok=True)
    env = os.environ.copy()
    for nb_path in stale:
        start = time.perf_counter()
        nb = nbformat.read(nb_path, as_version=4)
        os.environ['MPLBACKEND'] = 'module://matplotlib_inline.backend_inline'
        try:
            NotebookClient(
                nb,
                timeout=300,
                kernel_name='python3',
                resources={'metadata': {'path': str(NOTEBOOKS)}},
            ).execute()
        finally:
            os.environ.clear()
            os.environ.update(env)
        tmp = EXECUTED / f'.{nb_path.name}.tmp'
        nbformat.write(nb, tmp)
        tmp.replace(EXECUTED / nb_path.name)
        log.info('executed %s in %.1f s', nb_path.name, time.perf_counter() - start)
    return stale


# ---------------------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------------------


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    execute_missing_lessons()
    nav = []
    for entry in config.nav or []:
        if entry == {'The course': 'course/index.md'}:
            pages = [{'The course': 'course/index.md'}]
            pages += [{lesson_title(nb): f'course/{nb.name}'} for nb in lessons()]
            entry = {'The course': pages}
        elif entry == {'API reference': 'api/index.md'}:
            pages = [{'Overview': 'api/index.md'}]
            pages += [{title: api_page_uri(sections[0][1])} for title, sections in api_pages()]
            entry = {'API reference': pages}
        nav.append(entry)
    config.nav = nav
    return config


@event_priority(100)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files: Files, config: MkDocsConfig) -> Files:
    # mkdocs-jupyter needs a real file under a src_dir (it cannot read a generated File),
    # so the executed lessons are staged as build/docs/course/<stem>.ipynb.
    staging = ROOT / 'build' / 'docs'
    (staging / 'course').mkdir(parents=True, exist_ok=True)
    for nb in lessons():
        (staging / 'course' / nb.name).write_text(staged_notebook(EXECUTED / nb.name))
        files.append(File(f'course/{nb.name}', str(staging), config.site_dir, False))
    for title, sections in api_pages():
        uri = api_page_uri(sections[0][1])
        files.append(File.generated(config, uri, content=api_page(title, sections)))
    files.append(File.generated(config, 'api/index.md', content=api_index()))
    for name, uri in (('BENCHMARKS.md', 'benchmarks.md'), ('CHANGELOG.md', 'changelog.md')):
        files.append(File.generated(config, uri, content=(ROOT / name).read_text()))
    return files


LIVE_SHOTS = [
    ('Stepper', 'live-stepper.png', 'microgrid.live.Stepper(L): next, prev, play and the keys walk '
     'through backward with the chain-rule line in large type.'),
    ('Explorer', 'live-explorer.png', 'microgrid.live.Explorer(fn, a=..., b=...): move a leaf and '
     'every data and grad updates; the change of the output sits beside grad * nudge.'),
    ('Playground', 'live-playground.png', 'microgrid.live.Playground(): choose data, layers and '
     'optimizer; the boundary, the neurons and the curves update while it trains.'),
]  # fmt: skip


def live_screenshots() -> str:
    """The live widgets' screenshots (taken in JupyterLab by the widgets' browser test)."""
    if not module_exists('microgrid.live'):
        return (
            '!!! note "Coming with microgrid.live"\n    The live widgets (a stepper, an '
            'explorer and a playground that update as you click) are not in this version.\n'
        )
    parts = []
    for title, name, text in LIVE_SHOTS:
        parts.append(f'### {title}\n\n![{title}](assets/{name})\n\n{text}\n')
    return '\n'.join(parts)


# --- code that runs -----------------------------------------------------------------------

_RUN = re.compile(r'^```python run(?P<opts>[^\n]*)\n(?P<code>.*?)^```[ \t]*$', flags=re.M | re.S)
_outputs: dict[str, str] = {}


def _data_uri(data: bytes, mime: str) -> str:
    return f'data:{mime};base64,{base64.b64encode(data).decode()}'


def _render(obj: Any, caption: str | None) -> str:
    """HTML for one picture passed to show()."""
    if hasattr(obj, 'savefig'):  # a matplotlib figure
        buf = io.BytesIO()
        obj.savefig(buf, format='png', dpi=96, bbox_inches='tight')
        uri = _data_uri(buf.getvalue(), 'image/png')
        inner = f'<img alt="{html.escape(caption or "figure")}" src="{uri}">'
    elif isinstance(obj, (str, Path)) and Path(obj).suffix.lower() in ('.gif', '.png'):
        mime = 'image/gif' if Path(obj).suffix.lower() == '.gif' else 'image/png'
        uri = _data_uri(Path(obj).read_bytes(), mime)
        inner = f'<img alt="{html.escape(caption or Path(obj).name)}" src="{uri}">'
    elif hasattr(obj, '_repr_html_') and not hasattr(obj, 'pipe'):  # the player
        inner = obj._repr_html_()
    elif hasattr(obj, 'pipe') and hasattr(obj, 'source'):  # a graphviz graph
        from microgrid.draw import render_source

        inner = render_source(obj.source, 'svg').decode('utf-8')
        inner = inner[inner.index('<svg') :]
    elif hasattr(obj, '_repr_svg_'):
        inner = obj._repr_svg_()
        inner = inner[inner.index('<svg') :]
    else:
        raise TypeError(f'show() cannot display {type(obj).__name__}')
    cap = f'<figcaption>{html.escape(caption)}</figcaption>' if caption else ''
    return f'<figure class="mg-figure">{inner}{cap}</figure>'


@contextlib.contextmanager
def _chdir(path: str) -> Any:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _missing(needs: list[str]) -> list[str]:
    import microgrid

    missing = []
    for need in needs:  # 'Value._prev', or 'nn.MLP(output_activation)' for a keyword
        dotted, _, keyword = need.rstrip(')').partition('(')
        obj: Any = microgrid
        try:
            for part in dotted.split('.'):
                obj = getattr(obj, part)
        except AttributeError:
            missing.append(need)
            continue
        if keyword and keyword not in inspect.signature(obj).parameters:
            missing.append(need)
    return missing


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if '<!-- lessons -->' in markdown:
        listing = '\n'.join(f'1. [{lesson_title(nb)}]({nb.name})' for nb in lessons())
        markdown = markdown.replace('<!-- lessons -->', listing)
    if '<!-- live-screenshots -->' in markdown:
        markdown = markdown.replace('<!-- live-screenshots -->', live_screenshots())
    if '```python run' not in markdown:
        return markdown
    namespace: dict[str, Any] = {'__name__': f'docs_{page.file.name}'}
    where = page.file.src_uri

    def replace(match: re.Match) -> str:
        code = match.group('code')
        opts = dict(re.findall(r'(\w+)=(\S+)', match.group('opts')))
        shown = f'```python\n{code}```\n'
        missing = _missing(opts['needs'].split(',')) if 'needs' in opts else []
        if missing:
            log.info('%s: not running a block that needs %s', where, ', '.join(missing))
            return shown + (
                '\n!!! note "Not run in this build"\n    This needs '
                + ', '.join(f'`microgrid.{m}`' for m in missing)
                + ', which this version of microgrid does not have yet.\n'
            )
        pictures: list[str] = []
        namespace['show'] = lambda obj, caption=None: pictures.append(_render(obj, caption))
        out = io.StringIO()
        with tempfile.TemporaryDirectory() as tmp, _chdir(tmp):
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                    exec(compile(code, f'{where} (python run block)', 'exec'), namespace)
            except Exception as e:
                detail = ''.join(traceback.format_exception(e)[-6:])
                raise RuntimeError(f'a python run block in {where} failed:\n{detail}') from e
        text = out.getvalue()
        result = shown
        if text.strip():
            result += f'\n```text\n{text.rstrip()}\n```\n'
        for picture in pictures:
            key = f'MGOUT{len(_outputs)}X'
            _outputs[key] = picture
            result += f'\n{key}\n'
        return result

    import matplotlib

    matplotlib.use('Agg')
    return _RUN.sub(replace, markdown)


LITE_LINK = (
    '<p class="mg-lite"><a href="../lite/lab/index.html?path={name}">Open this lesson in the '
    'browser</a>: it runs in JupyterLite, with nothing to install (see '
    '<a href="../lite.html">the course in a browser</a>).</p>'
)


def on_page_content(html_text: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    for key in re.findall(r'<p>(MGOUT\d+X)</p>', html_text):
        html_text = html_text.replace(f'<p>{key}</p>', _outputs.pop(key))
    if page.file.src_uri.startswith('course/'):
        # a lesson's link to another lesson goes to that lesson's page
        html_text = re.sub(r'href="(\d\d_[\w-]+)\.ipynb"', r'href="\1.html"', html_text)
        if page.file.src_uri.endswith('.ipynb'):
            html_text = LITE_LINK.format(name=Path(page.file.src_uri).name) + html_text
    return html_text


def npm_package(name: str, version: str) -> Path:
    """An npm package's tarball, packed once into .registry-cache/."""
    tgz = CACHE / f'{name}-{version}.tgz'
    if not tgz.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(['npm', 'pack', '--silent', f'{name}@{version}'], cwd=CACHE, check=True)
    return tgz


def bundle_search_shim(site: Path) -> None:
    """The search shim from npm into assets/, and every page pointed at that copy."""
    with tarfile.open(npm_package('iframe-worker', IFRAME_WORKER)) as tar:
        shim = tar.extractfile('package/shim/index.js')
        assert shim is not None
        (site / 'assets' / 'iframe-worker-shim.js').write_bytes(shim.read())
    for page in site.rglob('*.html'):
        if page.is_relative_to(site / 'lite'):
            continue
        text = page.read_text(encoding='utf-8')
        if SHIM_CDN in text:
            up = '../' * (len(page.relative_to(site).parts) - 1)
            page.write_text(text.replace(SHIM_CDN, f'{up}assets/iframe-worker-shim.js'))


def on_post_build(config: MkDocsConfig) -> None:
    site = Path(config.site_dir)
    bundle_search_shim(site)
    target = site / 'assets' / 'mathjax'
    with tarfile.open(npm_package('mathjax', MATHJAX)) as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix('package/')
            if member.isfile() and name.startswith(MATHJAX_PARTS):
                path = target / name.removeprefix('es5/')
                path.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                path.write_bytes(source.read())
    if (LITE_SITE / 'index.html').exists():  # make lite built it: the lessons' links work
        shutil.copytree(LITE_SITE, site / 'lite', dirs_exist_ok=True)
