/* The composer: a live character counter on every post text area (textarea[data-max-length]) that
   counts as the server does (services/posts.py body_length), and posting without reloading the page
   from the forms marked data-compose: the new card goes into the list named by data-compose-into,
   the form is cleared, and errors are shown beside their fields. Without this script (or when fetch is
   missing) the forms post as they always did. The words are data attributes of this script's tag. */
(function () {
  "use strict";
  var script = document.currentScript;
  var words = script ? script.dataset : {};

  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? values[name] : all;
    });
  }

  // Python's str.strip() removes what str.isspace() calls whitespace, which is not JavaScript's
  // trim(): U+001C-U+001F and U+0085 are Python whitespace, U+FEFF is JavaScript's only.
  var PY_SPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  var EDGES = new RegExp("^[" + PY_SPACE + "]+|[" + PY_SPACE + "]+$", "g");

  /* The length the server gives this text: CRLF as LF, stripped, counted in code points (an emoji is
     one, as the server's len() counts it, where JavaScript's .length would say two). */
  function postLength(text) {
    var kept = String(text).replace(/\r\n/g, "\n").replace(EDGES, "");
    var count = 0;
    for (var i = 0; i < kept.length; i++) {
      var code = kept.charCodeAt(i);
      if (code >= 0xd800 && code <= 0xdbff && i + 1 < kept.length) {
        var next = kept.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) { i++; }
      }
      count++;
    }
    return count;
  }
  window.microblogPostLength = postLength;  // the tests compare it with the server's count

  var number = window.Intl && Intl.NumberFormat ? new Intl.NumberFormat(document.documentElement.lang || undefined) : null;
  function formatNumber(n) { return number ? number.format(n) : String(n); }

  function describe(element, id, on) {
    var ids = (element.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    var at = ids.indexOf(id);
    if (on && at < 0) { ids.push(id); }
    if (!on && at >= 0) { ids.splice(at, 1); }
    if (ids.length) { element.setAttribute("aria-describedby", ids.join(" ")); } else { element.removeAttribute("aria-describedby"); }
  }

  // -- the counter ----------------------------------------------------------------------------------
  var THRESHOLDS = [20, 10, 0];

  function counter(textarea) {
    var max = parseInt(textarea.getAttribute("data-max-length"), 10);
    if (!(max > 0)) { return null; }
    var id = textarea.id || ("compose-" + Math.random().toString(36).slice(2));
    textarea.id = id;
    var shown = document.createElement("div");
    shown.className = "compose-counter small text-body-secondary text-end";
    shown.setAttribute("aria-hidden", "true");  // the live region below says it, at the thresholds only
    var live = document.createElement("div");
    live.className = "visually-hidden compose-counter-live";
    live.setAttribute("aria-live", "polite");
    var error = document.createElement("div");
    error.id = id + "-too-long";
    error.className = "invalid-feedback d-block compose-too-long";
    error.hidden = true;
    textarea.insertAdjacentElement("afterend", error);
    error.insertAdjacentElement("afterend", live);
    live.insertAdjacentElement("afterend", shown);
    var lastStep = null;

    function update() {
      var length = postLength(textarea.value);
      var left = max - length;
      var over = left < 0;
      shown.textContent = formatNumber(length) + " / " + formatNumber(max);
      shown.classList.toggle("text-danger", over);
      shown.classList.toggle("text-body-secondary", !over);
      if (over) {
        textarea.classList.add("is-invalid");
        textarea.setAttribute("aria-invalid", "true");
      } else if (!textarea.dataset.serverError) {
        textarea.classList.remove("is-invalid");
        textarea.removeAttribute("aria-invalid");
      }
      error.hidden = !over;
      // Plain digits, as the server's message has them.
      error.textContent = over ? fill(words.tooLong, {max: max, count: length}) : "";
      describe(textarea, error.id, over);
      // Say it when a threshold is crossed, not on every key: 20 left, 10 left, none left, over.
      var step = over ? -1 : THRESHOLDS.filter(function (t) { return left <= t; }).pop();
      if (step === undefined) { step = null; }
      if (step !== lastStep) {
        lastStep = step;
        if (step !== null) {
          live.textContent = over ? fill(words.over, {count: formatNumber(-left)}) : fill(words.left, {count: formatNumber(left)});
        }
      }
      return over;
    }

    textarea.addEventListener("input", update);
    update();
    return {update: update, tooLong: function () { return postLength(textarea.value) > max; }};
  }

  var counters = [];
  document.querySelectorAll("textarea[data-max-length]").forEach(function (textarea) {
    var made = counter(textarea);
    if (made) { counters.push({textarea: textarea, counter: made}); }
  });

  function counterOf(form) {
    for (var i = 0; i < counters.length; i++) {
      if (counters[i].textarea.form === form) { return counters[i]; }
    }
    return null;
  }

  // Too long: not sent (the message is already beside the text area), whether or not fetch runs.
  document.addEventListener("submit", function (event) {
    var found = counterOf(event.target);
    if (found && found.counter.tooLong()) {
      event.preventDefault();
      event.stopImmediatePropagation();
      found.counter.update();
      found.textarea.focus();
    }
  }, true);

  // -- posting with fetch ---------------------------------------------------------------------------
  if (!window.fetch || !window.FormData || !window.DOMParser) { return; }

  function clearErrors(form) {
    form.querySelectorAll(".compose-error").forEach(function (node) { node.remove(); });
    form.querySelectorAll("[data-server-error]").forEach(function (field) {
      field.classList.remove("is-invalid");
      field.removeAttribute("aria-invalid");
      describe(field, field.id + "-error", false);
      delete field.dataset.serverError;
    });
    // What the server rendered with the page (a form sent back without JavaScript) goes too.
    form.querySelectorAll(".invalid-feedback:not(.compose-too-long)").forEach(function (node) {
      if (node.id) {
        form.querySelectorAll("[aria-describedby]").forEach(function (field) { describe(field, node.id, false); });
      }
      node.remove();
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (field) {
      if (!field.matches("textarea[data-max-length]")) { field.classList.remove("is-invalid"); field.removeAttribute("aria-invalid"); }
    });
  }

  function general(form, messages) {
    var box = document.createElement("div");
    box.className = "alert alert-danger compose-error";
    box.setAttribute("role", "alert");
    box.textContent = messages.join(" ");
    form.insertBefore(box, form.firstChild);
    return box;
  }

  function showErrors(form, errors) {
    var first = null, loose = [];
    errors.forEach(function (item) {
      var field = item.field ? document.getElementById(item.field) : null;
      if (!field || field.form !== form) { loose = loose.concat(item.messages || []); return; }
      var box = document.createElement("div");
      box.id = field.id + "-error";
      box.className = "invalid-feedback d-block compose-error";
      box.textContent = (item.messages || []).join(" ");
      field.insertAdjacentElement("afterend", box);
      field.classList.add("is-invalid");
      field.setAttribute("aria-invalid", "true");
      field.dataset.serverError = "1";
      describe(field, box.id, true);
      // A field in a closed <details> (the content warning, an image's description) is shown.
      var details = field.closest("details");
      if (details) { details.open = true; }
      first = first || field;
    });
    if (loose.length) {
      general(form, loose);
      first = first || form.querySelector("textarea[name=post]");
    }
    if (first) { first.focus(); }
  }

  function insertCard(form, html) {
    var list = document.querySelector(form.dataset.composeInto || "");
    var card = new DOMParser().parseFromString(html, "text/html").querySelector("article.post");
    if (!list || !card) { return null; }
    card = document.importNode(card, true);
    if (form.dataset.composeAt === "end") { list.appendChild(card); } else { list.insertBefore(card, list.firstChild); }
    var empty = document.querySelector("[data-replies-empty]");
    if (empty && list.closest("#replies")) { empty.remove(); }
    document.dispatchEvent(new CustomEvent("microblog:cards", {detail: {cards: [card]}}));
    return card;
  }

  /* Said as the flash message was after a reload, in its place above the form: the messages of the
     page before (a welcome, an earlier post's) are gone, as a new page would have dropped them. */
  function confirm(form, message) {
    document.querySelectorAll("main .alert-dismissible[role=alert]").forEach(function (old) { old.remove(); });
    var box = document.createElement("div");
    box.className = "alert alert-success alert-dismissible compose-alert";
    box.setAttribute("role", "alert");
    box.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", words.close || "");
    box.appendChild(close);
    form.parentNode.insertBefore(box, form);
  }

  // Cards the post changed (the parent's reply count), wherever they are shown.
  function replaceCards(changed) {
    Object.keys(changed).forEach(function (id) {
      var old = document.getElementById(id);
      var fresh = new DOMParser().parseFromString(changed[id], "text/html").querySelector("article.post");
      if (old && fresh) { old.replaceWith(document.importNode(fresh, true)); }
    });
  }

  function enhance(form) {
    var sending = false;

    form.addEventListener("submit", function (event) {
      // The image warning (media_compose.js) may have stopped this submission to ask first.
      if (event.defaultPrevented) { return; }
      event.preventDefault();
      if (sending) { return; }
      sending = true;
      var buttons = form.querySelectorAll("button[type=submit], input[type=submit]");
      var body = event.submitter ? new FormData(form, event.submitter) : new FormData(form);
      buttons.forEach(function (button) { button.disabled = true; });
      form.setAttribute("aria-busy", "true");
      fetch(form.action || window.location.href, {
        method: "POST", body: body, credentials: "same-origin",
        headers: {Accept: "application/json", "X-Requested-With": "fetch"},
      })
        .then(function (response) {
          return response.json().then(function (data) { return {status: response.status, data: data}; },
                                      function () { return {status: response.status, data: {}}; });
        })
        .then(function (answer) {
          clearErrors(form);
          if (answer.status === 201 && answer.data.html) {
            var card = insertCard(form, answer.data.html);
            replaceCards(answer.data.changed || {});
            // A reply: the address names it, as after posting without JavaScript.
            if (card && form.hasAttribute("data-compose-anchor") && window.history.replaceState) {
              window.history.replaceState(window.history.state, "", "#" + card.id);
            }
            form.reset();
            var found = counterOf(form);
            if (found) { found.counter.update(); }
            if (answer.data.message) { confirm(form, answer.data.message); }
            document.dispatchEvent(new CustomEvent("microblog:posted", {detail: {top: answer.data.top, card: card}}));
            var text = form.querySelector("textarea[name=post]");
            if (text) { text.focus(); }
          } else if (answer.data.errors) {
            showErrors(form, answer.data.errors);
          } else {
            general(form, [answer.data.message || words.failed]);
          }
        })
        .catch(function () { clearErrors(form); general(form, [words.failed]); })
        .then(function () {
          sending = false;
          form.removeAttribute("aria-busy");
          buttons.forEach(function (button) { button.disabled = false; });
        });
    });
  }

  document.querySelectorAll("form[data-compose]").forEach(enhance);
})();
