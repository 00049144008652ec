// ACC-3: the server ends a session after data-idle-seconds without a request (the SHTC
// manual, FAQ 3.5). This script, on every page of a logged-in user:
//  - shows the notice (templates/includes/idle_notice.html) data-warn-seconds before the end;
//    its 繼續使用 posts to the status URL, which counts as activity, and the timer starts again;
//  - on a case entry page (data-autosave-url), posts what is typed in the page's forms when
//    the notice appears and again shortly before the end, so that nothing typed is lost: the
//    server keeps it as the draft's unsaved input and 匯入暫存資料 brings it back (FAQ 3.6);
//  - when the time is up, loads the page again, which leads to the login page saying why.
// Before each step it asks the status URL how much time is really left (a request that does
// not count as activity), so that a tab left alone neither warns nor logs out while the user
// works in another tab. No inline script: everything comes from the notice's data attributes.
(function () {
  "use strict";
  var notice = document.getElementById("idle-notice");
  if (!notice || !window.fetch) { return; }
  var idleSeconds = Number(notice.getAttribute("data-idle-seconds")) || 0;
  if (idleSeconds <= 0) { return; }
  var warnSeconds = Math.min(Number(notice.getAttribute("data-warn-seconds")) || 120,
                             idleSeconds / 2);
  // The last autosave: early enough to arrive before the end, late enough to hold nearly all.
  var saveLead = Math.max(1, Math.min(15, warnSeconds / 4));
  var statusUrl = notice.getAttribute("data-status-url");
  var autosaveUrl = notice.getAttribute("data-autosave-url") || "";
  var form = notice.querySelector("form");
  var button = notice.querySelector("button");
  var countdown = notice.querySelector("[data-idle-countdown]");
  var tokenField = form.querySelector("input[name=csrfmiddlewaretoken]");
  var token = tokenField ? tokenField.value : "";
  var timers = [];
  var ticker = null;
  var deadline = 0;
  var returnFocus = null;
  var ending = false;

  function later(action, seconds) {
    timers.push(window.setTimeout(action, Math.max(seconds, 0) * 1000));
  }

  function schedule(remaining) {
    timers.forEach(window.clearTimeout);
    timers = [];
    deadline = Date.now() + remaining * 1000;
    later(warn, remaining - warnSeconds);
    later(lastSave, remaining - saveLead);
    later(end, remaining + 1);
  }

  function secondsLeft() {
    return Math.max(0, (deadline - Date.now()) / 1000);
  }

  // The seconds the server says are left (null if it cannot be asked).
  function status() {
    return fetch(statusUrl, {credentials: "same-origin", cache: "no-store",
                             headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { return data ? Number(data.remaining) : null; },
            function () { return null; });
  }

  function tick() {
    var left = Math.ceil(secondsLeft());
    var minutes = Math.floor(left / 60);
    var seconds = left % 60;
    countdown.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
  }

  function show() {
    if (!notice.hidden) { return; }
    tick();
    ticker = window.setInterval(tick, 1000);
    returnFocus = document.activeElement;
    notice.hidden = false;
    button.focus();
  }

  function hide() {
    if (notice.hidden) { return; }
    window.clearInterval(ticker);
    notice.hidden = true;
    if (returnFocus && document.contains(returnFocus) && returnFocus.focus) {
      returnFocus.focus();
    }
  }

  // The fields of the page's forms, as the browser would post them (no files, no buttons).
  function typed() {
    var params = new URLSearchParams();
    var forms = document.querySelectorAll("main form");
    Array.prototype.forEach.call(forms, function (pageForm) {
      if ((pageForm.getAttribute("method") || "").toLowerCase() !== "post") { return; }
      Array.prototype.forEach.call(pageForm.elements, function (field) {
        var type = (field.type || "").toLowerCase();
        if (!field.name || field.disabled ||
            ["submit", "button", "reset", "image", "file", "password"].indexOf(type) >= 0) {
          return;
        }
        if ((type === "checkbox" || type === "radio") && !field.checked) { return; }
        if (field.tagName === "SELECT" && field.multiple) {
          Array.prototype.forEach.call(field.selectedOptions, function (option) {
            params.append(field.name, option.value);
          });
          return;
        }
        params.append(field.name, field.value);
      });
    });
    return params;
  }

  function autosave() {
    if (!autosaveUrl) { return Promise.resolve(); }
    return fetch(autosaveUrl, {
      method: "POST", credentials: "same-origin", keepalive: true, body: typed(),
      headers: {"X-CSRFToken": token, "X-Requested-With": "XMLHttpRequest"}
    }).catch(function () {});
  }

  function warn() {
    status().then(function (remaining) {
      if (remaining !== null && remaining > warnSeconds + 1) {
        schedule(remaining);  // another tab was used meanwhile
        return;
      }
      if (remaining !== null) { deadline = Date.now() + remaining * 1000; }
      show();
      autosave();
    });
  }

  function lastSave() {
    status().then(function (remaining) {
      if (remaining !== null && remaining > saveLead + 1) {
        hide();
        schedule(remaining);
        return;
      }
      autosave();
    });
  }

  function end() {
    if (ending) { return; }
    status().then(function (remaining) {
      if (remaining !== null && remaining > 0) {
        hide();
        schedule(remaining);
        return;
      }
      // The session is over (the status request itself ended it): loading the page again
      // leads to the login page, which says why and comes back here after logging in.
      ending = true;
      window.location.replace(window.location.pathname + window.location.search);
    });
  }

  form.addEventListener("submit", function (event) {
    // 繼續使用: activity for the server; the page and what is typed in it stay as they are.
    event.preventDefault();
    button.disabled = true;
    fetch(statusUrl, {method: "POST", credentials: "same-origin", body: new URLSearchParams(),
                      headers: {"X-CSRFToken": token, "Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        button.disabled = false;
        var remaining = data ? Number(data.remaining) : 0;
        if (remaining > 0) {
          hide();
          schedule(remaining);
        } else {
          end();
        }
      }, function () {
        button.disabled = false;  // offline: the notice stays, the user may try again
      });
  });

  notice.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {  // as a dialog closes; the session is extended all the same
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : button.click();
    }
  });

  schedule(idleSeconds);
})();
