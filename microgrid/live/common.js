// What the three live widgets share; _base.py puts it before each widget's own script.
// Everything here is local: no network, no libraries.

function h(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function showError(el, err) {
  const box = el.querySelector('.mg-error') || el.appendChild(h('div', 'mg-live mg-error'));
  box.textContent = 'microgrid widget error: ' + (err && err.message ? err.message : String(err));
  box.style.display = 'block';
}

// A button that says what it does (title) and which action it is (data-act).
function button(parent, act, text, title) {
  const b = h('button', 'mg-btn', text);
  b.type = 'button';
  b.dataset.act = act;
  b.title = title;
  parent.appendChild(b);
  return b;
}

// Keys typed inside the widget stay inside it: the notebook (JupyterLab, Notebook 7,
// VS Code's output webview, which hands the keys that reach it on to the editor) must not
// move to another cell on an arrow key. keyup is stopped too. Escape still leaves.
// Lab lets keydown bubble, so stopping it at the root is enough; Notebook 7 reads its
// shortcuts on the way down (capture), and skips an element marked as below.
function keepKeys(root) {
  root.dataset.lmSuppressShortcuts = 'true';
  root.addEventListener('focusin', (e) => {
    if (e.target && e.target.setAttribute) e.target.setAttribute('data-lm-suppress-shortcuts', 'true');
  });
  for (const type of ['keydown', 'keyup']) {
    root.addEventListener(type, (e) => { if (e.key !== 'Escape') e.stopPropagation(); });
  }
  root.addEventListener('keypress', (e) => e.stopPropagation());
}

// Enter in a text or number box applies its value, as Tab does.
function applyOnEnter(input, apply) {
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); apply(); }
  });
}

// The heartbeat: every PING ms each view asks the kernel "are you there?"; the kernel
// answers and learns which views are open. Without an answer for LOST ms the view says so
// and onLost(true) disables what needs the kernel. A view that never had an answer says so
// after FIRST ms: a saved notebook reopened draws each widget from its saved state, with no
// kernel behind it. Where the host marks a view whose model has no kernel connection
// (JupyterLab and Notebook 7: the class jupyter-widgets-disconnected), it says so at once.
// onLost(false) comes with the first answer and after each lost spell; alive() counts
// other messages as answers. root.dataset.lost: '1' lost, '0' not (yet).
const PING = 500, LOST = 2500, FIRST = 1500;
const NO_KERNEL = 'no kernel runs this widget: run this cell again to bring it back to life '
  + '(a saved notebook keeps its last picture only; if the kernel is busy running a cell, wait)';
const GONE = 'the kernel is not answering: if it restarted, run this cell again '
  + '(if it is busy running a cell, wait)';
function heartbeat(model, root, onLost) {
  const id = Math.random().toString(36).slice(2, 12);
  const banner = h('div', 'mg-lost', NO_KERNEL);
  banner.style.display = 'none';
  root.insertBefore(banner, root.firstChild);
  let last = Date.now(), lost = false, answered = false;
  const alive = () => {
    last = Date.now();
    if (!answered || lost) {
      answered = true; lost = false; banner.style.display = 'none'; root.dataset.lost = '0';
      banner.textContent = GONE;
      onLost(false);
    }
  };
  const onMsg = (msg) => { if (msg && msg.event === 'pong') alive(); };
  model.on('msg:custom', onMsg);
  const tick = () => {
    try { model.send({ event: 'ping', view: id }); } catch (err) { last = 0; }
    const cut = root.parentElement && root.parentElement.closest('.jupyter-widgets-disconnected');
    if (!lost && (cut || Date.now() - last > (answered ? LOST : FIRST))) {
      lost = true; banner.style.display = 'block'; root.dataset.lost = '1'; onLost(true);
    }
  };
  root.dataset.lost = '0';
  tick();
  const timer = setInterval(tick, PING);
  return {
    alive,
    get answered() { return answered; },
    stop() {
      clearInterval(timer);
      model.off('msg:custom', onMsg);
      try { model.send({ event: 'bye', view: id }); } catch (err) { /* kernel gone */ }
    },
  };
}

