/* Asks before the buttons that are hard to take back (delete a post, block, unblock) in a <dialog>, then
 * makes the change with a POST and keeps the page: the post's card leaves, or the buttons swap.
 *
 * Such a button is a GET form to a page that asks (templates/confirm.html), so everything works without
 * this script. Its data- attributes say the rest: data-confirm (the question), data-confirm-action (the
 * POST URL), data-confirm-button (the confirm label), and what to do after: data-confirm-remove (the
 * closest element to take away) or data-confirm-swap (the id of an element to reload from the page).
 * A POST form with data-confirm but no data-confirm-action (removing a profile picture) is only asked
 * about, then sent as it is.
 * Every word comes translated from the templates; this script holds none. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch || !window.FormData || !window.DOMParser || typeof HTMLDialogElement !== "function") {
    return;
  }
  var labels = script.dataset;
  var dialog = null;
  var question = null;
  var confirmButton = null;
  var pending = null;
  var opener = null;

  // Outcomes are announced here (and shown briefly), as the flash message would be after a reload. Made
  // with the dialog, before anything is announced in it, inside the main landmark (pages without a
  // confirmation have no such region).
  var status = null;
  var statusTimer = null;

  function say(message) {
    status.textContent = message || "";
    status.classList.toggle("action-status-shown", Boolean(message));
    window.clearTimeout(statusTimer);
    statusTimer = window.setTimeout(function () { status.classList.remove("action-status-shown"); }, 6000);
  }

  function button(className, text, value) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = className;
    element.textContent = text;
    element.addEventListener("click", function () { dialog.close(value); });
    return element;
  }

  function build() {
    status = document.createElement("div");
    status.className = "action-status";
    status.setAttribute("role", "status");
    (document.querySelector("main") || document.body).appendChild(status);
    dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-dialog-question");
    question = document.createElement("p");
    question.id = "confirm-dialog-question";
    var row = document.createElement("div");
    row.className = "confirm-dialog-buttons";
    var cancel = button("btn btn-outline-secondary", labels.cancel, "cancel");
    cancel.autofocus = true;  // the harmless choice has the focus: Enter or Escape keeps everything
    confirmButton = button("btn btn-danger", "", "confirm");
    row.appendChild(cancel);
    row.appendChild(confirmButton);
    dialog.appendChild(question);
    dialog.appendChild(row);
    dialog.addEventListener("close", function () {
      var form = pending;
      pending = null;
      if (form && dialog.returnValue === "confirm") {
        act(form);
      } else if (opener) {
        opener.focus();
      }
    });
    status.parentNode.appendChild(dialog);
  }

  function ask(form, submitter) {
    if (!dialog) {
      build();
    }
    pending = form;
    opener = submitter || form.querySelector("button");
    question.textContent = form.dataset.confirm;
    confirmButton.textContent = form.dataset.confirmButton;
    dialog.returnValue = "";
    dialog.showModal();
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function focusAfter(element) {
    var target = element && element.querySelector("a[href], button");
    if (!target) {
      target = document.querySelector("main") || document.body;
      if (!target.hasAttribute("tabindex")) {
        target.setAttribute("tabindex", "-1");
      }
    }
    target.focus();
  }

  function remove(form) {
    var item = form.closest(form.dataset.confirmRemove);
    if (!item) {
      return;
    }
    var next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    focusAfter(next);
  }

  function swap(id) {
    return fetch(window.location.href, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(id);
        var old = document.getElementById(id);
        if (fresh && old) {
          old.replaceWith(fresh);
          focusAfter(fresh.querySelector("[data-confirm]") || fresh);
        }
      });
  }

  function act(form) {
    if (!form.dataset.confirmAction) {  // a plain POST form that only wants asking first: send it as it is
      form.submit();
      return;
    }
    var body = new FormData();
    body.append("csrf_token", csrfToken());
    body.append("next", window.location.pathname + window.location.search);
    fetch(form.dataset.confirmAction, {
      method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" }
    })
      .then(function (response) {
        return response.json().then(function (data) { return { status: response.status, data: data }; });
      })
      .then(function (result) {
        var data = result.data || {};
        if ([403, 404, 409, 422].indexOf(result.status) >= 0 && data.message) {  // a rule said no (e.g. blocking yourself)
          say(data.message);
          return null;
        }
        if (result.status !== 200 || !data.message) {
          throw new Error("HTTP " + result.status);
        }
        if (data.location) {  // the page itself is gone (a post deleted on its own page)
          window.location.assign(data.location);
          return null;
        }
        say(data.message);
        if (form.dataset.confirmRemove) {
          remove(form);
        } else if (form.dataset.confirmSwap) {
          return swap(form.dataset.confirmSwap);
        }
        return null;
      })
      .catch(function () {
        form.submit();  // signed out meanwhile, or offline: the page that asks says what happened
      });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) {
      return;
    }
    event.preventDefault();
    ask(form, event.submitter);
  });
})();
