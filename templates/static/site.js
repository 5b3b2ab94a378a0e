// site.js: the reader features of every page, on top of HTML that works
// without it. Same-origin requests only, no inline code (the site's CSP).
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
    for (const li of document.querySelectorAll('.nav-closed')) {
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
          ol.innerHTML = data[a.dataset.section] || ''; // built by playdoc, same origin
          li.append(ol);
        }
        const open = btn.getAttribute('aria-expanded') !== 'true';
        btn.setAttribute('aria-expanded', String(open));
        ol.hidden = !open;
      });
    }
  }
})();

(() => {
  'use strict';

  // A copy button on every code block (runnable ones have the playground's).
  for (const pre of document.querySelectorAll('pre.chroma')) {
    if (pre.closest('figure[data-run]')) continue;
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
