/* Timelines: relative times that keep up while the page is open, a "Load more" button above the
   Older link (which stays, a real link), and on the home timeline a banner for posts newer than the
   top one, polled like the notification badge and paused while the tab is hidden.
   Cards live in [data-post-list] blocks (post_cards.py). The words are data attributes of this tag. */
(function () {
  "use strict";
  var script = document.currentScript;
  var words = script ? script.dataset : {};
  var lang = document.documentElement.lang || undefined;

  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? values[name] : all;
    });
  }

  // -- relative times -------------------------------------------------------------------------------
  // The server's rule (templating.relative_amount): the largest unit of which there are at least 0.9,
  // rounded to the nearest whole one, at least one second.
  var UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600],
               ["minute", 60], ["second", 1]];
  var relative = null;
  try {
    // Only in a language the browser knows: otherwise it would answer in its own, and the server's
    // words (in the page's language) are better, if frozen.
    if (window.Intl && Intl.RelativeTimeFormat && lang && Intl.RelativeTimeFormat.supportedLocalesOf([lang]).length) {
      relative = new Intl.RelativeTimeFormat(lang, {numeric: "always"});
    }
  } catch (e) { relative = null; }  // a language the browser does not know: the server's words stay

  function relativeText(then, now) {
    var seconds = (then - now) / 1000;
    for (var i = 0; i < UNITS.length; i++) {
      var amount = Math.abs(seconds) / UNITS[i][1];
      if (amount >= 0.9 || UNITS[i][0] === "second") {
        if (UNITS[i][0] === "second" && amount > 0) { amount = Math.max(1, amount); }
        var count = Math.round(amount);
        return relative.format(seconds >= 0 ? count : -count, UNITS[i][0]);
      }
    }
    return null;
  }

  function refreshTimes(root) {
    if (!relative) { return; }
    var now = Date.now();
    (root || document).querySelectorAll("article.post time[datetime]").forEach(function (time) {
      var then = Date.parse(time.getAttribute("datetime"));
      if (!isNaN(then)) {
        var text = relativeText(then, now);
        if (text && time.textContent !== text) { time.textContent = text; }
      }
    });
  }
  window.microblogRelativeText = function (iso, nowMs) {  // for the tests
    return relative ? relativeText(Date.parse(iso), nowMs === undefined ? Date.now() : nowMs) : null;
  };

  refreshTimes();
  window.setInterval(function () { if (!document.hidden) { refreshTimes(); } }, 30000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refreshTimes(); } });
  document.addEventListener("microblog:cards", function () { refreshTimes(); });

  if (!window.fetch || !window.DOMParser) { return; }

  // -- shared: a live region, and reading the cards of another page ---------------------------------
  var live = document.createElement("div");
  live.className = "visually-hidden";
  live.setAttribute("aria-live", "polite");
  document.body.appendChild(live);
  function say(message) {
    live.textContent = "";
    window.setTimeout(function () { live.textContent = message; }, 50);
  }

  function fetchPage(url) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: "text/html"}}).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    }).then(function (html) { return new DOMParser().parseFromString(html, "text/html"); });
  }

  function lastList(root) {
    var lists = root.querySelectorAll("main [data-post-list]");
    return lists.length ? lists[lists.length - 1] : null;
  }

  function cardIds(list) {
    var ids = {};
    list.querySelectorAll("article.post").forEach(function (card) { ids[card.id] = true; });
    return ids;
  }

  // A list's entries: each card with the "reposted" label above it, if any.
  function entries(list) {
    var out = [], pending = [];
    Array.prototype.forEach.call(list.children, function (child) {
      pending.push(child);
      if (child.matches("article.post")) { out.push({id: child.id, nodes: pending}); pending = []; }
    });
    return out;
  }

  function focusCard(card) {
    if (!card) { return; }
    card.tabIndex = -1;
    card.focus();
  }

  function announceCards(cards) {
    document.dispatchEvent(new CustomEvent("microblog:cards", {detail: {cards: cards}}));
  }

  // -- load more --------------------------------------------------------------------------------------
  // The pagination under a list (the Older and Newer links), in the list's own document.
  function pager(list) {
    var navs = list.ownerDocument.querySelectorAll("main nav .pagination");
    for (var i = navs.length - 1; i >= 0; i--) {
      if (list.compareDocumentPosition(navs[i]) & Node.DOCUMENT_POSITION_FOLLOWING) { return navs[i].closest("nav"); }
    }
    return null;
  }

  function setUpLoadMore() {
    var list = lastList(document);
    var nav = list && pager(list);
    var older = nav && nav.querySelector("a[rel=next]");
    if (!older) { return; }
    var box = document.createElement("div");
    box.className = "load-more text-center my-3";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-outline-primary load-more-button";
    button.textContent = words.loadMore;
    box.appendChild(button);
    nav.parentNode.insertBefore(box, nav);

    button.addEventListener("click", function () {
      nav = pager(list);  // the new posts banner may have replaced it
      var link = nav && nav.querySelector("a[rel=next]");
      if (!link || button.getAttribute("aria-busy") === "true") { return; }
      button.setAttribute("aria-busy", "true");
      fetchPage(link.href).then(function (doc) {
        var more = lastList(doc);
        if (!more) { throw new Error("no list"); }
        var seen = cardIds(list), added = [];
        entries(more).forEach(function (entry) {
          if (seen[entry.id]) { return; }
          entry.nodes.forEach(function (node) { list.appendChild(document.importNode(node, true)); });
          added.push(document.getElementById(entry.id));
        });
        // The Older link now leads past the last card shown; the page's own URL stays (a reload
        // shows what was asked for, Back leaves the page).
        var newNav = pager(more);
        if (newNav) { nav.replaceWith(document.importNode(newNav, true)); } else { nav.remove(); }
        if (!newNav || !newNav.querySelector("a[rel=next]")) { box.remove(); }
        announceCards(added);
        focusCard(added[0]);
        say(words.loaded);
      }).catch(function () {
        say(words.loadFailed);
      }).then(function () { button.removeAttribute("aria-busy"); });
    });
  }
  setUpLoadMore();

  // -- new posts on the home timeline -----------------------------------------------------------------
  function setUpNewPosts() {
    var section = document.querySelector("#timeline[data-newer-url]");
    var list = section && section.querySelector("[data-post-list]");
    if (!section || !list) { return; }
    var top = section.getAttribute("data-top") || "";
    var INTERVAL = Math.max(1, Number(section.getAttribute("data-interval")) || 20) * 1000;
    var timer = null;
    var banner = document.createElement("button");
    banner.type = "button";
    banner.className = "btn btn-primary w-100 mb-2 new-posts-banner";
    banner.hidden = true;
    // Said politely when it appears or its count changes (not on every poll: the text is the same).
    var bannerBox = document.createElement("div");
    bannerBox.setAttribute("aria-live", "polite");
    bannerBox.appendChild(banner);
    section.insertBefore(bannerBox, section.firstChild);

    function schedule(ms) {
      window.clearTimeout(timer);
      timer = document.hidden ? null : window.setTimeout(poll, ms);
    }

    function poll() {
      if (!top || document.hidden) { return; }
      var url = section.getAttribute("data-newer-url") + "?after=" + encodeURIComponent(top);
      fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}, cache: "no-store"})
        .then(function (response) {
          if (!response.ok) { var error = new Error("HTTP " + response.status); error.status = response.status; throw error; }
          return response.json();
        })
        .then(function (data) {
          var count = Math.max(0, Number(data.count) || 0);
          var text = fill(words.newPosts, {count: String(count) + (data.more ? "+" : "")});
          if (banner.textContent !== text) { banner.textContent = text; }
          banner.hidden = count === 0;
          schedule(INTERVAL);
        })
        .catch(function (error) {
          if (error.status === 401 || error.status === 403) { return; }  // signed out elsewhere
          schedule(INTERVAL * 3);
        });
    }

    banner.addEventListener("click", function () {
      banner.setAttribute("aria-busy", "true");
      fetchPage(section.getAttribute("data-home-url")).then(function (doc) {
        var fresh = doc.querySelector("#timeline [data-post-list]");
        var freshSection = doc.querySelector("#timeline");
        if (!fresh) { throw new Error("no list"); }
        var first = list.querySelector("article.post");
        var news = entries(fresh), cut = -1;
        for (var i = 0; first && i < news.length; i++) { if (news[i].id === first.id) { cut = i; break; } }
        var added = [];
        if (cut >= 0) {
          var anchor = list.firstChild;
          news.slice(0, cut).forEach(function (entry) {
            entry.nodes.forEach(function (node) { list.insertBefore(document.importNode(node, true), anchor); });
            added.push(document.getElementById(entry.id));
          });
        } else {
          // More new posts than a page: the first page replaces the list, with its own Older link.
          list.innerHTML = "";
          news.forEach(function (entry) {
            entry.nodes.forEach(function (node) { list.appendChild(document.importNode(node, true)); });
            added.push(document.getElementById(entry.id));
          });
          var oldNav = pager(list), freshNav = pager(fresh);
          if (oldNav && freshNav) { oldNav.replaceWith(document.importNode(freshNav, true)); }
        }
        top = (freshSection && freshSection.getAttribute("data-top")) || top;
        banner.hidden = true;
        announceCards(added);
        focusCard(added[0]);
        say(words.newLoaded);
        schedule(INTERVAL);
      }).catch(function () { say(words.loadFailed); })
        .then(function () { banner.removeAttribute("aria-busy"); });
    });

    // A post just written here is the new top: the banner does not count it.
    document.addEventListener("microblog:posted", function (event) {
      if (event.detail && event.detail.top) { top = event.detail.top; schedule(INTERVAL); }
    });
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) { window.clearTimeout(timer); timer = null; } else { schedule(0); }
    });
    schedule(INTERVAL);
  }
  setUpNewPosts();
})();
