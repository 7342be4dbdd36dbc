// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Tell the server the browser's time zone once, so times show in local time before any setting.
  function readCookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : null;
  }
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && readCookie("tz") !== zone) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";  // IANA names are cookie-safe
    }
    // Offer the browser's zone on the settings page when the user has not chosen one.
    var select = document.querySelector("select[data-browser-timezone]");
    if (zone && select && !select.value) {
      for (var i = 0; i < select.options.length; i++) {
        if (select.options[i].value === zone) {
          select.options[i].textContent += " \u2713";
          select.dataset.suggested = zone;
        }
      }
      var hint = document.getElementById(select.dataset.browserTimezone);
      if (hint) {
        hint.hidden = false;
        hint.querySelector("button").addEventListener("click", function () { select.value = zone; });
        hint.querySelector("[data-zone]").textContent = zone;
      }
    }
  } catch (e) { /* very old browsers: times stay in UTC */ }

  // A picture chosen on Edit profile shows in place of the current one before it is saved.
  document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
    var preview = document.getElementById(input.dataset.preview);
    if (!preview || !window.URL || !URL.createObjectURL) { return; }
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file || !/^image\//.test(file.type)) { return; }
      if (preview.dataset.objectUrl) { URL.revokeObjectURL(preview.dataset.objectUrl); }
      preview.dataset.objectUrl = preview.src = URL.createObjectURL(file);
      preview.hidden = false;
    });
  });

  // No script on the footer's language switcher: it changes on its button only. Submitting on "change"
  // switched the page (and a signed-in user's saved language) at the first arrow key on the menu.
})();
