// site.js: the reader features of every page, on top of HTML that works
// without it. Same-origin requests only, no inline code (the site's CSP).
// allIn is root and its descendants that match sel. playdoc serve's live
// reload client patches a page in place and fires "playdoc:added" with the new
// elements: forEvery sets up what matches in the page and in those.
const allIn = (root, sel) => [...(root.matches?.(sel) ? [root] : []), ...root.querySelectorAll(sel)];
const forEvery = (sel, f) => {
  allIn(document, sel).forEach(f);
  document.addEventListener('playdoc:added', (e) => e.detail.forEach((r) => allIn(r, sel).forEach(f)));
};

(() => {
  'use strict';

  // Sidebar: other sections are links to their pages; a button beside each
  // unfolds its pages in place, read from the site's navigation file (one
  // fingerprinted JSON, fetched once and cached).
  const navMeta = document.querySelector('meta[name="playdoc-nav"]');
  let navData = null;
  const loadNav = () => {
    navData ??= fetch(navMeta.content).then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
    return navData;
  };
  if (navMeta) {
    forEvery('.nav-closed', (li) => {
      const a = li.querySelector('a');
      const btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'nav-unfold';
      btn.setAttribute('aria-expanded', 'false');
      btn.setAttribute('aria-label', 'Pages of ' + a.textContent);
      li.insertBefore(btn, a);
      btn.addEventListener('click', async () => {
        let ol = li.querySelector('ol');
        if (!ol) {
          const data = await loadNav();
          ol = document.createElement('ol');
          ol.innerHTML = data[a.getAttribute('href')] || ''; // built by playdoc, same origin
          li.append(ol);
        }
        const open = btn.getAttribute('aria-expanded') !== 'true';
        btn.setAttribute('aria-expanded', String(open));
        ol.hidden = !open;
      });
    });
  }
})();

(() => {
  'use strict';

  // A copy button on every code block (runnable ones have the playground's).
  forEvery('pre.chroma', (pre) => {
    if (pre.closest('figure[data-run]')) return;
    let box = pre.closest('figure.snippet');
    if (!box) {
      box = document.createElement('div');
      pre.before(box);
      box.append(pre);
    }
    box.classList.add('code-block');
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'copy-code';
    btn.textContent = 'Copy';
    btn.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(pre.textContent);
        btn.textContent = 'Copied';
      } catch {
        btn.textContent = 'Copy failed';
      }
      setTimeout(() => { btn.textContent = 'Copy'; }, 1500);
    });
    box.append(btn);
  });

  // Tabs: a python/go pair written with `tabs` (div.pair[data-tabs]) is a
  // WAI-ARIA tab widget (arrows, Home, End) where the two do not fit side by
  // side (the CSS shows them side by side from 50rem); without JS both show.
  // The reader's language is every pair's, on every page (localStorage).
  {
    const KEY = 'playdoc-lang';
    let chosen = 'go';
    try { chosen = localStorage.getItem(KEY) || chosen; } catch { /* not remembered */ }
    const groups = [];
    let resize = null;
    const apply = (gr) => {
      const lang = gr.tabs.some((t) => t.dataset.lang === chosen) ? chosen : gr.tabs[0].dataset.lang;
      gr.tabs.forEach((t, i) => {
        const sel = t.dataset.lang === lang;
        const p = gr.panels[i];
        t.setAttribute('aria-selected', String(sel));
        t.tabIndex = sel ? 0 : -1;
        if (gr.on) {
          p.setAttribute('role', 'tabpanel');
          p.setAttribute('aria-labelledby', t.id);
        } else {
          p.removeAttribute('role');
          p.removeAttribute('aria-labelledby');
        }
        p.hidden = gr.on && !sel;
      });
      gr.list.hidden = !gr.on;
      gr.box.classList.toggle('tabbed', gr.on);
    };
    const choose = (lang) => {
      chosen = lang;
      try { localStorage.setItem(KEY, lang); } catch { /* not remembered */ }
      groups.forEach(apply);
    };
    // Tabs below the width at which the CSS puts the two side by side.
    const narrow = (gr) => gr.box.clientWidth < 50 * parseFloat(getComputedStyle(document.documentElement).fontSize);
    const fit = () => {
      for (const gr of groups) {
        const on = narrow(gr);
        if (on !== gr.on) {
          gr.on = on;
          apply(gr);
        }
      }
    };
    forEvery('.pair[data-tabs]', (box) => {
      const g = groups.length;
      // Each figure in a div of its own, the tabpanel (a figure may not
      // take that role); display: contents while side by side.
      const panels = [...box.children].filter((e) => e.matches('figure.snippet')).map((f) => {
        const d = document.createElement('div');
        d.className = 'tab-panel';
        f.before(d);
        d.append(f);
        return d;
      });
      const list = document.createElement('div');
      list.className = 'tab-list';
      list.setAttribute('role', 'tablist');
      list.setAttribute('aria-label', 'Language');
      const tabs = panels.map((p, i) => {
        const t = document.createElement('button');
        t.type = 'button';
        t.className = 'tab';
        t.dataset.lang = p.firstChild.classList.contains('snippet-go') ? 'go' : 'python';
        p.id = `pair${g}-${t.dataset.lang}`;
        t.id = `${p.id}-tab`;
        t.setAttribute('role', 'tab');
        t.setAttribute('aria-controls', p.id);
        t.textContent = p.querySelector('figcaption').textContent;
        t.addEventListener('click', () => choose(t.dataset.lang));
        t.addEventListener('keydown', (e) => {
          const n = panels.length;
          const j = { ArrowRight: (i + 1) % n, ArrowLeft: (i + n - 1) % n, Home: 0, End: n - 1 }[e.key];
          if (j === undefined) return;
          e.preventDefault();
          choose(tabs[j].dataset.lang);
          tabs[j].focus();
        });
        list.append(t);
        return t;
      });
      box.prepend(list);
      groups.push({ box, list, panels, tabs, on: null });
      if (!resize) {
        resize = new ResizeObserver(fit);
        resize.observe(document.querySelector('main') || document.body);
      }
      fit();
    });
    window.addEventListener('storage', (e) => {
      if (e.key === KEY && e.newValue) {
        chosen = e.newValue;
        groups.forEach(apply);
      }
    });
  }

  // The theme switch: system → light → dark, remembered (theme.js applies
  // it on the next page before it paints).
  const header = document.querySelector('.site-header');
  if (header && document.querySelector('script[src*="/assets/theme."]')) {
    const root = document.documentElement;
    const names = { system: 'System', light: 'Light', dark: 'Dark' };
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'theme-toggle';
    const show = () => { btn.textContent = 'Theme: ' + names[root.dataset.theme || 'system']; };
    btn.addEventListener('click', () => {
      const next = { system: 'light', light: 'dark', dark: 'system' }[root.dataset.theme || 'system'];
      if (next === 'system') delete root.dataset.theme;
      else root.dataset.theme = next;
      try {
        if (next === 'system') localStorage.removeItem('playdoc-theme');
        else localStorage.setItem('playdoc-theme', next);
      } catch { /* not remembered */ }
      show();
    });
    show();
    header.append(btn);
  }
})();

