// Shows every <time datetime> in the reader's own time zone; the server writes UTC, which
// stays correct when this script does not run.
(function () {
  "use strict";
  var styles = {
    datetime: { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" },
    time: { hour: "2-digit", minute: "2-digit", timeZoneName: "short" },
    date: { year: "numeric", month: "short", day: "numeric" }
  };
  // Today's times need no date; this year's need no year.
  function compact(when) {
    var now = new Date();
    if (when.toDateString() === now.toDateString()) return styles.time;
    if (when.getFullYear() === now.getFullYear()) {
      return { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
    }
    return styles.datetime;
  }
  function localize() {
    var nodes = document.querySelectorAll("time[datetime]");
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var when = new Date(node.getAttribute("datetime"));
      if (isNaN(when)) continue;
      var style = styles[node.getAttribute("data-style")] || styles.datetime;
      if (style === styles.datetime) style = compact(when);
      try {
        node.textContent = new Intl.DateTimeFormat(undefined, style).format(when);
        node.title = when.toISOString().replace(".000Z", "Z").replace("T", " ");
      } catch (e) { /* keep the UTC text */ }
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", localize);
  else localize();
})();
