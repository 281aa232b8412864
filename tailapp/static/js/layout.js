// Where each visible row sits in the pane: one line height each, or with wrapping on, as many lines as
// its text needs at the pane's width (monospace: a row of n cells takes ceil(n / columns) lines; a wide
// character is two cells, so a row is measured in cells, not in characters).
import { cellCount } from './term.js';

/** First index in the ascending `a[0..n)` whose value is > v, minus one (the slot holding v). */
function slotOf(a, n, v) {
  let lo = 0, hi = n;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (a[mid] <= v) lo = mid + 1; else hi = mid; }
  return Math.max(0, lo - 1);
}

/** Row positions in pixels for a LogView; `tops` (wrap only) holds each visible row's first line. */
export class RowLayout {
  constructor(sections, store, lineHeight) {
    this.sections = sections;
    this.store = store;
    this.lh = lineHeight;
    this.wrap = false;
    this.cols = 0;
    this.tops = new Float64Array(1024);
    this.done = 0;           // rows whose top and height are known (wrap)
    this.version = -1;
  }

  /** Wrapping on or off at `cols` text columns; everything is laid out again. */
  set(wrap, cols) {
    if (wrap === this.wrap && cols === this.cols) return;
    this.wrap = wrap;
    this.cols = Math.max(8, cols);
    this.done = 0;
  }

  /** Rows from visible row r on changed their text: lay them out again. */
  dirtyFrom(r) { if (r >= 0 && r < this.done) this.done = r; }

  linesOf(r) {
    const i = this.sections.lineAt(r);
    if (this.sections.headerAt(i)) return 1;
    return Math.max(1, Math.ceil(cellCount(this.store.plain(i)) / this.cols));
  }

  update() {
    if (!this.wrap) return;
    if (this.version !== this.sections.version) { this.version = this.sections.version; this.done = 0; }
    const n = this.sections.rowCount;
    if (this.tops.length < n + 1) {
      const b = new Float64Array(Math.max(n + 1, this.tops.length * 2));
      b.set(this.tops.subarray(0, this.done + 1));
      this.tops = b;
    }
    if (this.done === 0) this.tops[0] = 0;
    for (let r = this.done; r < n; r++) this.tops[r + 1] = this.tops[r] + this.linesOf(r);
    this.done = n;
  }

  top(r) { return this.wrap ? this.tops[Math.min(r, this.done)] * this.lh : r * this.lh; }
  height(r) { return this.wrap && r < this.done ? (this.tops[r + 1] - this.tops[r]) * this.lh : this.lh; }
  total() { return this.top(this.sections.rowCount); }

  /** The visible row at pixel y. */
  rowAt(y) {
    if (!this.wrap) return Math.floor(y / this.lh);
    return slotOf(this.tops, this.done + 1, y / this.lh);
  }
}
