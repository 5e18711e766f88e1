// Live updates for the prbot dashboard: every few seconds, fetch this same page and swap in the
// part marked #live when it changed. Pages work without it; the "Live" switch turns it off.
(function () {
  "use strict";
  var PERIOD_MS = 3000;
  var live = document.getElementById("live");
  var toggle = document.getElementById("live-toggle");
  var status = document.getElementById("live-status");
  if (!live || !toggle) { return; }
  var stored = window.localStorage && window.localStorage.getItem("prbot-live");
  toggle.checked = stored !== "off";
  toggle.addEventListener("change", function () {
    if (window.localStorage) { window.localStorage.setItem("prbot-live", toggle.checked ? "on" : "off"); }
    if (toggle.checked) { refresh(); }
  });

  function openKeys(root) {
    var keys = {};
    root.querySelectorAll("details[open][data-key]").forEach(function (d) { keys[d.dataset.key] = true; });
    return keys;
  }

  function refresh() {
    if (!toggle.checked || document.hidden) { return; }
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        if (!fresh || fresh.innerHTML === live.innerHTML) { return; }
        var keep = openKeys(live);
        fresh.querySelectorAll("details[data-key]").forEach(function (d) {
          if (keep[d.dataset.key]) { d.setAttribute("open", ""); }
        });
        live.innerHTML = fresh.innerHTML;
        if (status) { status.textContent = "updated " + new Date().toLocaleTimeString(); }
      })
      .catch(function () {
        if (status) { status.textContent = "update failed; retrying"; }
      });
  }

  window.setInterval(refresh, PERIOD_MS);
  document.addEventListener("visibilitychange", refresh);
})();
