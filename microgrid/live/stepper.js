// microgrid.live.Stepper: backward() one chain-rule step at a time.
// The SVG is laid out once in Python; each step changes only texts and colours.
// Everything here is local: no network, no libraries. common.js is put before this
// file when the widget is made (see _base.py): h(), showError(), safeWidget().

function legendItem(colour, border, text) {
  const item = h('span', 'mg-legend-item');
  const sw = h('span', 'mg-swatch');
  sw.style.background = colour;
  sw.style.borderColor = border;
  item.append(sw, document.createTextNode(text));
  return item;
}

function build({ model, el }) {
  const S = model.get('scene');
  const P = S.prefix;
  const root = h('div', 'mg-live mg-stepper');
  root.tabIndex = 0;
  const error = h('div', 'mg-error');
  const pic = h('div', 'mg-svg mg-view');
  pic.innerHTML = model.get('svg');
  const viewBar = h('div', 'mg-controls mg-viewbar');
  const controls = h('div', 'mg-controls');
  const btn = (act, text, title) => button(controls, act, text, title);
  const reset = btn('reset', '\u21BA reset', 'back to the seed step (Home)');
  const prev = btn('prev', '\u25C0 prev', 'previous step (left arrow)');
  const play = btn('play', '\u25B6 play', 'play / pause (space)');
  const next = btn('next', 'next \u25B6', 'next step (right arrow)');
  const slider = h('input', 'mg-slider');
  slider.type = 'range'; slider.min = '0'; slider.step = '1';
  slider.setAttribute('aria-label', 'step');
  const count = h('span', 'mg-count');
  controls.append(slider, count);
  if (model.get('can_collapse')) {  // names=model: each neuron can be drawn as one box
    const boxes = model.get('collapsed');
    const toggle = btn('collapse', boxes ? 'show every node' : 'neurons as boxes',
      boxes ? 'draw every node of the graph again' : 'draw each neuron as one box');
    toggle.setAttribute('aria-pressed', boxes ? 'true' : 'false');
    toggle.addEventListener('click', () => {
      model.set('collapsed', !model.get('collapsed'));
      model.save_changes();  // the kernel sends the other drawing; the step stays
    });
  }
  const chain = h('div', 'mg-chain');
  const legend = h('div', 'mg-legend');
  legend.append(
    legendItem('#fff', S.highlight, 'red: the edge of this step and the node it updates'),
    legendItem(S.partialFill, '#333', 'yellow: some of its gradient has arrived'),
    legendItem(S.doneFill, '#333', 'green: all of its gradient has arrived'),
    legendItem(S.leafFill, '#333', 'blue: a leaf (an input or a parameter)'),
    h('span', 'mg-legend-item', "'" + S.unknown + "': not reached yet \u00B7 number on an edge: "
      + 'the local derivative d(child)/d(parent)'),
  );
  if (S.shown && S.shown.length < S.n) {
    legend.append(h('span', 'mg-legend-item', 'rounded box: a neuron (its sum, its activation '
      + 'and its parameters, folded in); a step inside it colours the box'));
  }
  root.append(error, controls, chain, viewBar, pic, legend);
  el.appendChild(root);
  keepKeys(root);
  const view = zoomView(pic, viewBar);
  view.size();

  const frames = model.get('frames');
  slider.max = String(frames.length - 1);
  const byId = (key) => pic.querySelector('[id="' + P + key + '"]');
  const gradText = [], box = [], boxFill = [];
  // the nodes drawn: all of them, or (neurons collapsed into boxes) the boxes and the rest
  const shown = S.shown || Array.from({ length: S.n }, (_, i) => i);
  for (const i of shown) {
    const g = byId('v' + i);
    const texts = g.getElementsByTagName('text');
    gradText[i] = texts[texts.length - 1];
    const b = g.querySelector('polygon, path, ellipse');
    box[i] = b; boxFill[i] = b.getAttribute('fill');
  }
  let saved = [];
  const remember = (node, names) => {
    const old = {};
    names.forEach((n) => { old[n] = node.getAttribute(n); });
    saved.push([node, old]);
  };
  const cool = () => {
    saved.forEach(([node, old]) => {
      for (const n in old) {
        if (old[n] === null) node.removeAttribute(n); else node.setAttribute(n, old[n]);
      }
    });
    saved = [];
  };
  const heat = (key) => {
    const g = byId(key);
    const isEdge = key[0] === 'e' || key[0] === 'f';
    remember(g, ['class']);
    g.setAttribute('class', (g.getAttribute('class') || '') + ' current');
    for (let c = g.firstElementChild; c; c = c.nextElementSibling) {
      const tag = c.tagName.toLowerCase();
      if (tag === 'text') {
        if (isEdge) { remember(c, ['fill']); c.setAttribute('fill', S.hot); }
      } else if (['path', 'polygon', 'ellipse', 'polyline'].includes(tag)) {
        const names = ['stroke', 'stroke-width'];
        if (isEdge && tag === 'polygon') names.push('fill');
        remember(c, names);
        names.forEach((n) => c.setAttribute(n, n === 'stroke-width' ? S.hotWidth : S.hot));
      }
    }
  };
  const show = (k) => {
    k = Math.max(0, Math.min(frames.length - 1, k | 0));
    cool();
    for (const i of shown) {
      gradText[i].textContent = S.unknown;
      box[i].setAttribute('fill', boxFill[i] || 'none');
    }
    for (let j = 0; j <= k; j++) {
      const f = frames[j];
      gradText[f[0]].textContent = f[1];
      box[f[0]].setAttribute('fill', S.fills[f[2]]);
    }
    frames[k][3].forEach(heat);
    view.reveal(byId('v' + frames[k][0]));  // the node whose grad this step changes
    chain.textContent = frames[k][4];
    slider.value = String(k);
    count.textContent = 'step ' + (k + 1) + ' / ' + frames.length;
    root.dataset.position = String(k);
  };
  const goto = (k) => {
    k = Math.max(0, Math.min(frames.length - 1, k));
    if (k !== model.get('position')) {
      model.set('position', k);
      model.save_changes();
    }
    show(k);
  };
  let timer = null;
  const stopTimer = () => {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.textContent = '\u25B6 play';
  };
  const startTimer = () => {
    stopTimer();
    play.textContent = '\u275A\u275A pause';
    timer = setInterval(() => {
      const k = model.get('position');
      if (k >= frames.length - 1) { setPlaying(false); return; }
      goto(k + 1);
    }, Math.max(20, model.get('interval')));
  };
  const setPlaying = (on) => {
    if (on !== model.get('playing')) {
      model.set('playing', on);
      model.save_changes();
    }
    if (on) startTimer(); else stopTimer();
  };
  const togglePlay = () => {
    if (model.get('playing')) { setPlaying(false); return; }
    if (model.get('position') >= frames.length - 1) goto(0);
    setPlaying(true);
  };
  const stepBy = (d) => { setPlaying(false); goto(model.get('position') + d); };
  prev.addEventListener('click', () => stepBy(-1));
  next.addEventListener('click', () => stepBy(1));
  reset.addEventListener('click', () => { setPlaying(false); goto(0); });
  play.addEventListener('click', togglePlay);
  slider.addEventListener('input', () => { setPlaying(false); goto(parseInt(slider.value, 10)); });
  root.addEventListener('keydown', (e) => {
    if (e.target === slider && e.key.startsWith('Arrow')) return;
    const n = frames.length;
    let handled = true;
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') stepBy(1);
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') stepBy(-1);
    else if (e.key === 'Home') { setPlaying(false); goto(0); }
    else if (e.key === 'End') { setPlaying(false); goto(n - 1); }
    else if (e.key === ' ') togglePlay();
    else handled = false;
    if (handled) { e.preventDefault(); e.stopPropagation(); }
  });
  const onPosition = () => show(model.get('position'));
  const onPlaying = () => { if (model.get('playing')) startTimer(); else stopTimer(); };
  const onError = () => {
    const m = model.get('error');
    error.textContent = m; error.style.display = m ? 'block' : 'none';
  };
  model.on('change:position', onPosition);
  model.on('change:playing', onPlaying);
  model.on('change:error', onError);
  show(model.get('position'));
  requestAnimationFrame(() => {  // once on the page: its zoom, and the current step in view
    view.initial();
    view.reveal(byId('v' + frames[model.get('position')][0]));
  });
  onError();
  if (model.get('playing')) startTimer();
  // every step is already here: the buttons keep working while the banner says the kernel
  // is gone; only the other drawing (neurons as boxes or not) needs the kernel
  const beat = heartbeat(model, root, (lost) => {
    const toggle = controls.querySelector('[data-act="collapse"]');
    if (toggle) toggle.disabled = lost;
  });
  root.dataset.ready = '1';
  return () => {
    beat.stop();
    stopTimer();
    model.off('change:position', onPosition);
    model.off('change:playing', onPlaying);
    model.off('change:error', onError);
  };
}

// The kernel sends a new drawing when the neurons are collapsed or expanded (the scene
// trait changes last): the widget is built again on it, at the same step.
function mount({ model, el }) {
  let stop = build({ model, el });
  const redraw = () => {
    const focused = el.contains(document.activeElement);
    if (stop) stop();
    el.textContent = '';
    try {
      stop = build({ model, el });
    } catch (err) {
      stop = undefined;
      showError(el, err);
      return;
    }
    if (focused) el.querySelector('.mg-stepper').focus();
  };
  model.on('change:scene', redraw);
  return () => {
    model.off('change:scene', redraw);
    if (stop) stop();
  };
}

export default safeWidget(mount);
