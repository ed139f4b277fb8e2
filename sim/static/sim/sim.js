// Small progressive enhancements. Everything works without this file.
(function () {
  "use strict";
  // Submit the language form as soon as a language is chosen.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.id === "language-select" && target.form) {
      target.form.submit();
    }
  });
  // Move focus to an error summary when one is rendered, so screen readers announce it.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  });
})();
// Assessments: an answer saved as you go that comes back as the login page (the session ended)
// must not put the login form inside the question; say that it was not saved instead.
document.addEventListener("htmx:beforeSwap", function (event) {
  var detail = event.detail;
  var form = detail.target && detail.target.closest ? detail.target.closest(".assessment-form") : null;
  var url = detail.xhr && detail.xhr.responseURL;
  if (!form || !url || !form.dataset.loginUrl || url.indexOf(form.dataset.loginUrl) === -1) { return; }
  detail.shouldSwap = false;
  var note = document.createElement("p");
  note.className = "error";
  note.textContent = form.dataset.loggedOut;
  detail.target.replaceChildren(note);
});
