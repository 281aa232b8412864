// The log as data: one entry per line (display text, time, style at its start). DOM is render.js's job.
import { AnsiRenderer, toDisplay, toPlain } from './ansi.js';

const HTML_CACHE_SIZE = 4000;

function sameState(a, b) {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.fg === b.fg && a.bg === b.bg && a.bold === b.bold && a.faint === b.faint
    && a.italic === b.italic && a.underline === b.underline;
}

/** Lines of one job, indexed from 0 (line number = index + 1 = seq). */
export class LineStore {
  constructor() {
    this.display = [];
    this.times = [];
    this.raw = [];          // kept only until ingested
    this.rawTimes = [];
    this.rawPos = 0;
    this.states = new Map(); // line index -> style at line start, only when not the default
    this.lastState = null;
    this.tracker = new AnsiRenderer();
    this.painter = new AnsiRenderer();
    this.htmlCache = new Map();
    this.listeners = [];
  }

  get length() { return this.display.length; }

  /** Lines received but not yet ingested. */
  get pending() { return this.raw.length - this.rawPos; }

  /** Queue raw lines (with their Unix ms times) for ingestion. */
  enqueue(lines, times) {
    for (let k = 0; k < lines.length; k++) {
      this.raw.push(lines[k]);
      this.rawTimes.push(times ? times[k] : Date.now());
    }
  }

  /** Ingest queued lines for at most `budgetMs`; returns how many were ingested. */
  pump(budgetMs) {
    const start = this.length;
    const deadline = performance.now() + budgetMs;
    while (this.rawPos < this.raw.length) {
      const stop = Math.min(this.raw.length, this.rawPos + 256);
      for (; this.rawPos < stop; this.rawPos++) this.ingest(this.raw[this.rawPos], this.rawTimes[this.rawPos]);
      if (performance.now() > deadline) break;
    }
    if (this.rawPos === this.raw.length) { this.raw = []; this.rawTimes = []; this.rawPos = 0; }
    const added = this.length - start;
    if (added) for (const fn of this.listeners) fn(start, added);
    return added;
  }

  /** Call fn(firstIndex, count) after each batch of ingested lines. */
  onAppend(fn) { this.listeners.push(fn); }

  ingest(raw, time) {
    const i = this.display.length;
    const display = toDisplay(raw);
    this.display.push(display);
    this.times.push(time);
    if (this.lastState) this.states.set(i, this.lastState);
    this.tracker.advance(display);
    const next = this.tracker.state;
    this.lastState = sameState(next, this.lastState) ? this.lastState : next;
    this.onLine?.(i, raw, display);
  }

  /** Characters shown for line i, without styling. */
  plain(i) { return toPlain(this.display[i]); }

  /** Escaped, coloured HTML for line i (cached, bounded). */
  html(i) {
    let h = this.htmlCache.get(i);
    if (h !== undefined) return h;
    this.painter.state = this.states.get(i) || null;
    h = this.painter.html(this.display[i]);
    if (this.htmlCache.size >= HTML_CACHE_SIZE) this.htmlCache.delete(this.htmlCache.keys().next().value);
    this.htmlCache.set(i, h);
    return h;
  }
}
