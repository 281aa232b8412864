// Collapsible sections (::group:: / travis_fold) and the list of rows the reader can see.
import { toPlain } from './ansi.js';

const GROUP = /^\s*::group::(.*)$/;
const ENDGROUP = /^\s*::endgroup::/;
const FOLD = /travis_fold:(start|end):([^\s\r]+)/;

export const KIND_LINE = 0;
export const KIND_START = 1;
export const KIND_END = 2;

function plainRaw(raw) {
  // Markers are matched on text with escapes removed but before `\r` handling: Travis writes
  // "travis_fold:start:x\r\x1b[0K", whose visible part is empty.
  return toPlain(raw.replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, ''));
}

/** Classify a raw line: [kind, name-or-title, isTravis]. */
export function markerOf(raw) {
  if (raw.indexOf('::') === -1 && raw.indexOf('travis_fold:') === -1) return null;
  const text = plainRaw(raw);
  let m = GROUP.exec(text);
  if (m) return { kind: KIND_START, title: m[1].trim() || 'Group', travis: false };
  if (ENDGROUP.test(text)) return { kind: KIND_END, travis: false };
  m = FOLD.exec(text);
  if (m) return { kind: m[1] === 'start' ? KIND_START : KIND_END, title: m[2], name: m[2], travis: true };
  return null;
}

const PROGRESS = /^\s*::progress::([0-9.]+)(?:\s+(.*))?$/;

/** A `::progress::<fraction> <message>` line (from tailapp's progress()): {percent, message}, else null. */
export function progressOf(raw) {
  if (raw.indexOf('::progress::') === -1) return null;
  const m = PROGRESS.exec(plainRaw(raw));
  if (!m) return null;
  const fraction = Math.min(1, Math.max(0, Number(m[1])));
  if (!isFinite(fraction)) return null;
  return { percent: Math.round(fraction * 100), message: (m[2] || '').trim() };
}

class GrowInt32 {
  constructor() { this.a = new Int32Array(1024); this.n = 0; }
  push(v) {
    if (this.n === this.a.length) { const b = new Int32Array(this.a.length * 2); b.set(this.a); this.a = b; }
    this.a[this.n++] = v;
  }
  get(i) { return this.a[i]; }
}

/** Sections of a log and the visible rows (line indices, ascending) they leave. */
export class Sections {
  constructor(store) {
    this.store = store;
    this.list = [];            // {id, start, end, title, parent, collapsed, userSet, travis, name}
    this.byStart = new Map();  // line index of a header -> section
    this.owner = new GrowInt32(); // innermost section holding each line, -1 for none
    this.kind = [];            // sparse: line index -> KIND_START / KIND_END
    this.open = [];            // stack of open section ids
    this.rows = new GrowInt32();
    this.version = 0;          // bumps when rows change other than by appending
    store.onLine = (i, raw) => this.addLine(i, raw);
  }

  get rowCount() { return this.rows.n; }
  lineAt(row) { return this.rows.get(row); }

  addLine(i, raw) {
    const m = markerOf(raw);
    const parent = this.open.length ? this.open[this.open.length - 1] : -1;
    if (m && m.kind === KIND_START) return this.startSection(i, m, parent);
    if (m && m.kind === KIND_END && this.open.length) return this.endSection(i, m);
    this.owner.push(parent);
    if (this.isVisible(i)) this.rows.push(i);
  }

  startSection(i, m, parent) {
    const s = { id: this.list.length, start: i, end: -1, title: m.title, name: m.name, travis: m.travis,
      parent, collapsed: false, userSet: false };
    this.list.push(s);
    this.byStart.set(i, s);
    this.kind[i] = KIND_START;
    this.owner.push(parent);
    if (this.isVisible(i)) this.rows.push(i);
    this.open.push(s.id);
  }

  endSection(i, m) {
    let k = this.open.length - 1;
    if (m.travis) while (k > 0 && this.list[this.open[k]].name !== m.name) k--;
    const closing = this.open.splice(k);
    const s = this.list[closing[0]];
    for (const id of closing) this.list[id].end = i;
    this.kind[i] = KIND_END;
    this.owner.push(closing[closing.length - 1]);
    if (this.isVisible(i)) this.rows.push(i);
    if (!s.userSet) this.collapseFinished(s);
  }

  collapseFinished(s) {
    // The section just ended at the end of the log, so its rows are the tail of the row list.
    s.collapsed = true;
    const headerRow = this.rowOf(s.start);
    if (headerRow !== -1 && this.rows.get(headerRow) === s.start) { this.rows.n = headerRow + 1; this.version++; }
  }

  /** True when no section holding line i is collapsed. */
  isVisible(i) {
    let id = this.owner.get(i);
    while (id !== -1) {
      const s = this.list[id];
      if (s.collapsed) return false;
      id = s.parent;
    }
    return true;
  }

  /** Row of line i, or of the first visible line after it when i is hidden; -1 past the end. */
  rowOf(i) {
    let lo = 0, hi = this.rows.n;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.rows.get(mid) < i) lo = mid + 1; else hi = mid; }
    return lo < this.rows.n ? lo : -1;
  }

  /** Section whose header is line i, if any. */
  headerAt(i) { return this.byStart.get(i); }
  kindOf(i) { return this.kind[i] || KIND_LINE; }
  depthOf(i) {
    let d = 0;
    for (let id = this.owner.get(i); id !== -1; id = this.list[id].parent) d++;
    return d;
  }

  /** Collapse or expand a section by the reader's choice. */
  setCollapsed(s, collapsed) {
    s.collapsed = collapsed;
    s.userSet = true;
    this.rebuild();
  }

  /** Collapse or expand every section, as the reader's choice. */
  setAll(collapsed) {
    for (const s of this.list) { s.collapsed = collapsed; s.userSet = true; }
    this.rebuild();
  }

  /** Expand every section that hides line i. */
  reveal(i) {
    let changed = false;
    for (let id = this.owner.get(i); id !== -1; id = this.list[id].parent) {
      const s = this.list[id];
      if (s.collapsed) { s.collapsed = false; s.userSet = true; changed = true; }
    }
    if (changed) this.rebuild();
  }

  rebuild() {
    this.rows = new GrowInt32();
    const n = this.store.length;
    for (let i = 0; i < n; i++) {
      if (!this.isVisible(i)) continue;
      this.rows.push(i);
      const s = this.byStart.get(i);
      if (s && s.collapsed) i = s.end !== -1 ? s.end : n; // skip the hidden body
    }
    this.version++;
  }

  /** Lines inside a section (markers excluded) and its duration in ms so far. */
  stats(s) {
    const times = this.store.times;
    const last = s.end !== -1 ? s.end : this.store.length - 1;
    const count = s.end !== -1 ? s.end - s.start - 1 : last - s.start;
    return { count: Math.max(0, count), duration: Math.max(0, times[last] - times[s.start]), running: s.end === -1 };
  }
}
