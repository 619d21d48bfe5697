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
})();
