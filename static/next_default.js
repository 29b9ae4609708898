// The declare form: when the impact changes, the minutes field and its hint show that
// impact's default number of minutes (the server uses the same table when the field is empty).
(function () {
  "use strict";
  var hint = document.getElementById("next-default");
  var impact = document.getElementById("impact");
  var field = document.getElementById("next_in");
  if (!hint || !impact || !field) return;
  var minutes = JSON.parse(hint.getAttribute("data-minutes"));
  impact.addEventListener("change", function () {
    var n = minutes[impact.value];
    if (n === undefined) return;
    field.placeholder = String(n);
    hint.querySelector("[data-default-minutes]").textContent = String(n);
    hint.querySelector("[data-default-impact]").textContent = impact.value;
  });
})();
