/* The navbar's notification badges: polls a small JSON count, slower while the tab is hidden.
   Pages with a form[data-mark-read] (notifications, a conversation) mark what they show as read.
   This script holds no user-visible text; it only changes numbers and the hidden state. */
(function () {
  "use strict";
  var bell = document.getElementById("notification-bell");
  if (!bell || !window.fetch) {
    return;
  }
  // The bell's badge, and on phones the one beside the menu toggler: both show the same count.
  var badges = document.querySelectorAll("[data-notification-badge]");
  var counts = document.querySelectorAll("[data-notification-count]");
  var url = bell.getAttribute("data-count-url");
  var INTERVAL = Math.max(1, Number(bell.getAttribute("data-interval")) || 20) * 1000;
  var MAX_DELAY = 10 * 60 * 1000;
  var delay = INTERVAL;
  var timer = null;

  function render(data) {
    var unread = Math.max(0, Number(data.unread) || 0);
    var text = String(unread) + (data.more ? "+" : "");
    Array.prototype.forEach.call(counts, function (count) { count.textContent = text; });
    Array.prototype.forEach.call(badges, function (badge) { badge.hidden = unread === 0; });
  }

  function schedule(ms) {
    window.clearTimeout(timer);
    timer = window.setTimeout(poll, ms);
  }

  function getJSON(response) {
    if (!response.ok) {
      var error = new Error("HTTP " + response.status);
      error.status = response.status;
      throw error;
    }
    return response.json();
  }

  function poll() {
    if (document.hidden) {
      // Nobody is looking: ask less and less often, until the tab is shown again.
      delay = Math.min(delay * 2, MAX_DELAY);
    }
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(getJSON)
      .then(function (data) {
        render(data);
        if (!document.hidden) {
          delay = INTERVAL;
        }
        schedule(delay);
      })
      .catch(function (error) {
        if (error.status === 401 || error.status === 403) {
          return;  // signed out in another tab: stop until the next page load
        }
        delay = Math.min(delay * 2, MAX_DELAY);  // a deploy or a network blip: back off
        schedule(delay);
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      delay = INTERVAL;
      schedule(0);
    }
  });

  // Opening a page of notifications or a conversation marks what it shows as read.
  var forms = document.querySelectorAll("form[data-mark-read]");
  Array.prototype.forEach.call(forms, function (form) {
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(getJSON)
      .then(function (data) {
        render(data);
        form.hidden = true;
      })
      .catch(function () { /* the button stays, for marking by hand */ });
  });

  schedule(INTERVAL);
})();
