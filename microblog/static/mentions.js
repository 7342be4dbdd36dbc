// @name suggestions in every post textarea: an ARIA 1.2 combobox (listbox popup, arrow keys, Enter or
// Tab picks, Escape closes). Without this script the textarea is a plain textarea and posting works.
(function () {
  "use strict";

  var script = document.currentScript;
  var url = script && script.dataset.autocompleteUrl;
  if (!url || !window.fetch) { return; }
  var MENTION = /(^|[^A-Za-z0-9_@\/.])@([A-Za-z0-9_]{1,32})$/;
  var counter = 0;

  function enhance(textarea) {
    var id = "mention-list-" + (++counter);
    var list = document.createElement("ul");
    list.id = id;
    list.className = "list-group mention-suggestions shadow-sm";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", script.dataset.label || "Suggestions");
    list.hidden = true;
    textarea.parentNode.insertBefore(list, textarea.nextSibling);
    textarea.setAttribute("role", "combobox");
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", id);
    textarea.setAttribute("aria-expanded", "false");

    var people = [], active = -1, query = null, timer = null, pending = 0;

    function close() {
      query = null;  // the next "@name" typed looks its suggestions up again, even the same name
      list.hidden = true;
      list.textContent = "";
      people = [];
      active = -1;
      textarea.setAttribute("aria-expanded", "false");
      textarea.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var items = list.children;
      for (var i = 0; i < items.length; i++) {
        var on = i === index;
        items[i].setAttribute("aria-selected", on ? "true" : "false");
        items[i].classList.toggle("active", on);
      }
      active = index;
      if (index >= 0) {
        textarea.setAttribute("aria-activedescendant", items[index].id);
      } else {
        textarea.removeAttribute("aria-activedescendant");
      }
    }

    function pick(index) {
      var person = people[index];
      if (!person) { return; }
      var caret = textarea.selectionStart;
      var before = textarea.value.slice(0, caret);
      var match = MENTION.exec(before);
      if (!match) { close(); return; }
      var start = caret - match[2].length;
      var insert = person.username + " ";
      textarea.value = textarea.value.slice(0, start) + insert + textarea.value.slice(caret);
      var end = start + insert.length;
      textarea.setSelectionRange(end, end);
      close();
      textarea.focus();
    }

    function show(found) {
      list.textContent = "";
      people = found;
      if (!found.length) { close(); return; }
      found.forEach(function (person, i) {
        var item = document.createElement("li");
        item.id = id + "-" + i;
        item.className = "list-group-item list-group-item-action d-flex align-items-center gap-2";
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        var img = document.createElement("img");
        img.src = person.avatar;
        img.alt = "";
        img.width = 20;
        img.height = 20;
        img.className = "rounded";
        item.appendChild(img);
        item.appendChild(document.createTextNode("@" + person.username));
        // mousedown, not click: the textarea keeps focus (and its caret).
        item.addEventListener("mousedown", function (event) { event.preventDefault(); pick(i); });
        list.appendChild(item);
      });
      list.hidden = false;
      textarea.setAttribute("aria-expanded", "true");
      highlight(0);
    }

    function lookup() {
      var match = MENTION.exec(textarea.value.slice(0, textarea.selectionStart));
      if (!match || textarea.selectionStart !== textarea.selectionEnd) { query = null; close(); return; }
      if (match[2] === query) { return; }
      query = match[2];
      var ticket = ++pending;
      fetch(url + "?q=" + encodeURIComponent(query), {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (found) { if (ticket === pending) { show(Array.isArray(found) ? found : []); } })
        .catch(function () { close(); });
    }

    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 150);
    });
    textarea.addEventListener("keydown", function (event) {
      if (list.hidden) { return; }
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight((active + 1) % people.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight((active - 1 + people.length) % people.length);
      } else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
        event.preventDefault();
        pick(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    textarea.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  document.querySelectorAll("textarea[name=post]").forEach(enhance);
})();
