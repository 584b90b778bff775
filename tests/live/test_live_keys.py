"""The widgets' keys on a plain page: what every notebook front end relies on.

VS Code's notebook renderer is not installable here (no marketplace), so this test checks
the part that does not depend on the host. VS Code's webview hands keys on to the editor
from bubbling-phase keydown and keyup listeners on the output frame's window (its
workbench/contrib/webview/browser/pre/index.html posts them as 'did-keydown' and
'did-keyup'): the window listeners below stand in for those.

Each widget's real module (microgrid.live's script(), the `_esm` the kernel sends) runs in
headless Chromium on a blank page, with a small stand-in for anywidget's model
(get/set/on/off/save_changes/send, answering the heartbeat's pings). Listeners on the
window record every key that gets out of a widget (keydown, keypress, keyup), as a host's
command keys would see it (JupyterLab's listen in the bubbling phase; a host in the capture
phase is Notebook 7's, tested in a real Notebook 7). Keys the widget handles must do the
widget's action and never reach the page; Enter applies a typed value; Escape still leaves
(command mode).
"""

from __future__ import annotations

import base64
import json

import pytest
from browser import ARGS, chromium_path, errors_of
from test_live_browser import SHOTS

pytestmark = pytest.mark.slow

PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<div id="stepper"></div><div id="explorer"></div><div id="playground"></div></body></html>"""

# A stand-in for anywidget's model: the state the kernel sent, change events, a log of what
# the widget sets and sends; every ping is answered with a pong, as the kernel does.
MOUNT = """async ([name, esm, css, state, paths, buffers]) => {
  for (let i = 0; i < paths.length; i++) {
    const bytes = Uint8Array.from(atob(buffers[i]), (c) => c.charCodeAt(0));
    let obj = state;
    const path = paths[i];
    for (let j = 0; j < path.length - 1; j++) obj = obj[path[j]];
    obj[path[path.length - 1]] = new DataView(bytes.buffer);
  }
  const handlers = {};
  const log = { set: [], saved: 0, sent: [] };
  const fire = (event, arg) => (handlers[event] || []).slice().forEach((f) => f(arg));
  const model = {
    get: (k) => state[k],
    set: (k, v) => { state[k] = v; log.set.push([k, v]); fire('change:' + k); },
    save_changes: () => { log.saved += 1; },
    send: (msg) => {
      if (msg.event === 'ping') setTimeout(() => fire('msg:custom', { event: 'pong' }), 5);
      else log.sent.push(msg);
    },
    on: (event, f) => { (handlers[event] = handlers[event] || []).push(f); },
    off: (event, f) => { handlers[event] = (handlers[event] || []).filter((g) => g !== f); },
  };
  const style = document.createElement('style');
  style.textContent = css;
  document.head.appendChild(style);
  const url = URL.createObjectURL(new Blob([esm], { type: 'text/javascript' }));
  const widget = (await import(url)).default;
  widget.render({ model, el: document.getElementById(name) });
  window.logs = window.logs || {};
  window.logs[name] = log;
}"""

LISTEN = """() => {
  window.leaked = [];
  for (const type of ['keydown', 'keypress', 'keyup']) {
    window.addEventListener(type, (e) => window.leaked.push(type + ' ' + e.key));
  }
}"""


def widgets() -> dict:
    from ipywidgets.widgets.widget import _remove_buffers

    from microgrid import Value
    from microgrid.live import Explorer, Playground, Stepper

    a, b = Value(2.0, 'a'), Value(-3.0, 'b')
    made = {
        'stepper': Stepper((a * b + 1.0).tanh(), names={'a': a, 'b': b}),
        'explorer': Explorer(lambda a, b: (a * b + 1.0).tanh(), a=2.0, b=-3.0),
        'playground': Playground('moons', hidden=[4], seed=0),
    }
    out = {}
    for name, w in made.items():
        state, paths, buffers = _remove_buffers(w.get_state())
        coded = [base64.b64encode(bytes(x)).decode() for x in buffers]
        out[name] = [name, str(w._esm), str(w._css), state, paths, coded]
        w.close()
    return out


@pytest.fixture(scope='module')
def page():
    chromium = chromium_path()
    from playwright.sync_api import sync_playwright

    made = widgets()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            page = browser.new_page(viewport={'width': 1200, 'height': 900})
            errors = errors_of(page)
            page.set_content(PAGE)
            for args in made.values():
                page.evaluate(MOUNT, json.loads(json.dumps(args)))
            for name in made:
                page.wait_for_selector(f'.mg-{name}[data-ready="1"]', timeout=20_000)
            page.wait_for_function(
                '!document.querySelector(".mg-playground [data-act=play]").disabled'
            )  # the first pong came
            page.evaluate(LISTEN)
            yield page, errors
        finally:
            browser.close()


def leaked(page) -> list[str]:
    out = page.evaluate('window.leaked')
    page.evaluate('window.leaked = []')
    return out


def last_set(page, name: str, key: str):
    for k, v in reversed(page.evaluate(f'window.logs.{name}.set')):
        if k == key:
            return v
    return None


def test_the_stepper_keys_step_and_stay_inside(page):
    page, errors = page
    st = page.locator('.mg-stepper')
    n = int(st.locator('input[type=range]').get_attribute('max'))
    st.focus()
    for key, want in [('End', n), ('ArrowLeft', n - 1), ('Home', 0), ('ArrowRight', 1),
                      ('ArrowDown', 2), ('ArrowUp', 1)]:  # fmt: skip
        page.keyboard.press(key)
        assert st.get_attribute('data-position') == str(want), key
        assert last_set(page, 'stepper', 'position') == want
    page.keyboard.press(' ')  # play
    assert last_set(page, 'stepper', 'playing') is True
    page.keyboard.press(' ')
    assert last_set(page, 'stepper', 'playing') is False
    slider = st.locator('input[type=range]')
    slider.focus()
    page.keyboard.press('ArrowRight')  # the slider's own key: one step on
    page.wait_for_function('document.querySelector(".mg-stepper").dataset.position !== "1"')
    assert leaked(page) == []
    st.focus()
    page.keyboard.press('Escape')  # Escape still leaves to the notebook (command mode)
    assert 'keydown Escape' in leaked(page)
    assert errors == []


def test_the_explorer_slider_arrows_and_enter_apply_and_stay_inside(page):
    page, errors = page
    ex = page.locator('.mg-explorer')
    slider = ex.locator('[data-leaf=a] input[type=range]')
    before = float(slider.input_value())
    slider.focus()
    page.keyboard.press('ArrowRight')
    page.keyboard.press('End')  # the slider's maximum
    after = last_set(page, 'explorer', 'values')
    assert after['a'] == float(slider.get_attribute('max')) > before
    page.keyboard.press('Home')
    assert last_set(page, 'explorer', 'values')['a'] == float(slider.get_attribute('min'))
    box = ex.locator('[data-leaf=b] input[type=number]')
    box.click()
    page.keyboard.press('Control+A')
    page.keyboard.type('-1.25')  # 'a', 'b', 'x', digits: notebook command keys elsewhere
    page.keyboard.press('Enter')
    low = float(slider.get_attribute('min'))
    assert last_set(page, 'explorer', 'values') == {'a': low, 'b': -1.25}
    page.keyboard.press('ArrowUp')  # a number box's own key
    assert leaked(page) == []
    assert errors == []


def test_the_playground_fields_apply_on_enter_and_keys_stay_inside(page):
    page, errors = page
    pg = page.locator('.mg-playground')
    field = pg.locator('[data-setting=hidden]')
    field.click()
    page.keyboard.press('End')
    page.keyboard.press('Home')  # the text cursor moves; the notebook does not
    page.keyboard.press('Control+A')
    page.keyboard.type('3, 2')
    page.keyboard.press('Enter')
    assert last_set(page, 'playground', 'hidden') == [3, 2]
    seed = pg.locator('[data-setting=seed]')
    seed.click()
    page.keyboard.press('ArrowUp')  # 0 -> 1
    page.keyboard.press('Enter')
    assert last_set(page, 'playground', 'seed') == 1
    select = pg.locator('[data-setting=activation]')
    select.focus()
    page.keyboard.press('ArrowDown')  # the next activation
    assert last_set(page, 'playground', 'activation') not in (None, 'tanh')
    assert leaked(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / 'live-keys-plain-page.png'), full_page=True)
    assert errors == []
