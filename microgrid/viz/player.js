// The backprop player (microgrid.viz.player) in the browser: replays the frames that the
// page carries as JSON. A function expression: the page calls it with
// (id of the JSON data, id of the player, milliseconds per step, keys on the whole page?).
(function (dataId, rootId, interval, standalone) {
  var D = JSON.parse(document.getElementById(dataId).textContent);
  var root = document.getElementById(rootId);
  var P = D.prefix, frames = D.frames, k = 0, timer = null, saved = [];
  function el(key) { return root.querySelector('[id="' + P + key + '"]'); }
  var gradText = [], box = [], boxFill = [];
  for (var i = 0; i < D.n; i++) {
    var g = el('v' + i), texts = g.getElementsByTagName('text');
    gradText.push(texts[texts.length - 1]);
    var b = g.querySelector('polygon, path, ellipse');
    box.push(b); boxFill.push(b.getAttribute('fill'));
  }
  var graph = el('graph'), caption = null;
  for (var c = graph.firstElementChild; c; c = c.nextElementSibling) {
    if (c.tagName.toLowerCase() === 'text') { caption = c; break; }
  }
  var slider = root.querySelector('input[type=range]');
  var counter = root.querySelector('.mg-count');
  var captionDiv = root.querySelector('.mg-caption');
  var playButton = root.querySelector('[data-act=play]');
  function remember(node, names) {
    var old = {};
    names.forEach(function (n) { old[n] = node.getAttribute(n); });
    saved.push([node, old]);
  }
  function cool() {
    saved.forEach(function (s) {
      for (var n in s[1]) {
        if (s[1][n] === null) s[0].removeAttribute(n); else s[0].setAttribute(n, s[1][n]);
      }
    });
    saved = [];
  }
  function heat(key) {
    var g = el(key), isEdge = key[0] === 'e' || key[0] === 'f';
    remember(g, ['class']);
    g.setAttribute('class', (g.getAttribute('class') || '') + ' current');
    for (var c = g.firstElementChild; c; c = c.nextElementSibling) {
      var tag = c.tagName.toLowerCase();
      if (tag === 'text') {
        if (isEdge) { remember(c, ['fill']); c.setAttribute('fill', D.hot); }
      } else if (['path', 'polygon', 'ellipse', 'polyline'].indexOf(tag) >= 0) {
        var names = ['stroke', 'stroke-width'];
        if (isEdge && tag === 'polygon') names.push('fill');
        remember(c, names);
        names.forEach(function (n) {
          c.setAttribute(n, n === 'stroke-width' ? D.hotWidth : D.hot);
        });
      }
    }
  }
  function show(target) {
    k = Math.max(0, Math.min(frames.length - 1, target));
    cool();
    for (var i = 0; i < D.n; i++) {
      gradText[i].textContent = D.unknown;
      box[i].setAttribute('fill', boxFill[i] || 'none');
    }
    for (var j = 0; j <= k; j++) {
      var f = frames[j];
      gradText[f[0]].textContent = f[1];
      box[f[0]].setAttribute('fill', D.fills[f[2]]);
    }
    frames[k][3].forEach(heat);
    reveal(el('v' + frames[k][0]));
    if (caption) caption.textContent = frames[k][4];
    captionDiv.textContent = frames[k][4];
    slider.value = String(k);
    counter.textContent = 'step ' + (k + 1) + ' / ' + frames.length;
    root.setAttribute('data-frame', String(k));
  }
  var view = root.querySelector('.mg-svg');
  function reveal(node) {  // a wide graph scrolls: keep the node this step updates in view
    var b = node.getBoundingClientRect(), c = view.getBoundingClientRect();
    if (b.left < c.left || b.right > c.right) {
      view.scrollLeft += (b.left + b.right) / 2 - (c.left + c.right) / 2;
    }
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    playButton.textContent = '\u25B6 play';
  }
  function play() {
    if (timer !== null) { stop(); return; }
    if (k >= frames.length - 1) show(0);
    playButton.textContent = '\u275A\u275A pause';
    timer = setInterval(function () {
      if (k >= frames.length - 1) { stop(); return; }
      show(k + 1);
    }, interval);
  }
  function step(d) { stop(); show(k + d); }
  root.querySelector('[data-act=prev]').addEventListener('click', function () { step(-1); });
  root.querySelector('[data-act=next]').addEventListener('click', function () { step(1); });
  playButton.addEventListener('click', play);
  slider.addEventListener('input', function () { stop(); show(parseInt(slider.value, 10)); });
  var keys = standalone ? document : root;
  keys.addEventListener('keydown', function (e) {
    if (e.target === slider) return;
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') { step(1); e.preventDefault(); }
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') { step(-1); e.preventDefault(); }
    else if (e.key === 'Home') { step(-frames.length); e.preventDefault(); }
    else if (e.key === 'End') { step(frames.length); e.preventDefault(); }
    else if (e.key === ' ') { play(); e.preventDefault(); }
  });
  show(0);
})
