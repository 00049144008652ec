// The 轉口港代碼 look-up (SHTC-15; shtc/port_views.py says the whole design).
//
// On the entry page: a link marked data-port-lookup opens the look-up in a small window of
// its own, so the form and what is typed on it stay; if the browser refuses the window, the
// link is followed in the same tab (the look-up then links back with ?transit_port=CODE).
//
// On the look-up page (opened so): picking a code writes it into the opener's field named by
// the table's data-port-field, gives that field the focus and closes the window. Whatever
// cannot be done so (no opener, the field gone, another site) leaves the link to work as a
// plain link.
(function () {
  "use strict";

  var WINDOW_NAME = "shtc-port-lookup";
  var FEATURES = "popup,width=760,height=720,scrollbars=yes,resizable=yes";

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
        event.shiftKey || event.altKey) {
      return; // a new tab or window asked for: the browser's own way
    }
    var opener = event.target.closest("a[data-port-lookup]");
    if (opener) {
      var lookup = window.open(opener.href, WINDOW_NAME, FEATURES);
      if (lookup) {
        event.preventDefault();
        lookup.focus();
      }
      return;
    }
    var pick = event.target.closest("a[data-port-code]");
    if (pick && fill(pick.getAttribute("data-port-code"))) {
      event.preventDefault();
      window.close();
    }
  });

  function fill(code) {
    var table = document.querySelector("[data-port-field]");
    var id = table && table.getAttribute("data-port-field");
    if (!id || !window.opener || window.opener.closed) {
      return false;
    }
    var field;
    try {
      field = window.opener.document.getElementById(id); // another site: SecurityError
    } catch (error) {
      return false;
    }
    if (!field || field.tagName !== "INPUT" || field.disabled || field.readOnly ||
        ["text", "search", ""].indexOf(field.getAttribute("type") || "") === -1) {
      return false;
    }
    field.value = code;
    // Whatever listens on the form (the kept typing of ACC-3) learns of the change.
    var OpenerEvent = window.opener.Event;
    field.dispatchEvent(new OpenerEvent("input", { bubbles: true }));
    field.dispatchEvent(new OpenerEvent("change", { bubbles: true }));
    window.opener.focus();
    field.focus();
    return true;
  }
})();
