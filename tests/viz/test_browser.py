"""The backprop player in a real browser: headless Chromium driven by playwright.

Chromium comes from Debian's ``chromium`` package (.ci/run installs it); playwright's own
browser download is never used. Without Chromium the test fails, saying what to install.
"""

from __future__ import annotations

import pytest
from browser import ARGS, chromium_path, errors_of

from microgrid import Value
from microgrid.viz.draw import HIGHLIGHT, collect_nodes
from microgrid.viz.player import backprop_player

pytestmark = pytest.mark.slow  # make test-fast skips it (pytest -m "not slow")


@pytest.fixture(scope='module')
def page(tmp_path_factory):
    from playwright import sync_api

    a, b, c = Value(2.0, 'a'), Value(-3.0, 'b'), Value(10.0, 'c')
    e = a * b
    e.label = 'e'
    d = e + c
    d.label = 'd'
    L = d.tanh() * a
    L.label = 'L'
    path = tmp_path_factory.mktemp('player') / 'player.html'
    backprop_player(L, path, interval=100)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            pg = browser.new_page(viewport={'width': 1200, 'height': 600})
            errors = errors_of(pg, console=True)
            requests: list[str] = []
            pg.on('request', lambda req: requests.append(req.url))
            pg.goto(path.as_uri())
            pg.wait_for_selector('.mg-player[data-frame="0"]')
            yield pg, errors, requests, path, L
        finally:
            browser.close()


def current(pg) -> list[str]:
    """Ids of the highlighted groups, without the player's prefix."""
    ids = pg.eval_on_selector_all('g.current', 'els => els.map(e => e.id)')
    return sorted(i.split('-', 1)[1] for i in ids)


def grad_texts(pg) -> dict[str, str]:
    """{node name: its grad text} as the page shows it now."""
    return pg.eval_on_selector_all(
        'g.node',
        """gs => Object.fromEntries(gs.map(g => Array.from(g.querySelectorAll('text'))
                                              .map(t => t.textContent))
                                     .filter(t => t.length === 3).map(t => [t[0], t[2]]))""",
    )


def edge_stroke(pg, edge_id: str) -> str:
    return pg.eval_on_selector(f'g[id$="-{edge_id}"] path', 'p => p.getAttribute("stroke")')


def test_next_moves_the_highlighted_edge_and_fills_in_grads(page):
    pg, errors, requests, path, L = page
    root = f'v{collect_nodes(L, 500).index(L)}'
    assert current(pg) == [root]  # the seed: the root L
    assert grad_texts(pg)['L'] == 'grad 1.0' and grad_texts(pg)['a'] == 'grad ?'
    history = []
    for _ in range(3):
        before_edges, before_grads = current(pg), grad_texts(pg)
        pg.click('[data-act=next]')
        after_edges, after_grads = current(pg), grad_texts(pg)
        assert after_edges != before_edges
        assert after_grads != before_grads
        edge = next(i for i in after_edges if i.startswith('e'))
        assert edge_stroke(pg, edge) == HIGHLIGHT
        history.append(edge)
    assert pg.get_attribute('.mg-player', 'data-frame') == '3'
    assert len(set(history)) == 3
    assert edge_stroke(pg, history[0]) != HIGHLIGHT  # the old edge went back to normal
    # the step L = tanh(d) * a: a's grad is tanh(d) after the first edge
    import math

    texts = grad_texts(pg)
    tanh_d = math.tanh(2.0 * -3.0 + 10.0)
    shown = {name: float(t.split()[1]) for name, t in texts.items() if t != 'grad ?'}
    assert shown['a'] == pytest.approx(tanh_d, rel=1e-5)
    caption = pg.inner_text('.mg-caption')
    assert caption.startswith(('d.grad', 'a.grad', 'v')) and '+=' in caption

    pg.click('[data-act=prev]')
    assert pg.get_attribute('.mg-player', 'data-frame') == '2'
    pg.keyboard.press('ArrowRight')
    assert pg.get_attribute('.mg-player', 'data-frame') == '3'
    n = int(pg.get_attribute('.mg-player input[type=range]', 'max'))
    pg.fill('.mg-player input[type=range]', str(n))
    assert pg.get_attribute('.mg-player', 'data-frame') == str(n)
    final = grad_texts(pg)
    L.backward()
    assert float(final['a'].split()[1]) == pytest.approx(L.parents[1].grad, rel=1e-5)
    assert 'grad ?' not in final.values()
    assert errors == []
    assert all(url.startswith('file:') for url in requests), requests


