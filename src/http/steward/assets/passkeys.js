// Passkeys on the steward pages: adding one on the Stewards page, signing in with one on the
// sign-in page. WebAuthn has no HTML-only form, so this is the one thing a steward page needs
// a script for; the buttons stay hidden unless this browser can do it, and sign-in links work
// regardless. Served from the node itself (CSP script-src 'self'); it talks only to this node.
// The base64url conversions are written out here rather than loaded from a library.
"use strict";

(function () {
  if (!window.isSecureContext || !window.PublicKeyCredential || !navigator.credentials) return;

  const toBytes = (text) => {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  };
  const toText = (buffer) => {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  /** A credential as the server reads it (the JSON @simplewebauthn expects): the common fields, plus the ceremony's own. */
  const asJson = (credential, own) => ({
    id: credential.id,
    rawId: toText(credential.rawId),
    type: credential.type,
    response: { clientDataJSON: toText(credential.response.clientDataJSON), ...own },
    clientExtensionResults: credential.getClientExtensionResults(),
    ...(credential.authenticatorAttachment && { authenticatorAttachment: credential.authenticatorAttachment }),
  });

  /** Posts JSON to this node; answers the parsed body, or throws with the node's plain message. */
  const post = async (url, body, csrf) => {
    const headers = { "content-type": "application/json" };
    if (csrf) headers["x-csrf-token"] = csrf;
    const response = await fetch(url, { method: "POST", credentials: "same-origin", headers, body: JSON.stringify(body || {}) });
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      answer = null;
    }
    if (!response.ok) {
      throw new Error(answer && answer.message ? answer.message : "The node did not accept this (you may have been signed out). Reload the page and try again.");
    }
    return answer;
  };

  /** What the browser says when the person cancels or the authenticator refuses, in plain words. */
  const explain = (error) => {
    if (error && (error.name === "NotAllowedError" || error.name === "AbortError")) return "No passkey was used (it was cancelled, or timed out).";
    if (error && error.name === "InvalidStateError") return "This device already holds a passkey for you here.";
    if (error && error.name === "SecurityError") return "This browser refused passkeys for this address.";
    return (error && error.message) || "Something went wrong. Try again.";
  };

  const say = (box, text) => {
    if (box) box.textContent = text;
  };

  // --- Adding a passkey (Stewards page) --------------------------------------------------
  const addForm = document.getElementById("passkey-add");
  if (addForm) {
    addForm.hidden = false;
    const needs = document.getElementById("passkey-needs");
    if (needs) needs.hidden = true;
    const status = addForm.querySelector(".passkey-status");
    const button = addForm.querySelector("button[type=submit]");
    addForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const csrf = addForm.elements._csrf.value;
      const name = addForm.elements.name.value;
      button.disabled = true;
      say(status, "Follow your device's prompt…");
      try {
        const options = await post(addForm.dataset.options, {}, csrf);
        const publicKey = {
          ...options,
          challenge: toBytes(options.challenge),
          user: { ...options.user, id: toBytes(options.user.id) },
          excludeCredentials: (options.excludeCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
        };
        const credential = await navigator.credentials.create({ publicKey });
        const response = asJson(credential, {
          attestationObject: toText(credential.response.attestationObject),
          transports: typeof credential.response.getTransports === "function" ? credential.response.getTransports() : [],
        });
        const done = await post(addForm.action, { name, response }, csrf);
        say(status, "The passkey was added.");
        window.location.assign(done.next);
      } catch (error) {
        say(status, explain(error));
        button.disabled = false;
      }
    });
  }

  // --- Signing in with a passkey (sign-in page) --------------------------------------------
  const signIn = document.getElementById("passkey-sign-in");
  if (signIn) {
    signIn.hidden = false;
    const status = signIn.querySelector(".passkey-status");
    const button = signIn.querySelector("button");
    button.addEventListener("click", async () => {
      button.disabled = true;
      say(status, "Follow your device's prompt…");
      try {
        const options = await post(signIn.dataset.options, {});
        const publicKey = {
          ...options,
          challenge: toBytes(options.challenge),
          allowCredentials: (options.allowCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
        };
        const credential = await navigator.credentials.get({ publicKey });
        const response = asJson(credential, {
          authenticatorData: toText(credential.response.authenticatorData),
          signature: toText(credential.response.signature),
          ...(credential.response.userHandle && { userHandle: toText(credential.response.userHandle) }),
        });
        const done = await post(signIn.dataset.finish, { response });
        say(status, "Signed in.");
        window.location.assign(done.next);
      } catch (error) {
        say(status, explain(error));
        button.disabled = false;
      }
    });
  }
})();
