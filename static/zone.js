// Tells the server the operator's time zone, so "14:30" means 14:30 on their clock.
(function () {
  "use strict";
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) return;
  document.querySelectorAll('input[name="time_zone"]').forEach(function (input) { input.value = zone; });
  document.querySelectorAll("[data-zone-name]").forEach(function (node) { node.textContent = zone; });
})();
