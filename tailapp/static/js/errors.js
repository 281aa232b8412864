// The error navigator: rows that look like errors or warnings, marked in the gutter and on a minimap
// beside the scrollbar; first / next / previous with buttons and the keys e / E.
import { escapeHtml } from './ansi.js';

export const NONE = 0;
export const WARNING = 1;
export const ERROR = 2;

const MARKER = /^\s*::(error|warning)\b[^:]*::/;     // GitHub-style annotations a task can write
const PARAMS = /^\s*::(?:error|warning)\s+([^:]*)::/;  // an annotation's parameters: file=…,line=…,col=…
const OWN_FAILURE = /^\u25a0 Job (stopped|lost)\b/;  // tailapp's own lines when a job is stopped or lost
const MINIMAP_MS = 250;                               // redraws of the minimap at most this often

/** Compile pattern sources (case-insensitive) into one RegExp; a bad one is reported and left out. */
export function compile(sources) {
  const good = [];
  for (const src of sources || []) {
    try { new RegExp(src); good.push(`(?:${src})`); } catch (err) { console.warn(`error pattern ${src}: ${err.message}`); }
  }
  return good.length ? new RegExp(good.join('|'), 'i') : null;
}

/** The level of a row's plain text: ERROR, WARNING or NONE. */
export function classify(text, patterns) {
  const m = MARKER.exec(text);
  if (m) return m[1] === 'error' ? ERROR : WARNING;
  if (OWN_FAILURE.test(text)) return ERROR;
  if (patterns.error && patterns.error.test(text)) return ERROR;
  if (patterns.warning && patterns.warning.test(text)) return WARNING;
  return NONE;
}

/** "file:line:col" of an annotation (`::error file=src/a.py,line=3,col=5::…`), or '' when it names no file. */
export function locationOf(text) {
  const m = PARAMS.exec(text);
  if (!m) return '';
  const params = {};
  for (const pair of m[1].split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) params[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  if (!params.file) return '';
  return [params.file, params.line, params.line && params.col].filter(Boolean).join(':');
}

/** First index in the ascending Int32Array `a[0..n)` whose value is >= v. */
export function lowerBound(a, n, v) {
  let lo = 0, hi = n;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (a[mid] < v) lo = mid + 1; else hi = mid; }
  return lo;
}

/** Error and warning rows of one log, with their navigation and their marks. */
export class ErrorMarks {
  constructor(view, ui, config = {}) {
    this.view = view;
    this.store = view.store;
    this.ui = ui;              // {first, prev, next, count, minimap} (any may be missing)
    this.patterns = { error: compile(config.error_patterns), warning: compile(config.warning_patterns) };
    this.level = new Uint8Array(1024);
    this.marked = new Int32Array(256);  // row indices with a level, ascending
    this.n = 0;
    this.errors = 0;
    this.current = -1;          // index into marked of the row last jumped to
    this.drawnKey = '';
    this.drawnAt = 0;
    this.store.onAppend((start, count) => this.scan(start, count));
    this.store.onChange((rows) => this.rescan(rows));
    view.rowExtras.push((i) => this.locationHtml(i));
    view.rowClasses.push((i) => (this.level[i] === ERROR ? ' err' : this.level[i] === WARNING ? ' warn' : ''));
    view.onFrame(() => this.drawMinimap());
    this.bind();
  }

  /** The file:line chip of an annotation row that names a file, as HTML ('' for other rows). */
  locationHtml(i) {
    const loc = this.level[i] ? locationOf(this.store.plain(i)) : '';
    return loc ? `<span class="annot-loc" title="where the task reported it">${escapeHtml(loc)}</span>` : '';
  }

