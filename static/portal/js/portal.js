// ACC-3: the server ends a session after the idle limit. Warn two minutes before, and when
// the limit has passed reload the page, so the user lands on the login page that says why
// instead of losing the next click.
(function () {
  "use strict";
  var body = document.body;
  var idleSeconds = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  if (!idleSeconds) { return; }
  var warnAt = Math.max(idleSeconds - 120, 0) * 1000;
  var warning = null;
  window.setTimeout(function () {
    warning = document.createElement("div");
    warning.id = "idle-warning";
    warning.className = "alert alert-warning shadow";
    warning.setAttribute("role", "alert");
    warning.textContent = body.getAttribute("data-idle-warning") ||
      "2 minutes left before the session ends for inactivity.";
    body.appendChild(warning);
  }, warnAt);
  window.setTimeout(function () { window.location.reload(); }, (idleSeconds + 5) * 1000);
})();
