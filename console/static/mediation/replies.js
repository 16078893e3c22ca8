// The case page's saved-reply picker: choosing a reply puts its text, rendered for this
// case by the server, into the form's text box (as plain text: never parsed as HTML). A
// request for information keeps one text per party asked, chosen by the form's party.
(function () {
  "use strict";
  function fill(select) {
    var option = select.options[select.selectedIndex];
    var target = document.getElementById(select.dataset.target);
    if (!option || !option.value || !target) return;
    var party = select.form ? select.form.querySelector("[name=party]") : null;
    var text = party ? option.getAttribute("data-text-" + party.value) : option.getAttribute("data-text");
    if (text !== null) target.value = text;
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select.console-reply").forEach(function (select) {
      select.addEventListener("change", function () { fill(select); });
      var party = select.form ? select.form.querySelector("[name=party]") : null;
      if (party) party.addEventListener("change", function () { fill(select); });
    });
  });
})();
