"""The docs site loads nothing from other hosts: MathJax is bundled, and a formula renders
in Chromium with every other host unresolvable (issue 23, "the docs work offline")."""

from __future__ import annotations

import functools
import http.server
import re
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser import OFFLINE_ARGS, chromium_path

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / 'site'
# src="http...", href="http..." on script/link/img/iframe, and CSS url(http...)
FETCHED = re.compile(
    r'<(?:script|link|img|iframe|source|audio|video)\b[^>]*?\b(?:src|href)\s*=\s*["\']?'
    r'((?:https?:)?//[^"\'\s>]+)'
    r'|url\(\s*["\']?((?:https?:)?//[^"\')\s]+)',
    flags=re.I,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def site() -> Path:
    sys.path.insert(0, str(ROOT / 'docs'))
    try:
        import build_site

        build_site.build()
    finally:
        sys.path.remove(str(ROOT / 'docs'))
    return SITE


def test_no_page_or_stylesheet_fetches_from_another_host(site):
    found = []
    for path in site.rglob('*'):
        if path.suffix not in ('.html', '.css') or 'lite' in path.relative_to(site).parts[:1]:
            continue
        for match in FETCHED.finditer(path.read_text(encoding='utf-8', errors='replace')):
            found.append(f'{path.relative_to(site)}: {match.group(1) or match.group(2)}')
    assert not found, 'fetched from other hosts:\n' + '\n'.join(found[:20])
    assert (site / 'assets' / 'mathjax' / 'tex-mml-chtml.js').is_file()


def test_a_formula_renders_with_no_network(site):
    from playwright.sync_api import sync_playwright

    lesson = next((site / 'course').glob('01_*.html'))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    host = f'127.0.0.1:{httpd.server_address[1]}'
    requests: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=OFFLINE_ARGS)
            try:
                context = browser.new_context()
                context.on('request', lambda r: requests.append(r.url))
                page = context.new_page()
                page.goto(f'http://{host}/course/{lesson.name}')
                page.wait_for_selector('mjx-container', timeout=30_000)
                rendered = page.locator('mjx-container').count()
            finally:
                browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert rendered > 0
    away = [u for u in requests if urlsplit(u).scheme in ('http', 'https')
            and urlsplit(u).netloc != host]  # fmt: skip
    assert not away, f'requests left 127.0.0.1: {away}'
