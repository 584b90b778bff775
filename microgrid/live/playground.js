// microgrid.live.Playground: the kernel trains; this draws what it sends.
// Pictures arrive as bytes (one per grid cell) and are painted on canvases here; curves
// arrive as a history sent now and then plus the points that are new since.
// Everything here is local: no network, no libraries. common.js is put before this
// file when the widget is made (see _base.py): h(), button(), keepKeys(), heartbeat().

// The static plots' colours (microgrid.plot, matplotlib's): class 0 blue, class 1 orange.
const CLASS0 = [31, 119, 180], CLASS1 = [255, 127, 14], WHITE = [255, 255, 255];
const POSITIVE = '#1f77b4', NEGATIVE = '#ff7f0e';  // weights: blue > 0, orange < 0
const KEYS = ['step', 'epoch', 'train_loss', 'val_loss', 'train_acc', 'val_acc'];
const FEATURES = ['x1', 'x2', 'x1^2', 'x2^2', 'x1*x2', 'sin x1', 'sin x2'];
const FEATURE_TEXT = { 'x1^2': 'x1\u00B2', 'x2^2': 'x2\u00B2', 'x1*x2': 'x1\u00B7x2' };

// t in [-1, 1]: class 0 .. white .. class 1, at most 70% strong so points stay visible
function colour(t) {
  const c = t < 0 ? CLASS0 : CLASS1, a = Math.min(1, Math.abs(t)) * 0.7;
  return [0, 1, 2].map((i) => Math.round(WHITE[i] * (1 - a) + c[i] * a));
}
const rgb = (c) => 'rgb(' + c.join(',') + ')';

function bytesOf(v) {
  if (!v) return new Uint8Array(0);
  if (v instanceof Uint8Array) return v;
  if (v instanceof DataView) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (v.buffer) return new Uint8Array(v.buffer, v.byteOffset || 0, v.byteLength);
  return new Uint8Array(0);
}

// a res x res picture, smoothly scaled into (x, y, w, h) of the canvas
function paint(canvas, bytes, offset, res, x, y, w, hgt) {
  const ctx = canvas.getContext('2d');
  const img = new ImageData(res, res);
  for (let i = 0; i < res * res; i++) {
    const c = colour((bytes[offset + i] - 127.5) / 127.5);
    img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2];
    img.data[4 * i + 3] = 255;
  }
  const tmp = document.createElement('canvas');
  tmp.width = res; tmp.height = res;
  tmp.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(tmp, x || 0, y || 0, w || canvas.width, hgt || canvas.height);
}