  bind() {
    const { first, prev, next, minimap } = this.ui;
    first?.addEventListener('click', () => this.first());
    prev?.addEventListener('click', () => this.step(-1));
    next?.addEventListener('click', () => this.step(1));
    minimap?.addEventListener('click', (e) => this.onMinimap(e));
    document.addEventListener('keydown', (e) => {
      if (e.key !== 'e' && e.key !== 'E') return;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.target.closest && e.target.closest('input, textarea, select, [contenteditable]')) return;
      e.preventDefault();
      this.step(e.key === 'E' ? -1 : 1);
    });
  }

  scan(start, count) {
    if (this.level.length < start + count) this.level = grow(this.level, start + count);
    for (let i = start; i < start + count; i++) {
      const lv = classify(this.store.plain(i), this.patterns);
      this.level[i] = lv;
      if (lv) this.push(i, lv);
    }
    if (count) this.showCount();
  }

  push(i, lv) {
    if (this.n === this.marked.length) this.marked = grow(this.marked, this.n * 2);
    this.marked[this.n++] = i;
    if (lv === ERROR) this.errors++;
  }

  /** Rows redrawn in place may gain or lose their mark: then the list is rebuilt. */
  rescan(rows) {
    let flipped = false;
    for (const i of rows) {
      const lv = classify(this.store.plain(i), this.patterns);
      if (lv !== this.level[i]) { this.level[i] = lv; flipped = true; }
    }
    if (!flipped) return;
    this.n = 0;
    this.errors = 0;
    const len = this.store.length;
    for (let i = 0; i < len; i++) if (this.level[i]) this.push(i, this.level[i]);
    this.current = Math.min(this.current, this.n - 1);
    this.showCount();
    this.view.invalidate();
  }

  /** Row index of the first error (else the first warning), or -1. */
  firstRow() {
    for (let k = 0; k < this.n; k++) if (this.level[this.marked[k]] === ERROR) return this.marked[k];
    return this.n ? this.marked[0] : -1;
  }

  /** Jump to the first error. */
  first() {
    const i = this.firstRow();
    if (i === -1) return;
    this.go(lowerBound(this.marked, this.n, i));
  }

  /** Jump to the next (+1) or previous (-1) marked row after / before the one in sight. */
  step(dir) {
    if (!this.n) return;
    let k;
    if (this.current !== -1 && this.inSight(this.marked[this.current])) {
      k = this.current + dir;
    } else {
      k = lowerBound(this.marked, this.n, this.lineInSight()) + (dir > 0 ? 0 : -1);
    }
    this.go((k + this.n) % this.n);
  }

  go(k) {
    this.current = k;
    this.view.revealLine(this.marked[k]);
    this.view.setHighlight({ from: this.marked[k], to: this.marked[k] });
    this.showCount();
  }

  lineInSight() {
    const sections = this.view.sections;
    if (!sections.rowCount) return 0;
    return sections.lineAt(Math.max(0, Math.min(this.view.rowInSight(), sections.rowCount - 1)));
  }

  inSight(i) { return this.view.inSight(i); }

  showCount() {
    const { count, first, prev, next } = this.ui;
    const warnings = this.n - this.errors;
    const parts = [];
    if (this.errors) parts.push(`${this.errors.toLocaleString('en')} error${this.errors === 1 ? '' : 's'}`);
    if (warnings) parts.push(`${warnings.toLocaleString('en')} warning${warnings === 1 ? '' : 's'}`);
    if (count) {
      count.textContent = parts.length ? parts.join(' · ') : 'no errors';
      count.dataset.level = this.errors ? 'error' : warnings ? 'warning' : 'none';  // "no errors" is not a warning
    }
    for (const b of [first, prev, next]) if (b) b.disabled = !this.n;
  }

  /** Ticks for every marked row on a canvas as tall as the pane; cheap enough for any number of rows. */
  drawMinimap() {
    const canvas = this.ui.minimap;
    if (!canvas) return;
    const sections = this.view.sections;
    if (canvas.hidden !== !this.n) canvas.hidden = !this.n;
    if (!this.n) { this.drawnKey = ''; return; }  // hidden: nothing to draw, and no layout to force
    const key = `${this.n}/${sections.rowCount}/${sections.version}/${canvas.clientHeight}`;
    const now = performance.now();
    if (key === this.drawnKey) return;
    if (now - this.drawnAt < MINIMAP_MS) {  // a change came too soon after the last drawing: draw it later
      if (!this.later) this.later = setTimeout(() => { this.later = 0; this.drawMinimap(); }, MINIMAP_MS);
      return;
    }
    this.drawnKey = key;
    this.drawnAt = now;
    const height = canvas.clientHeight;
    canvas.width = canvas.clientWidth;
    canvas.height = height;
    const ctx = canvas.getContext('2d');
    const rows = Math.max(1, sections.rowCount);
    for (const lv of [WARNING, ERROR]) {  // errors drawn last, on top
      ctx.fillStyle = lv === ERROR ? '#f85149' : '#d29922';
      for (let k = 0; k < this.n; k++) {
        const i = this.marked[k];
        if (this.level[i] !== lv) continue;
        const r = sections.rowOf(i);
        ctx.fillRect(0, Math.floor(((r === -1 ? rows - 1 : r) / rows) * (height - 3)), canvas.width, 3);
      }
    }
  }

  /** A click on the minimap goes to the marked row nearest that place in the log. */
  onMinimap(e) {
    if (!this.n) return;
    const sections = this.view.sections;
    const rect = this.ui.minimap.getBoundingClientRect();
    const row = Math.floor(((e.clientY - rect.top) / rect.height) * sections.rowCount);
    const line = sections.lineAt(Math.max(0, Math.min(row, sections.rowCount - 1)));
    let k = lowerBound(this.marked, this.n, line);
    if (k === this.n || (k > 0 && line - this.marked[k - 1] < this.marked[k] - line)) k--;
    this.go(k);
  }

  /** A failed job's page: show its first error as soon as it arrives, or its end when it has none. */
  openAtFirst(totalLines) {
    const view = this.view;
    view.follow = false;
    const done = () => {
      if (this.opened) return;
      if (view.moved) { this.opened = true; return; }  // the reader scrolled first: leave them there
      if (this.errors) { this.opened = true; this.first(); return; }
      if (this.store.rawCount >= totalLines && !this.store.pending) { this.opened = true; view.followEnd(); }
    };
    view.onFrame(done);
  }
}

function grow(a, min) {
  const b = new a.constructor(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}
