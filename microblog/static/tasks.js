/* The progress bar of a background task: polls its JSON status until it is done, then shows the link. */
(function () {
  "use strict";
  var root = document.getElementById("task-progress");
  if (!root) {
    return;
  }
  var bar = root.querySelector("[role=progressbar]");
  var fill = root.querySelector(".progress-bar");
  var message = root.querySelector("[data-task-message]");
  var download = root.querySelector("[data-task-download]");
  var url = root.getAttribute("data-status-url");
  // The width is set here, not in an inline style attribute, which the Content-Security-Policy forbids.
  fill.style.width = (Number(bar.getAttribute("aria-valuenow")) || 0) + "%";
  var INTERVAL = 1500;
  var MAX_FAILURES = 5;
  var failures = 0;

  function isFinished(status) {
    return status === "done" || status === "failed";
  }

  function render(data) {
    var progress = Math.max(0, Math.min(100, Number(data.progress) || 0));
    var finished = isFinished(data.status);
    bar.setAttribute("aria-valuenow", String(progress));
    fill.style.width = progress + "%";
    fill.textContent = progress + "%";
    fill.classList.toggle("progress-bar-striped", !finished);
    fill.classList.toggle("progress-bar-animated", !finished);
    fill.classList.toggle("bg-success", data.status === "done");
    fill.classList.toggle("bg-danger", data.status === "failed");
    // Messages come translated from the server; this script holds no user-visible text.
    if (data.message && message.textContent !== data.message) {
      message.textContent = data.message;
    }
    if (data.download_url) {
      download.querySelector("a").setAttribute("href", data.download_url);
      download.hidden = false;
    }
    return finished;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        if (!render(data)) {
          window.setTimeout(poll, INTERVAL);
        }
      })
      .catch(function () {
        // A blip (deploy, network): back off, and leave the page as it is if it keeps failing.
        failures += 1;
        if (failures < MAX_FAILURES) {
          window.setTimeout(poll, INTERVAL * (failures + 1));
        }
      });
  }

  if (!isFinished(root.getAttribute("data-status"))) {
    window.setTimeout(poll, INTERVAL);
  }
})();
