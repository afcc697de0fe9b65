// rempart console: keyboard shortcuts, the blur radius from the reviewer's preferences, and the
// statement-of-reasons preview. Plain JavaScript, no library, no build.
"use strict";

(function () {
  // Per-reviewer blur strength: CSS blurs by default; this only sets the radius.
  function applyBlur() {
    document.querySelectorAll(".media[data-blur]").forEach(function (el) {
      var px = parseInt(el.getAttribute("data-blur"), 10);
      if (px > 0) { el.style.setProperty("--blur", px + "px"); }
    });
    // Videos never autoplay and always start muted, whatever the browser defaults.
    document.querySelectorAll("video").forEach(function (v) {
      v.autoplay = false; v.muted = true; v.pause();
    });
  }

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
                  el.isContentEditable);
  }

  function visible(el) { return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length); }

  // Preview the statement of reasons for the chosen policy and actions (nothing is saved; a
  // POST with the form's CSRF token, so the facts never travel in a URL).
  var pending = null;
  function preview() {
    var form = document.getElementById("decide");
    var box = document.getElementById("reasons");
    if (!form || !box) { return; }
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(form.getAttribute("data-preview"),
          { method: "POST", body: new FormData(form), credentials: "same-origin",
            signal: pending.signal })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () { /* a newer preview replaced this one */ });
  }

  function applyPreset(button) {
    var form = document.getElementById("decide");
    if (!form) { return; }
    var wanted = (button.getAttribute("data-preset-actions") || "").split(" ");
    form.querySelectorAll("input[name=actions]").forEach(function (box) {
      box.checked = wanted.indexOf(box.value) >= 0;
    });
    form.querySelector("select[name=policy]").value = button.getAttribute("data-preset-policy") || "";
    preview();
    form.querySelector("[data-testid=decide]").focus();
  }

  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-preset-actions]");
    if (b) { applyPreset(b); }
  });

  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      var form = document.getElementById("decide");
      if (form) { e.preventDefault(); form.requestSubmit(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) { return; }
    if (e.key === "?") {
      var help = document.getElementById("shortcuts");
      if (help) { help.open = !help.open; }
      return;
    }
    var targets = document.querySelectorAll('[data-key="' + CSS.escape(e.key) + '"]');
    for (var i = 0; i < targets.length; i++) {
      if (visible(targets[i]) && !targets[i].disabled) {
        e.preventDefault();
        targets[i].click();
        return;
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    applyBlur();
    var form = document.getElementById("decide");
    if (form) {
      form.addEventListener("change", preview);
      form.addEventListener("input", function (e) {
        if (e.target.name === "facts") { clearTimeout(form._t); form._t = setTimeout(preview, 400); }
      });
    }
  });
})();