(() => {
  'use strict';

  // Search: the index is built by playdoc build (/_search/, see site/search.go):
  // pages.json, and one shard per first three letters of a term. Each
  // word typed (2+ letters) matches the terms it begins (a two-letter word,
  // only itself); a page must match every word. Results are links: arrow keys move between them, Escape goes back.
  const input = document.getElementById('search-q');
  if (!input) return;
  const form = input.form;
  const box = document.createElement('div');
  box.className = 'search-results';
  box.id = 'search-results';
  box.hidden = true;
  const status = document.createElement('p');
  status.className = 'search-status';
  status.setAttribute('role', 'status');
  const list = document.createElement('ul');
  box.append(status, list);
  form.append(box);

  const cache = new Map();
  const load = (name) => {
    if (!cache.has(name)) {
      cache.set(name, fetch('/_search/' + name + '.json').then((r) => (r.ok ? r.json() : {})).catch(() => ({})));
    }
    return cache.get(name);
  };
  const shardName = (k) => (/^[a-z0-9_]+$/.test(k) ? k
    : 'u' + Array.from(new TextEncoder().encode(k), (b) => b.toString(16).padStart(2, '0')).join(''));
  const words = (q) => (q.toLowerCase().match(/[\p{L}_][\p{L}\p{N}_.]*/gu) || []).filter((w) => [...w].length >= 2);

  const mark = (text, ws) => {
    const frag = document.createDocumentFragment();
    const lower = text.toLowerCase();
    let i = 0;
    while (i < text.length) {
      let best = -1, len = 0;
      for (const w of ws) {
        const j = lower.indexOf(w, i);
        if (j >= 0 && (best < 0 || j < best)) { best = j; len = w.length; }
      }
      if (best < 0) break;
      frag.append(text.slice(i, best));
      const m = document.createElement('mark');
      m.textContent = text.slice(best, best + len);
      frag.append(m);
      i = best + len;
    }
    frag.append(text.slice(i));
    return frag;
  };

  // excerpt finds the first text of a page (/_search/x/N.json: [[heading
  // id, text, …], …]) with a word typed at the start of one of its words,
  // and returns the heading's id and about 140 characters around it.
  const excerpt = (groups, ws) => {
    for (const [id, ...texts] of groups) {
      for (const text of texts) {
        const lower = text.toLowerCase();
        let at = -1;
        for (const w of ws) {
          for (let j = lower.indexOf(w); j >= 0; j = lower.indexOf(w, j + 1)) {
            if (j === 0 || !/[\p{L}\p{N}_]/u.test(lower[j - 1])) {
              if (at < 0 || j < at) at = j;
              break;
            }
          }
        }
        if (at < 0) continue;
        let from = Math.max(0, at - 50);
        const sp = text.indexOf(' ', from);
        if (from > 0 && sp >= 0 && sp < at) from = sp + 1;
        let to = from + 140;
        if (to < text.length && text.lastIndexOf(' ', to) > at) to = text.lastIndexOf(' ', to);
        return [id, (from ? '…' : '') + text.slice(from, to) + (to < text.length ? '…' : '')];
      }
    }
    return null;
  };

  let seq = 0;
  const search = async () => {
    const ws = words(input.value);
    const mine = ++seq;
    if (ws.length === 0) { box.hidden = true; return; }
    const meta = await load('pages');
    const have = new Set((meta.shards || '').split(' '));
    const shards = await Promise.all(ws.map((w) => {
      const key = [...w].slice(0, 3).join('');
      return have.has(key) ? load(shardName(key)) : {};
    }));
    if (mine !== seq) return; // a newer query is on its way
    let total = null;
    ws.forEach((w, i) => {
      const scores = new Map();
      for (const [term, postings] of Object.entries(shards[i])) {
        if (!term.startsWith(w)) continue;
        const boost = term === w ? 2 : 1;
        for (let j = 0; j + 1 < postings.length; j += 2 + postings[j + 1]) {
          const s = postings[j] * boost;
          for (let k = 0, pg = 0; k < postings[j + 1]; k++) {
            pg += postings[j + 2 + k];
            scores.set(pg, Math.max(scores.get(pg) || 0, s));
          }
        }
      }
      if (total === null) total = scores;
      else {
        for (const pg of [...total.keys()]) {
          if (scores.has(pg)) total.set(pg, total.get(pg) + scores.get(pg));
          else total.delete(pg);
        }
      }
    });
    const found = [...(total || new Map()).entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 12);
    list.replaceChildren();
    found.forEach(async ([pg], i) => {
      const [url, title, sec] = meta.pages[pg];
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = url;
      a.append(mark(title, ws));
      if (sec >= 0) {
        const s = document.createElement('span');
        s.className = 'search-section';
        s.textContent = meta.sections[sec];
        a.append(s);
      }
      li.append(a);
      list.append(li);
      // The first results get the text that matched, fetched now: the
      // index holds words, not text (issue 14: a query loads ≤ 150 KB).
      if (i >= 5) return;
      const blocks = await load('x/' + pg);
      const ex = mine === seq && Array.isArray(blocks) && excerpt(blocks, ws);
      if (!ex) return;
      if (ex[0]) a.href = url + '#' + ex[0];
      const e = document.createElement('span');
      e.className = 'search-excerpt';
      e.append(mark(ex[1], ws));
      a.append(e);
    });
    status.textContent = found.length ? found.length + (found.length === 1 ? ' page' : ' pages') : 'No page matches.';
    box.hidden = false;
  };
  input.addEventListener('input', search);
  const links = () => [...list.querySelectorAll('a')];
  form.addEventListener('keydown', (e) => {
    const ls = links();
    const at = ls.indexOf(document.activeElement);
    if (e.key === 'ArrowDown' && ls.length) {
      e.preventDefault();
      ls[Math.min(at + 1, ls.length - 1)].focus();
    } else if (e.key === 'ArrowUp' && at >= 0) {
      e.preventDefault();
      (at === 0 ? input : ls[at - 1]).focus();
    } else if (e.key === 'Escape') {
      box.hidden = true;
      input.focus();
    } else if (e.key === 'Enter' && document.activeElement === input && ls.length) {
      e.preventDefault();
      location.href = ls[0].href;
    }
  });
  form.addEventListener('focusout', (e) => { if (!form.contains(e.relatedTarget)) box.hidden = true; });
  // "/" or Ctrl+K (Cmd+K) focuses the box, unless the reader is typing.
  document.addEventListener('keydown', (e) => {
    const typing = e.target.closest && e.target.closest('input, textarea, select, [contenteditable]');
    if ((e.key === '/' && !typing && !e.ctrlKey && !e.metaKey) || (e.key === 'k' && (e.ctrlKey || e.metaKey))) {
      e.preventDefault();
      input.focus();
      input.select();
    }
  });
})();
