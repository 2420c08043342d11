// Re-evaluates the current step on the server when a field that a rule
// depends on changes, and swaps in the returned fields. The page works the
// same without this script; the server is the only rule engine.
(function () {
  "use strict";
  var form = document.querySelector("form[data-refresh-url]");
  var box = document.getElementById("step-fields");
  var status = document.getElementById("step-status");
  if (!form || !box || !window.fetch || !window.URLSearchParams) return;
  var url = form.getAttribute("data-refresh-url");
  var pending = null;

  function count() {
    return box.querySelectorAll("input:not([type=hidden]), select, textarea").length;
  }

  function refresh() {
    var body = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (typeof value === "string") body.append(key, value);
    });
    var before = count();
    var ticket = {};
    pending = ticket;
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "text/html" }
    }).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (html === null || pending !== ticket) return;
      var active = document.activeElement && document.activeElement.id;
      box.innerHTML = html;
      if (active) {
        var el = document.getElementById(active);
        if (el) el.focus();
      }
      var after = count();
      if (status && after !== before) {
        status.textContent = form.getAttribute("data-changed") || "";
      }
    }).catch(function () { /* the server re-evaluates on submit anyway */ });
  }

  form.addEventListener("change", function (e) {
    var t = e.target;
    if (t && t.getAttribute && t.getAttribute("data-refresh") === "1") refresh();
  });
})();
