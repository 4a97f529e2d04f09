/* Passkeys (WebAuthn): sign in, add one in Mi cuenta, or confirm it is you.
 * Vanilla, no inline script (CSP script-src 'self'); the buttons carry their URLs, the CSRF
 * token and the Spanish messages as data-* attributes. */
(function () {
  "use strict";

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(value) {
    var text = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes.buffer;
  }

  function decodeDescriptors(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: fromBase64url(item.id), transports: item.transports };
    });
  }

  function credentialJSON(credential) {
    var response = credential.response, out = {};
    ["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"]
      .forEach(function (name) {
        if (response[name]) out[name] = toBase64url(response[name]);
      });
    if (response.getTransports) out.transports = response.getTransports();
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: out,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined
    };
  }

  // The button's token, else the page form's (the sign-in page renders only one token, so
  // two renders differ in nothing but that token).
  function csrfToken(button) {
    var input = document.querySelector('input[name="csrf_token"]');
    return button.dataset.csrf || (input ? input.value : "");
  }

  function post(button, url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(button) },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw { message: data.message };
        return data;
      });
    });
  }

  function show(message) {
    var status = document.getElementById("passkey-status");
    if (!status) return;
    status.textContent = message;
    status.hidden = false;
  }

  function failure(button) {
    return function (error) {
      button.disabled = false;
      if (error && error.name === "AbortError") return; // a newer request took over
      if (error && error.name === "NotAllowedError") show(button.dataset.messageCancelled);
      else show((error && error.message && !error.name) ? error.message : button.dataset.messageFailed);
    };
  }

  var pending = null; // the conditional request of the sign-in page, cancelled by the button

  function getCredential(button, conditional) {
    return post(button, button.dataset.optionsUrl).then(function (options) {
      options.challenge = fromBase64url(options.challenge);
      options.allowCredentials = decodeDescriptors(options.allowCredentials);
      if (pending) pending.abort();
      pending = new AbortController();
      var request = { publicKey: options, signal: pending.signal };
      if (conditional) request.mediation = "conditional";
      return navigator.credentials.get(request);
    }).then(function (credential) {
      return post(button, button.dataset.verifyUrl, { credential: credentialJSON(credential) });
    }).then(function (data) {
      window.location.assign(data.redirect);
    });
  }

  function register(button) {
    var nameInput = document.querySelector('input[name="passkey_name"]');
    return post(button, button.dataset.optionsUrl).then(function (options) {
      options.challenge = fromBase64url(options.challenge);
      options.user.id = fromBase64url(options.user.id);
      options.excludeCredentials = decodeDescriptors(options.excludeCredentials);
      return navigator.credentials.create({ publicKey: options });
    }).then(function (credential) {
      return post(button, button.dataset.verifyUrl, {
        credential: credentialJSON(credential),
        name: nameInput ? nameInput.value : ""
      });
    }).then(function (data) {
      window.location.assign(data.redirect);
    });
  }

  function supported() {
    return window.PublicKeyCredential && navigator.credentials;
  }

  function wire(id, action) {
    var button = document.getElementById(id);
    if (!button) return null;
    button.addEventListener("click", function () {
      if (!supported()) { show(button.dataset.messageUnsupported); return; }
      button.disabled = true;
      action(button).catch(failure(button));
    });
    return button;
  }

  var login = wire("passkey-login", function (button) { return getCredential(button, false); });
  wire("passkey-step-up", function (button) { return getCredential(button, false); });
  wire("passkey-register", register);

  // The sign-in page: let the browser offer passkeys in the DNI field (conditional mediation).
  if (login && supported() && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (!available) return;
      getCredential(login, true).catch(function (error) {
        if (error && error.message && !error.name) show(error.message); // only the server's word
      });
    });
  }
})();
