// The per-network preview of the channel options, refreshed as the operator types. The server
// builds each text with the function the worker posts with, so what is shown is what goes out.
(function () {
  var box = document.currentScript.previousElementSibling;
  var form = box.closest("form");
  if (!form || !window.fetch) return;
  var timer;
  function refresh() {
    var data = new FormData(form);
    fetch(box.dataset.previewUrl, {method: "POST", body: data, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (json) {
        if (!json) return;
        Object.keys(json.channels).forEach(function (name) {
          var c = json.channels[name];
          var out = box.querySelector('output[data-channel="' + name + '"]');
          var pre = box.querySelector('pre[data-channel="' + name + '"]');
          if (out) {
            out.textContent = c.length + " of " + c.limit + " characters" + (c.fits ? "" : " — too long");
            out.className = c.fits ? "count" : "count over";
          }
          if (pre) pre.textContent = c.text;
        });
      });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 300); });
  refresh();
})();
