// A refused form's error summary (WCAG 2.1 3.3.1, issue 15), on the portal's pages and the
// admin's (templates/admin/base_site.html): at the top of the form whose
// fields came back with errors, a list of links, one a field, "label: error"; the summary
// takes the focus when the page loads, so that a screen reader reads it out (role="alert"),
// and each link moves the focus into its field. The errors themselves stay under the fields,
// tied to them by aria-describedby (crispy's markup, portal.plain_fields). The heading's words
// come from the script tag (base.html), in the page's language.
(function () {
  "use strict";
  const script = document.currentScript;

  function labelOf(field) {
    const group = field.closest("fieldset");
    let label = field.id ? document.querySelector(`label[for="${CSS.escape(field.id)}"]`) : null;
    if (field.type === "radio" || field.type === "checkbox") {
      label = (group && group.querySelector("legend")) || label;
    }
    if (!label) {
      return field.getAttribute("aria-label") || field.name;
    }
    const copy = label.cloneNode(true);
    copy.querySelectorAll(".asteriskField").forEach((mark) => mark.remove());
    // The admin's labels end in a colon (its label_suffix); the summary adds its own.
    return copy.textContent.replace(/\s+/g, " ").trim().replace(/[:：]$/, "");
  }

  function fieldOf(feedback) {
    const described = document.querySelector(`[aria-describedby~="${CSS.escape(feedback.id)}"]`);
    if (described && described.tagName === "FIELDSET") {
      // A group of radio buttons or checkboxes: crispy names the error on the <fieldset>;
      // each button names it too, so that it is read out on the button that has the focus.
      const buttons = [...described.querySelectorAll("input[type=radio], input[type=checkbox]")];
      buttons.forEach((button) => {
        const names = (button.getAttribute("aria-describedby") || "").split(/\s+/);
        if (!names.includes(feedback.id)) {
          button.setAttribute("aria-describedby", [...names, feedback.id].join(" ").trim());
        }
      });
      return buttons.find((button) => button.checked) || buttons[0];
    }
    if (described) {
      return described;
    }
    const wrapper = feedback.closest(".mb-3, fieldset, [id^='div_']");
    return wrapper && wrapper.querySelector("input:not([type=hidden]), select, textarea");
  }

  function build(form, entries) {
    const summary = document.createElement("div");
    // The portal's Bootstrap alert, or what the script tag asks for (the admin's errornote).
    summary.className = script.dataset.class || "alert alert-danger error-summary";
    summary.setAttribute("role", "alert");
    summary.setAttribute("tabindex", "-1");
    summary.setAttribute("aria-labelledby", "error-summary-title");
    summary.dataset.testid = "error-summary";
    const heading = document.createElement("h2");
    heading.className = "h6";
    heading.id = "error-summary-title";
    heading.textContent = script.dataset.title;
    const list = document.createElement("ul");
    list.className = "mb-0";
    entries.forEach(({field, text}) => {
      const link = document.createElement("a");
      link.href = `#${field.id}`;
      link.className = "alert-link";
      link.textContent = `${labelOf(field)}${script.dataset.separator}${text}`;
      link.addEventListener("click", (event) => {
        event.preventDefault();
        const target = field.closest(".mb-3, fieldset") || field;
        target.scrollIntoView({block: "center"});
        field.focus();
      });
      const item = document.createElement("li");
      item.append(link);
      list.append(item);
    });
    summary.append(heading, list);
    form.prepend(summary);
    return summary;
  }

  function summarize() {
    let first = null;
    document.querySelectorAll("main form").forEach((form) => {
      const entries = [];
      // The portal's fields (crispy, plain_fields) and the admin's (Django's error list,
      // id "<field id>_error", named by the field's aria-describedby).
      form.querySelectorAll(".invalid-feedback[id], ul.errorlist[id$='_error']").forEach((feedback) => {
        const field = fieldOf(feedback);
        const text = feedback.textContent.replace(/\s+/g, " ").trim();
        if (field && field.id && text && !entries.some((entry) => entry.field === field)) {
          entries.push({field, text});
        }
      });
      if (entries.length) {
        const summary = build(form, entries);
        first = first || summary;
      }
    });
    if (first) {
      first.focus();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", summarize);
  } else {
    summarize();
  }
})();
