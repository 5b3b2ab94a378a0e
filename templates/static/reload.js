// Live reload for `playdoc serve` (never part of a published build).
// It listens to the dev server's event stream: after a good build it
// reloads this page only if the page or one of its assets changed, keeping
// the scroll position; after a failed build it shows the errors in an
// overlay, which goes away with the next good build.
(function () {
  "use strict";
  if (!window.EventSource) return;

  var EVENTS = "/_playdoc/events";
  var STYLE = "/_playdoc/reload.css";
  var scrollKey = "playdoc:scroll:" + location.pathname;
  var root = document.documentElement;
  var known = null; // {server, build} of the first hello
  var overlay = null;
  var dismissed = null; // the errors the reader dismissed

  // Put the page back where it was before a live reload.
  function restoreScroll() {
    var saved;
    try {
      saved = JSON.parse(sessionStorage.getItem(scrollKey) || "null");
      sessionStorage.removeItem(scrollKey);
    } catch (e) {
      return;
    }
    if (saved && typeof saved.y === "number") window.scrollTo(saved.x || 0, saved.y);
  }
  if (document.readyState === "complete") restoreScroll();
  else window.addEventListener("load", restoreScroll);

  function reload() {
    try {
      sessionStorage.setItem(scrollKey, JSON.stringify({ x: window.scrollX, y: window.scrollY }));
    } catch (e) {
      // Storage may be disabled: reload anyway.
    }
    location.reload();
  }

  // The URL paths this page depends on: itself and its same-origin
  // stylesheets and scripts.
  function ownPaths() {
    var paths = {};
    var p = location.pathname;
    paths[p] = true;
    if (p.charAt(p.length - 1) === "/") paths[p + "index.html"] = true;
    else paths[p + "/index.html"] = true;
    var nodes = document.querySelectorAll('link[rel~="stylesheet"][href], script[src]');
    for (var i = 0; i < nodes.length; i++) {
      var u = new URL(nodes[i].href || nodes[i].src, location.href);
      if (u.origin === location.origin) paths[u.pathname] = true;
    }
    return paths;
  }

  // touches reports whether a build that changed paths changed this page.
  function touches(paths) {
    var mine = ownPaths();
    for (var i = 0; i < paths.length; i++) {
      if (mine[paths[i]]) return true;
    }
    return false;
  }

  function hideOverlay() {
    if (overlay) overlay.hidden = true;
    root.removeAttribute("data-playdoc-error");
  }

  function ensureStyle() {
    if (document.querySelector('link[href="' + STYLE + '"]')) return;
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = STYLE;
    document.head.appendChild(link);
  }

  // Load the overlay's style now, not when a build first fails: the
  // overlay must never show unstyled while it loads.
  ensureStyle();

  function buildOverlay() {
    ensureStyle();
    var box = document.createElement("div");
    box.className = "playdoc-overlay";
    box.id = "playdoc-overlay";
    box.setAttribute("role", "alert");
    box.setAttribute("aria-labelledby", "playdoc-overlay-title");
    var head = document.createElement("div");
    head.className = "playdoc-overlay-head";
    var h = document.createElement("h2");
    h.id = "playdoc-overlay-title";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "playdoc-overlay-close";
    close.textContent = "Dismiss";
    close.addEventListener("click", function () {
      dismissed = box.getAttribute("data-errors");
      hideOverlay();
    });
    head.appendChild(h);
    head.appendChild(close);
    var list = document.createElement("ul");
    var note = document.createElement("p");
    note.textContent = "This page shows the last good build; it updates as soon as the errors are fixed.";
    box.appendChild(head);
    box.appendChild(list);
    box.appendChild(note);
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && !box.hidden) close.click();
    });
    (document.body || root).appendChild(box);
    return box;
  }

  function showErrors(errors) {
    var key = JSON.stringify(errors);
    if (key === dismissed) return;
    dismissed = null;
    if (!overlay || !overlay.isConnected) overlay = buildOverlay();
    overlay.setAttribute("data-errors", key);
    overlay.querySelector("h2").textContent =
      errors.length === 1 ? "The site does not build: 1 error" : "The site does not build: " + errors.length + " errors";
    var list = overlay.querySelector("ul");
    list.textContent = "";
    for (var i = 0; i < errors.length; i++) {
      var li = document.createElement("li");
      li.textContent = errors[i];
      list.appendChild(li);
    }
    overlay.hidden = false;
    root.setAttribute("data-playdoc-error", "");
  }

  function data(e) {
    try {
      return JSON.parse(e.data);
    } catch (err) {
      return null;
    }
  }

  // connect opens the event stream. EventSource reconnects by itself
  // after a dropped connection, but gives up for good when a connection
  // attempt fails outright (server down at that moment, proxy error):
  // then reconnect here, backing off up to 5 s.
  var retry = 500;
  function connect() {
    var source = new EventSource(EVENTS);
    source.addEventListener("open", function () {
      retry = 500;
    });
    source.addEventListener("hello", onHello);
    source.addEventListener("reload", onReload);
    source.addEventListener("error", function (e) {
      if (e.data) return onBuildError(e);
      // A plain "error" event is the connection's.
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 5000);
      }
    });
  }

  function onHello(e) {
    var d = data(e);
    if (!d) return;
    if (known && (known.server !== d.server || known.build !== d.build)) {
      // Reconnected after a restart or a lost stream: changes may
      // have been missed.
      reload();
      return;
    }
    known = d;
    root.setAttribute("data-playdoc-build", String(d.build));
    if (root.hasAttribute("data-playdoc-broken") && d.build > 0) return reload();
    // A build that changed this page after it began to load, but before
    // this stream connected, was announced to nobody here. Once per
    // build, so that a client clock ahead of the server's cannot loop.
    var once = "playdoc:stale:" + d.server + ":" + d.build + ":" + location.pathname;
    if (d.build > 1 && d.time > performance.timeOrigin && touches(d.paths)) {
      try {
        if (sessionStorage.getItem(once)) return;
        sessionStorage.setItem(once, "1");
      } catch (err) {
        return; // without storage, a reload could loop
      }
      reload();
    }
  }

  function onReload(e) {
    var d = data(e);
    if (!d) return;
    if (known) known.build = d.build;
    hideOverlay();
    dismissed = null;
    root.setAttribute("data-playdoc-build", String(d.build));
    if (root.hasAttribute("data-playdoc-broken") || touches(d.paths)) reload();
  }

  // onBuildError shows a failed build's errors (the server's "error"
  // events carry data; the connection's do not).
  function onBuildError(e) {
    var d = data(e);
    if (d && d.errors) showErrors(d.errors);
  }

  connect();
})();
