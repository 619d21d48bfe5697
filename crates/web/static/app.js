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
