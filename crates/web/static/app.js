// What the pages need beyond htmx: say so when an in-place update fails, instead of doing nothing.
// The messages come translated from the server, on <body data-error-*>.
(function () {
  'use strict';
  function show(key) {
    var box = document.getElementById('request-error');
    if (!box) return;
    box.textContent = document.body.dataset[key] || document.body.dataset.errorPartial || '';
    box.className = 'alert error';
    box.hidden = false;
  }
  function hide() {
    var box = document.getElementById('request-error');
    if (box) {
      box.hidden = true;
      box.className = '';
    }
  }
  document.addEventListener('htmx:sendError', function () { show('errorNetwork'); });
  document.addEventListener('htmx:responseError', function (e) {
    var status = e.detail && e.detail.xhr ? e.detail.xhr.status : 0;
    show(status === 409 ? 'errorStale' : status === 403 ? 'errorForbidden' : 'errorPartial');
  });
  document.addEventListener('htmx:afterRequest', function (e) {
    if (e.detail && e.detail.successful) hide();
  });

  // One idempotency key per form as rendered (hidden field _idem): a double click or a retry
  // sends the same key, and the server answers the second as it answered the first. Plain forms
  // only (they leave the page), and htmx forms marked data-idem.
  function key() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b); // unlike randomUUID, also on plain http inside a LAN
    return Array.prototype.map.call(b, function (x) { return (x < 16 ? '0' : '') + x.toString(16); }).join('');
  }
  function stamp(root, fresh) {
    root.querySelectorAll('form').forEach(function (f) {
      if ((f.getAttribute('method') || '').toLowerCase() !== 'post') return;
      if (f.hasAttribute('hx-post') && !f.hasAttribute('data-idem')) return;
      // An upload (multipart) carries its key in the action's query instead of a field.
      if ((f.getAttribute('enctype') || '').toLowerCase() === 'multipart/form-data') {
        var action = new URL(f.getAttribute('action') || window.location.href, window.location.href);
        if (action.searchParams.has('_idem') && !fresh) return;
        action.searchParams.set('_idem', key());
        f.setAttribute('action', action.pathname + action.search);
        return;
      }
      var input = f.querySelector('input[name=_idem]');
      if (!input) {
        input = document.createElement('input');
        input.type = 'hidden';
        input.name = '_idem';
        f.appendChild(input);
      } else if (!fresh) {
        return;
      }
      input.value = key();
    });
  }
  document.addEventListener('DOMContentLoaded', function () { stamp(document, false); });
  document.addEventListener('htmx:load', function (e) { stamp(e.detail.elt.parentNode || e.detail.elt, false); });
  // A page restored by the back button is a new form to its user: new keys.
  window.addEventListener('pageshow', function (e) { if (e.persisted) stamp(document, true); });
})();

// A file input looks like the other buttons and says in the page's language what was chosen
// (the browser's own "Choose file / No file chosen" follows the browser, not the page).
(function () {
  'use strict';
  document.addEventListener('change', function (e) {
    var input = e.target;
    if (!input || input.type !== 'file' || !input.closest('.file-pick')) return;
    var out = input.closest('form').querySelector('.file-name');
    if (out) out.textContent = input.files && input.files.length ? input.files[0].name : input.dataset.none || '';
  });
})();

// The region picker: choosing a province loads its cities, a city its districts; the levels
// below the changed one start again. The server takes the deepest level chosen.
(function () {
  'use strict';
  document.addEventListener('change', function (e) {
    var sel = e.target;
    var pick = sel && sel.closest && sel.closest('[data-region]');
    if (!pick || sel.tagName !== 'SELECT') return;
    var all = Array.prototype.slice.call(pick.querySelectorAll('select'));
    var below = all.slice(all.indexOf(sel) + 1);
    below.forEach(function (s) {
      s.innerHTML = '<option value="">' + s.options[0].text + '</option>';
      s.disabled = true;
    });
    var next = below[0];
    if (!next || !sel.value) return;
    var url = '/regions/options?parent=' + encodeURIComponent(sel.value) + '&label=' + encodeURIComponent(next.options[0].text);
    fetch(url, { credentials: 'same-origin' }).then(function (r) { return r.ok ? r.text() : ''; }).then(function (html) {
      next.innerHTML = html;
      next.disabled = next.options.length <= 1;
    });
  });
})();

// A customer's kind decides which identifier the form asks for: a credit code for a company,
// an ID card number for a person.
(function () {
  'use strict';
  document.addEventListener('change', function (e) {
    var sel = e.target;
    if (!sel || !sel.matches || !sel.matches('[data-kind-select]')) return;
    var form = sel.closest('[data-kind-form]');
    if (!form) return;
    form.querySelectorAll('[data-kind]').forEach(function (f) { f.hidden = f.dataset.kind !== sel.value; });
  });
})();

