// The live view refreshes itself: the rows every few seconds, durations every second.
// A static file because the panel's Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  var content = document.getElementById("live-content");
  if (!status || !content) return;
  var every = Math.max(1, parseInt(status.getAttribute("data-refresh"), 10) || 5) * 1000;

  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var now = Date.now();
    content.querySelectorAll("[data-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-since"));
      if (isNaN(since)) return;
      var s = Math.max(0, Math.floor((now - since) / 1000));
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      el.textContent = h ? h + ":" + pad(m) + ":" + pad(sec) : m + ":" + pad(sec);
    });
  }
  function refresh() {
    var url = window.location.pathname + "?fragment=1";
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { content.innerHTML = html; content.setAttribute("data-updated", String(Date.now())); tick(); })
      .catch(function () { /* the next round tries again; a signed-out session shows on the next page load */ })
      .then(function () { window.setTimeout(refresh, every); });
  }
  window.setInterval(tick, 1000);
  window.setTimeout(refresh, every);
})();
