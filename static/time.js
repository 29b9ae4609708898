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
      if (node.hasAttribute("data-fixed")) continue;  // operators' pages: the page's zone
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
  // "Update overdue." becomes "Update overdue by 7 min.", kept current (never "0 min").
  function minutesText(ms) {
    var minutes = Math.floor(ms / 60000);
    if (minutes < 1) return "less than 1 min";
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60), rest = minutes % 60;
    if (hours >= 24) {
      var days = Math.floor(hours / 24), left = hours % 24;
      return days + " d" + (left ? " " + left + " h" : "");
    }
    return hours + " h" + (rest ? " " + rest + " min" : "");
  }
  function overdue() {
    var nodes = document.querySelectorAll("[data-overdue-since]");
    for (var i = 0; i < nodes.length; i++) {
      var since = new Date(nodes[i].getAttribute("data-overdue-since"));
      var by = nodes[i].querySelector(".overdue-by");
      if (isNaN(since) || !by) continue;
      var late = Date.now() - since.getTime();
      if (late < 0) continue;
      by.textContent = " by " + minutesText(late);
    }
  }
  // Without this script the footer says times are UTC, which they then are.
  function zoneNote() {
    var note = document.querySelector("[data-zone-note]");
    if (!note) return;
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    note.textContent = "Times are shown in your time zone" + (zone ? " (" + zone.replace(/_/g, " ") + ")." : ".");
  }
  function start() { localize(); overdue(); zoneNote(); setInterval(overdue, 30000); }
  // static/refresh.js swapped in fresh content: show its times the same way.
  document.addEventListener("statusboard:refreshed", function () { localize(); overdue(); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
