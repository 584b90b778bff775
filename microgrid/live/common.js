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
