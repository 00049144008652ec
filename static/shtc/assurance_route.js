// 9-1-1 〔檢附文件〕 (SHTC-5): shows the ticked route's documents and obligations, and the end
// use box only for a route without an end-use assurance (with one, 9-1-2 asks for the end
// use). Without script every route's help and the box stay shown; the server decides.
(function () {
  "use strict";

  var radios = document.querySelectorAll("input[name='assurance_route']");
  var help = document.querySelector("[data-assurance-route-help]");
  var endUse = document.getElementById("div_id_end_use");
  if (!radios.length || !help) {
    return;
  }

  function chosen() {
    return window.portalChecked(radios);  // static/portal/js/checked.js
  }

  function show() {
    var route = chosen();
    var blocks = help.querySelectorAll("[data-route]");
    var any = false;
    for (var i = 0; i < blocks.length; i += 1) {
      var on = blocks[i].getAttribute("data-route") === route;
      blocks[i].classList.toggle("d-none", !on);
      any = any || on;
    }
    help.classList.toggle("d-none", !any);
    if (endUse) {
      // The box keeps what was typed while hidden: ticking the route again brings it back.
      endUse.classList.toggle("d-none", route === "assurance");
    }
  }

  for (var i = 0; i < radios.length; i += 1) {
    radios[i].addEventListener("change", show);
  }
  show();
})();