// A drawing in a fixed-height box: scroll or drag to pan, buttons (or Ctrl+wheel) to zoom.
// Zoom 1 is the drawing's own size, where text is at least 12 px.
function zoomView(pic, bar) {
  let zoom = 1, natural = null;
  const size = () => {
    const svg = pic.querySelector('svg');
    if (!svg) return;
    if (!natural) {
      const px = (v) => (/pt$/.test(v) ? parseFloat(v) * 4 / 3 : parseFloat(v));
      natural = [px(svg.getAttribute('width')), px(svg.getAttribute('height'))];
    }
    svg.style.maxWidth = 'none';
    svg.style.width = (natural[0] * zoom) + 'px';
    svg.style.height = (natural[1] * zoom) + 'px';
    pic.dataset.zoom = String(zoom);
    label.textContent = Math.round(zoom * 100) + '%';
  };
  const set = (z) => { zoom = Math.max(0.02, Math.min(4, z)); size(); };
  // the first zoom: the whole width if text stays >= 12 px there (75 %), else 100 %
  const initial = () => {
    if (!natural) size();
    if (!natural || !pic.clientWidth) return;
    const whole = (pic.clientWidth - 4) / natural[0];
    set(whole >= 0.75 ? Math.min(1, whole) : 1);
  };
  const fit = () => {
    if (!natural) size();
    if (natural) set(Math.min(1, (pic.clientWidth - 4) / natural[0], (pic.clientHeight - 4) / natural[1]));
  };
  button(bar, 'zoom-out', '\u2212', 'zoom out');
  const label = h('span', 'mg-zoom', '100%');
  bar.appendChild(label);
  button(bar, 'zoom-in', '+', 'zoom in').addEventListener('click', () => set(zoom * 1.25));
  bar.querySelector('[data-act="zoom-out"]').addEventListener('click', () => set(zoom / 1.25));
  button(bar, 'fit', 'fit', 'zoom to fit the whole graph').addEventListener('click', fit);
  button(bar, 'zoom-1', '1:1', 'zoom to 100% (text at least 12 px)').addEventListener('click', () => set(1));
  pic.addEventListener('wheel', (e) => {
    if (!e.ctrlKey) return;
    e.preventDefault(); set(zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1));
  }, { passive: false });
  let drag = null;
  pic.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    drag = [e.clientX, e.clientY, pic.scrollLeft, pic.scrollTop];
  });
  pic.addEventListener('pointermove', (e) => {
    if (!drag) return;
    pic.scrollLeft = drag[2] - (e.clientX - drag[0]);
    pic.scrollTop = drag[3] - (e.clientY - drag[1]);
  });
  const end = () => { drag = null; };
  pic.addEventListener('pointerup', end);
  pic.addEventListener('pointerleave', end);
  // scroll as little as needed so that an element of the drawing is in view; one larger
  // than the view shows its start. The page itself does not move.
  const shift = (start, end, lo, hi) => {
    const m = 16;
    if (end - start > hi - lo - 2 * m || start < lo + m) return start - lo - m;
    return end > hi - m ? end - hi + m : 0;
  };
  const reveal = (node) => {
    if (!node) return;
    const b = node.getBoundingClientRect(), c = pic.getBoundingClientRect();
    pic.scrollLeft += shift(b.left, b.right, c.left, c.right);
    pic.scrollTop += shift(b.top, b.bottom, c.top, c.bottom);
  };
  return { size: () => { natural = null; size(); }, set, fit, initial, reveal, get zoom() { return zoom; } };
}

// A widget whose build() throws shows the error as text, never a blank or half-built view.
function safeWidget(build) {
  return {
    render({ model, el }) {
      try {
        return build({ model, el });
      } catch (err) {
        el.textContent = '';
        showError(el, err);
        return undefined;
      }
    },
  };
}
