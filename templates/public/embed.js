/* Status widget: put this script where the widget should appear,
   <script src="{{ embed_url }}.js" async></script>, and it adds the status in an iframe. */
(function () {
  "use strict";
  var script = document.currentScript;
  var frame = document.createElement("iframe");
  // The page next to this script, wherever it is served from (the app, an export, a CDN).
  var own = script && script.src ? script.src.replace(/\.js(\?.*)?$/, "") : "";
  frame.src = own || {{ embed_url|tojson }};
  frame.title = {{ (page_name ~ " status")|tojson }};
  frame.loading = "lazy";
  frame.style.cssText = "border:0;width:100%;max-width:420px;height:260px;";
  if (script && script.parentNode) {
    script.parentNode.insertBefore(frame, script.nextSibling);
  } else {
    document.body.appendChild(frame);
  }
})();
