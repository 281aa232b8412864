// Search over the log data (collapsed sections included), with marks on the rows in sight.
import { KIND_START } from './sections.js';

const DEBOUNCE_MS = 120;
const SLICE_MS = 12;  // a search over a big log runs in slices this long, so the page keeps responding

/** Find-in-log box: match count, next/previous, `/` or Ctrl+F to focus. */
export class Search {
  constructor(view, ui) {
    this.view = view;
    this.store = view.store;
    this.ui = ui;               // {input, count, prev, next}
    this.query = '';
    this.lines = [];            // line index of each match, ascending
    this.starts = [];           // offset of each match in its line's plain text
    this.byLine = new Map();    // line index -> indices into lines/starts
    this.scanned = 0;
    this.current = -1;
    this.timer = 0;
    this.scanning = null;       // the promise of a search still running through the rows
    this.generation = 0;        // bumps with each new search, so an older one stops
    this.sliceMs = SLICE_MS;
    view.decorate = (i, el) => this.decorate(i, el);
    this.store.onAppend(() => { if (!this.scanning) this.scanMore(Infinity); });
    this.store.onChange(() => this.rescanSoon());
    this.bind();
  }

  bind() {
    const { input, prev, next } = this.ui;
    input.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.run(input.value), DEBOUNCE_MS);
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); this.flush().then(() => this.step(e.shiftKey ? -1 : 1)); }
      if (e.key === 'Escape') { input.value = ''; this.run(''); input.blur(); }
    });
    prev.addEventListener('click', () => this.flush().then(() => this.step(-1)));
    next.addEventListener('click', () => this.flush().then(() => this.step(1)));
    document.addEventListener('keydown', (e) => this.onKey(e));
  }

  onKey(e) {
    const inField = e.target.closest && e.target.closest('input, textarea, select, [contenteditable]');
    const ctrlF = (e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'f';
    if ((e.key === '/' && !inField) || (ctrlF && e.target !== this.ui.input)) {
      e.preventDefault();
      this.ui.input.focus();
      this.ui.input.select();
    }
  }

  /** The typed query searched for (a promise, settled once every row has been looked at). */
  flush() {
    if (this.ui.input.value !== this.query) { clearTimeout(this.timer); return this.run(this.ui.input.value); }
    return this.scanning || Promise.resolve();
  }

  /** Search the whole log for `query` (case-insensitive unless it has capitals); settles when done. */
  run(query) {
    this.query = query;
    this.reset();
    return this.scanAll(() => {
      if (this.lines.length) this.current = this.firstInSight();
      this.show();
    });
  }

  /** Scan every row in slices of SLICE_MS, then call done(); a newer search stops this one. */
  scanAll(done) {
    const generation = ++this.generation;
    let resolve;
    const promise = new Promise((r) => { resolve = r; });
    this.scanning = promise;
    const slice = () => {
      if (generation !== this.generation) { resolve(); return; }
      if (!this.scanMore(performance.now() + this.sliceMs)) { setTimeout(slice, 0); return; }
      if (this.scanning === promise) this.scanning = null;
      done();
      resolve();
    };
    slice();
    return promise;
  }

  /** Rows were redrawn: search them again shortly, keeping the current match and the scroll position. */
  rescanSoon() {
    if (!this.query || this.rescanTimer) return;
    this.rescanTimer = setTimeout(() => {
      this.rescanTimer = 0;
      if (!this.query) return;
      const line = this.current === -1 ? -1 : this.lines[this.current];
      this.reset();
      this.scanAll(() => {
        this.current = line === -1 ? -1 : this.lines.findIndex((i) => i >= line);
        this.showCount();
        this.view.invalidate();
      });
    }, DEBOUNCE_MS);
  }

  reset() {
    this.lines = [];
    this.starts = [];
    this.byLine = new Map();
    this.scanned = 0;
    this.current = -1;
  }

  /** Look at the rows not scanned yet until `deadline` (performance.now()); true once all are done. */
  scanMore(deadline) {
    const q = this.query;
    const n = this.store.length;
    if (!q) { this.scanned = n; return true; }
    const smart = q !== q.toLowerCase();
    const needle = smart ? q : q.toLowerCase();
    const before = this.lines.length;
    let i = this.scanned;
    while (i < n) {
      const stop = Math.min(n, i + 2048);
      for (; i < stop; i++) {
        if (this.view.sections.kindOf(i) === KIND_START) continue;
        const text = smart ? this.store.plain(i) : this.store.plain(i).toLowerCase();
        for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) {
          this.add(i, at);
        }
      }
      if (performance.now() > deadline) break;
    }
    this.scanned = i;
    if (this.lines.length !== before || i === n) this.showCount();
    return i === n;
  }

  add(i, at) {
    const k = this.lines.length;
    this.lines.push(i);
    this.starts.push(at);
    const list = this.byLine.get(i);
    if (list) list.push(k); else this.byLine.set(i, [k]);
  }

  firstInSight() {
    const [first] = this.view.visibleRange();
    const line = this.view.sections.rowCount ? this.view.sections.lineAt(Math.min(first, this.view.sections.rowCount - 1)) : 0;
    const k = this.lines.findIndex((i) => i >= line);
    return k === -1 ? 0 : k;
  }

  /** Move to the next (+1) or previous (-1) match and bring it into view. */
  step(dir) {
    if (!this.lines.length) return;
    this.current = this.current === -1 ? 0 : (this.current + dir + this.lines.length) % this.lines.length;
    this.show();
  }

  show() {
    this.showCount();
    if (this.current !== -1) this.view.ensureVisible(this.lines[this.current]);
    this.view.invalidate();
  }

  showCount() {
    const n = this.lines.length;
    let text = '';
    if (this.query) text = !n ? 'no matches' : this.current === -1 ? `${n} match${n === 1 ? '' : 'es'}` : `${this.current + 1} of ${n}`;
    if (this.query && this.scanning) text = `${n ? n.toLocaleString('en') : 'searching'}…`;
    this.ui.count.textContent = text;
    this.ui.input.classList.toggle('no-match', !!this.query && !n && !this.scanning);
  }

  /** Wrap this line's matches in <mark> inside a freshly built row. */
  decorate(i, el) {
    const ks = this.byLine.get(i);
    if (!ks || !this.query) return;
    if (el.classList.contains('progress-line')) { el.classList.add('match'); return; } // drawn, not its text
    const txt = el.querySelector('.txt');
    const len = this.query.length;
    for (let j = ks.length - 1; j >= 0; j--) markRange(txt, this.starts[ks[j]], len, ks[j] === this.current);
  }
}

function markRange(root, start, len, current) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let pos = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const end = pos + node.data.length;
    if (start < end) {
      const range = document.createRange();
      range.setStart(node, start - pos);
      const stopNode = findNode(walker, node, pos, start + len);
      range.setEnd(stopNode.node, stopNode.offset);
      const mark = document.createElement('mark');
      if (current) mark.className = 'cur';
      mark.append(range.extractContents());
      range.insertNode(mark);
      return;
    }
    pos = end;
  }
}

function findNode(walker, node, pos, target) {
  // The match may run across style spans; walk on from `node` until the text offset is reached.
  for (let n = node; n; pos += n.data.length, n = walker.nextNode()) {
    if (target <= pos + n.data.length) return { node: n, offset: target - pos };
  }
  return { node, offset: node.data.length };
}
