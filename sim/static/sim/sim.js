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
