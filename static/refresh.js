// Keeps an open status page true without a reload. Every interval (with jitter, so open tabs
// do not poll in step) it asks a small endpoint whether the data changed: a conditional GET
// with the version the page shows, answered 304 while nothing changed. When it did, it
// fetches this page and swaps the content in place, so overdue lines, statuses, the newest
// update and the banner follow the data. Hidden tabs do not poll; they check as soon as they
// are shown. Without JavaScript the page is as fresh as its load.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch || !window.DOMParser) return;
  var every = (Number(script.getAttribute("data-refresh-seconds")) || 45) * 1000;
  var probe = script.getAttribute("data-probe");
  var seen = script.getAttribute("data-etag"); // the version this page was rendered at
  var timer = null;
  var busy = false;

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, every * (0.8 + Math.random() * 0.4));
  }

  function replace() {
    return fetch(location.pathname, { cache: "no-store" }).then(function (response) {
      if (!response.ok) return;
      return response.text().then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var main = fresh.getElementById("main");
        if (!main) return;
        document.getElementById("main").replaceWith(document.adoptNode(main));
        document.title = fresh.title;
        document.dispatchEvent(new CustomEvent("statusboard:refreshed"));
      });
    });
  }

  function check() {
    if (document.visibilityState === "hidden") return; // resumed by visibilitychange
    if (busy) return schedule();
    busy = true;
    var headers = seen ? { "If-None-Match": '"' + seen + '"' } : {};
    fetch(probe, { cache: "no-store", headers: headers })
      .then(function (response) {
        if (response.status !== 200) return null;
        var etag = (response.headers.get("ETag") || "").replace(/"/g, "");
        if (etag === seen) return null;
        seen = etag;
        return replace();
      })
      .catch(function () { /* offline or down: try again next time */ })
      .then(function () { busy = false; schedule(); });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") check();
    else clearTimeout(timer);
  });
  schedule();
})();
