// MASK-2: the tariff code list offers only the codes of the mask category chosen (醫用 or
// 非醫用). Without JavaScript every code shows and the server checks that they agree.
(function () {
  "use strict";
  var select = document.getElementById("id_tariff_code");
  var radios = document.querySelectorAll("input[name=category]");
  if (!select || !radios.length) { return; }
  function chosen() {
    for (var i = 0; i < radios.length; i++) { if (radios[i].checked) { return radios[i].value; } }
    return "";
  }
  function filter() {
    var category = chosen();
    var options = select.querySelectorAll("option[data-category]");
    var keep = false;
    for (var i = 0; i < options.length; i++) {
      var fits = !category || options[i].getAttribute("data-category") === category;
      options[i].hidden = !fits;
      options[i].disabled = !fits;
      if (fits && options[i].selected) { keep = true; }
    }
    var groups = select.querySelectorAll("optgroup");
    for (var j = 0; j < groups.length; j++) {
      groups[j].hidden = !groups[j].querySelector("option:not([hidden])");
    }
    if (!keep && category) {
      var first = select.querySelector("option[data-category]:not([disabled])");
      select.value = first ? first.value : "";
    }
  }
  for (var k = 0; k < radios.length; k++) { radios[k].addEventListener("change", filter); }
  filter();
})();
