// theme.js runs in <head>, before the page is painted, so that a reader who
// chose light or dark (site.js's switch, kept in localStorage) never sees
// the other theme first. Without a choice the page follows the system.
try {
  const t = localStorage.getItem('playdoc-theme');
  if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
} catch { /* storage blocked: follow the system */ }
