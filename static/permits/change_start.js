// The first page of a change (permits/change_views.py): shows the fields the chosen 申請類別
// takes (each field's data-change-kinds) and hides the others, which keep what was typed.
// Without script every field stays shown; the server says which a kind does not take.
(function () {
  "use strict";

  var form = document.querySelector("[data-change-start]");
  if (!form) {
    return;
  }
  var radios = form.querySelectorAll("input[name='kind']");

  function chosen() {
    return window.portalChecked(radios);  // static/portal/js/checked.js
  }

  function show() {
    var kind = chosen();
    var fields = form.querySelectorAll("[data-change-kinds]");
    for (var i = 0; i < fields.length; i += 1) {
      if (fields[i].name === "kind") {
        continue;
      }
      var kinds = fields[i].getAttribute("data-change-kinds").split(" ");
      var wrapper = document.getElementById("div_" + fields[i].id) || fields[i];
      // A field the server refused stays shown with its message, whatever the kind.
      var refused = fields[i].classList.contains("is-invalid");
      wrapper.classList.toggle("d-none", !refused && kind !== "" && kinds.indexOf(kind) < 0);
    }
  }

  for (var i = 0; i < radios.length; i += 1) {
    radios[i].addEventListener("change", show);
  }
  show();
})();