// a chart with its axes: values on the left, epochs along the bottom
function curve(canvas, xs, series, lo, hi, title) {
  const ctx = canvas.getContext('2d'), W = canvas.width, H = canvas.height;
  const L = 40, R = 8, T = 16, B = 18, pw = W - L - R, ph = H - T - B;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
  ctx.font = '12px Arial, sans-serif'; ctx.fillStyle = '#333';
  ctx.fillText(title, L, 12);
  ctx.strokeStyle = '#999'; ctx.lineWidth = 1;
  ctx.strokeRect(L + 0.5, T + 0.5, pw, ph);
  ctx.textAlign = 'right';
  [lo, (lo + hi) / 2, hi].forEach((v) => {
    const y = T + ph - ph * (v - lo) / (hi - lo || 1);
    ctx.fillText(String(Math.round(v * 100) / 100), L - 4, y + 4);
  });
  ctx.textAlign = 'left';
  const n = xs.length, x0 = n ? xs[0] : 0, x1 = n ? xs[n - 1] : 1;
  ctx.fillText('epoch ' + (Math.round(x0 * 10) / 10), L, H - 4);
  ctx.textAlign = 'right';
  ctx.fillText(String(Math.round(x1 * 10) / 10), L + pw, H - 4);
  ctx.textAlign = 'left';
  series.forEach((s, j) => {
    ctx.strokeStyle = s.colour; ctx.lineWidth = 1.5;
    ctx.setLineDash(s.dash || []);
    ctx.beginPath();
    s.data.forEach((v, i) => {
      const x = L + (n === 1 ? pw / 2 : pw * (xs[i] - x0) / (x1 - x0 || 1));
      const y = T + ph - ph * (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo || 1);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = s.colour;
    ctx.fillText(s.label, W - 110 + 50 * j, 12);
  });
}

const CHOICES = {
  dataset: ['moons', 'circles', 'xor', 'spiral', 'blobs', 'plane', 'gaussians'],
  problem: ['classification', 'regression'],
  n_points: [50, 100, 200, 400],
  activation: ['relu', 'tanh', 'sigmoid', 'leaky_relu', 'linear'],
  lr: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1],
  batch_size: [1, 5, 10, 32, 64],
  l1: [0, 0.0001, 0.001, 0.01, 0.1],
  l2: [0, 0.0001, 0.001, 0.01, 0.1],
  optimizer: ['sgd', 'momentum', 'adam'],
  speed: [0, 1, 3, 10, 30, 100],
  resolution: [32, 48, 64, 80, 100],
};
const REGRESSION = ['plane', 'gaussians'];
const LABELS = {
  speed: (v) => (v === 0 ? 'fastest' : v + ' steps/s'),
  dataset: (v) => (REGRESSION.includes(v) ? v + ' (regression)' : v),
};

function build({ model, el }) {
  const root = h('div', 'mg-live mg-playground');
  const error = h('div', 'mg-error');
  const top = h('div', 'mg-pg-top');
  const btn = (act, text, title) => button(top, act, text, title);
  const reset = btn('reset', '\u21BA reset', 'new weights from the seed, same data; back to step 0');
  const play = btn('play', '\u25B6 play', 'train in the kernel until pause');
  const step = btn('step', '+1 step', 'one update');
  const regen = btn('regenerate', 'new data', 'regenerate the data (and weights): seed + 1');
  const status = h('span', 'mg-status');
  const notice = h('span', 'mg-notice');
  top.append(status, notice);

  const settings = h('div', 'mg-settings');
  const send = (name, v) => { model.set(name, v); model.save_changes(); };
  const field = (name, label, input) => {
    settings.append(h('label', '', label), input);
    input.dataset.setting = name;
    return input;
  };
  const select = (name, label) => {
    const s = h('select');
    const values = CHOICES[name].slice();
    const now = model.get(name);
    if (!values.includes(now)) values.push(now);
    values.forEach((v) => {
      const o = h('option', '', LABELS[name] ? LABELS[name](v) : String(v));
      o.value = String(v); s.appendChild(o);
    });
    s.value = String(now);
    s.addEventListener('change', () => send(name, typeof now === 'number' ? parseFloat(s.value) : s.value));
    return field(name, label, s);
  };
  const range = (name, label, lo, hi, stepSize) => {
    const r = h('input'); r.type = 'range'; r.min = lo; r.max = hi; r.step = stepSize;
    r.value = String(model.get(name));
    r.addEventListener('change', () => send(name, parseFloat(r.value)));
    return field(name, label, r);
  };
  const check = (name, label) => {
    const c = h('input'); c.type = 'checkbox'; c.checked = model.get(name);
    c.addEventListener('change', () => send(name, c.checked));
    return field(name, label, c);
  };
  // the problem follows the data set: choosing one picks that kind's first data set
  const problem = h('select');
  CHOICES.problem.forEach((v) => { const o = h('option', '', v); o.value = v; problem.appendChild(o); });
  problem.value = model.get('problem');
  problem.addEventListener('change', () => send('dataset', problem.value === 'regression' ? 'plane' : 'moons'));
  field('problem', 'problem', problem);
  select('dataset', 'data set');
  range('noise', 'noise', '0', '0.5', '0.05');
  select('n_points', 'points');
  range('val_fraction', 'test share', '0.1', '0.9', '0.05');
  const hidden = h('input'); hidden.type = 'text'; hidden.value = model.get('hidden').join(', ');
  hidden.title = 'hidden layer widths, e.g. 8, 8 (empty: no hidden layer); Enter applies';
  const applyHidden = () => {
    const parts = hidden.value.split(',').map((x) => x.trim()).filter((x) => x.length);
    const widths = parts.map((x) => Number(x));
    if (widths.some((w) => !Number.isInteger(w) || w < 1 || w > 64) || widths.length > 6) {
      error.textContent = 'hidden: up to 6 widths, whole numbers from 1 to 64; got "' + hidden.value + '"';
      error.style.display = 'block';
      return;
    }
    error.style.display = 'none';
    send('hidden', widths);
  };
  hidden.addEventListener('change', applyHidden);
  applyOnEnter(hidden, applyHidden);
  field('hidden', 'hidden layers', hidden);
  select('activation', 'activation');
  select('lr', 'learning rate');
  select('batch_size', 'batch size');
  select('l1', 'L1');
  select('l2', 'L2');
  select('optimizer', 'optimizer');
  select('speed', 'speed');
  const seed = h('input'); seed.type = 'number'; seed.min = '0'; seed.step = '1';
  seed.value = String(model.get('seed')); seed.title = 'the seed of the data and the weights; Enter applies';
  const applySeed = () => {
    const v = Number(seed.value);
    if (Number.isInteger(v) && v >= 0) send('seed', v);
  };
  seed.addEventListener('change', applySeed);
  applyOnEnter(seed, applySeed);
  field('seed', 'seed', seed);
  select('resolution', 'resolution');
  check('show_test', 'show test data');
  check('discretize', 'discretize output');

  // the network: feature toggles, neurons (their output maps) and weighted edges
  const net = h('div', 'mg-net');
  const netBar = h('div', 'mg-controls mg-netbar');
  const layersText = h('span', 'mg-count');
  button(netBar, 'layer-minus', '\u2212', 'one hidden layer less').addEventListener('click', () => {
    send('hidden', model.get('hidden').slice(0, -1));
  });
  netBar.appendChild(layersText);
  button(netBar, 'layer-plus', '+', 'one hidden layer more').addEventListener('click', () => {
    const w = model.get('hidden');
    if (w.length < 6) send('hidden', w.concat([w.length ? w[w.length - 1] : 4]));
  });
  const columns = h('div', 'mg-columns');
  const netBox = h('div', 'mg-netbox');
  netBox.innerHTML = '<svg class="mg-edges"></svg>';  // the parser gives it SVG's namespace
  const edgeSvg = netBox.firstChild;
  const svgNode = (tag) => document.createElementNS(edgeSvg.namespaceURI, tag);
  netBox.appendChild(columns);
  net.append(netBar, netBox);

  const right = h('div', 'mg-right');
  const big = h('canvas', 'mg-boundary');
  big.width = 330; big.height = 322;
  const legend = h('canvas', 'mg-colour-legend'); legend.width = 330; legend.height = 30;
  const CAPTION = 'dots: training points; rings: test points. Hover a neuron to see its output here.';
  const caption = h('div', 'mg-caption', CAPTION);
  const lossCanvas = h('canvas', 'mg-loss'); lossCanvas.width = 330; lossCanvas.height = 110;
  const accCanvas = h('canvas', 'mg-acc'); accCanvas.width = 330; accCanvas.height = 110;
  right.append(big, legend, caption, lossCanvas, accCanvas);
  const main = h('div', 'mg-pg-main');
  main.append(settings, net, right);
  root.append(error, top, main);
  el.appendChild(root);
  keepKeys(root);

  // the big picture: plot area with axes
  const PL = 28, PT = 4, PS = 292;
  let hovered = -1, neuronCanvases = [], edges = [];
  const isRegression = () => model.get('problem') === 'regression';
  const drawLegend = () => {
    const ctx = legend.getContext('2d');
    const words = isRegression() ? ['output -1', '0', '+1'] : ['class 0 (p = 0)', '0.5', 'class 1 (p = 1)'];
    ctx.clearRect(0, 0, legend.width, legend.height);
    for (let i = 0; i <= 100; i++) {
      ctx.fillStyle = rgb(colour(i / 50 - 1));
      ctx.fillRect(PL + i * PS / 101, 2, PS / 101 + 1, 12);
    }
    ctx.strokeStyle = '#888'; ctx.strokeRect(PL + 0.5, 2.5, PS, 12);
    ctx.fillStyle = '#333'; ctx.font = '12px Arial, sans-serif';
    ctx.fillText(words[0], PL, 27);
    ctx.textAlign = 'center'; ctx.fillText(words[1], PL + PS / 2, 27);
    ctx.textAlign = 'right'; ctx.fillText(words[2], PL + PS, 27);
    ctx.textAlign = 'left';
  };
  const axes = () => {
    const ctx = big.getContext('2d');
    const [x0, x1, y0, y1] = model.get('box');
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, big.width, big.height);
    ctx.fillStyle = '#333'; ctx.font = '12px Arial, sans-serif';
    for (let v = Math.ceil(x0); v <= x1; v++) {
      const px = PL + (v - x0) / (x1 - x0) * PS;
      ctx.textAlign = 'center'; ctx.fillText(String(v), px, PT + PS + 14);
      const py = PT + (y1 - v) / (y1 - y0) * PS;
      ctx.textAlign = 'right'; ctx.fillText(String(v), PL - 4, py + 4);
    }
    ctx.textAlign = 'left';
  };
  const drawPoints = () => {
    const ctx = big.getContext('2d');
    const [x0, x1, y0, y1] = model.get('box');
    const showTest = model.get('show_test');
    model.get('points').forEach(([x, y, label, val]) => {
      if (val && !showTest) return;
      const px = PL + (x - x0) / (x1 - x0) * PS, py = PT + (y1 - y) / (y1 - y0) * PS;
      // a class's own colour; for a regression, the target's colour at full strength
      const t = isRegression() ? Math.max(-1, Math.min(1, label)) : (label ? 1 : -1);
      const full = t < 0 ? CLASS0 : CLASS1, a = Math.abs(t);
      const c = rgb([0, 1, 2].map((i) => Math.round(WHITE[i] * (1 - a) + full[i] * a)));
      ctx.beginPath(); ctx.arc(px, py, 4, 0, 2 * Math.PI);
      ctx.fillStyle = val ? '#fff' : c; ctx.fill();
      ctx.lineWidth = val ? 2.5 : 1; ctx.strokeStyle = val ? c : '#222'; ctx.stroke();
      if (val) { ctx.beginPath(); ctx.arc(px, py, 5.3, 0, 2 * Math.PI); ctx.lineWidth = 0.8; ctx.strokeStyle = '#222'; ctx.stroke(); }
    });
  };
  const drawBig = () => {
    axes();
    const res = model.get('resolution'), nres = model.get('neuron_resolution');
    if (hovered >= 0) {
      const r = Math.min(res, nres), nb = bytesOf(model.get('neurons'));
      if (nb.length >= (hovered + 1) * r * r) paint(big, nb, hovered * r * r, r, PL, PT, PS, PS);
    } else {
      const b = bytesOf(model.get('boundary'));
      if (b.length >= res * res) paint(big, b, 0, res, PL, PT, PS, PS);
    }
    big.getContext('2d').strokeStyle = '#888';
    big.getContext('2d').strokeRect(PL + 0.5, PT + 0.5, PS, PS);
    drawPoints();
  };

  const layoutNet = () => {
    columns.textContent = '';
    neuronCanvases = [];
    const hiddenW = model.get('hidden');
    columns.classList.toggle('mg-small', Math.max(0, ...hiddenW) > 10);
    layersText.textContent = hiddenW.length + ' hidden layer' + (hiddenW.length === 1 ? '' : 's');
    const cols = [];
    const inputs = h('div', 'mg-layer');
    inputs.appendChild(h('div', 'mg-layer-title', 'features'));
    const chosen = model.get('features');
    FEATURES.forEach((f) => {
      const b = button(inputs, 'feature', FEATURE_TEXT[f] || f, 'use ' + f + ' as an input (click to toggle)');
      b.dataset.feature = f;
      b.classList.toggle('mg-on', chosen.includes(f));
      b.addEventListener('click', () => {
        const now = model.get('features');
        const next = now.includes(f) ? now.filter((x) => x !== f) : now.concat([f]);
        if (next.length) send('features', next);
      });
    });
    columns.appendChild(inputs);
    cols.push(Array.from(inputs.querySelectorAll('.mg-on')));
    hiddenW.forEach((w, li) => {
      const col = h('div', 'mg-layer');
      const bar = h('div', 'mg-layer-title');
      const minus = button(bar, 'neuron-minus', '\u2212', 'one neuron less in layer ' + (li + 1));
      bar.appendChild(h('span', '', ' ' + w + ' '));
      const plus = button(bar, 'neuron-plus', '+', 'one neuron more in layer ' + (li + 1));
      const change = (d) => {
        const ws = model.get('hidden').slice();
        ws[li] = Math.max(1, Math.min(64, ws[li] + d));
        send('hidden', ws);
      };
      minus.addEventListener('click', () => change(-1));
      plus.addEventListener('click', () => change(1));
      col.appendChild(bar);
      const list = [];
      for (let j = 0; j < w; j++) {
        const c = h('canvas', 'mg-neuron'); c.width = 36; c.height = 36;
        const index = neuronCanvases.length;
        c.title = 'layer ' + (li + 1) + ', neuron ' + (j + 1) + ': its output over the plane';
        c.addEventListener('mouseenter', () => {
          hovered = index; drawBig();
          caption.textContent = 'shown: layer ' + (li + 1) + ', neuron ' + (j + 1) + "'s output (blue < 0 < orange)";
        });
        c.addEventListener('mouseleave', () => { hovered = -1; drawBig(); caption.textContent = CAPTION; });
        col.appendChild(c); neuronCanvases.push(c); list.push(c);
      }
      columns.appendChild(col);
      cols.push(list);
    });
    const out = h('div', 'mg-layer');
    out.appendChild(h('div', 'mg-layer-title', 'output'));
    const o = h('div', 'mg-out-node', 'p');
    out.appendChild(o);
    columns.appendChild(out);
    cols.push([o]);
    // edges: one SVG line per weight, placed after the columns are laid out
    edgeSvg.textContent = '';
    edges = [];
    requestAnimationFrame(() => {
      const base = netBox.getBoundingClientRect();
      edgeSvg.setAttribute('width', String(netBox.scrollWidth));
      edgeSvg.setAttribute('height', String(netBox.scrollHeight));
      for (let l = 1; l < cols.length; l++) {
        cols[l].forEach((to, j) => {
          cols[l - 1].forEach((from, i) => {
            const a = from.getBoundingClientRect(), b = to.getBoundingClientRect();
            const line = svgNode('line');
            line.setAttribute('x1', String(a.right - base.left));
            line.setAttribute('y1', String((a.top + a.bottom) / 2 - base.top));
            line.setAttribute('x2', String(b.left - base.left));
            line.setAttribute('y2', String((b.top + b.bottom) / 2 - base.top));
            const t = svgNode('title');
            line.appendChild(t);
            edgeSvg.appendChild(line);
            line.setAttribute('stroke-opacity', '0.6');
            edges.push({ line, t, layer: l - 1, k: j * cols[l - 1].length + i, w: undefined });
          });
        });
      }
      drawEdges(true);
    });
  };
  // weights change slowly to the eye: the edges follow twice a second, the hover text on demand
  let edgesAt = 0;
  const drawEdges = (force) => {
    const now = performance.now();
    if (force !== true && now - edgesAt < 500) return;
    edgesAt = now;
    const Wts = model.get('weights') || [];
    edges.forEach((e) => {
      const w = Wts[e.layer] ? Wts[e.layer][e.k] : undefined;
      if (w === undefined || w === e.w) return;
      e.w = w;
      e.line.setAttribute('stroke', w >= 0 ? POSITIVE : NEGATIVE);
      e.line.setAttribute('stroke-width', String(Math.min(6, 0.4 + 1.5 * Math.abs(w)).toFixed(1)));
    });
  };
  edgeSvg.addEventListener('mouseover', (ev) => {
    const e = edges.find((x) => x.line === ev.target);
    if (e) e.t.textContent = 'weight ' + e.w;
  });
  const history = () => {
    const H = model.get('history') || {};
    const rows = model.get('recent') || [];
    const out = {};
    KEYS.forEach((k, i) => { out[k] = (H[k] || []).concat(rows.map((r) => r[i])); });
    return out;
  };
  const fmt4 = (x) => (Number.isFinite(x) ? x.toFixed(4) : '-');
  const onFrame = () => {
    drawBig();
    const nres = Math.min(model.get('resolution'), model.get('neuron_resolution'));
    const nb = bytesOf(model.get('neurons'));
    const want = model.get('hidden').reduce((a, b) => a + b, 0);
    if (neuronCanvases.length !== want) layoutNet();
    const dead = new Set(model.get('dead'));
    neuronCanvases.forEach((c, i) => {
      if (nb.length >= (i + 1) * nres * nres) paint(c, nb, i * nres * nres, nres);
      c.classList.toggle('mg-dead', dead.has(i));
    });
    drawEdges();
    const H = history();
    const last = (k) => (H[k].length ? H[k][H[k].length - 1] : NaN);
    const reg = isRegression();
    accCanvas.style.display = reg ? 'none' : '';
    status.textContent = 'epoch ' + model.get('epoch').toFixed(1) + ' \u00B7 step ' + model.get('steps')
      + ' \u00B7 loss' + (reg ? ' (mean squared error)' : '') + ' train ' + fmt4(last('train_loss'))
      + ' test ' + fmt4(last('val_loss'))
      + (reg ? '' : ' \u00B7 accuracy train ' + (100 * last('train_acc')).toFixed(1) + '% test '
        + (100 * last('val_acc')).toFixed(1) + '%')
      + (dead.size ? ' \u00B7 ' + dead.size + ' dead unit' + (dead.size > 1 ? 's' : '') : '');
    const losses = H.train_loss.concat(H.val_loss).filter(Number.isFinite);
    const hi = Math.max(0.1, ...losses);
    curve(lossCanvas, H.epoch, [
      { data: H.train_loss, colour: '#333', label: 'train' },
      { data: H.val_loss, colour: '#d62728', dash: [4, 3], label: 'test' },
    ], 0, hi, 'loss');
    curve(accCanvas, H.epoch, [
      { data: H.train_acc, colour: '#333', label: 'train' },
      { data: H.val_acc, colour: '#d62728', dash: [4, 3], label: 'test' },
    ], 0, 1, 'accuracy');
    root.dataset.frame = String(model.get('frame'));
    root.dataset.painted = String(parseInt(root.dataset.painted || '0', 10) + 1);
  };
  // until the kernel first answers, nothing claims to play: a saved notebook reopened
  // restores running=true with no kernel behind it
  let lost = true;
  const onRunning = () => {
    const on = model.get('running') && !lost;
    play.textContent = on ? '\u275A\u275A pause' : '\u25B6 play';
    // every setting and button asks the kernel; without one they are greyed out
    root.querySelectorAll('input, select, button').forEach((i) => { i.disabled = lost; });
    step.disabled = on || lost;
    root.dataset.running = on ? '1' : '0';
  };
  const onSettings = () => {
    settings.querySelectorAll('[data-setting]').forEach((input) => {
      const v = model.get(input.dataset.setting);
      if (document.activeElement === input) return;
      if (input.type === 'checkbox') input.checked = v;
      else input.value = Array.isArray(v) ? v.join(', ') : String(v);
    });
  };
  const onError = () => {
    const m = model.get('error');
    error.textContent = m; error.style.display = m ? 'block' : 'none';
  };
  const onNotice = () => { notice.textContent = model.get('notice'); };
  play.addEventListener('click', () => { send('running', !model.get('running')); onRunning(); });
  step.addEventListener('click', () => model.send({ event: 'step' }));
  reset.addEventListener('click', () => model.send({ event: 'reset' }));
  regen.addEventListener('click', () => model.send({ event: 'regenerate' }));
  const names = ['problem', 'dataset', 'noise', 'n_points', 'val_fraction', 'hidden', 'activation', 'lr',
    'batch_size', 'l1', 'l2', 'optimizer', 'speed', 'seed', 'resolution', 'show_test', 'discretize'];
  const relayout = () => layoutNet();
  const beat = heartbeat(model, root, (isLost) => { lost = isLost; onRunning(); });
  const onNewFrame = () => { beat.alive(); onFrame(); };  // a frame is an answer too
  model.on('change:frame', onNewFrame);
  model.on('change:running', onRunning);
  model.on('change:error', onError);
  model.on('change:notice', onNotice);
  model.on('change:features', relayout);
  model.on('change:hidden', relayout);
  model.on('change:show_test', drawBig);
  model.on('change:problem', drawLegend);
  names.forEach((n) => model.on('change:' + n, onSettings));
  drawLegend();
  layoutNet();
  onFrame(); onRunning(); onError(); onNotice();
  root.dataset.ready = '1';
  return () => {
    beat.stop();
    model.off('change:frame', onNewFrame);
    model.off('change:running', onRunning);
    model.off('change:error', onError);
    model.off('change:notice', onNotice);
    model.off('change:features', relayout);
    model.off('change:hidden', relayout);
    model.off('change:show_test', drawBig);
    model.off('change:problem', drawLegend);
    names.forEach((n) => model.off('change:' + n, onSettings));
  };
}

export default safeWidget(build);
