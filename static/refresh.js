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
        var before = headline(document);
        document.getElementById("main").replaceWith(document.adoptNode(main));
        document.title = fresh.title;
        announce(before, headline(document));
        document.dispatchEvent(new CustomEvent("statusboard:refreshed"));
      });
    });
  }

  // The page's headline: the overall status on the page, the incident's name and newest
  // status on an incident page.
  function headline(doc) {
    var banner = doc.querySelector("#main .banner h1");
    if (banner) return banner.textContent.trim();
    var status = doc.querySelector("#main .update .update-status");
    return status ? status.textContent.trim() : "";
  }
  function announce(before, after) {
    var region = document.getElementById("announcer");
    if (region && after && after !== before) region.textContent = "Status: " + after;
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
