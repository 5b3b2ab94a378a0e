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
