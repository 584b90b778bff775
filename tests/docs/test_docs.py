"""The docs site: every public name documented, and the built site working in a browser.

The static checks (every public module has an API page, every public name a docstring)
need only the source. The others need the built site: the ``site`` fixture builds it with
docs/build_site.py (``mkdocs build --strict``) unless site/ is already built from the same
inputs; ``make test`` then finds it done in its ``docs`` step. The lessons come executed from
build/executed/ (written by the course test, which runs before this file); the docs build
executes only lessons that are missing there.

The browser part opens the built site from disk in Debian's Chromium (as test_browser.py):
the embedded backprop player steps when next is clicked, and each lesson page shows every
picture that its executed notebook holds.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import json
import pkgutil
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'docs'))
hooks = importlib.import_module('hooks')
build_site = importlib.import_module('build_site')
sys.path.remove(str(ROOT / 'docs'))

import microgrid  # noqa: E402

pytestmark = pytest.mark.slow  # make test-fast skips it (pytest -m "not slow")


def public_modules() -> list[str]:
    """Every module of the package whose dotted name has no part starting with '_' (an
    alias kept for an old import path is documented where it points)."""
    found = []
    for info in pkgutil.walk_packages([str(ROOT / 'microgrid')], 'microgrid.'):
        if not any(part.startswith('_') for part in info.name.split('.')):
            if not is_alias(info.name):
                found.append(info.name)
    return sorted(found)


def is_alias(module: str) -> bool:
    """Whether a module file is an alias shim for an old import path ("Moved to ...")."""
    path = ROOT.joinpath(*module.split('.')).with_suffix('.py')
    return path.is_file() and path.read_text().startswith('"""Moved to ')


LISTED = {m for _, sections in hooks.API_PAGES for _, m in sections}


def page_module(module: str) -> str | None:
    """The listed module whose API page covers ``module`` (itself or a parent package)."""
    parts = module.split('.')
    for n in range(len(parts), 1, -1):
        if '.'.join(parts[:n]) in LISTED:
            return '.'.join(parts[:n])
    return None


def public_names(module: str) -> list[str]:
    """A module's ``__all__``; without one, the classes and functions it defines."""
    mod = importlib.import_module(module)
    if hasattr(mod, '__all__'):
        return list(mod.__all__)
    return [
        name for name, obj in vars(mod).items()
        if not name.startswith('_') and (inspect.isclass(obj) or inspect.isfunction(obj))
        and obj.__module__ == module
    ]  # fmt: skip


def documented_modules() -> list[str]:
    """The modules whose names the API reference must show: every listed module that exists."""
    return [m for _, m in hooks.api_modules()]


@functools.cache
def _griffe_module(module: str):
    import griffe

    return griffe.load(module, search_paths=[str(ROOT)], allow_inspection=False)


def _griffe_docstring(module: str, name: str) -> str:
    """The docstring of a module-level attribute (a string right after the assignment)."""
    obj = _griffe_module(module)[name]
    if obj.is_alias:
        obj = obj.final_target
    return obj.docstring.value if obj.docstring else ''


def docstring(module: str, name: str) -> str:
    """A public name's docstring: its own, or for a constant the string after it."""
    obj = getattr(importlib.import_module(module), name)
    if inspect.ismodule(obj) or inspect.isclass(obj) or inspect.isroutine(obj):
        return inspect.getdoc(obj) or ''
    return _griffe_docstring(module, name)


# -- static ------------------------------------------------------------------------------


def test_every_public_module_has_an_api_page():
    missing = [m for m in public_modules() if page_module(m) is None]
    assert missing == [], (
        f'{missing} have no API page: add ("Title", "module") to API_PAGES in docs/hooks.py'
    )
    assert 'microgrid.engine' in public_modules() and 'microgrid.engine' in documented_modules()


