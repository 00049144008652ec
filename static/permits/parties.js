// SHTC-15 同買方資料: while a party's box is ticked, hide the fields it copies from the
// buyer. Only a convenience: the server copies the buyer's data whatever the page shows.
(function () {
  "use strict";
  document.querySelectorAll("[data-same-as-buyer]").forEach(function (box) {
    var card = box.closest("[data-party-role]");
    var fields = card && card.querySelector(".party-fields");
    if (!fields) { return; }
    var sync = function () { fields.hidden = box.checked; };
    box.addEventListener("change", sync);
    sync();
  });
})();
