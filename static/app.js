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
