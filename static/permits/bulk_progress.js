// The page of a goods item import being checked (permits/bulk_views.py, SHTC-17): asks for
// its status every second and moves the <progress> bar and its text; once the check is over
// the page is loaded again and shows the bad cells or the preview. Without script the page
// reloads itself (<meta http-equiv="refresh"> inside <noscript>).
(function () {
  "use strict";

  var box = document.querySelector("[data-import-status-url]");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-import-status-url");
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-import-progress-text]");
  var INTERVAL = 1000;
  var RETRY = 5000;

  function show(status) {
    if (status.total) {
      bar.max = status.total;
      bar.value = Math.min(status.progress, status.total);
    }
    if (status.text && text.textContent !== status.text) {
      text.textContent = status.text;
    }
  }

  function poll() {
    fetch(url, {credentials: "same-origin", cache: "no-store",
                headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (status) {
        if (status.done) {
          window.location.reload();
          return;
        }
        show(status);
        window.setTimeout(poll, INTERVAL);
      })
      .catch(function () {
        // Logged out, the case filed in another tab, the network gone: the page itself
        // says what happened, once it is loaded again.
        window.setTimeout(function () { window.location.reload(); }, RETRY);
      });
  }

  window.setTimeout(poll, INTERVAL);
})();
