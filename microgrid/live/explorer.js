// microgrid.live.Explorer: a slider per leaf; the kernel re-runs forward and backward
// on each change and sends back every number, written into the same drawing.
// Everything here is local: no network, no libraries. common.js is put before this
// file when the widget is made (see _base.py): h(), showError(), safeWidget().

function fmt(x) {
  if (!isFinite(x)) return String(x);
  if (x === 0 || Math.abs(x) >= 1e-4) {
    const r = String(Math.round(x * 1e4) / 1e4);
    if (r.length <= 10) return r;
  }
  return x.toPrecision(4);
}

function signed(x) { return (x >= 0 ? '+' : '') + fmt(x); }

function build({ model, el }) {
  const root = h('div', 'mg-live mg-explorer');
  const error = h('div', 'mg-error');
  const pic = h('div', 'mg-svg');
  const table = h('div', 'mg-leaves');
  const nudge = h('div', 'mg-nudge');
  const nudgeRow = h('div', 'mg-nudge-row');
  nudgeRow.appendChild(nudge);
  const pin = button(nudgeRow, 'pin', 'nudge from here', 'measure nudges from the current point');
  root.append(error, pic, table, nudgeRow);
  el.appendChild(root);

  const texts = (key) => {
    const g = pic.querySelector('[id="' + model.get('prefix') + key + '"]');
    return g ? Array.from(g.getElementsByTagName('text')) : [];
  };
  const drawSvg = () => {
    pic.innerHTML = model.get('svg');
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
    box.addEventListener('change', () => {
      const x = parseFloat(box.value);
      if (!isFinite(x)) { showError(root, new Error(name + ': not a number: ' + box.value)); return; }
      if (x < parseFloat(slider.min)) slider.min = String(x);
      if (x > parseFloat(slider.max)) slider.max = String(x);
      send(x);
    });
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
      r.grad.textContent = 'd out/d ' + name + ' = ' + fmt(V.grads[name]);
    }
    nudge.textContent = '';
    const out = h('div', 'mg-big', 'out = ' + fmt(V.output));
    nudge.appendChild(out);
    if (V.nudges) {
      const moved = Object.keys(V.nudges).filter((k) => V.nudges[k] !== 0);
      const line = h('div', 'mg-big mg-compare');
      if (moved.length === 0) {
        line.textContent = 'move a slider: the change of out will appear beside grad \u00D7 nudge';
      } else {
        const terms = moved.map((k) => 'd out/d ' + k + ' \u00D7 ' + signed(V.nudges[k])).join(' + ');
        line.innerHTML = '';
        line.append(
          h('span', 'mg-actual', 'change of out: ' + signed(V.delta)),
          h('span', 'mg-sep', '   \u2248   '),
          h('span', 'mg-predicted', terms + ' = ' + signed(V.predicted)),
        );
      }
      nudge.appendChild(line);
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
  root.dataset.ready = '1';
  return () => {
    model.off('change:svg', onSvg);
    model.off('change:view', onView);
    model.off('change:error', onError);
  };
}

export default safeWidget(build);
