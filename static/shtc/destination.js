// 9-1-1: the destination's warnings as soon as it is chosen (issue 11, point 6), before the
// applicant invests work: North Korea's trade ban, the own procedure of Iran and North Korea
// (9-2-1), the business licence of mainland China and the UAE. The messages come from the
// server (shtc/entry.py, JSON in #shtc-destination-warnings); the box is a live region, so
// a screen reader says them too. Without script, "下一步" says them (and refuses 9-2-1's).
(function () {
  "use strict";

  var data = document.getElementById("shtc-destination-warnings");
  var box = document.querySelector("[data-destination-warnings]");
  var select = document.getElementById("id_destination_country");
  if (!data || !box || !select) {
    return;
  }
  var warnings = JSON.parse(data.textContent) || {};

  function show() {
    var messages = warnings[(select.value || "").toUpperCase()] || [];
    box.textContent = "";
    messages.forEach(function (message) {
      var line = document.createElement("p");
      line.className = "mb-1";
      line.textContent = message;
      box.appendChild(line);
    });
    box.classList.toggle("d-none", messages.length === 0);
  }

  select.addEventListener("change", show);
  show();
})();
