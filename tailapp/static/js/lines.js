// The log as data: raw lines from the server go through the terminal model; what it draws are the rows
// the reader sees, numbers and all (row index + 1). DOM is render.js's job.
import { Terminal } from './term.js';

const HTML_CACHE_SIZE = 4000;

/** Rendered rows of one job, indexed from 0. A row may be redrawn in place; rows are never removed. */
export class LineStore {
  constructor() {
    this.term = new Terminal();
    this.times = [];        // time of the raw line that made each row
    this.raw = [];          // raw lines kept only until ingested
    this.rawTimes = [];
    this.rawPos = 0;
    this.rawCount = 0;      // raw lines ingested so far (the server's seq)
    this.htmlCache = new Map();
    this.listeners = [];
    this.changeListeners = [];
  }

  get length() { return this.times.length; }

  /** Raw lines received but not yet ingested. */
  get pending() { return this.raw.length - this.rawPos; }

  /** Queue raw lines (with their Unix ms times) for ingestion. */
  enqueue(lines, times) {
    for (let k = 0; k < lines.length; k++) {
      this.raw.push(lines[k]);
      this.rawTimes.push(times ? times[k] : Date.now());
    }
  }

  /** Ingest queued lines for at most `budgetMs`; returns how many rows were added. */
  pump(budgetMs) {
    const start = this.length;
    const deadline = performance.now() + budgetMs;
    while (this.rawPos < this.raw.length) {
      const stop = Math.min(this.raw.length, this.rawPos + 64);  // a slice of heavy lines is ~1 ms
      for (; this.rawPos < stop; this.rawPos++) this.ingest(this.raw[this.rawPos], this.rawTimes[this.rawPos]);
      if (performance.now() > deadline) break;
    }
    if (this.rawPos === this.raw.length) { this.raw = []; this.rawTimes = []; this.rawPos = 0; }
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
      this.times.push(time);
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
