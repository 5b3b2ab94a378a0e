// Live reload for `playdoc serve` (never part of a published build).
// It listens to the dev server's event stream. After a good build that
// changed this page, it fetches the page's new HTML and patches in place
// what changed (see patch below), so that the edit shows at once and the
// reader's state stays: scroll, focus, open <details>, edited snippets and
// their output. When a patch cannot apply (the stylesheet or script
// changed, the page moved, a Compare group is half changed), or with
// ?reload=full in the page's URL, it reloads the page, keeping the scroll
// position. After a failed build it shows the errors in an overlay, which
// goes away with the next good build.
//
// It runs before the site's script (both are deferred; the layout puts it
// first) so that it records the page as served, before site.js and
// playground.js add buttons and editors: a patch compares the served HTML
// with the new, never the DOM the scripts changed.
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
  var fullOnly = new URLSearchParams(location.search).get("reload") === "full";

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

  // The served HTML of the body's nodes, recorded before any script
  // changed them. A node is a "leaf" when a patch replaces it whole
  // rather than walking into it: text, code, figures (runnable snippets),
  // pairs, tables, form fields, empty elements. Of the other elements the
  // record keeps their served attributes and child nodes (elements and
  // text) in order.
  var served = new WeakMap(); // node → its served outerHTML, or its text
  var keyOf = new WeakMap(); // node → tag#id.class as served, or #text
  var attrsOf = new WeakMap(); // non-leaf element → [[name, value]] as served
  var kidsOf = new WeakMap(); // non-leaf element → its served child nodes
  var LEAF = /^(PRE|FIGURE|TABLE|SVG|svg|MATH|math|TEXTAREA|SELECT|BUTTON|SCRIPT|STYLE|TEMPLATE|IFRAME|VIDEO|AUDIO|CANVAS)$/;

  function leaf(n) {
    return n.nodeType !== 1 || LEAF.test(n.tagName) || n.classList.contains("pair") || !n.firstChild;
  }

  function key(n) {
    return n.nodeType === 1 ? n.tagName + "#" + n.id + "." + (n.getAttribute("class") || "") : "#text";
  }

  function html(n) {
    return n.nodeType === 1 ? n.outerHTML : n.data;
  }

  // kids lists a node's elements and text, without comments.
  function kids(n) {
    var out = [];
    for (var c = n.firstChild; c; c = c.nextSibling) if (c.nodeType === 1 || c.nodeType === 3) out.push(c);
    return out;
  }

  function record(n, served_) {
    served.set(n, served_);
    keyOf.set(n, key(n));
    if (leaf(n)) return;
    var a = [];
    for (var i = 0; i < n.attributes.length; i++) a.push([n.attributes[i].name, n.attributes[i].value]);
    attrsOf.set(n, a);
    var k = kids(n);
    for (i = 0; i < k.length; i++) record(k[i], html(k[i]));
    kidsOf.set(n, k);
  }
  // The page's figures as served: a patch must not leave a Compare
  // group or a Run both pair half old, half new.
  var figs = new WeakSet();
  function recordPage() {
    record(document.body, "");
    var f = document.querySelectorAll("figure[data-run]");
    for (var i = 0; i < f.length; i++) figs.add(f[i]);
  }
  recordPage();

  // A patch cannot apply: reload instead.
  function Unpatchable(why) {
    this.message = why;
  }

  // assets lists a document's stylesheets and scripts (their fingerprints
  // change with their content), but for live reload's own.
  function assets(doc) {
    var out = [];
    var nodes = doc.querySelectorAll('link[rel~="stylesheet"][href], script[src]');
    for (var i = 0; i < nodes.length; i++) {
      var u = nodes[i].getAttribute("href") || nodes[i].getAttribute("src");
      if (u.indexOf("/_playdoc/") !== 0) out.push(u);
    }
    return out.join(" ");
  }

  // common pairs the elements of a and b, two lists of keys, along their
  // longest common subsequence: the result maps each index of b to its
  // partner's index in a, or -1.
  function common(a, b) {
    var n = a.length, m = b.length, i, j;
    if (n * m > 1e6) throw new Unpatchable("too many changed elements");
    var t = [];
    for (i = 0; i <= n; i++) t.push(new Int32Array(m + 1));
    for (i = n - 1; i >= 0; i--) {
      for (j = m - 1; j >= 0; j--) t[i][j] = a[i] === b[j] ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
    }
    var match = [];
    for (j = 0; j < m; j++) match.push(-1);
    for (i = 0, j = 0; i < n && j < m; ) {
      if (a[i] === b[j]) match[j++] = i++;
      else if (t[i + 1][j] >= t[i][j + 1]) i++;
      else j++;
    }
    return match;
  }

  // adopt makes a live copy of a new node, records it as served, and
  // notes a new element for the site's scripts to set up.
  function adopt(n, added) {
    var copy = document.importNode(n, true);
    record(copy, html(n));
    if (copy.nodeType === 1) added.push(copy);
    return copy;
  }

  // morph turns live, whose served HTML differs from fresh's, into fresh:
  // only the attributes that changed since it was served (the reader's
  // open <details> stay open or closed), and only the child nodes that
  // changed. Children are paired by tag, id and class along their longest
  // common sequence; a paired child whose HTML is unchanged is left alone
  // (the scripts' buttons, editors and outputs stay, and so does the
  // focus), one that changed is morphed in turn, or replaced if it is a
  // leaf; the others are removed or inserted. Nodes the scripts added
  // after a child (the playground's Compare and Run both bars) go with it.
  function morph(live, fresh, added) {
    var before = attrsOf.get(live) || [], was = {}, i, j;
    for (i = 0; i < before.length; i++) was[before[i][0]] = before[i][1];
    for (i = 0; i < fresh.attributes.length; i++) {
      var at = fresh.attributes[i];
      if (was[at.name] !== at.value) live.setAttribute(at.name, at.value);
      delete was[at.name];
    }
    for (var gone in was) live.removeAttribute(gone);

    var old = kidsOf.get(live), neu = kids(fresh);
    var src = neu.map(html), keys = neu.map(key);
    // The slot of a served child is what stands in its place among
    // live's children now (a script may have wrapped it).
    var slots = old.map(function (o) {
      var s = o;
      while (s && s.parentNode !== live) s = s.parentNode;
      if (!s) throw new Unpatchable("a node moved out of its parent");
      return s;
    });
    var isSlot = new Set(slots);
    function remove(i) {
      var s = slots[i], next;
      for (var n = s.nextSibling; n && !isSlot.has(n); n = next) {
        next = n.nextSibling;
        if (n.id !== "playdoc-overlay") n.remove();
      }
      s.remove();
    }
    function same(o, k) {
      return keyOf.get(o) === keys[k] && served.get(o) === src[k];
    }
    var head = 0, tail = 0;
    while (head < old.length && head < neu.length && same(old[head], head)) head++;
    while (tail < old.length - head && tail < neu.length - head && same(old[old.length - 1 - tail], neu.length - 1 - tail)) tail++;
    var om = old.slice(head, old.length - tail);
    var match = common(om.map(function (o) { return keyOf.get(o); }), keys.slice(head, neu.length - tail));
    var kept = new Set(match);
    for (i = 0; i < om.length; i++) if (!kept.has(i)) remove(head + i);
    var now = old.slice(0, head);
    for (j = 0; j < match.length; j++) {
      var m = match[j], f = neu[head + j], h = src[head + j];
      if (m < 0) {
        // Before the next kept child, after the followers of the last.
        var next = null;
        for (var k = j + 1; k < match.length && next === null; k++) if (match[k] >= 0) next = slots[head + match[k]];
        if (next === null && tail > 0) next = slots[old.length - tail];
        var el = adopt(f, added);
        live.insertBefore(el, next);
        now.push(el);
        continue;
      }
      var o = om[m];
      if (served.get(o) !== h) {
        if (o.nodeType === 3) {
          o.data = h;
          served.set(o, h);
        } else if (kidsOf.has(o) && !leaf(f)) {
          morph(o, f, added);
          served.set(o, h);
        } else {
          var s = slots[head + m], copy = adopt(f, added);
          live.insertBefore(copy, s);
          remove(head + m);
          o = copy;
        }
      }
      now.push(o);
    }
    kidsOf.set(live, now.concat(old.slice(old.length - tail)));
    var a = [];
    for (i = 0; i < fresh.attributes.length; i++) a.push([fresh.attributes[i].name, fresh.attributes[i].value]);
    attrsOf.set(live, a);
  }

  // patch applies the page's new HTML to the open page, or throws
  // Unpatchable.
  function patch(doc) {
    if (assets(doc) !== assets(document)) throw new Unpatchable("the stylesheet or script changed");
    if (!doc.body || doc.documentElement.lang !== root.lang) throw new Unpatchable("the page's frame changed");
    var focus = document.activeElement, added = [];
    morph(document.body, doc.body, added);
    if (document.title !== doc.title) document.title = doc.title;
    // A Compare group or Run both pair with old and new members would
    // mix snippets of two builds.
    var groups = {}, f = document.querySelectorAll("figure[data-compare], figure[data-pair]");
    for (var i = 0; i < f.length; i++) {
      var ks = [f[i].getAttribute("data-compare"), f[i].getAttribute("data-pair")];
      for (var j = 0; j < 2; j++) {
        if (!ks[j]) continue;
        var k = j + ":" + ks[j], old = figs.has(f[i]) ? 1 : 2;
        groups[k] = (groups[k] || 0) | old;
        if (groups[k] === 3) throw new Unpatchable("a Compare group or pair changed in part");
      }
    }
    for (i = 0; i < added.length; i++) {
      var nf = added[i].matches("figure[data-run]") ? [added[i]] : added[i].querySelectorAll("figure[data-run]");
      for (j = 0; j < nf.length; j++) figs.add(nf[j]);
    }
    if (focus && focus !== document.activeElement && focus.isConnected) focus.focus({ preventScroll: true });
    if (added.length) document.dispatchEvent(new CustomEvent("playdoc:added", { detail: added }));
  }

  // mark notes when each step of a patch happened, for the browser
  // benchmark (performance.getEntriesByName).
  function mark(name) {
    if (performance.mark) performance.mark(name);
  }

  // refresh brings the page up to date: a patch, or a reload. Calls that
  // come while one runs make one more run after it.
  var busy = false, again = false;
  function refresh() {
    if (fullOnly) return reload();
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    mark("playdoc:fetch");
    fetch(location.pathname, { cache: "no-store", credentials: "same-origin" })
      .then(function (res) {
        if (!res.ok || res.redirected) throw new Unpatchable("the page answers " + res.status + (res.redirected ? " (moved)" : ""));
        return res.text();
      })
      .then(function (text) {
        mark("playdoc:fetched");
        patch(new DOMParser().parseFromString(text, "text/html"));
        mark("playdoc:patched");
        root.setAttribute("data-playdoc-patched", String(+(root.getAttribute("data-playdoc-patched") || 0) + 1));
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      })
      .catch(function (err) {
        // A half-applied patch or a failed fetch: the page must not
        // stay wrong.
        if (window.console) console.info("playdoc: reloading the page: " + (err && err.message));
        reload();
      });
  }

  // The URL paths this page depends on: itself and its same-origin
  // stylesheets and scripts.
  function ownPaths() {
    var paths = {};
    var p = location.pathname;
    paths[p] = "page";
    if (p.charAt(p.length - 1) === "/") paths[p + "index.html"] = "page";
    else paths[p + "/index.html"] = "page";
    var nodes = document.querySelectorAll('link[rel~="stylesheet"][href], script[src]');
    for (var i = 0; i < nodes.length; i++) {
      var u = new URL(nodes[i].href || nodes[i].src, location.href);
      if (u.origin === location.origin) paths[u.pathname] = "asset";
    }
    return paths;
  }

  // touches reports how a build that changed paths changed this page:
  // "asset" (a stylesheet or script), "page" (its HTML only) or "".
  function touches(paths) {
    var mine = ownPaths(), how = "";
    for (var i = 0; i < paths.length; i++) {
      if (mine[paths[i]] === "asset") return "asset";
      if (mine[paths[i]]) how = "page";
    }
    return how;
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
  var source = null;
  function connect() {
    source = new EventSource(EVENTS);
    source.addEventListener("open", function () {
      retry = 500;
    });
    source.addEventListener("hello", onHello);
    source.addEventListener("reload", onReload);
    source.addEventListener("error", function (e) {
      if (e.data) return onBuildError(e);
      // A plain "error" event is the connection's.
      if (e.target === source && source.readyState === EventSource.CLOSED) {
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 5000);
      }
    });
  }
  // A page that goes away closes its stream at once: the browser allows
  // six connections to the server, and a stream left to the page's
  // teardown outlived reloads in a row (Chromium), until the next page's
  // scripts waited for a free connection. A page back from the
  // back/forward cache connects again, and its hello says if it is stale.
  window.addEventListener("pagehide", function () {
    if (source) source.close();
  });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) connect();
  });

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
    if (root.hasAttribute("data-playdoc-broken")) return reload();
    var how = touches(d.paths);
    if (how === "asset") reload();
    else if (how === "page") refresh();
  }

  // onBuildError shows a failed build's errors (the server's "error"
  // events carry data; the connection's do not).
  function onBuildError(e) {
    var d = data(e);
    if (d && d.errors) showErrors(d.errors);
  }

  connect();
})();
