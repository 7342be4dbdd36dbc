/* Keyboard shortcuts, as Mastodon's: n a new post, / search, j and k the next and previous post, ? this
   list (the <dialog id="shortcuts-help"> of _interact.html). Never while typing in a field, never with
   Ctrl, Alt or Meta held, never while a dialog is open. */
(function () {
  "use strict";
  var script = document.currentScript;
  var urls = script ? script.dataset : {};
  var help = document.getElementById("shortcuts-help");

  function typing(target) {
    if (!target || !target.closest) { return false; }
    return !!target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]");
  }

  function visible(element) {
    return !!element && element.getClientRects().length > 0;
  }

  function cards() {
    return Array.prototype.slice.call(document.querySelectorAll("main article.post"));
  }

  function focusCard(card) {
    card.tabIndex = -1;
    card.focus({preventScroll: true});
    card.scrollIntoView({block: "nearest"});
  }

  // The card holding the focus, else the first one whose top is on screen (where reading is).
  function current(list) {
    var focused = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("main article.post") : null;
    if (focused) { return list.indexOf(focused); }
    return -1;
  }

  function move(step) {
    var list = cards();
    if (!list.length) { return; }
    var at = current(list);
    var next;
    if (at < 0) {
      next = 0;
      for (var i = 0; i < list.length; i++) {
        if (list[i].getBoundingClientRect().top >= 0) { next = i; break; }
      }
    } else {
      next = Math.min(Math.max(at + step, 0), list.length - 1);
    }
    focusCard(list[next]);
  }

  function compose() {
    var text = document.querySelector("form[data-compose] textarea[name=post]");
    if (text) {
      text.focus();
      text.scrollIntoView({block: "center"});
    } else if (urls.composeUrl) {
      window.location.href = urls.composeUrl;  // home: its composer takes the focus
    }
  }

  function search() {
    var field = document.getElementById("navbar-search");
    if (visible(field)) {
      field.focus();
      field.select();
      return;
    }
    // On a phone the field is in the collapsed menu: open it first.
    var menu = field && document.getElementById("navbar-menu");
    if (menu && window.bootstrap && bootstrap.Collapse) {
      menu.addEventListener("shown.bs.collapse", function () { field.focus(); }, {once: true});
      bootstrap.Collapse.getOrCreateInstance(menu).show();
    } else if (urls.searchUrl) {
      window.location.href = urls.searchUrl;
    }
  }

  function openHelp() {
    if (help && typeof help.showModal === "function" && !help.open) { help.showModal(); }
  }

  var actions = {n: compose, "/": search, j: function () { move(1); }, k: function () { move(-1); }, "?": openHelp};

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || event.isComposing) { return; }
    if (typing(event.target) || document.querySelector("dialog[open]")) { return; }
    var action = Object.prototype.hasOwnProperty.call(actions, event.key) ? actions[event.key] : null;
    if (!action) { return; }
    event.preventDefault();  // "/" would open the browser's quick find, "n" would type into the field
    action();
  });
})();
