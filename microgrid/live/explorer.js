// microgrid.live.Explorer: a slider per leaf; the kernel re-runs forward and backward
// on each change and sends back every number, written into the same drawing.
// Everything here is local: no network, no libraries. common.js is put before this
// file when the widget is made (see _base.py): h(), showError(), safeWidget().

// Numbers arrive written by the kernel (microgrid.labels.fmt), so every place agrees.

function build({ model, el }) {
  const root = h('div', 'mg-live mg-explorer');
  const error = h('div', 'mg-error');
  const pic = h('div', 'mg-svg mg-view');
  const viewBar = h('div', 'mg-controls mg-viewbar');
  const table = h('div', 'mg-leaves');
  const nudge = h('div', 'mg-nudge');
  const nudgeRow = h('div', 'mg-nudge-row');
  nudgeRow.appendChild(nudge);
  const pin = button(nudgeRow, 'pin', 'nudge from here', 'measure nudges from the current point');
  root.append(error, table, nudgeRow, viewBar, pic);
  el.appendChild(root);
  keepKeys(root);
  const zoom = zoomView(pic, viewBar);

  const texts = (key) => {
    const g = pic.querySelector('[id="' + model.get('prefix') + key + '"]');
    return g ? Array.from(g.getElementsByTagName('text')) : [];
  };
  let shown = false;
  const drawSvg = () => {
    pic.innerHTML = model.get('svg');
    zoom.size();
    // a large graph opens on its output (the last node), not on an empty corner
    const last = pic.querySelector('[id="' + model.get('prefix') + 'v' + (model.get('view').data.length - 1) + '"]');
    requestAnimationFrame(() => {
      if (!shown) { zoom.initial(); shown = true; }
      zoom.reveal(last);
    });
  };
  const rows = {};
  model.get('leaves').forEach((name) => {
    const row = h('div', 'mg-leaf');
    row.dataset.leaf = name;
    const label = h('span', 'mg-leaf-name', name);
    const slider = h('input', 'mg-slider');
    slider.type = 'range';
    const [lo, hi, step] = model.get('ranges')[name];
    slider.min = String(lo); slider.max = String(hi); slider.step = String(step);
    const box = h('input', 'mg-number');
    box.type = 'number'; box.step = 'any';
    const grad = h('span', 'mg-leaf-grad');
    row.append(label, slider, box, grad);
    table.appendChild(row);
    const send = (x) => {
      if (!isFinite(x)) return;
      model.set('values', { ...model.get('values'), [name]: x });
      model.save_changes();
    };
    slider.addEventListener('input', () => { box.value = slider.value; send(parseFloat(slider.value)); });
    const apply = () => {
      const x = parseFloat(box.value);
      if (!isFinite(x)) { showError(root, new Error(name + ': not a number: ' + box.value)); return; }
      if (x < parseFloat(slider.min)) slider.min = String(x);
      if (x > parseFloat(slider.max)) slider.max = String(x);
      send(x);
    };
    box.addEventListener('change', apply);
    applyOnEnter(box, apply);
    rows[name] = { slider, box, grad };
  });
  pin.addEventListener('click', () => model.send({ event: 'pin' }));

  const onView = () => {
    const V = model.get('view');
    for (let i = 0; i < V.data.length; i++) {
      const t = texts('v' + i);
      if (t.length >= 3) {
        t[t.length - 2].textContent = V.data[i];
        t[t.length - 1].textContent = V.grad[i];
      }
      V.local[i].forEach((d, k) => {
        const et = texts('e' + i + '_' + k);
        if (et.length) et[et.length - 1].textContent = d;
      });
    }
    for (const name in rows) {
      const r = rows[name], x = V.values[name];
      if (document.activeElement !== r.box) r.box.value = String(x);
      if (document.activeElement !== r.slider) r.slider.value = String(x);
      r.grad.textContent = 'd' + V.out + '/d' + name + ' = ' + V.text.grads[name];
    }
    nudge.textContent = '';
    nudge.appendChild(h('div', 'mg-big', V.out + ' = ' + V.text.output));
    const C = V.compare;
    if (C) {
      const line = h('div', 'mg-big mg-compare');
      line.dataset.verdict = C.verdict;
      if (C.verdict === 'none') {
        line.textContent = 'move a slider: the change of ' + V.out + ' will appear beside grad \u00D7 nudge';
      } else {
        const sign = (t) => (t[0] === '-' ? t : '+' + t);
        line.append(
          h('span', 'mg-actual', 'change of ' + V.out + ': ' + sign(C.delta)),
          h('span', 'mg-sep', C.verdict === 'close' ? '   \u2248   ' : '   \u2260   '),
          h('span', 'mg-predicted', 'grad \u00D7 nudge: ' + C.terms + ' = ' + sign(C.predicted)),
        );
      }
      nudge.appendChild(line);
      if (C.why) nudge.appendChild(h('div', 'mg-why', C.why));
    }
    root.dataset.updates = String((parseInt(root.dataset.updates || '0', 10)) + 1);
  };
  const onSvg = () => { drawSvg(); onView(); };
  const onError = () => {
    const m = model.get('error');
    error.textContent = m; error.style.display = m ? 'block' : 'none';
  };
  model.on('change:svg', onSvg);
  model.on('change:view', onView);
  model.on('change:error', onError);
  drawSvg();
  onView();
  onError();
  // what asks the kernel (not the zoom buttons, which work on the drawing here)
  const inputs = () => Array.from(root.querySelectorAll('input, button'))
    .filter((i) => !viewBar.contains(i));
  const beat = heartbeat(model, root, (lost) => { inputs().forEach((i) => { i.disabled = lost; }); });
  model.on('change:view', beat.alive);
  root.dataset.ready = '1';
  return () => {
    beat.stop();
    model.off('change:view', beat.alive);
    model.off('change:svg', onSvg);
    model.off('change:view', onView);
    model.off('change:error', onError);
  };
}

export default safeWidget(build);
