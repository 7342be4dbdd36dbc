/* Passkeys (WebAuthn): adding one on the passkeys page (form[data-passkey-register]), and signing in
   with one on the sign-in page or as the second step (div[data-passkey-sign-in]).
   Each asks the server for options with a POST (the page's CSRF token in the X-CSRFToken header),
   hands them to navigator.credentials, and posts what the authenticator answered back as JSON.
   Where the browser has no WebAuthn (or without this script) the controls stay hidden and the page
   says why; the password and the code keep working. This file holds no user-visible text: the
   messages come from the page's data- attributes or the server's answers. */
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) {
    return;
  }

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) {
      base64 += "=";
    }
    var binary = window.atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    if (!buffer) {
      return null;
    }
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return window.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      var copy = Object.assign({}, item);
      copy.id = toBytes(item.id);
      return copy;
    });
  }

  function post(url, token, body) {
    return window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.error || (data.message) || "");
          error.fromServer = Boolean(data.error);
          throw error;
        }
        return data;
      });
    });
  }

  function showError(box, error, fallback) {
    if (box) {
      box.textContent = (error && error.fromServer && error.message) || fallback || "";
    }
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: {clientDataJSON: toBase64url(response.clientDataJSON)}
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      json.response.userHandle = toBase64url(response.userHandle) || undefined;
    }
    return json;
  }

  // -- adding a passkey (settings) ------------------------------------------------------------------
  document.querySelectorAll("form[data-passkey-register]").forEach(function (form) {
    document.querySelectorAll("[data-passkey-unsupported]").forEach(function (note) { note.hidden = true; });
    form.hidden = false;
    var box = form.querySelector("[data-passkey-error]");
    var token = form.querySelector("input[name=csrf_token]").value;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("[type=submit]");
      var name = form.querySelector("input[name=name]").value;
      showError(box, null, "");
      button.disabled = true;
      post(form.dataset.optionsUrl, token).then(function (options) {
        options.challenge = toBytes(options.challenge);
        options.user.id = toBytes(options.user.id);
        options.excludeCredentials = descriptors(options.excludeCredentials);
        return navigator.credentials.create({publicKey: options});
      }).then(function (credential) {
        return post(form.action, token, {name: name, credential: credentialJSON(credential)});
      }).then(function (answer) {
        window.location.assign(answer.redirect);
      }).catch(function (error) {
        showError(box, error, form.dataset.failed);
        button.disabled = false;
      });
    });
  });

  // -- signing in (the sign-in page, the second step) ----------------------------------------------
  document.querySelectorAll("[data-passkey-sign-in]").forEach(function (panel) {
    panel.hidden = false;
    var box = panel.querySelector("[data-passkey-error]");
    var button = panel.querySelector("[data-passkey-button]");
    // The sign-in form's token (the session's): the page's forms all carry it.
    var token = document.querySelector("input[name=csrf_token]").value;
    button.addEventListener("click", function () {
      var remember = document.getElementById(panel.dataset.rememberField);
      var body = {};
      showError(box, null, "");
      button.disabled = true;
      post(panel.dataset.optionsUrl, token).then(function (options) {
        options.challenge = toBytes(options.challenge);
        options.allowCredentials = descriptors(options.allowCredentials);
        return navigator.credentials.get({publicKey: options});
      }).then(function (credential) {
        body.credential = credentialJSON(credential);
        body[panel.dataset.rememberField] = Boolean(remember && remember.checked);
        return post(panel.dataset.url, token, body);
      }).then(function (answer) {
        window.location.assign(answer.redirect);
      }).catch(function (error) {
        showError(box, error, panel.dataset.failed);
        button.disabled = false;
      });
    });
  });
}());
