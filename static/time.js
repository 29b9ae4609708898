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
  // "Update overdue since 14:30" becomes "Update overdue by 7 min", kept current.
  function minutesText(ms) {
    var minutes = Math.max(0, Math.floor(ms / 60000));
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60), rest = minutes % 60;
    return hours + " h" + (rest ? " " + rest + " min" : "");
  }
  function overdue() {
    var nodes = document.querySelectorAll("[data-overdue-since]");
    for (var i = 0; i < nodes.length; i++) {
      var since = new Date(nodes[i].getAttribute("data-overdue-since"));
      if (isNaN(since)) continue;
      var late = Date.now() - since.getTime();
      if (late < 0) continue;
      nodes[i].firstChild.textContent = "Update overdue by " + minutesText(late) + " (promised for ";
      if (!nodes[i].getAttribute("data-live")) {
        nodes[i].setAttribute("data-live", "1");
        var time = nodes[i].querySelector("time");
        if (time && time.nextSibling) time.nextSibling.textContent = ") — the team has been reminded.";
      }
    }
  }
  function start() { localize(); overdue(); setInterval(overdue, 30000); }
  // static/refresh.js swapped in fresh content: show its times the same way.
  document.addEventListener("statusboard:refreshed", function () { localize(); overdue(); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
