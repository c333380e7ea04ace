// Progressive enhancement only: every page works without this script.
(function () {
  "use strict";

  // Copy-to-clipboard for elements marked data-copy-target. Without the script the text stays
  // selectable in its field.
  function copy(button) {
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    if (!field) return;
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
    } else {
      field.select();
      document.execCommand("copy");
      done();
    }
  }

  // A link to a confirmation page (data-confirm-*) asks in a <dialog> instead, and the dialog's
  // form posts to the same address the confirmation page's form would.
  function confirmInDialog(link) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return false;
    var form = document.getElementById("confirm-form");
    document.getElementById("confirm-title").textContent = link.getAttribute("data-confirm-title");
    document.getElementById("confirm-detail").textContent = link.getAttribute("data-confirm-detail");
    document.getElementById("confirm-submit").textContent = link.getAttribute("data-confirm-button");
    form.setAttribute("action", link.getAttribute("data-confirm-action"));
    var extra = form.querySelector("input[data-extra]");
    if (extra) extra.remove();
    var name = link.getAttribute("data-confirm-name");
    if (name) {
      extra = document.createElement("input");
      extra.type = "hidden";
      extra.name = name;
      extra.value = link.getAttribute("data-confirm-value") || "";
      extra.setAttribute("data-extra", "");
      form.appendChild(extra);
    }
    dialog.showModal();
    document.getElementById("confirm-cancel").focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    var copyButton = target.closest("[data-copy-target]");
    if (copyButton) {
      copy(copyButton);
      return;
    }
    var link = target.closest("a[data-confirm-action]");
    if (link && !event.ctrlKey && !event.metaKey && !event.shiftKey && event.button === 0) {
      if (confirmInDialog(link)) event.preventDefault();
      return;
    }
    if (target.id === "confirm-cancel") {
      document.getElementById("confirm-dialog").close();
    }
  });

  // A time zone not chosen yet starts as the browser's own guess (the person still saves it).
  var zone = document.querySelector("select[data-guess-zone]");
  if (zone && window.Intl && Intl.DateTimeFormat) {
    var guess = Intl.DateTimeFormat().resolvedOptions().timeZone;
    for (var i = 0; i < zone.options.length; i++) {
      if (zone.options[i].value === guess) zone.selectedIndex = i;
    }
  }

  // The composer's count per chosen platform, as the server counts (it checks again on
  // submit, so the two never disagree): asked for a moment after typing stops.
  var composer = document.getElementById("composer");
  if (composer && window.fetch) {
    var text = document.getElementById("post-text");
    var counts = document.getElementById("counts");
    var names = { x: "X", linkedin: "LinkedIn", sandbox: "Sandbox" };
    var timer = null;
    var refresh = function () {
      var chosen = {};
      composer.querySelectorAll("input[name=account_ids]:checked").forEach(function (box) {
        chosen[box.getAttribute("data-platform")] = true;
      });
      var body = new URLSearchParams();
      body.set("csrf_token", composer.querySelector("input[name=csrf_token]").value);
      body.set("text", text.value);
      fetch(composer.getAttribute("data-count-url"), {
        method: "POST", credentials: "same-origin", body: body,
        headers: { "Content-Type": "application/x-www-form-urlencoded" }
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (all) {
        if (!all) return;
        counts.textContent = "";
        Object.keys(chosen).forEach(function (platform) {
          var c = all[platform];
          if (!c) return;
          var span = document.createElement("span");
          span.className = "count" + (c.used > c.limit ? " over" : "");
          span.setAttribute("data-platform", platform);
          span.textContent = names[platform] + " " + c.used + "/" + c.limit;
          counts.appendChild(span);
          counts.appendChild(document.createTextNode(" "));
        });
      });
    };
    var later = function () { clearTimeout(timer); timer = setTimeout(refresh, 250); };
    text.addEventListener("input", later);
    composer.addEventListener("change", later);
    refresh();
  }

  // A menu (<details>) closes when the click or the focus goes elsewhere, and on Escape.
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    var inside = event.target instanceof Element ? event.target.closest("details.menu") : null;
    closeMenus(inside);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.menu[open]");
    if (open) {
      open.removeAttribute("open");
      open.querySelector("summary").focus();
    }
  });
})();
