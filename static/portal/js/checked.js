// The value of the ticked radio button among `radios` ("" when none is ticked): shared by the
// pages that show fields by a choice (permits/change_start.js, shtc/assurance_route.js).
(function () {
  "use strict";

  window.portalChecked = function (radios) {
    for (var i = 0; i < radios.length; i += 1) {
      if (radios[i].checked) {
        return radios[i].value;
      }
    }
    return "";
  };
})();
