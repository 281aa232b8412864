// The log as data: raw lines from the server go through the terminal model; what it draws are the rows
// the reader sees, numbers and all (row index + 1). DOM is render.js's job.
import { Terminal } from './term.js';

const HTML_CACHE_SIZE = 4000;

/** Rendered rows of one job, indexed from 0. A row may be redrawn in place; rows are never removed. */
export class LineStore {
  constructor() {
    this.term = new Terminal();
    this.timeBuf = new Float64Array(1024);  // time of the raw line that made each row (8 bytes a row)
    this.rowCount = 0;
    this.queue = [];        // batches of raw lines [lines, times], kept only until ingested
    this.queued = 0;        // lines in the queue not yet ingested
    this.pos = 0;           // next line of queue[0]
    this.rawCount = 0;      // raw lines ingested so far (the server's seq)
    this.htmlCache = new Map();
    this.listeners = [];
    this.changeListeners = [];
  }

  get length() { return this.rowCount; }

  /** Unix ms time of each row's raw line, indexed like the rows (a view, not a copy). */
  get times() { return this.timeBuf.subarray(0, this.rowCount); }

  /** Raw lines received but not yet ingested. */
  get pending() { return this.queued; }

  /** Queue raw lines (with their Unix ms times) for ingestion; the arrays are kept as they are, not copied. */
  enqueue(lines, times) {
    if (!lines.length) return;
    this.queue.push([lines, times || lines.map(() => Date.now())]);
    this.queued += lines.length;
  }

  /** Ingest queued lines for at most `budgetMs`; returns how many rows were added. */
  pump(budgetMs) {
    const start = this.length;
    const deadline = performance.now() + budgetMs;
    while (this.queue.length) {
      const [lines, times] = this.queue[0];
      const stop = Math.min(lines.length, this.pos + 64);  // a slice of heavy lines is ~1 ms
      for (let k = this.pos; k < stop; k++) this.ingest(lines[k], times[k]);
      this.queued -= stop - this.pos;
      this.pos = stop;
      if (stop === lines.length) { this.queue.shift(); this.pos = 0; }
      if (performance.now() > deadline) break;
    }
    const changed = this.takeChanged(start);
    if (changed.length) for (const fn of this.changeListeners) fn(changed);
    const added = this.length - start;
    if (added) for (const fn of this.listeners) fn(start, added);
    return added;
  }

  /** Call fn(firstIndex, count) after each batch of new rows. */
  onAppend(fn) { this.listeners.push(fn); }

  /** Call fn(rowIndices) after each batch in which rows that were already shown got redrawn. */
  onChange(fn) { this.changeListeners.push(fn); }

  ingest(raw, time) {
    const term = this.term;
    term.write(raw);
    this.rawCount++;
    for (let i = this.length; i < term.length; i++) {
      if (this.rowCount === this.timeBuf.length) {
        const grown = new Float64Array(this.timeBuf.length * 2);
        grown.set(this.timeBuf);
        this.timeBuf = grown;
      }
      this.timeBuf[this.rowCount++] = time;
      // Markers (::group::, travis_fold) belong to the row the raw line ended on.
      this.onLine?.(i, i === term.lastRow ? raw : '');
    }
  }

  takeChanged(firstNew) {
    const changed = [];
    for (const i of this.term.takeChanged()) {
      this.htmlCache.delete(i);
      if (i < firstNew) changed.push(i);
    }
    return changed;
  }

  /** Characters shown in row i, without styling. */
  plain(i) { return this.term.text(i); }

  /** Escaped, coloured HTML for row i (cached, bounded). */
  html(i) {
    let h = this.htmlCache.get(i);
    if (h !== undefined) return h;
    h = this.term.html(i);
    if (this.htmlCache.size >= HTML_CACHE_SIZE) this.htmlCache.delete(this.htmlCache.keys().next().value);
    this.htmlCache.set(i, h);
    return h;
  }
}
