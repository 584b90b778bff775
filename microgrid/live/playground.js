// microgrid.live.Playground: the kernel trains; this draws what it sends.
// Pictures arrive as bytes (one per grid cell) and are painted on canvases here.
// Everything here is local: no network, no libraries. common.js is put before this
// file when the widget is made (see _base.py): h(), showError(), safeWidget().

const ORANGE = [245, 147, 34], BLUE = [8, 119, 189], WHITE = [255, 255, 255];

// t in [-1, 1]: orange (class 0) .. white .. blue (class 1)
function colour(t) {
  const c = t < 0 ? ORANGE : BLUE, a = Math.min(1, Math.abs(t)) * 0.85;
  return [0, 1, 2].map((i) => Math.round(WHITE[i] * (1 - a) + c[i] * a));
}

function bytesOf(v) {
  if (!v) return new Uint8Array(0);
  if (v instanceof Uint8Array) return v;
  if (v instanceof DataView) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (v.buffer) return new Uint8Array(v.buffer, v.byteOffset || 0, v.byteLength);
  return new Uint8Array(0);
}

function paint(canvas, bytes, offset, res) {
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(res, res);
  for (let i = 0; i < res * res; i++) {
    const c = colour((bytes[offset + i] - 127.5) / 127.5);
    img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2];
    img.data[4 * i + 3] = 255;
  }
  const tmp = document.createElement('canvas');
  tmp.width = res; tmp.height = res;
  tmp.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
}

function curve(canvas, series, lo, hi, title) {
  const ctx = canvas.getContext('2d'), W = canvas.width, H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = '#444'; ctx.font = '11px Arial, sans-serif';
  ctx.fillText(title, 4, 12);
  const n = series.length ? series[0].data.length : 0;
  if (n < 1) return;
  series.forEach((s, j) => {
    ctx.strokeStyle = s.colour; ctx.lineWidth = 1.5;
    ctx.setLineDash(s.dash || []);
    ctx.beginPath();
    s.data.forEach((y, i) => {
      const x = n === 1 ? W / 2 : 4 + (W - 8) * i / (n - 1);
      const yy = H - 4 - (H - 20) * (Math.min(hi, Math.max(lo, y)) - lo) / (hi - lo || 1);
      if (i === 0) ctx.moveTo(x, yy); else ctx.lineTo(x, yy);
    });
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = s.colour;
    ctx.fillText(s.label, W - 150 + 75 * j, 12);
  });
}

const CHOICES = {
  dataset: ['moons', 'circles', 'xor', 'spiral', 'blobs'],
  n_points: [50, 100, 200, 400],
  activation: ['relu', 'tanh', 'sigmoid', 'leaky_relu', 'linear'],
  lr: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1],
  batch_size: [1, 5, 10, 32, 64],
  l2: [0, 0.0001, 0.001, 0.01, 0.1],
  optimizer: ['sgd', 'momentum', 'adam'],
};