def test_every_public_name_has_a_docstring():
    undocumented = []
    for name in microgrid.__all__:
        if not docstring('microgrid', name).strip():
            undocumented.append(f'microgrid.{name}')
    for module in documented_modules():
        for name in public_names(module):
            if not docstring(module, name).strip():
                undocumented.append(f'{module}.{name}')
    assert undocumented == [], f'public names without a docstring: {undocumented}'


def test_docstring_check_can_fail():
    # a constant without a docstring is found wanting; one with a docstring passes
    assert _griffe_docstring('microgrid.cli.syntax', 'MAX_DEPTH').strip()
    assert not _griffe_docstring('microgrid.viz.player', '_FORMATS').strip()


# -- the built site ----------------------------------------------------------------------


@pytest.fixture(scope='module')
def site() -> Path:
    build_site.build()
    assert build_site.up_to_date()
    return build_site.SITE


def _ids(path: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', path.read_text(encoding='utf-8')))


def api_page_html(site: Path, module: str) -> Path:
    return site / hooks.api_page_uri(module).replace('.md', '.html')


def test_api_reference_shows_every_public_name(site):
    missing = []
    all_ids: set[str] = set()
    for module in documented_modules():
        page = api_page_html(site, module)
        assert page.exists(), f'no API page for {module}'
        ids = _ids(page)
        all_ids |= ids
        for name in public_names(module):
            if f'{module}.{name}' not in ids:
                missing.append(f'{module}.{name}')
    index = (site / 'api' / 'index.html').read_text(encoding='utf-8')
    for name in microgrid.__all__:
        obj = getattr(microgrid, name)
        if inspect.ismodule(obj):
            target = api_page_html(site, obj.__name__).name
            if not api_page_html(site, obj.__name__).exists() or f'href="{target}' not in index:
                missing.append(f'microgrid.{name} (module page)')
            continue
        anchor = f'{obj.__module__}.{obj.__qualname__}'
        if anchor not in all_ids or f'#{anchor}"' not in index:
            missing.append(f'microgrid.{name} ({anchor})')
    assert missing == [], f'missing from the API reference: {missing}'


def test_pages_of_the_site(site):
    for page in ('index.html', 'micrograd.html', 'instruments.html', 'benchmarks.html',
                 'changelog.html', 'course/index.html', 'api/index.html'):  # fmt: skip
        assert (site / page).exists(), page
    bench = (site / 'benchmarks.html').read_text(encoding='utf-8')
    first_heading = re.search(r'^## (.+)$', (ROOT / 'BENCHMARKS.md').read_text(), flags=re.M)
    assert first_heading and first_heading.group(1).strip() in bench
    instruments = (site / 'instruments.html').read_text(encoding='utf-8')
    assert instruments.count('class="mg-figure"') >= 6  # graphs, the player, the GIF, a plot
    assert 'data:image/gif;base64,' in instruments
    for nb in hooks.lessons():
        html = (site / 'course' / f'{nb.stem}.html').read_text(encoding='utf-8')
        assert '# SOLUTION' not in html, f'{nb.stem}: a solution is on the lesson page'
    solutions = ROOT / 'notebooks' / 'solutions'
    for sol in sorted(solutions.glob('*.py')) if solutions.is_dir() else []:
        body = [
            line for line in sol.read_text().splitlines()
            if line.strip() and not line.startswith('#')
        ]  # fmt: skip
        page = site / 'course' / f'{sol.stem}.html'
        if body and page.exists():
            text = page.read_text(encoding='utf-8')
            shown = [line for line in body if len(line.strip()) > 30 and line.strip() in text]
            assert len(shown) < max(2, len(body) // 2), f'{sol.stem}: solutions leak: {shown[:3]}'


# -- in a browser ------------------------------------------------------------------------

# Nothing may come from another host (the test blocks every remote request): MathJax and the
# search's file:// shim are in site/assets/ (docs/hooks.py); see also docs/test_offline_site.py.


@pytest.fixture(scope='module')
def browser(site):
    from browser import ARGS, chromium_path
    from playwright import sync_api

    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _open(browser, path: Path):
    from browser import errors_of

    pg = browser.new_page(viewport={'width': 1300, 'height': 900})
    errors = errors_of(pg)
    remote: list[str] = []

    def on_request(req):
        if not req.url.startswith(('file:', 'data:', 'blob:', 'about:')):
            remote.append(req.url)

    pg.on('request', on_request)
    pg.route(re.compile(r'^https?://'), lambda route: route.abort())
    pg.goto(path.as_uri())
    return pg, errors, remote


def test_embedded_player_steps_when_next_is_clicked(site, browser):
    pg, errors, remote = _open(browser, site / 'instruments.html')
    try:
        pg.wait_for_selector('.mg-player[data-frame="0"]', timeout=10_000)
        player = pg.locator('.mg-player').first
        player.scroll_into_view_if_needed()
        n = int(pg.get_attribute('.mg-player input[type=range]', 'max'))
        assert n >= 5
        grads_before = pg.eval_on_selector_all(
            '.mg-player g.node text', 'ts => ts.map(t => t.textContent)'
        )
        captions = []
        for k in (1, 2, 3):
            pg.click('.mg-player [data-act=next]')
            assert pg.get_attribute('.mg-player', 'data-frame') == str(k)
            captions.append(pg.inner_text('.mg-player .mg-caption'))
        assert all('+=' in c for c in captions) and len(set(captions)) == 3, captions
        grads_after = pg.eval_on_selector_all(
            '.mg-player g.node text', 'ts => ts.map(t => t.textContent)'
        )
        assert grads_after != grads_before
        # the first step after the seed: L = tanh(d) * a, so a.grad = tanh(d) = tanh(4)
        assert any(c.startswith(('a.grad', 'd.grad', 'v')) for c in captions[:2])
        highlighted = pg.eval_on_selector_all('.mg-player g.current', 'els => els.length')
        assert highlighted >= 1
        pg.click('.mg-player [data-act=prev]')
        assert pg.get_attribute('.mg-player', 'data-frame') == '2'
        assert errors == []
        assert remote == []
    finally:
        pg.close()


def _expected_pictures(executed: Path) -> int:
    """Pictures in an executed notebook's outputs, outside the cells the site hides."""
    nb = json.loads(executed.read_text(encoding='utf-8'))
    count = 0
    for cell in nb['cells']:
        tags = set(cell.get('metadata', {}).get('tags', []))
        if tags & {'check', 'solution'}:
            continue
        for out in cell.get('outputs', []):
            data = out.get('data', {})
            if any(k.startswith('image/') for k in data):
                count += 1
    return count


def test_course_pages_show_their_pictures(site, browser):
    total = 0
    for nb in hooks.lessons():
        expected = _expected_pictures(hooks.EXECUTED / nb.name)
        pg, errors, remote = _open(browser, site / 'course' / f'{nb.stem}.html')
        try:
            pg.wait_for_load_state('load')
            pictures = pg.eval_on_selector_all(
                '.jp-OutputArea-output img, .jp-OutputArea-output svg:not(svg svg)',
                """els => els.map(e => e.tagName.toLowerCase() === 'img'
                    ? {ok: e.complete && e.naturalWidth > 0, w: e.naturalWidth}
                    : {ok: e.getBoundingClientRect().width > 0,
                       w: e.getBoundingClientRect().width})""",
            )
            assert len(pictures) >= expected, (
                f'{nb.stem}: {len(pictures)} pictures, notebook has {expected}'
            )
            broken = [p for p in pictures if not p['ok']]
            assert broken == [], f'{nb.stem}: pictures that do not show: {broken}'
            assert remote == [], remote
            total += len(pictures)
        finally:
            pg.close()
    assert total > 0, 'no lesson page shows a picture'