def test_play_runs_to_the_end(page):
    pg, errors, *_ = page
    pg.fill('.mg-player input[type=range]', '0')
    assert pg.get_attribute('.mg-player', 'data-frame') == '0'
    pg.click('[data-act=play]')
    n = pg.get_attribute('.mg-player input[type=range]', 'max')
    pg.wait_for_selector(f'.mg-player[data-frame="{n}"]', timeout=30_000)
    assert errors == []


def test_screenshot_is_not_blank(page, tmp_path):
    from PIL import Image

    pg = page[0]
    shot = tmp_path / 'player.png'
    pg.screenshot(path=str(shot))
    with Image.open(shot) as im:
        rgb = im.convert('RGB')
        colours = rgb.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 100
        red = tuple(int(HIGHLIGHT[i : i + 2], 16) for i in (1, 3, 5))
        near_red = sum(n for n, c in colours if sum(abs(a - b) for a, b in zip(c, red)) < 40)
        assert near_red > 50  # the highlighted edge is on screen
        white = sum(n for n, c in colours if min(c) > 245)
        assert white < 0.97 * rgb.width * rgb.height


def test_title_legend_one_large_caption_counter_and_home_end(page):
    pg, errors, _, path, L = page
    title = pg.inner_text('.mg-player .mg-title')
    assert title == 'Backpropagation through L, one chain-rule step at a time'
    assert pg.title() == title
    legend = pg.inner_text('.mg-player .mg-legend')
    for words in (
        'not reached yet',
        'part of its gradient',
        'all of its gradient',
        'this step',
        'local derivative',
    ):
        assert words in legend, words
    # the legend's swatches are the colours the player paints
    swatches = pg.eval_on_selector_all(
        '.mg-legend i', 'els => els.map(e => getComputedStyle(e).backgroundColor)'
    )
    assert 'rgb(255, 243, 196)' in swatches and 'rgb(217, 242, 217)' in swatches  # partial, done
    n = int(pg.get_attribute('.mg-player input[type=range]', 'max'))
    pg.focus('.mg-player')
    pg.keyboard.press('End')
    assert pg.get_attribute('.mg-player', 'data-frame') == str(n)
    assert pg.inner_text('.mg-count') == f'step {n + 1} / {n + 1}'
    assert 'grad ?' not in grad_texts(pg).values()
    pg.keyboard.press('Home')
    assert pg.get_attribute('.mg-player', 'data-frame') == '0'
    assert pg.inner_text('.mg-count') == f'step 1 / {n + 1}'
    assert grad_texts(pg)['a'] == 'grad ?'
    pg.keyboard.press('ArrowRight')
    # the chain-rule line is shown once, in large type, and not again inside the picture
    caption = pg.inner_text('.mg-caption')
    assert caption.startswith(('a.grad +=', 'v')) and '+=' in caption
    page_text = pg.inner_text('body')
    assert page_text.count(caption) == 1
    svg_texts = pg.eval_on_selector_all('.mg-svg svg text', 'ts => ts.map(t => t.textContent)')
    assert not any('+=' in t for t in svg_texts)
    size = pg.eval_on_selector('.mg-caption', 'e => parseFloat(getComputedStyle(e).fontSize)')
    assert size >= 18
    assert errors == []


def test_composite_labels_read_clearly_in_the_caption(page, tmp_path):
    """Runs last: it points the shared page at another player."""
    pg, errors, *_ = page
    x1, w1, x2, w2 = Value(2.0, 'x1'), Value(-3.0, 'w1'), Value(0.5, 'x2'), Value(1.0, 'w2')
    x1w1 = x1 * w1
    x1w1.label = 'x1*w1'
    x2w2 = x2 * w2
    x2w2.label = 'x2*w2'
    s = x1w1 + x2w2
    s.label = 'x1*w1 + x2*w2'
    path = tmp_path / 'composite.html'
    backprop_player(s, path)
    pg.goto(path.as_uri())
    pg.wait_for_selector('.mg-player[data-frame="0"]')
    pg.keyboard.press('ArrowRight')
    assert pg.inner_text('.mg-caption') == (
        '(x1*w1).grad += d(x1*w1 + x2*w2)/d(x1*w1) * (x1*w1 + x2*w2).grad'
        ' = 1.0 * 1.0 = 1.0, so (x1*w1).grad = 1.0'
    )
    assert errors == []
