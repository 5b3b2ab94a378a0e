// playground.js: turns every runnable snippet (figure[data-run], see
// docs/contracts.md §2) into a small editor that runs its code on the
// playground API (§3) and shows the output as it streams in, line by line,
// each line stamped with when it was printed.
// Vanilla JS, no build step, same-origin requests only (the site's CSP).
// Nothing is requested on page load: the first Run is the probe, so the pages
// stay friendly to static hosts, where the recorded output is shown instead.
(() => {
  'use strict';

  // playdoc.toml's playground_url puts a separate backend's origin on <html>.
  const API = (document.documentElement.dataset.playground || '') + '/api/';
  const MAX_LINES = 5000; // rows kept in the DOM; the backend caps output anyway

  // A tiny Go tokenizer for re-highlighting while editing. It reuses chroma's
  // class names so the site's highlighting theme colours it.
  const words = (s) => new Set(s.split(' '));
  const KEYWORDS = words('break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var');
  const TYPES = words('any bool byte comparable complex64 complex128 error float32 float64 int int8 int16 int32 int64 rune string uint uint8 uint16 uint32 uint64 uintptr');
  const BUILTINS = words('append cap clear close complex copy delete imag len make max min new panic print println real recover');
  const CONSTS = words('true false nil iota');
  const TOKEN = /(\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|("(?:[^"\\\n]|\\.)*"?|`[^`]*`?|'(?:[^'\\\n]|\\.)*'?)|(\b\d[\w.]*)|([A-Za-z_]\w*)/g;

  const esc = (s) => s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));

  function highlight(src) {
    let out = '';
    let last = 0;
    src.replace(TOKEN, (m, com, str, num, id, off) => {
      out += esc(src.slice(last, off));
      last = off + m.length;
      const cls = com ? 'c' : str ? 's' : num ? 'm' : KEYWORDS.has(id) ? 'k' : TYPES.has(id) ? 'kt'
        : BUILTINS.has(id) ? 'nb' : CONSTS.has(id) ? 'kc' : '';
      out += cls ? `<span class="${cls}">${esc(m)}</span>` : esc(m);
      return m;
    });
    return out + esc(src.slice(last));
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function button(label, cls, onClick) {
    const b = el('button', 'pg-btn ' + cls, label);
    b.type = 'button';
    b.addEventListener('click', onClick);
    return b;
  }

  // lineList expands data-hl's "2,4-6" into [2, 4, 5, 6].
  function lineList(spec) {
    const out = [];
    for (const part of spec.split(',')) {
      const [a, b] = part.split('-').map(Number);
      for (let n = a; n <= (b || a); n++) if (n > 0) out.push(n);
    }
    return out;
  }

  const secs = (ms, digits) => (ms / 1000).toFixed(digits) + ' s';
  const lineCount = (s) => s.split('\n').length;

  // LineScreen turns the pieces of output (stdout and stderr, in the
  // order written) into the lines a terminal shows. It is the page's copy
  // of the Go package playdoc/screen (docs/contracts.md, "Lines"), tested
  // against the same cases (screen/testdata/cases.json): a piece extends
  // the open line until "\n"; "\r" returns to its start and what follows
  // overwrites it; "\b" moves back one character; ANSI escape sequences
  // are removed, even when cut between pieces; "\f" clears the screen
  // (the Go playground's convention); a line belongs to stderr
  // when its first character does, and its time is its first piece's.
  class LineScreen {
    constructor() {
      this.lines = []; // {text, stderr, t, closed}; only the last may be open
      this.open = null;
      this.cells = [];
      this.col = 0;
      this.esc = null;
    }

    // write adds one piece written at t ms and returns the index of the
    // first line it changed.
    write(stderr, t, data) {
      let first = this.lines.length - (this.open ? 1 : 0);
      for (const ch of data) {
        if (this.esc !== null || ch === '\x1b') {
          this.escape(ch);
          continue;
        }
        if (!this.open) {
          this.open = { text: '', stderr: false, t, closed: false };
          this.lines.push(this.open);
          this.cells = [];
          this.col = 0;
        }
        if (ch === '\n') {
          this.finish();
          this.open.closed = true;
          this.open = null;
        } else if (ch === '\r') {
          this.col = 0;
        } else if (ch === '\b') {
          this.col = Math.max(0, this.col - 1);
        } else if (ch === '\f') {
          // The same array stays: callers hold it.
          this.lines.length = 0;
          this.open = null;
          first = 0;
        } else {
          this.cells[this.col++] = [ch, stderr];
        }
      }
      if (this.open) this.finish();
      return first;
    }

    finish() {
      this.open.text = this.cells.map((c) => c[0]).join('');
      this.open.stderr = this.cells.length ? this.cells[0][1] : false;
    }

    // escape consumes one character of ESC [ ... final, ESC ] ... BEL or
    // ESC \, or ESC and one character.
    escape(ch) {
      const e = (this.esc = (this.esc || []).concat(ch));
      if (e.length < 2) return;
      const c = ch.codePointAt(0);
      const done = e[1] === '[' ? e.length > 2 && c >= 0x40 && c <= 0x7e
        : e[1] === ']' ? ch === '\x07' || (e.length > 3 && e[e.length - 2] === '\x1b' && ch === '\\')
        : true;
      if (done || e.length > 256) this.esc = null;
    }

    // text is the whole screen, as screen.Screen.Text.
    text() {
      return this.lines.map((l) => l.text + (l.closed ? '\n' : '')).join('');
    }
  }
  window.PlaydocLineScreen = LineScreen; // for the browser tests

  // pngImage returns an <img> for a line "IMAGE:" followed by the base64
  // of a PNG (the Go playground's way for a program to show an image), or
  // null: anything else, such as another image type or text that is not
  // base64, stays text. Only a data: URL of type image/png is made.
  function pngImage(text) {
    if (!text.startsWith('IMAGE:')) return null;
    const b64 = text.slice(6);
    if (b64.length < 12 || b64.length % 4 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
    if (atob(b64.slice(0, 12)).slice(0, 8) !== '\x89PNG\r\n\x1a\n') return null;
    const img = el('img', 'pg-img');
    img.alt = 'Image printed by the program';
    // A PNG that does not decode is shown as the text the program printed.
    img.addEventListener('error', () => img.replaceWith(el('span', 'pg-d', text)), { once: true });
    img.src = 'data:image/png;base64,' + b64;
    return img;
  }

  let uid = 0;
  const snippets = [];

  // Snippet is one runnable figure: its editor, toolbar and output panel.
  class Snippet {
    constructor(fig, code) {
      const id = 'pg' + ++uid;
      this.fig = fig;
      this.name = fig.dataset.name || fig.id || id;
      this.lang = fig.dataset.lang || 'go';
      this.orig = code.textContent;
      // Edits are kept in localStorage per page and snippet, with the
      // original they were made on: a changed original drops them.
      this.storeKey = 'playdoc:' + location.pathname + '#' + this.name;
      this.ctrl = null; // AbortController of the run in flight
      this.runId = ''; // id from the "accepted" event, for /api/stop
      this.wall = null; // wall time of the last completed run, for Compare
      this.esc = false; // Escape pressed: the next Tab leaves the editor
      this.onDone = null;
      this.watchers = []; // called on every change of the output (Run both)

      // Editor: a transparent textarea over a highlighted <pre> of the same
      // text and metrics; the wrapper scrolls both together.
      this.ed = el('div', 'pg-ed chroma');
      this.inner = el('div', 'pg-in');
      this.hl = el('pre', 'pg-hl');
      this.hl.setAttribute('aria-hidden', 'true');
      this.ta = el('textarea', 'pg-ta');
      this.ta.value = this.orig;
      this.ta.spellcheck = false;
      // No wrap="off" (not valid HTML): the CSS keeps lines unwrapped.
      for (const [k, v] of [['autocapitalize', 'off'], ['autocomplete', 'off'], ['autocorrect', 'off'],
        ['aria-label', `Go code of ${this.name} (editable)`], ['aria-describedby', id + '-hint']]) {
        this.ta.setAttribute(k, v);
      }
      const hint = el('p', 'pg-sr', 'Tab inserts a tab. To leave the editor press Escape then Tab, or Shift+Tab. Ctrl+Enter (Cmd+Enter) runs the code.');
      hint.id = id + '-hint';
      this.inner.append(this.hl, this.ta);
      this.ed.append(this.inner);

      // Toolbar.
      this.runBtn = button('Run', 'pg-run', () => this.run());
      this.runBtn.title = 'Run (Ctrl+Enter)';
      this.runBtn.setAttribute('aria-keyshortcuts', 'Control+Enter Meta+Enter');
      this.stopBtn = button('Stop', 'pg-stop', () => this.stop());
      this.stopBtn.hidden = true;
      this.status = el('span', 'pg-status');
      this.status.setAttribute('role', 'status');
      const bar = el('div', 'pg-bar');
      bar.setAttribute('role', 'group');
      bar.setAttribute('aria-label', `Playground for ${this.name}`);
      this.fmtBtn = button('Format', 'pg-fmt', () => this.format());
      this.shareBtn = button('Share', 'pg-share', () => this.share());
      this.shareBtn.title = 'Save the code and copy a link to it';
      // Trace: record the goroutines' lanes (docs/contracts.md, "Trace");
      // a snippet's fence attribute trace turns it on by default.
      const lab = el('label', 'pg-trace');
      this.traceBox = el('input');
      this.traceBox.type = 'checkbox';
      this.traceBox.checked = 'trace' in fig.dataset;
      lab.append(this.traceBox, ' Trace');
      lab.title = 'Record what the goroutines did and show their lanes under the output';
      // Only Go runs are traced (Python's toggle would do nothing).
      if (fig.dataset.lang === 'python') lab.hidden = true;
      bar.append(this.runBtn, lab, this.stopBtn, this.fmtBtn, this.shareBtn,
        button('Reset', 'pg-reset', () => this.reset()), button('Copy', 'pg-copy', () => this.copy()), this.status);
      // The race detector (docs/contracts.md §3, "Data races"), for Go: on
      // by default where the snippet's fence says race (data-race).
      this.raceBox = null;
      if ((fig.dataset.lang || 'go') === 'go') {
        const raceLab = el('label', 'pg-race');
        this.raceBox = el('input');
        this.raceBox.type = 'checkbox';
        this.raceBox.checked = 'race' in fig.dataset;
        raceLab.title = 'Build with -race and report data races (slower)';
        raceLab.append(this.raceBox, ' Race detector');
        bar.insertBefore(raceLab, this.stopBtn); // beside Trace: the two run options
      }

      // Share result: the link, selectable, and a message screen readers
      // announce (it is polite: the focus stays on the Share button).
      this.shared = el('div', 'pg-shared');
      this.shared.hidden = true;
      this.link = el('input', 'pg-link');
      this.link.setAttribute('type', 'text');
      this.link.readOnly = true;
      this.link.id = id + '-link';
      this.link.setAttribute('aria-label', `Link to the shared code of ${this.name}`);
      this.link.addEventListener('focus', () => this.link.select());
      this.shareMsg = el('p', 'pg-share-msg');
      this.shareMsg.setAttribute('aria-live', 'polite');
      this.shared.append(this.link, this.shareMsg);

      // Standard input (docs/contracts.md §3, /api/stdin): what is typed
      // before Run is the program's input from the start; while it runs,
      // Enter sends the line and Ctrl+D (or the EOF button) ends the input.
      const inWrap = el('div', 'pg-in');
      this.inBox = el('textarea', 'pg-stdin');
      this.inBox.rows = 1;
      this.inBox.spellcheck = false;
      this.inBox.placeholder = 'Standard input: type before Run; while it runs, Enter sends a line, Ctrl+D ends it';
      this.inBox.setAttribute('aria-label', `Standard input of ${this.name}`);
      this.eofBtn = button('EOF', 'pg-eof', () => this.sendInput(true));
      this.eofBtn.title = 'End the standard input (Ctrl+D)';
      this.eofBtn.hidden = true;
      inWrap.append(this.inBox, this.eofBtn);
      this.inBox.addEventListener('keydown', (e) => {
        if (!this.ctrl) return; // before Run: an ordinary text box
        if (e.key === 'Enter' && !e.shiftKey && !e.ctrlKey && !e.metaKey) {
          e.preventDefault();
          this.sendInput(false);
        } else if (e.key === 'd' && e.ctrlKey) {
          e.preventDefault();
          this.sendInput(true);
        }
      });
      this.stdinQueue = [];

      // Output panel, hidden until something is run.
      this.out = el('div', 'pg-out');
      this.out.hidden = true;
      this.msg = el('p', 'pg-msg');
      this.errs = el('ul', 'pg-errs');
      this.log = el('div', 'pg-log');
      this.log.tabIndex = 0; // scrollable by keyboard
      this.log.setAttribute('role', 'log');
      this.log.setAttribute('aria-live', 'polite');
      this.log.setAttribute('aria-label', `Output of ${this.name}`);
      this.tl = el('div', 'pg-tl');
      this.tl.setAttribute('role', 'img');
      this.foot = el('p', 'pg-foot');
      this.bench = el('div', 'pg-bench');
      this.lanes = el('div', 'pg-lanes');
      this.lanes.setAttribute('role', 'group');
      this.lanes.setAttribute('aria-label', `Goroutine lanes of ${this.name}`);
      this.out.append(this.msg, this.errs, this.log, this.bench, this.tl, this.lanes, this.foot);
      this.screen = new LineScreen();
      this.rows = [];

      // The author's marks (docs/contracts.md §2): hl= lines, linenos.
      this.origLines = lineCount(this.orig);
      for (const n of lineList(fig.dataset.hl || '')) {
        const m = el('div', 'pg-hlline code-hl');
        m.style.setProperty('--l', n - 1); // CSSOM, allowed by the CSP
        this.inner.prepend(m);
      }
      if ('linenos' in fig.dataset) {
        this.ed.classList.add('pg-linenos');
        this.gutter = el('div', 'pg-gutter');
        this.gutter.setAttribute('aria-hidden', 'true');
        this.gutterLines = 0;
        this.inner.prepend(this.gutter);
      }

      code.closest('pre').replaceWith(this.ed, hint, bar, this.shared, inWrap, this.out);
      const kept = this.load();
      if (kept != null) {
        this.ta.value = kept;
        this.say('Your edit is back (Reset drops it)');
      }
      this.render();

      this.ta.addEventListener('input', () => {
        if (this.marked && lineCount(this.ta.value) !== this.marked) this.unmark();
        this.render();
        this.save();
      });
      this.ta.addEventListener('keydown', (e) => this.key(e));
      this.ta.addEventListener('blur', () => { this.esc = false; });
      // Keep the textarea's own scroll at zero: the wrapper does the scrolling.
      this.ta.addEventListener('scroll', () => { this.ta.scrollTop = 0; this.ta.scrollLeft = 0; });
      fig.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          this.run();
        }
      });
    }

    render() {
      // The trailing space gives the <pre> the empty last line a textarea
      // shows after a final newline, so both keep the same height.
      this.hl.innerHTML = highlight(this.ta.value) + ' ';
      const n = lineCount(this.ta.value);
      // Highlighted lines stand for the original's: hidden once lines come or go.
      this.inner.classList.toggle('pg-relined', n !== this.origLines);
      if (this.gutter && n !== this.gutterLines) {
        this.gutterLines = n;
        this.gutter.textContent = Array.from({ length: n }, (_, i) => i + 1).join('\n');
      }
    }

    key(e) {
      if (e.isComposing || e.ctrlKey || e.metaKey || e.altKey) return;
      const wasEsc = this.esc;
      this.esc = e.key === 'Escape';
      if (e.key === 'Tab' && !e.shiftKey && !wasEsc) {
        e.preventDefault();
        this.insert('\t');
      } else if (e.key === 'Enter' && !e.shiftKey) {
        e.preventDefault();
        const v = this.ta.value;
        const p = this.ta.selectionStart;
        const start = v.lastIndexOf('\n', p - 1) + 1;
        this.insert('\n' + /^[\t ]*/.exec(v.slice(start, p))[0]);
      }
    }

    insert(text) {
      // execCommand keeps the browser's undo history; setRangeText is the fallback.
      if (!document.execCommand('insertText', false, text)) {
        this.ta.setRangeText(text, this.ta.selectionStart, this.ta.selectionEnd, 'end');
        this.render();
      }
    }

    setCode(v) {
      this.ta.value = v;
      this.unmark();
      this.render();
      this.save();
    }

    // load returns the edit kept for this snippet, if it was made on the
    // current original; save keeps the editor's code (or forgets it when
    // it is the original). Storage may be off or full: then nothing is kept.
    load() {
      try {
        const v = JSON.parse(localStorage.getItem(this.storeKey));
        if (v && v.o === this.orig && typeof v.c === 'string') return v.c;
      } catch (_) { /* unreadable: as if nothing was kept */ }
      return null;
    }

    save() {
      try {
        if (this.ta.value === this.orig) localStorage.removeItem(this.storeKey);
        else localStorage.setItem(this.storeKey, JSON.stringify({ o: this.orig, c: this.ta.value }));
      } catch (_) { /* storage unavailable */ }
    }

    // share stores the editor's code on the playground and shows, copies
    // and announces its link.
    async share() {
      // Not disabled while it works: a disabled button would lose the focus.
      if (this.sharing) return;
      this.sharing = true;
      this.shared.hidden = false;
      this.shareMsg.textContent = 'Sharing…';
      const from = this.fig.dataset.from || location.pathname + (this.fig.id ? '#' + this.fig.id : '');
      let msg;
      try {
        const res = await fetch('/share?from=' + encodeURIComponent(from), {
          method: 'POST', headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: this.ta.value,
        });
        const text = await res.text();
        if (res.ok && /^[\w-]{11,44}$/.test(text)) {
          this.link.value = location.origin + '/p/' + text;
          this.link.hidden = false;
          msg = (await this.toClipboard(this.link.value)) ? 'Link copied to the clipboard' : 'Link ready: select it and copy it';
        } else {
          let why = '';
          try { why = JSON.parse(text).error; } catch (_) { /* not JSON */ }
          msg = [404, 405, 501].includes(res.status) ? 'Sharing needs the playground server, which this site does not have'
            : `Could not share (HTTP ${res.status})` + (why ? ': ' + why : '');
        }
      } catch (_) {
        msg = 'Could not share: the playground cannot be reached';
      }
      if (!this.link.value) this.link.hidden = true;
      this.shareMsg.textContent = msg;
      this.sharing = false;
    }

    async toClipboard(text) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (_) {
        // No async clipboard (plain http, no permission): copy the selection.
        this.link.select();
        try { return document.execCommand('copy'); } catch (__) { return false; }
      }
    }

    say(text) {
      this.status.textContent = text;
    }

    // Panel helpers.
    clear() {
      this.out.hidden = false;
      this.out.classList.remove('pg-recorded');
      for (const n of [this.msg, this.errs, this.log, this.bench, this.foot]) n.textContent = '';
      for (const d of this.out.querySelectorAll('.pg-dump')) d.remove();
      this.msg.className = 'pg-msg';
      this.foot.className = 'pg-foot';
      delete this.foot.dataset.wallMs;
      cancelAnimationFrame(this.frame);
      this.frame = 0;
      this.tl.textContent = '';
      this.tl.hidden = true;
      this.trace = null;
      this.lanes.textContent = '';
      this.lanes.hidden = true;
      this.screen = new LineScreen();
      this.rows = [];
      this.unmark();
    }

    note(text, bad) {
      this.msg.textContent = text;
      this.msg.classList.toggle('pg-bad', !!bad);
    }

    // piece adds one piece of output and updates the rows it changed: the
    // open last row grows in place, so a line printed in pieces is one row.
    piece(t, kind, data) {
      const lines = this.screen.lines;
      const first = this.screen.write(kind === 'stderr', t, data);
      if (t != null) this.liveTimeline(t);
      const atEnd = this.log.scrollTop + this.log.clientHeight >= this.log.scrollHeight - 4;
      for (let i = first; i < lines.length; i++) {
        if (i >= MAX_LINES) {
          this.foot.textContent = `${lines.length - MAX_LINES} more lines not shown`;
          break;
        }
        const l = lines[i];
        let row = this.rows[i];
        if (!row) {
          row = this.rows[i] = el('div', 'pg-line');
          this.log.append(row);
        }
        this.drawRow(row, l, false);
      }
      // A "\f" cleared the screen: drop the rows it no longer has.
      while (this.rows.length > lines.length) this.rows.pop().remove();
      if (atEnd) this.log.scrollTop = this.log.scrollHeight;
      this.notify();
    }

    // drawRow fills a row with its line: the time, the stderr label and the
    // text, or the image of an "IMAGE:" line once the line is complete (a
    // closed line, or the last one at the end of the run).
    drawRow(row, l, ended) {
      row.className = 'pg-line' + (l.stderr ? ' pg-stderr' : '');
      row.textContent = '';
      if (l.t != null) row.append(el('span', 'pg-t', '+' + (l.t / 1000).toFixed(3) + 's'));
      if (l.stderr) row.append(el('span', 'pg-tag', 'stderr'));
      const img = (l.closed || ended) && pngImage(l.text);
      row.append(img || el('span', 'pg-d', l.text));
    }

    notify() {
      for (const f of this.watchers) f(this);
    }

    busy(on) {
      const focusStop = on && document.activeElement === this.runBtn;
      const focusRun = !on && document.activeElement === this.stopBtn;
      this.runBtn.disabled = on;
      this.stopBtn.hidden = !on;
      this.fig.classList.toggle('pg-running', on);
      this.eofBtn.hidden = !on;
      if (focusStop) this.stopBtn.focus();
      if (focusRun) this.runBtn.focus();
    }

    // run streams one run of the editor's code; it resolves when the run ends.
    async run() {
      if (this.ctrl) return;
      const ctrl = (this.ctrl = new AbortController());
      this.runId = '';
      this.ended = false;
      this.wall = null;
      this.failed = false;
      this.started = false;
      this.clear();
      this.busy(true);
      this.say('Sending…');
      // The box's text goes with the run; while it runs the box takes new
      // lines, and gets its text back after.
      const typed = this.inBox.value;
      this.inBox.value = '';
      this.stdinQueue = [];
      this.stdinEOF = false;
      try {
        await this.stream(ctrl, typed);
      } catch (err) {
        if (ctrl.signal.aborted) this.end('Stopped');
        else if (!this.ended) this.end('The run failed: ' + (err.message || err), true);
      } finally {
        this.ctrl = null;
        this.inBox.value = typed;
        this.busy(false);
        if (this.onDone) this.onDone();
      }
    }

    async stream(ctrl, stdin) {
      let res;
      try {
        res = await fetch(API + 'run', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ code: this.ta.value, lang: this.lang, stdin, stdinOpen: true, trace: this.traceBox.checked,
            race: !!(this.raceBox && this.raceBox.checked) }),
          signal: ctrl.signal,
        });
      } catch (err) {
        if (ctrl.signal.aborted) throw err;
        return unavailable(this, 'the playground cannot be reached');
      }
      const type = res.headers.get('Content-Type') || '';
      if (res.status === 429 || res.status === 503) {
        const after = parseInt(res.headers.get('Retry-After'), 10);
        this.say('');
        return this.end('The playground is busy; ' + (after >= 0 ? `retrying is possible in ${after} s` : 'try again shortly'), true);
      }
      if ([404, 405, 501, 502, 504].includes(res.status) || (res.ok && !type.includes('ndjson'))) {
        // serve answers 501 with why (e.g. the sandbox needs Linux), 502 when
        // its --playground backend is down: say so rather than a bare status.
        return unavailable(this, res.ok ? 'unexpected response' : await errorText(res));
      }
      if (!res.ok) {
        let msg = '';
        try { msg = (await res.json()).error; } catch (_) { /* not JSON */ }
        this.say('');
        return this.end(`The playground refused the code (HTTP ${res.status})` + (msg ? ': ' + msg : ''), true);
      }
      setAvailable();
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (line) this.event(JSON.parse(line));
        }
      }
      buf = (buf + dec.decode()).trim(); // a last event without its newline
      if (buf) this.event(JSON.parse(buf));
      if (!this.ended) this.end(ctrl.signal.aborted ? 'Stopped' : 'The run ended without an exit status (connection closed)', !ctrl.signal.aborted);
    }

    event(ev) {
      switch (ev.kind) {
        case 'accepted': this.runId = ev.id; this.say('Queued…'); this.flushInput(); break;
        case 'compile-start': this.say(ev.message ? `Compiling: ${ev.message}…` : 'Compiling…'); break;
        case 'compile-end': this.say(ev.cached ? 'Cached build' : `Compiled in ${Math.round(ev.ms)} ms`); break;
        case 'start': this.status.textContent += ' · running…'; this.started = true; this.notify(); break;
        case 'stdout':
        case 'stderr': this.piece(ev.t, ev.kind, String(ev.data)); break;
        case 'trace': this.trace = ev; break;
        case 'compile-error': this.compileError(ev); break;
        case 'stuck': this.stuck(ev); break;
        case 'race': this.races(ev); break;
        case 'exit': this.exit(ev); break;
        case 'error': this.end('Playground error: ' + ev.message, true); break;
        default: break; // unknown events are ignored, for forward compatibility
      }
    }

    compileError(ev) {
      this.say('Compile error');
      const errs = ev.errors || [];
      if (!errs.length) this.note(ev.message || 'The code does not compile', true);
      this.showErrors(errs);
      this.end('Build failed', true);
    }

    showErrors(errs) {
      this.unmark();
      for (const e of errs) {
        // A file of a multi-file (txtar) program is named; editorLine is
        // the error's line as the editor counts it (the file's section).
        const where = e.file && e.file !== 'prog.go' ? e.file + ':' : '';
        const line = e.editorLine || (where ? 0 : e.line);
        const b = button(`${where}${e.line}:${e.col}: ${e.msg}`, 'pg-errbtn', () => this.goTo(line, e.col));
        b.disabled = !line;
        b.title = 'Move the cursor to this line';
        const li = el('li');
        li.append(b);
        this.errs.append(li);
        if (line) this.mark(line, 'pg-mark');
      }
      if (errs.length) this.ta.setAttribute('aria-invalid', 'true');
    }

    // mark highlights editor line n (1-based) until the next run or an edit
    // that changes the line count.
    mark(n, cls) {
      if (this.inner.querySelector(`.pg-mark[data-line="${n}"]`)) return;
      const m = el('div', cls);
      m.dataset.line = n;
      m.style.setProperty('--l', n - 1); // CSSOM, allowed by the CSP
      this.inner.prepend(m);
      this.marked = lineCount(this.ta.value);
    }

    // races shows the race detector's findings: the server's sentence above
    // the output, an entry per access that moves the cursor to its line,
    // and those lines marked (the reports themselves are in the output).
    races(ev) {
      this.note(ev.summary || 'Data race', true);
      for (const r of ev.races || []) {
        for (const a of r.accesses || []) {
          const line = a.editorLine || 0;
          const who = a.goroutine === 1 ? 'main' : `goroutine ${a.goroutine}`;
          const what = a.previous ? (a.op === 'write' ? 'wrote' : 'read') : (a.op === 'write' ? 'writes' : 'reads');
          this.lineItem(`${line ? 'line ' + line : 'outside your code'}: ${who} ${what}${a.code ? ' `' + a.code + '`' : ''}`,
            'pg-racebtn', line);
        }
      }
    }

    // lineItem lists a button that moves the cursor to line (0: none) and marks it.
    lineItem(label, cls, line) {
      const b = button(label, 'pg-errbtn ' + cls, () => this.goTo(line, 1));
      b.disabled = !line;
      b.title = 'Move the cursor to this line';
      const li = el('li');
      li.append(b);
      this.errs.append(li);
      if (line) this.mark(line, 'pg-mark pg-mark-stuck');
    }

    // stuck shows where the goroutines of a deadlocked program, or of one
    // stopped at the time limit, were blocked: the server's sentence above
    // the output, a button per group that moves the cursor to its line,
    // those lines marked, and the goroutine dump (bounded) folded away.
    stuck(ev) {
      this.note(ev.summary || 'The program got stuck', true);
      for (const g of ev.goroutines || []) {
        const ids = g.ids || [];
        const who = ids.length === 1 ? (ids[0] === 1 ? 'main' : `goroutine ${ids[0]}`) : `${ids.length} goroutines`;
        const line = g.editorLine || 0;
        const where = line ? `line ${line}` : `${g.file}:${g.line}`;
        this.lineItem(`${where}: ${who} ${g.wait}${g.started ? ' (started here)' : ''}`, 'pg-stuckbtn', line);
      }
      if (ev.dump) {
        const d = el('details', 'pg-dump');
        d.append(el('summary', '', 'Goroutine dump at the time limit'), el('pre', '', ev.dump));
        this.log.after(d);
      }
    }

    unmark() {
      this.marked = 0;
      this.ta.removeAttribute('aria-invalid');
      for (const m of this.inner.querySelectorAll('.pg-mark')) m.remove();
    }

    goTo(line, col) {
      const lines = this.ta.value.split('\n');
      let off = 0;
      for (let i = 0; i < line - 1 && i < lines.length; i++) off += lines[i].length + 1;
      off += Math.max(0, Math.min((col || 1) - 1, (lines[line - 1] || '').length));
      this.ta.focus();
      this.ta.setSelectionRange(off, off);
      const m = this.inner.querySelector(`.pg-mark[data-line="${line}"]`);
      if (m) m.scrollIntoView({ block: 'nearest' });
    }

    exit(ev) {
      const wall = ev.wallMs || 0;
      const r = ev.reason || '';
      const lim = /limit ([\d.]+ \w+)/.exec(ev.message || '');
      const text = r === 'timeout' ? `Stopped after ${Math.round(wall / 1000)} s: the program ran too long`
        : r === 'oom' ? `Out of memory${lim ? ` (limit ${lim[1]})` : ''}: the program was stopped`
        : r === 'output-limit' ? 'Output truncated at 1 MiB: the program printed too much'
        : r === 'killed' ? 'Stopped'
        : r === 'signal' ? 'Killed by a signal' + (ev.message ? ': ' + ev.message : '')
        : ev.code ? `Exit status ${ev.code}` : 'Exit status 0';
      const parts = [text, 'wall ' + secs(wall, 3)];
      if (ev.cpuMs != null) parts.push('CPU ' + secs(ev.cpuMs, 3));
      if (ev.peakMemKB) parts.push('peak memory ' + (ev.peakMemKB / 1024).toFixed(1) + ' MiB');
      this.wall = wall;
      this.failed = !!(r || ev.code);
      // The last line, printed without a newline, is complete now.
      const n = this.screen.lines.length - 1;
      if (n >= 0 && n < MAX_LINES && !this.screen.lines[n].closed) this.drawRow(this.rows[n], this.screen.lines[n], true);
      this.benchTable();
      this.timeline(wall);
      this.end(parts.join(' · '), !!(r || ev.code));
      this.foot.dataset.wallMs = wall;
    }

    // benchTable shows the results of `go test -bench . -benchmem` (the
    // lines "BenchmarkX-2  1000  123.4 ns/op  16 B/op  1 allocs/op") as a
    // table: one row per benchmark.
    benchTable() {
      const rows = [];
      for (const l of this.screen.lines) {
        const m = /^(Benchmark\S*?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns\/op(?:\s+(\d+) B\/op)?(?:\s+(\d+) allocs\/op)?/.exec(l.text);
        if (m) rows.push([m[1], m[2], m[3], m[4] || '', m[5] || '']);
      }
      this.bench.textContent = '';
      this.benchRows = rows;
      if (!rows.length) return;
      const table = el('table', 'pg-bench-table');
      table.append(el('caption', '', 'Benchmarks'));
      const head = el('tr');
      for (const h of ['benchmark', 'iterations', 'ns/op', 'B/op', 'allocs/op']) {
        const th = el('th', '', h);
        th.scope = 'col';
        head.append(th);
      }
      table.append(head);
      for (const r of rows) {
        const tr = el('tr');
        r.forEach((v, i) => {
          const c = el(i ? 'td' : 'th', '', v);
          if (!i) c.scope = 'row';
          tr.append(c);
        });
        table.append(tr);
      }
      this.bench.append(table);
    }

    end(text, bad) {
      this.ended = true;
      this.foot.textContent = text;
      this.foot.classList.toggle('pg-bad', !!bad);
      if (/^(Sending|Queued)/.test(this.status.textContent)) this.say('');
      this.status.textContent = this.status.textContent.replace(' · running…', '');
      this.notify();
    }

    // timeline marks when each line arrived on an axis from 0 to the wall
    // time; lines arriving together stack up, so concurrency is visible.
    timeline(wall) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
      const lines = this.screen.lines.filter((l) => l.t != null).slice(0, 500);
      const tr = this.trace;
      this.tl.textContent = '';
      if (!lines.length && !tr) return;
      const span = Math.max(wall, ...lines.map((l) => l.t), (tr && tr.endMs) || 0, 1);
      const axis = el('div', 'pg-axis');
      const stacks = new Map();
      for (const { t, stderr: err, text } of lines) {
        const x = Math.round((t / span) * 100);
        const row = stacks.get(x) || 0;
        stacks.set(x, row + 1);
        const m = el('span', 'pg-tick' + (err ? ' pg-tick-err' : ''));
        m.style.setProperty('--x', x + '%');
        m.style.setProperty('--r', Math.min(row, 5));
        m.title = `+${(t / 1000).toFixed(3)}s ${text.length > 200 ? text.slice(0, 200) + '…' : text}`;
        axis.append(m);
      }
      const scale = el('div', 'pg-scale');
      scale.append(el('span', '', '0 s'), el('span', '', 'when each line was printed'), el('span', '', secs(span, 1)));
      this.tl.append(axis, scale);
      this.tl.setAttribute('aria-label', `Timeline: ${lines.length} line${lines.length === 1 ? '' : 's'} over ${secs(span, 1)}`);
      this.tl.hidden = false;
      this.drawLanes(span);
    }

    // drawLanes draws the trace event's goroutines under the timeline, on
    // its axis (0 to span ms): one lane each, an interval per state, named
    // by its title; a hidden list tells screen readers the same.
    drawLanes(span) {
      const tr = this.trace;
      const box = this.lanes;
      box.textContent = '';
      box.hidden = !tr;
      if (!tr) return;
      box.dataset.spanMs = span;
      const gs = tr.lanes;
      box.append(el('p', 'pg-lanes-head', gs ? `Goroutines: ${gs.length} · GOMAXPROCS ${tr.gomaxprocs}` : 'No trace'));
      if (tr.message) box.append(el('p', 'pg-lanes-note', tr.message));
      if (!gs) return;
      const facts = el('ul', 'pg-sr');
      const when = (ms) => secs(ms, 3);
      for (const g of gs) {
        const name = g.id === 1 ? 'main' : `${g.name} #${g.id}`;
        const lane = el('div', 'pg-lane');
        lane.dataset.g = g.id;
        const bar = el('div', 'pg-lane-bar');
        const said = [];
        for (const iv of g.intervals) {
          const what = iv.state + (iv.reason ? ` (${iv.reason})` : '') + (iv.at ? ' at ' + iv.at : '');
          const s = el('span', 'pg-iv pg-' + iv.state);
          s.style.setProperty('--x', (iv.start / span) * 100 + '%');
          s.style.setProperty('--w', ((iv.end - iv.start) / span) * 100 + '%');
          s.title = `${name}: ${what}, ${when(iv.start)} to ${when(iv.end)}`;
          // A wide enough blocked interval names its reason and line.
          if (iv.reason && iv.end - iv.start > span / 8) s.textContent = iv.reason + (iv.at ? ' ' + iv.at : '');
          bar.append(s);
          if (iv.end - iv.start >= span / 100 && said.length < 12) said.push(`${what} from ${when(iv.start)} to ${when(iv.end)}`);
        }
        lane.append(el('span', 'pg-lane-name', name + (g.createdAt ? ' · go at ' + g.createdAt : '')), bar);
        lane.title = name;
        box.append(lane);
        facts.append(el('li', '', `${name}${g.createdAt ? ', created at ' + g.createdAt : ''}: ${said.join('; ') || 'brief'}.`));
      }
      const key = el('p', 'pg-lanes-key');
      key.setAttribute('aria-hidden', 'true');
      for (const st of ['running', 'runnable', 'blocked', 'syscall']) key.append(el('span', 'pg-iv pg-' + st), ` ${st} `);
      box.append(key, facts);
    }

    // liveTimeline redraws the timeline while the run goes on, at most once
    // a frame, on the snippet's expected duration until the run outlasts it.
    liveTimeline(t) {
      this.lastT = t;
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.timeline(Math.max(+this.fig.dataset.durationMs || 0, this.lastT));
      });
    }

    // sendInput sends the box's line (with its newline, unless eof) to the
    // running program's standard input, and ends the input if eof.
    sendInput(eof) {
      if (!this.ctrl || this.stdinEOF) return;
      const data = this.inBox.value + (eof ? '' : '\n');
      this.inBox.value = '';
      if (eof) this.stdinEOF = true;
      this.stdinQueue.push({ data, eof });
      this.flushInput();
    }

    // flushInput posts the queued input in order, once the run has an id.
    async flushInput() {
      if (!this.runId || this.sending) return;
      this.sending = true;
      try {
        while (this.stdinQueue.length) {
          const { data, eof } = this.stdinQueue.shift();
          await fetch(API + 'stdin', { method: 'POST', headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ id: this.runId, data, eof }) });
        }
      } catch (_) { /* the run ended: nothing more to send */ } finally {
        this.sending = false;
      }
    }

    async stop() {
      const ctrl = this.ctrl;
      if (!ctrl) return;
      this.say('Stopping…');
      if (this.runId) {
        try {
          await fetch(API + 'stop', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ id: this.runId }) });
        } catch (_) { /* the abort below still ends the run */ }
        // The server answers with an exit event; give up waiting after a while.
        setTimeout(() => { if (this.ctrl === ctrl) ctrl.abort(); }, 3000);
      } else {
        ctrl.abort();
      }
    }

    async format() {
      this.say('Formatting…');
      let res;
      try {
        res = await fetch(API + 'fmt', { method: 'POST', body: new URLSearchParams({ body: this.ta.value, imports: 'true' }) });
        if (!res.ok || !(res.headers.get('Content-Type') || '').includes('json')) throw new Error(await errorText(res));
        res = await res.json();
      } catch (err) {
        return this.say('Format is unavailable here' + (err && err.message ? ` (${err.message})` : ''));
      }
      if (res.Error) {
        this.clear();
        this.say('Format failed');
        const errs = [];
        res.Error.replace(/^[^\n:]*:(\d+):(\d+): ?([^\n]*)/gm, (_, line, col, msg) => { errs.push({ line: +line, col: +col, msg }); });
        this.note(errs.length ? '' : res.Error, true);
        this.showErrors(errs);
        return;
      }
      this.setCode(res.Body);
      this.say('Formatted');
    }

    reset() {
      this.setCode(this.orig);
      this.say('Reset to the original code');
    }

    // setOriginal makes code the snippet's original (an example picked on
    // the playground page), dropping any edit.
    setOriginal(code) {
      this.orig = code;
      this.reset();
    }

    async copy() {
      try {
        await navigator.clipboard.writeText(this.ta.value);
      } catch (_) {
        // No async clipboard (e.g. plain http): copy the textarea's selection.
        this.ta.select();
        if (!document.execCommand('copy')) return this.say('Copy failed: select the code and copy it');
      }
      this.say('Copied');
    }
  }

  // unavailable shows the recorded output when there is no playground (a
  // static host) or it cannot be reached, and says so on every Run button.
  function unavailable(s, why) {
    for (const o of snippets) {
      o.runBtn.textContent = 'Playground unavailable — show recorded output';
      o.runBtn.classList.add('pg-off');
      o.fmtBtn.hidden = true; // formatting and sharing need the playground too
      o.shareBtn.hidden = true;
    }
    s.say('');
    s.out.classList.add('pg-recorded');
    s.note(`Playground unavailable (${why}) — showing the recorded output.`);
    const exp = s.fig.querySelector('.output-expected');
    const text = exp ? exp.textContent : '';
    if (text) s.piece(null, 'stdout', text);
    const d = +s.fig.dataset.durationMs;
    s.end(exp ? 'Recorded output' + (d ? `; the run takes about ${secs(d, 1)}` : '') : 'No recorded output for this snippet');
  }

  // errorText is a failed response's JSON {"error"} if it has one, else its
  // status.
  async function errorText(res) {
    try {
      if ((res.headers.get('Content-Type') || '').includes('json')) {
        const msg = (await res.json()).error;
        if (msg) return msg;
      }
    } catch (_) { /* not JSON */ }
    return 'HTTP ' + res.status;
  }

  function setAvailable() {
    for (const o of snippets) {
      if (!o.runBtn.classList.contains('pg-off')) continue;
      o.runBtn.textContent = 'Run';
      o.runBtn.classList.remove('pg-off');
      o.fmtBtn.hidden = false;
      o.shareBtn.hidden = false;
    }
  }

  // compareBar lets the reader run every snippet sharing a data-compare key,
  // one after another (so they do not compete for CPU), and shows their wall
  // times side by side.
  function compareBar(key, group) {
    const bar = el('div', 'pg-cmp');
    bar.setAttribute('role', 'group');
    bar.setAttribute('aria-label', 'Compare ' + group.map((s) => s.name).join(' and '));
    const res = el('output', 'pg-cmp-res');
    res.setAttribute('aria-live', 'polite');
    const benches = el('div', 'pg-cmp-bench');
    const show = () => {
      res.textContent = group.map((s) => `${s.name} ${s.wall == null ? '–' : secs(s.wall, 1)}`).join(' · ');
      compareBenchmarks(benches, group);
    };
    const b = button(`Run all ${group.length} and compare`, 'pg-cmp-run', async () => {
      b.disabled = true;
      for (const s of group) s.wall = null;
      show();
      for (const s of group) await s.run();
      b.disabled = false;
    });
    bar.append(el('span', 'pg-cmp-title', 'Compare'), b, res, benches);
    for (const s of group) s.onDone = show;
    show();
    const last = group[group.length - 1].fig;
    (last.closest('.pair') || last).after(bar);
    bar.dataset.compare = key;
  }

  // compareBenchmarks shows the benchmark results of a compare group side
  // by side: for each benchmark name, one row per snippet that has it, in
  // the group's order, so ns/op, B/op and allocs/op line up.
  function compareBenchmarks(box, group) {
    box.textContent = '';
    const names = [];
    for (const s of group) for (const r of s.benchRows || []) if (!names.includes(r[0])) names.push(r[0]);
    if (!names.length) return;
    const table = el('table', 'pg-bench-table');
    table.append(el('caption', '', 'Benchmarks side by side'));
    const head = el('tr');
    for (const h of ['benchmark', 'snippet', 'ns/op', 'B/op', 'allocs/op']) {
      const th = el('th', '', h);
      th.scope = 'col';
      head.append(th);
    }
    table.append(head);
    for (const n of names) {
      for (const s of group) {
        const r = (s.benchRows || []).find((x) => x[0] === n);
        if (!r) continue;
        const tr = el('tr');
        const th = el('th', '', n);
        th.scope = 'row';
        tr.append(th, el('td', '', s.name), el('td', '', r[2]), el('td', '', r[3]), el('td', '', r[4]));
        table.append(tr);
      }
    }
    box.append(table);
  }

  const LANGS = { python: 'Python', go: 'Go' };

  // RunBoth is the "Run both" bar of a pair (data-pair, docs/contracts.md
  // §2): it starts the Python and the Go program together, as two /api/run
  // requests, and draws their lines on one time axis, a row per language.
  // Each row's 0 is its own program's start (the t of its events), so Go's
  // compile, done before its program starts, is not counted against it.
  class RunBoth {
    constructor(key, pair) {
      this.pair = pair; // [python, go]
      this.frame = 0;
      const bar = (this.bar = el('div', 'pg-both'));
      bar.dataset.pair = key;
      bar.setAttribute('role', 'group');
      bar.setAttribute('aria-label', `Run both: ${pair.map((s) => `${LANGS[s.lang]} ${s.name}`).join(' and ')}`);
      this.btn = button('Run both', 'pg-both-run', () => this.run());
      this.btn.title = 'Start the Python and the Go program at the same time and compare their timelines';
      const head = el('div', 'pg-both-head');
      // The summary is what a screen reader hears: "Python: 2.01 s, Go: 2.00 s".
      this.sum = el('output', 'pg-both-sum', 'Starts both programs at once; their lines share one time axis.');
      this.sum.setAttribute('aria-live', 'polite');
      head.append(this.btn, this.sum);
      this.chart = el('div', 'pg-both-tl');
      this.chart.setAttribute('role', 'img');
      this.chart.hidden = true;
      this.log = el('ol', 'pg-both-log');
      this.log.tabIndex = 0; // scrollable by keyboard
      this.log.setAttribute('aria-label', 'Lines of both programs, in the order of their times');
      this.log.hidden = true;
      bar.append(head, this.chart, this.log);
      // When each program started and ended (page time, ms), set on its
      // row as data-start-ms and data-end-ms: the tests check that the two
      // runs overlapped.
      this.times = new Map();
      for (const s of pair) {
        s.watchers.push(() => {
          const t = this.times.get(s) || {};
          if (s.started && t.start == null) t.start = Math.round(performance.now());
          if (s.ended && t.start != null && t.end == null) t.end = Math.round(performance.now());
          this.times.set(s, t);
          this.redraw();
        });
      }
      const last = pair[1].fig.compareDocumentPosition(pair[0].fig) & Node.DOCUMENT_POSITION_FOLLOWING ? pair[0].fig : pair[1].fig;
      (last.closest('.pair') || last).after(bar);
    }

    async run() {
      if (this.running || this.pair.some((s) => s.ctrl)) return;
      this.running = true;
      this.btn.disabled = true;
      this.sum.textContent = 'Running both…';
      this.times.clear();
      try {
        await Promise.all(this.pair.map((s) => s.run()));
      } finally {
        this.running = false;
        this.btn.disabled = false;
        cancelAnimationFrame(this.frame);
        this.frame = 0;
        this.draw();
        this.sum.textContent = this.summary();
      }
    }

    // summary is one row's result per language: its wall time, or why
    // there is none.
    summary() {
      return this.pair.map((s) => {
        const name = LANGS[s.lang];
        if (s.out.classList.contains('pg-recorded')) return `${name}: recorded output (no playground)`;
        if (s.wall == null) return `${name}: no result (${s.foot.textContent || 'not run'})`;
        return `${name}: ${secs(s.wall, 2)}` + (s.failed ? ` (${s.foot.textContent.split(' · ')[0]})` : '');
      }).join(', ');
    }

    redraw() {
      if (this.frame || !this.running) return;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.draw();
      });
    }

    // draw shows both rows on one axis from 0 to the longer run (while they
    // run: at least the longer expected duration), and every line of both,
    // stamped and tagged with its language, merged in time order.
    draw() {
      const rows = this.pair.map((s) => ({
        s, lines: s.screen.lines.filter((l) => l.t != null).slice(0, 500),
      }));
      const span = Math.max(1, ...rows.map(({ s, lines }) => Math.max(
        s.wall || 0, this.running ? +s.fig.dataset.durationMs || 0 : 0, ...lines.map((l) => l.t))));
      this.chart.textContent = '';
      for (const { s, lines } of rows) {
        const row = el('div', 'pg-both-row pg-both-' + s.lang);
        const times = this.times.get(s) || {};
        if (times.start != null) row.dataset.startMs = times.start;
        if (times.end != null) row.dataset.endMs = times.end;
        const label = el('span', 'pg-both-label', LANGS[s.lang]);
        const track = el('div', 'pg-both-track');
        if (s.wall != null || s.started) {
          const run = el('span', 'pg-both-run-bar');
          run.style.setProperty('--w', Math.min(100, ((s.wall != null ? s.wall : Math.max(0, ...lines.map((l) => l.t))) / span) * 100) + '%');
          track.append(run);
        }
        const stacks = new Map();
        for (const { t, stderr: err, text } of lines) {
          const x = Math.round((t / span) * 100);
          const n = stacks.get(x) || 0;
          stacks.set(x, n + 1);
          const m = el('span', 'pg-tick pg-both-tick' + (err ? ' pg-tick-err' : ''));
          m.style.setProperty('--x', x + '%');
          m.style.setProperty('--r', Math.min(n, 3));
          m.title = `${LANGS[s.lang]} +${(t / 1000).toFixed(3)}s ${text}`;
          track.append(m);
        }
        const end = el('span', 'pg-both-end', s.wall != null ? secs(s.wall, 2) : s.started ? 'running…' : s.ctrl ? 'compiling…' : '–');
        row.append(label, track, end);
        this.chart.append(row);
      }
      const scale = el('div', 'pg-scale pg-both-scale');
      scale.append(el('span', '', '0 s'), el('span', '', 'since each program started'), el('span', '', secs(span, 1)));
      this.chart.append(scale);
      this.chart.setAttribute('aria-label', 'Timeline of both runs: ' + rows.map(({ s, lines }) =>
        `${LANGS[s.lang]} ${lines.length} line${lines.length === 1 ? '' : 's'}` + (s.wall != null ? ` in ${secs(s.wall, 2)}` : '')).join('; '));
      this.chart.hidden = false;

      const merged = [];
      for (const { s, lines } of rows) for (const l of lines) merged.push([l.t, s.lang, l, merged.length]);
      // By time; lines printed at the same moment stay with their program.
      merged.sort((a, b) => a[0] - b[0] || (a[1] === b[1] ? a[3] - b[3] : a[1] === 'python' ? -1 : 1));
      this.log.textContent = '';
      for (const [t, lang, l] of merged) {
        const li = el('li', 'pg-both-line pg-both-' + lang + (l.stderr ? ' pg-stderr' : ''));
        li.append(el('span', 'pg-t', '+' + (t / 1000).toFixed(3) + 's'), el('span', 'pg-both-tag', LANGS[lang]), el('span', 'pg-d', l.text));
        this.log.append(li);
      }
      this.log.hidden = !merged.length;
    }
  }

  // setUp makes editors of the runnable figures under roots, with their
  // Compare bars and Run both: the page's, and the blocks that playdoc
  // serve's live-reload client adds when it patches the page after an edit.
  const setUp = (roots) => {
    const added = [];
    for (const root of roots) {
      for (const fig of root.matches?.('figure[data-run]') ? [root] : root.querySelectorAll('figure[data-run]')) {
        const code = fig.querySelector('pre code');
        if (code) added.push(new Snippet(fig, code));
      }
    }
    snippets.push(...added);
    const groups = new Map();
    for (const s of added) {
      const key = s.fig.dataset.compare;
      if (key) groups.set(key, [...(groups.get(key) || []), s]);
    }
    for (const [key, group] of groups) if (group.length > 1) compareBar(key, group);
    // Pairs: one Python and one Go snippet with the same data-pair.
    const pairs = new Map();
    for (const s of added) {
      const key = s.fig.dataset.pair;
      if (key) pairs.set(key, [...(pairs.get(key) || []), s]);
    }
    for (const [key, group] of pairs) {
      const py = group.find((s) => s.lang === 'python');
      const go = group.find((s) => s.lang === 'go');
      if (group.length === 2 && py && go) new RunBoth(key, [py, go]);
    }
  };
  setUp([document]);
  document.addEventListener('playdoc:added', (e) => setUp(e.detail));

  // /play/'s examples menu: an option's data-from (page#snippet-id) says
  // where its code is, read from that page when it is picked.
  const menu = document.getElementById('play-example');
  const play = snippets.find((s) => s.fig.id === 'snippet-play');
  if (menu && play) {
    menu.addEventListener('change', async () => {
      const opt = menu.selectedOptions[0];
      const from = opt?.dataset.from || '';
      let code = opt?.dataset.code;
      if (code == null && from) {
        const [path, id] = from.split('#');
        try {
          const doc = new DOMParser().parseFromString(await (await fetch(path)).text(), 'text/html');
          code = doc.getElementById(id).querySelector('pre code').textContent;
        } catch (_) {
          return play.say('Could not load the example');
        }
        if (menu.selectedOptions[0] !== opt) return; // picked another since
      }
      if (code == null) return;
      play.fig.dataset.from = from;
      play.setOriginal(code);
      play.say(`Example: ${opt.textContent}`);
    });
  }
})();