// The customer's signature on the engineer's screen: drawn with a finger or a mouse, sent as a PNG.
(function () {
  'use strict';
  function setup(pad) {
    var ctx = pad.getContext('2d');
    var drawing = false, drawn = false;
    ctx.lineWidth = 3; ctx.lineCap = 'round'; ctx.strokeStyle = '#111';
    function at(e) {
      var r = pad.getBoundingClientRect();
      return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
    }
    pad.addEventListener('pointerdown', function (e) { drawing = true; pad.setPointerCapture(e.pointerId); var p = at(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]); });
    pad.addEventListener('pointermove', function (e) { if (!drawing) return; var p = at(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); drawn = true; });
    pad.addEventListener('pointerup', function () { drawing = false; });
    var card = pad.closest('.card');
    var state = card.querySelector('[data-sign-state]');
    card.querySelector('[data-sign-clear]').addEventListener('click', function () { ctx.clearRect(0, 0, pad.width, pad.height); drawn = false; });
    card.querySelector('[data-sign-save]').addEventListener('click', function () {
      if (!drawn) return;
      pad.toBlob(function (blob) {
        var fd = new FormData();
        fd.append('_csrf', pad.dataset.csrf);
        fd.append('purpose', 'signature');
        fd.append('file', blob, 'signature.png');
        fetch(pad.dataset.sign, { method: 'POST', body: fd, credentials: 'same-origin', headers: { 'X-Requested-With': 'fetch', 'Idempotency-Key': 'sig-' + Date.now() } })
          .then(function (r) { if (!r.ok) throw new Error(r.status); state.textContent = state.dataset.saved; location.reload(); })
          .catch(function () { state.textContent = state.dataset.failed; });
      }, 'image/png');
    });
  }
  document.addEventListener('DOMContentLoaded', function () { document.querySelectorAll('canvas[data-sign]').forEach(setup); });
})();

// A photo is shrunk in the browser before it is sent (a phone's 12-megapixel picture over one bar
// of signal): the longest side to data-shrink pixels, JPEG.
(function () {
  'use strict';
  document.addEventListener('change', function (e) {
    var input = e.target;
    if (!input || input.type !== 'file' || !input.dataset.shrink || !input.files || !input.files[0]) return;
    var file = input.files[0];
    // When the photo was taken, as the phone's file says: the warranty card's audit compares it
    // with the visit.
    var taken = input.form && input.form.querySelector('input[name=taken_at]');
    if (taken && file.lastModified) taken.value = new Date(file.lastModified).toISOString();
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) || typeof DataTransfer === 'undefined') return;
    var max = parseInt(input.dataset.shrink, 10);
    var img = new Image();
    img.onload = function () {
      var scale = Math.min(1, max / Math.max(img.width, img.height));
      if (scale >= 1 && file.size < 1500000) return;
      var c = document.createElement('canvas');
      c.width = Math.round(img.width * scale); c.height = Math.round(img.height * scale);
      c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
      c.toBlob(function (blob) {
        var dt = new DataTransfer();
        dt.items.add(new File([blob], file.name.replace(/\.[^.]+$/, '') + '.jpg', { type: 'image/jpeg' }));
        input.files = dt.files;
      }, 'image/jpeg', 0.85);
      URL.revokeObjectURL(img.src);
    };
    img.src = URL.createObjectURL(file);
  });
})();

// The phone's position goes with a check-in, when the browser may tell it.
(function () {
  'use strict';
  document.addEventListener('DOMContentLoaded', function () {
    var lat = document.querySelector('input[data-geo=lat]');
    if (!lat || !navigator.geolocation) return;
    var lng = document.querySelector('input[data-geo=lng]');
    navigator.geolocation.getCurrentPosition(function (p) {
      lat.value = p.coords.latitude.toFixed(6); lng.value = p.coords.longitude.toFixed(6);
    }, function () {}, { timeout: 8000, maximumAge: 60000 });
  });
})();

// Poor network: what is typed into a form marked data-keep stays in the browser's storage until
// the server has taken it (the page comes back with another version), and a submission that
// fails says so and offers to send again; the form keeps its idempotency key, so a resent step
// is never done twice.
(function () {
  'use strict';
  function key(form) { return 'keep:' + form.dataset.keep; }
  function save(form) {
    var data = { version: form.dataset.version, fields: {} };
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === 'hidden' || el.type === 'submit') return;
      data.fields[el.name] = el.type === 'checkbox' ? el.checked : el.value;
    });
    try { localStorage.setItem(key(form), JSON.stringify(data)); } catch (e) { /* storage full or off */ }
  }
  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('form[data-keep]').forEach(function (form) {
      var raw = null;
      try { raw = localStorage.getItem(key(form)); } catch (e) { raw = null; }
      if (raw) {
        var data = JSON.parse(raw);
        if (data.version !== form.dataset.version) {
          // The server moved on: what was kept has landed.
          localStorage.removeItem(key(form));
        } else {
          Object.keys(data.fields).forEach(function (name) {
            var el = form.elements[name];
            if (!el) return;
            if (el.type === 'checkbox') el.checked = !!data.fields[name]; else el.value = data.fields[name];
          });
          var note = form.querySelector('[data-keep-note]');
          if (note) note.hidden = false;
        }
      }
      form.addEventListener('input', function () { save(form); });
      form.addEventListener('submit', function () { save(form); });
    });
  });
})();

// A print button (the label sheets): the page's own print, no inline script.
(function () {
  'use strict';
  document.addEventListener('click', function (e) {
    if (e.target && e.target.closest && e.target.closest('[data-print]')) window.print();
  });
})();
