/* Follow and Unfollow buttons on lists (form[data-follow-form]): sent with fetch, the button turns over
   in place and a status region says what happened (the server's words, in the page's language).
   Without this script, or when the request fails, the form posts as usual and comes back to the page.
   The labels come from the button's data- attributes; this file holds no user-visible text. */
(function () {
  "use strict";
  if (window.microblogFollow || !window.fetch || !window.FormData) {
    return;  // loaded twice on one page (a list and a sidebar), or a browser without fetch
  }
  window.microblogFollow = true;

  var status = document.createElement("div");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  status.setAttribute("data-follow-status", "");
  // Inside the main landmark, where the buttons are (no content outside landmarks).
  (document.getElementById("content") || document.body).appendChild(status);

  function announce(text) {
    // Emptied first, so the same words twice in a row are read again.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text || ""; }, 50);
  }

  // state: "following", "requested" (a locked or remote account has yet to approve) or "none".
  function turnOver(form, state) {
    var button = form.querySelector("button[type=submit]");
    var label = button.querySelector("[data-label]");
    var urls = { following: form.dataset.unfollowUrl, requested: form.dataset.withdrawUrl };
    var labels = { following: button.dataset.unfollowLabel, requested: button.dataset.requestedLabel };
    form.action = urls[state] || form.dataset.followUrl;
    label.textContent = labels[state] || button.dataset.followLabel;
    button.classList.toggle("btn-primary", state === "none");
    button.classList.toggle("btn-outline-primary", state !== "none");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-follow-form")) {
      return;
    }
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button.disabled) {
      return;  // a double click: the first press is on its way
    }
    var path = form.action.replace(/^[a-z]+:\/\/[^/]+/i, "");
    var following = path !== form.dataset.unfollowUrl && path !== form.dataset.withdrawUrl;
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        button.disabled = false;
        turnOver(form, data.state || (following ? "following" : "none"));
        announce(data.message);
      })
      .catch(function () {
        // Refused, rate-limited or offline: the page's own answer, as without JavaScript.
        button.disabled = false;
        form.submit();
      });
  });
})();
