// 小月曆: the calendar the manuals show beside every date field (申辦狀況查詢作業: "click the
// small calendar icon to pick 申請日期(起)/(止)"). portal.forms.RocDateInput marks its inputs
// with data-rocdate and gives the words in the page's language; this adds, to each of them, a
// button and a month grid in a dialog (the WAI-ARIA date picker dialog pattern):
//
//   input   Alt+Down opens the calendar; typing works as without it (the server reads
//           115/12/02, 1151202 or 2026-12-02, portal.dates).
//   button  opens and closes it (Enter, Space or a click).
//   grid    arrows move by day and week, Home/End to the start/end of the week, Page Up/Down
//           by month (with Shift by year), Enter or Space picks the date, Esc closes; Tab
//           stays inside the dialog. Focus goes back to where the calendar was opened from.
//
// The date picked is written as an ROC date, 115/12/02, as the server shows dates. Nothing
// here sets inline styles or runs inline script: the layout is in css/rocdate.css, so the
// page's Content-Security-Policy need not allow either.
(function () {
  "use strict";

  var ROC_OFFSET = 1911;
  var SEPARATED = /^(\d{1,4})[\/\-.](\d{1,2})[\/\-.](\d{1,2})$/;
  var COMPACT_ROC = /^(\d{2,3})(\d{2})(\d{2})$/;
  var SVG = "http://www.w3.org/2000/svg";
  var counter = 0;

  function pad(number, width) {
    var text = String(number);
    while (text.length < width) { text = "0" + text; }
    return text;
  }

  // 2026-12-02 -> 115/12/02 (portal.dates.to_roc).
  function toRoc(date) {
    return pad(date.getFullYear() - ROC_OFFSET, 3) + "/" + pad(date.getMonth() + 1, 2) + "/" +
      pad(date.getDate(), 2);
  }

  // What the user typed, read as portal.dates.parse reads it (ROC with a 1 to 3 digit year,
  // Gregorian with 4, full-width digits as ASCII); null if it is not a date.
  function parse(text) {
    text = (text || "").replace(/[\uff01-\uff5e]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
    }).trim();
    var year, month, day;
    var match = SEPARATED.exec(text);
    if (match) {
      year = parseInt(match[1], 10);
      if (match[1].length <= 3) { year += ROC_OFFSET; }
      month = parseInt(match[2], 10);
      day = parseInt(match[3], 10);
    } else {
      match = COMPACT_ROC.exec(text);
      if (!match) { return null; }
      year = parseInt(match[1], 10) + ROC_OFFSET;
      month = parseInt(match[2], 10);
      day = parseInt(match[3], 10);
    }
    if (year <= ROC_OFFSET) { return null; }
    var date = new Date(year, month - 1, day);
    if (date.getFullYear() !== year || date.getMonth() !== month - 1 || date.getDate() !== day) {
      return null;  // 115/02/30
    }
    return date;
  }

  function sameDay(a, b) {
    return !!a && !!b && a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() &&
      a.getDate() === b.getDate();
  }

  function addDays(date, days) {
    return new Date(date.getFullYear(), date.getMonth(), date.getDate() + days);
  }

  // The same day `months` later, or the month's last day (01/31 + 1 month = 02/28).
  function addMonths(date, months) {
    var first = new Date(date.getFullYear(), date.getMonth() + months, 1);
    var last = new Date(first.getFullYear(), first.getMonth() + 1, 0).getDate();
    return new Date(first.getFullYear(), first.getMonth(), Math.min(date.getDate(), last));
  }

  function today() {
    var now = new Date();
    return new Date(now.getFullYear(), now.getMonth(), now.getDate());
  }

  // Month and day names in the page's language, counted in ROC years where the browser
  // knows that calendar (民國115年12月, "December 115 Minguo").
  function formatter(options) {
    var language = document.documentElement.lang || "zh-Hant-TW";
    try {
      return new Intl.DateTimeFormat(language + "-u-ca-roc", options);
    } catch (error) {
      return new Intl.DateTimeFormat(language, options);
    }
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function button(className, label, text) {
    var node = element("button", className, text);
    node.type = "button";
    if (label) {
      node.setAttribute("aria-label", label);
      node.title = label;
    }
    return node;
  }

  function calendarIcon() {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "16");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 0h1v2h6V0h1v2h2a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H2a1 1 0 0 1-1-1V3" +
      "a1 1 0 0 1 1-1h2zM2 5v10h12V5zm2 2h2v2H4zm3 0h2v2H7zm3 0h2v2h-2zm-6 3h2v2H4zm3 0h2v2H7z");
    svg.appendChild(path);
    return svg;
  }

  function labelText(input) {
    var label = input.id && document.querySelector("label[for='" + input.id + "']");
    if (!label) { return ""; }
    // The label without the required-field asterisk crispy puts inside it.
    var copy = label.cloneNode(true);
    Array.prototype.forEach.call(copy.querySelectorAll(".asteriskField"), function (node) {
      node.remove();
    });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  function RocDate(input) {
    var words = input.dataset;
    var id = input.id || ("rocdate-" + (++counter));
    var fieldLabel = labelText(input);
    var openLabel = (words.rocdateOpen || "Choose a date") + (fieldLabel ? ": " + fieldLabel : "");
    var monthFormat = formatter({ year: "numeric", month: "long" });
    var dayFormat = formatter({ year: "numeric", month: "long", day: "numeric", weekday: "long" });
    var weekdayFormat = formatter({ weekday: "short" });
    var weekdayLongFormat = formatter({ weekday: "long" });
    var self = this;

    // <div.rocdate> <div.input-group> input button [.invalid-feedback] </div> dialog </div>:
    // Bootstrap shows a field's error after an input group only from inside it.
    var wrapper = element("div", "rocdate");
    var group = element("div", "input-group has-validation");
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(group);
    var feedback = [];
    for (var next = input.nextElementSibling; next; next = next.nextElementSibling) {
      if (next.classList.contains("invalid-feedback")) { feedback.push(next); }
    }
    group.appendChild(input);
    var toggle = button("btn btn-outline-secondary rocdate-toggle", openLabel);
    toggle.appendChild(calendarIcon());
    toggle.setAttribute("aria-haspopup", "dialog");
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute("aria-controls", id + "-calendar");
    group.appendChild(toggle);
    feedback.forEach(function (node) { group.appendChild(node); });

    var dialog = element("div", "rocdate-dialog shadow");
    dialog.id = id + "-calendar";
    dialog.hidden = true;
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-label", openLabel);
    var header = element("div", "rocdate-header");
    var previous = button("btn btn-sm btn-outline-secondary rocdate-previous",
                          words.rocdatePrevious || "Previous month", "\u2039");
    var heading = element("h2", "rocdate-heading h6 mb-0");
    heading.id = id + "-calendar-heading";
    heading.setAttribute("aria-live", "polite");
    var following = button("btn btn-sm btn-outline-secondary rocdate-next",
                           words.rocdateNext || "Next month", "\u203a");
    header.appendChild(previous);
    header.appendChild(heading);
    header.appendChild(following);
    var grid = element("table", "rocdate-grid");
    grid.setAttribute("role", "grid");
    grid.setAttribute("aria-labelledby", heading.id);
    var head = element("thead");
    var headRow = element("tr");
    // Weeks start on Sunday, as Taiwan's calendars do; 2023-01-01 was a Sunday.
    for (var weekday = 0; weekday < 7; weekday++) {
      var sample = new Date(2023, 0, 1 + weekday);
      var th = element("th", "", weekdayFormat.format(sample));
      th.scope = "col";
      th.abbr = weekdayLongFormat.format(sample);
      headRow.appendChild(th);
    }
    head.appendChild(headRow);
    grid.appendChild(head);
    var body = element("tbody");
    grid.appendChild(body);
    var hint = element("p", "rocdate-hint small text-secondary mb-2", words.rocdateHint || "");
    hint.id = id + "-calendar-hint";
    grid.setAttribute("aria-describedby", hint.id);
    var footer = element("div", "rocdate-footer");
    var todayButton = button("btn btn-sm btn-outline-primary rocdate-go-today", "",
                             words.rocdateToday || "Today");
    var close = button("btn btn-sm btn-outline-secondary rocdate-close", "",
                       words.rocdateClose || "Close");
    footer.appendChild(todayButton);
    footer.appendChild(close);
    dialog.appendChild(header);
    dialog.appendChild(grid);
    dialog.appendChild(hint);
    dialog.appendChild(footer);
    wrapper.appendChild(dialog);

    this.input = input;
    this.toggle = toggle;
    this.dialog = dialog;
    this.heading = heading;
    this.body = body;
    this.monthFormat = monthFormat;
    this.dayFormat = dayFormat;
    this.focused = null;
    this.opener = null;

    toggle.addEventListener("click", function () {
      if (self.isOpen()) { self.close(true); } else { self.open(toggle); }
    });
    input.addEventListener("keydown", function (event) {
      if (event.altKey && (event.key === "ArrowDown" || event.key === "Down")) {
        event.preventDefault();
        self.open(input);
      }
    });
    previous.addEventListener("click", function () { self.show(addMonths(self.focused, -1), false); });
    following.addEventListener("click", function () { self.show(addMonths(self.focused, 1), false); });
    todayButton.addEventListener("click", function () { self.pick(today()); });
    close.addEventListener("click", function () { self.close(true); });
    body.addEventListener("click", function (event) {
      var cell = event.target.closest("td[data-date]");
      if (cell) { self.pick(parse(cell.dataset.date)); }
    });
    body.addEventListener("keydown", function (event) { self.onGridKey(event); });
    dialog.addEventListener("keydown", function (event) { self.onDialogKey(event); });
    document.addEventListener("mousedown", function (event) {
      if (self.isOpen() && !wrapper.contains(event.target)) { self.close(false); }
    });
  }

  RocDate.prototype.isOpen = function () { return !this.dialog.hidden; };

  RocDate.prototype.open = function (opener) {
    this.opener = opener;
    this.selected = parse(this.input.value);
    this.dialog.hidden = false;
    this.toggle.setAttribute("aria-expanded", "true");
    this.show(this.selected || today(), true);
    if (this.dialog.scrollIntoView) { this.dialog.scrollIntoView({ block: "nearest" }); }
  };

  RocDate.prototype.close = function (returnFocus) {
    this.dialog.hidden = true;
    this.toggle.setAttribute("aria-expanded", "false");
    if (returnFocus && this.opener) { this.opener.focus(); }
  };

  RocDate.prototype.pick = function (date) {
    if (!date) { return; }
    this.input.value = toRoc(date);
    // Listeners on the form (e.g. the idle-session draft save) see the change as if typed.
    this.input.dispatchEvent(new Event("input", { bubbles: true }));
    this.input.dispatchEvent(new Event("change", { bubbles: true }));
    this.close(true);
  };

  // Draw the month of `date` with `date` as the one focusable cell (roving tabindex).
  RocDate.prototype.show = function (date, moveFocus) {
    var first = new Date(date.getFullYear(), date.getMonth(), 1);
    var start = addDays(first, -first.getDay());
    var now = today();
    this.focused = date;
    this.heading.textContent = this.monthFormat.format(first);
    while (this.body.firstChild) { this.body.removeChild(this.body.firstChild); }
    var focusCell = null;
    for (var week = 0; week < 6; week++) {
      var day = addDays(start, week * 7);
      if (week > 0 && day.getMonth() !== first.getMonth()) { break; }
      var row = element("tr");
      for (var i = 0; i < 7; i++, day = addDays(day, 1)) {
        var cell = element("td");
        if (day.getMonth() === first.getMonth()) {
          cell.textContent = String(day.getDate());
          cell.dataset.date = toRoc(day);
          cell.setAttribute("aria-label", this.dayFormat.format(day));
          cell.setAttribute("aria-selected", sameDay(day, this.selected) ? "true" : "false");
          cell.tabIndex = -1;
          cell.className = "rocdate-day";
          if (sameDay(day, now)) {
            cell.classList.add("rocdate-is-today");
            cell.setAttribute("aria-current", "date");
          }
          if (sameDay(day, date)) {
            cell.tabIndex = 0;
            focusCell = cell;
          }
        }
        row.appendChild(cell);
      }
      this.body.appendChild(row);
    }
    if (moveFocus && focusCell) { focusCell.focus(); }
  };

  RocDate.prototype.onGridKey = function (event) {
    var date = this.focused;
    var moved = null;
    switch (event.key) {
      case "ArrowLeft": case "Left": moved = addDays(date, -1); break;
      case "ArrowRight": case "Right": moved = addDays(date, 1); break;
      case "ArrowUp": case "Up": moved = addDays(date, -7); break;
      case "ArrowDown": case "Down": moved = addDays(date, 7); break;
      case "Home": moved = addDays(date, -date.getDay()); break;
      case "End": moved = addDays(date, 6 - date.getDay()); break;
      case "PageUp": moved = addMonths(date, event.shiftKey ? -12 : -1); break;
      case "PageDown": moved = addMonths(date, event.shiftKey ? 12 : 1); break;
      case "Enter": case " ": case "Spacebar":
        event.preventDefault();
        this.pick(date);
        return;
      default: return;
    }
    event.preventDefault();
    this.show(moved, true);
  };

  RocDate.prototype.onDialogKey = function (event) {
    if (event.key === "Escape" || event.key === "Esc") {
      event.preventDefault();
      event.stopPropagation();
      this.close(true);
      return;
    }
    if (event.key !== "Tab") { return; }
    // A modal dialog keeps Tab inside: previous, next, the focused day, Today, Close.
    var stops = Array.prototype.filter.call(
      this.dialog.querySelectorAll("button, [tabindex='0']"),
      function (node) { return !node.disabled; });
    var index = stops.indexOf(document.activeElement);
    var target = event.shiftKey ? (index <= 0 ? stops.length - 1 : index - 1)
                                : (index === stops.length - 1 ? 0 : index + 1);
    event.preventDefault();
    stops[target].focus();
  };

  Array.prototype.forEach.call(document.querySelectorAll("input[data-rocdate]"), function (input) {
    if (!input.disabled && !input.readOnly) { new RocDate(input); }
  });
})();
