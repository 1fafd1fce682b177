// Progressive enhancement for the steward pages. Every page works without this script; with
// it, two things get better where they clearly help:
//   1. the charter form shows a live preview of the post and the page while you type;
//   2. a file upload (a CSV import, an icon) shows how far the upload has got, then that the
//      node is working on it.
// Served from the node itself (CSP script-src 'self'); it loads nothing from elsewhere.
"use strict";

(function () {
  // --- 1. Live preview of the charter ---------------------------------------------------
  const charterForm = document.querySelector("form[data-live-preview]");
  if (charterForm) {
    const box = document.createElement("section");
    box.id = "live-preview";
    box.setAttribute("aria-label", "Live preview");
    box.innerHTML = '<h2>Live preview</h2><p class="hint">Updated as you type; nothing is published until you press Publish on the full preview.</p><div class="live" aria-live="polite"></div>';
    charterForm.insertAdjacentElement("afterend", box);
    const target = box.querySelector(".live");
    let timer = 0;
    let asked = 0;
    const refresh = async () => {
      const mine = ++asked;
      const body = new URLSearchParams(new FormData(charterForm));
      body.set("_action", "preview");
      try {
        const response = await fetch(charterForm.dataset.livePreview, {
          method: "POST",
          body,
          credentials: "same-origin",
          headers: { "content-type": "application/x-www-form-urlencoded" },
        });
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        if (mine !== asked) return; // a newer preview is on its way
        const parts = [page.querySelector(".error-summary"), page.querySelector(".post"), page.querySelector(".page-preview")].filter(Boolean);
        target.replaceChildren(...parts.map((node) => document.importNode(node, true)));
        for (const summary of target.querySelectorAll(".error-summary")) summary.removeAttribute("role");
      } catch {
        if (mine === asked) target.textContent = "The live preview is not available right now; the Preview button still works.";
      }
    };
    charterForm.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 600);
    });
    refresh();
  }

  // --- 2. Upload progress --------------------------------------------------------------
  for (const form of document.querySelectorAll('form[enctype="multipart/form-data"]')) {
    form.addEventListener("submit", (event) => {
      if (!window.XMLHttpRequest || !window.FormData) return;
      event.preventDefault();
      const status = document.createElement("div");
      status.className = "upload-status";
      status.setAttribute("role", "status");
      status.innerHTML = '<progress max="100" value="0"></progress> <span>Sending the file…</span>';
      form.append(status);
      const bar = status.querySelector("progress");
      const words = status.querySelector("span");
      for (const button of form.querySelectorAll("button")) button.disabled = true;
      const request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable) return;
        const percent = Math.round((e.loaded / e.total) * 100);
        bar.value = percent;
        words.textContent = `Sending the file… ${percent}%`;
      });
      request.upload.addEventListener("load", () => {
        bar.removeAttribute("value"); // indeterminate: the node reads it now
        words.textContent = "Sent. The node is checking it now…";
      });
      request.addEventListener("load", () => {
        // A redirect was followed: go there as a normal page. Otherwise the answer is a page
        // of its own (the result, or the form with its errors): show it.
        if (request.responseURL && request.responseURL !== form.action) {
          window.location.assign(request.responseURL);
          return;
        }
        document.open();
        document.write(request.responseText);
        document.close();
      });
      request.addEventListener("error", () => {
        words.textContent = "The upload failed: check the connection and try again.";
        for (const button of form.querySelectorAll("button")) button.disabled = false;
      });
      request.send(new FormData(form));
    });
  }
})();