function build({ model, el }) {
  const root = h('div', 'mg-live mg-playground');
  const error = h('div', 'mg-error');
  const top = h('div', 'mg-pg-top');
  const btn = (act, text, title) => button(top, act, text, title);
  const reset = btn('reset', '\u21BA reset', 'new data and a new network from the settings');
  const play = btn('play', '\u25B6 play', 'train in the kernel until pause');
  const step = btn('step', '+1 step', 'one update');
  const status = h('span', 'mg-status');
  top.appendChild(status);

  const settings = h('div', 'mg-settings');
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
    values.forEach((v) => { const o = h('option', '', String(v)); o.value = String(v); s.appendChild(o); });
    s.value = String(now);
    s.addEventListener('change', () => {
      const v = typeof now === 'number' ? parseFloat(s.value) : s.value;
      model.set(name, v); model.save_changes();
    });
    return field(name, label, s);
  };
  select('dataset', 'data set');
  const noise = h('input'); noise.type = 'range'; noise.min = '0'; noise.max = '0.5'; noise.step = '0.05';
  noise.value = String(model.get('noise'));
  noise.addEventListener('change', () => { model.set('noise', parseFloat(noise.value)); model.save_changes(); });
  field('noise', 'noise', noise);
  select('n_points', 'points');
  const hidden = h('input'); hidden.type = 'text'; hidden.value = model.get('hidden').join(', ');
  hidden.title = 'hidden layer widths, e.g. 8, 8 (empty: no hidden layer)';
  hidden.addEventListener('change', () => {
    const parts = hidden.value.split(',').map((x) => x.trim()).filter((x) => x.length);
    const widths = parts.map((x) => Number(x));
    if (widths.some((w) => !Number.isInteger(w) || w < 1 || w > 64)) {
      error.textContent = 'hidden: widths must be whole numbers from 1 to 64, got "' + hidden.value + '"';
      error.style.display = 'block';
      return;
    }
    error.style.display = 'none';
    model.set('hidden', widths); model.save_changes();
  });
  field('hidden', 'hidden layers', hidden);
  select('activation', 'activation');
  select('lr', 'learning rate');
  select('batch_size', 'batch size');
  select('l2', 'L2');
  select('optimizer', 'optimizer');

  const neurons = h('div', 'mg-neurons');
  const right = h('div', 'mg-right');
  const boundary = h('canvas', 'mg-boundary');
  boundary.width = 300; boundary.height = 300;
  const caption = h('div', 'mg-caption',
    'output: orange = class 0, blue = class 1; dots: training points, rings: validation');
  const lossCanvas = h('canvas', 'mg-loss'); lossCanvas.width = 300; lossCanvas.height = 90;
  const accCanvas = h('canvas', 'mg-acc'); accCanvas.width = 300; accCanvas.height = 90;
  right.append(boundary, caption, lossCanvas, accCanvas);
  const main = h('div', 'mg-pg-main');
  main.append(settings, neurons, right);
  root.append(error, top, main);
  el.appendChild(root);

  let neuronCanvases = [];
  const layoutNeurons = () => {
    neurons.textContent = '';
    neuronCanvases = [];
    model.get('hidden').forEach((w, li) => {
      const col = h('div', 'mg-layer');
      col.appendChild(h('div', 'mg-layer-title', 'layer ' + (li + 1)));
      for (let j = 0; j < w; j++) {
        const c = h('canvas', 'mg-neuron'); c.width = 36; c.height = 36;
        c.title = 'layer ' + (li + 1) + ', neuron ' + (j + 1) + ': its output over the plane';
        col.appendChild(c); neuronCanvases.push(c);
      }
      neurons.appendChild(col);
    });
  };

  const drawPoints = () => {
    const ctx = boundary.getContext('2d');
    const [x0, x1, y0, y1] = model.get('box');
    const W = boundary.width, H = boundary.height;
    model.get('points').forEach(([x, y, label, val]) => {
      const px = (x - x0) / (x1 - x0) * W, py = (y1 - y) / (y1 - y0) * H;
      const c = label ? BLUE : ORANGE;
      ctx.beginPath(); ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
      if (val) {
        ctx.strokeStyle = 'rgb(' + c.join(',') + ')'; ctx.lineWidth = 2; ctx.stroke();
      } else {
        ctx.fillStyle = 'rgb(' + c.join(',') + ')'; ctx.fill();
        ctx.strokeStyle = '#fff'; ctx.lineWidth = 1; ctx.stroke();
      }
    });
  };

  const onFrame = () => {
    const res = model.get('resolution');
    const b = bytesOf(model.get('boundary'));
    if (b.length >= res * res) paint(boundary, b, 0, res);
    drawPoints();
    const nb = bytesOf(model.get('neurons'));
    if (neuronCanvases.length * res * res !== nb.length) layoutNeurons();
    neuronCanvases.forEach((c, i) => { if (nb.length >= (i + 1) * res * res) paint(c, nb, i * res * res, res); });
    const H = model.get('history');
    const last = (k) => (H[k] && H[k].length ? H[k][H[k].length - 1] : NaN);
    status.textContent = 'epoch ' + model.get('epoch').toFixed(1) + ' \u00B7 step ' + model.get('steps')
      + ' \u00B7 loss train ' + last('train_loss').toFixed(4) + ' val ' + last('val_loss').toFixed(4)
      + ' \u00B7 accuracy train ' + (100 * last('train_acc')).toFixed(1) + '% val '
      + (100 * last('val_acc')).toFixed(1) + '%';
    const losses = (H.train_loss || []).concat(H.val_loss || []);
    const hi = Math.max(0.1, ...losses.filter(isFinite));
    curve(lossCanvas, [
      { data: H.train_loss || [], colour: '#333', label: 'train' },
      { data: H.val_loss || [], colour: '#d62728', dash: [4, 3], label: 'validation' },
    ], 0, hi, 'loss');
    curve(accCanvas, [
      { data: H.train_acc || [], colour: '#333', label: 'train' },
      { data: H.val_acc || [], colour: '#d62728', dash: [4, 3], label: 'validation' },
    ], 0, 1, 'accuracy');
    root.dataset.frame = String(model.get('frame'));
  };
  const onRunning = () => {
    const on = model.get('running');
    play.textContent = on ? '\u275A\u275A pause' : '\u25B6 play';
    step.disabled = on;
    root.dataset.running = on ? '1' : '0';
  };
  const onSettings = () => {
    settings.querySelectorAll('[data-setting]').forEach((input) => {
      const v = model.get(input.dataset.setting);
      if (document.activeElement === input) return;
      input.value = Array.isArray(v) ? v.join(', ') : String(v);
    });
  };
  const onError = () => {
    const m = model.get('error');
    error.textContent = m; error.style.display = m ? 'block' : 'none';
  };
  play.addEventListener('click', () => { model.set('running', !model.get('running')); model.save_changes(); onRunning(); });
  step.addEventListener('click', () => model.send({ event: 'step' }));
  reset.addEventListener('click', () => model.send({ event: 'reset' }));
  const names = ['dataset', 'noise', 'n_points', 'hidden', 'activation', 'lr', 'batch_size', 'l2', 'optimizer'];
  model.on('change:frame', onFrame);
  model.on('change:running', onRunning);
  model.on('change:error', onError);
  names.forEach((n) => model.on('change:' + n, onSettings));
  layoutNeurons();
  onFrame(); onRunning(); onError();
  root.dataset.ready = '1';
  return () => {
    model.off('change:frame', onFrame);
    model.off('change:running', onRunning);
    model.off('change:error', onError);
    names.forEach((n) => model.off('change:' + n, onSettings));
  };
}

export default safeWidget(build);
