// Virtualised log view: DOM only for the rows in sight plus a margin, updated once per animation frame.
import { escapeHtml } from './ansi.js';
import { KIND_END, progressOf } from './sections.js';
import { clock, delta, duration, elapsed } from './format.js';
import { RowLayout } from './layout.js';

export const LINE_HEIGHT = 20;
const MARGIN = 40;            // rows rendered above and below the visible ones
const INGEST_BUDGET_MS = 24;  // per frame, keeps every task well under the long-task mark
const BACKLOG_LINES = 20_000; // queued lines past which ingestion also runs between frames

/** The scrolling log pane of one job. */
export class LogView {
  constructor(root, store, sections) {
    this.root = root;
    this.store = store;
    this.sections = sections;
    this.follow = true;
    this.tsMode = 'off';
    this.tsOrigin = null;
    this.highlight = null;    // {from, to} line indices
    this.decorate = null;     // (lineIndex, rowElement) => void, for search marks
    this.rowClasses = [];     // (lineIndex) => ' extra classes', for error marks
    this.rowExtras = [];      // (lineIndex) => HTML put after the row's text (an annotation's file:line)
    this.moved = false;       // the reader scrolled by hand
    this.layout = new RowLayout(sections, store, LINE_HEIGHT);
    this.frameHooks = [];
    this.els = new Map();     // line index -> row element
    this.version = -1;
    this.frameQueued = false;
    this.expectTop = -1;
    this.metaAt = 0;
    this.build();
    store.onAppend(() => this.request());
    store.onChange((rows) => this.redraw(rows));
  }

  /** Rows redrawn by the log itself (a progress area): rebuild those in sight, in place. */
  redraw(rows) {
    if (this.layout.wrap) this.layout.dirtyFrom(this.sections.rowOf(rows.reduce((a, b) => Math.min(a, b))));
    for (const i of rows) {
      const el = this.els.get(i);
      if (el) { el.remove(); this.els.delete(i); }
    }
    this.request();
  }

  build() {
    this.root.classList.add('log');
    this.root.style.setProperty('--line-h', `${LINE_HEIGHT}px`);
    this.scroller = document.createElement('div');
    this.scroller.className = 'log-scroll';
    this.scroller.tabIndex = 0;
    this.spacer = document.createElement('div');
    this.spacer.className = 'log-spacer';
    this.scroller.append(this.spacer);
    this.root.append(this.scroller);
    this.scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    // Stop following on the reader's intent, before a frame's auto-scroll can swallow the movement.
    this.scroller.addEventListener('wheel', (e) => { if (e.deltaY < 0) this.stopFollow(); }, { passive: true });
    this.scroller.addEventListener('keydown', (e) => {
      if (['ArrowUp', 'PageUp', 'Home'].includes(e.key)) this.stopFollow();
    });
    this.spacer.addEventListener('click', (e) => this.onClick(e));
    this.spacer.addEventListener('keydown', (e) => this.onSectionKey(e));
    window.addEventListener('resize', () => { if (this.layout.wrap) this.setWrap(true); this.request(); });
  }

  /** Queue raw lines from the server; they are rendered into rows and drawn in frames. */
  append(lines, times) {
    this.store.enqueue(lines, times);
    this.request();
  }

  /** A big backlog is also ingested in tasks between frames: pumping only in frames leaves the page idle
   *  while it waits for the next one (a frame's slice plus drawing overruns the frame). */
  pumpBetweenFrames() {
    if (this.pumping) return;
    this.pumping = true;
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      this.store.pump(INGEST_BUDGET_MS);
      if (this.store.pending > BACKLOG_LINES) channel.port2.postMessage(0);
      else { this.pumping = false; channel.port1.close(); }
    };
    channel.port2.postMessage(0);
  }

  /** Schedule one frame of work. */
  request() {
    if (this.frameQueued) return;
    this.frameQueued = true;
    requestAnimationFrame(() => this.frame());
  }

  frame() {
    this.frameQueued = false;
    if (this.store.pending) this.store.pump(INGEST_BUDGET_MS);
    if (this.store.pending) this.request();
    if (this.store.pending > BACKLOG_LINES) this.pumpBetweenFrames();  // after this frame has drawn rows
    this.sizeSpacer();
    this.root.classList.toggle('empty', this.store.length === 0 && !this.store.pending);
    if (this.follow) this.scrollToRow(this.sections.rowCount - 1, 'end');
    this.draw();
    for (const hook of this.frameHooks) hook();
  }

  /** Drop every row element so the next frame rebuilds them (ts mode, search, highlight changed). */
  invalidate() {
    for (const el of this.els.values()) el.remove();
    this.els.clear();
    this.request();
  }

  visibleRange() {
    const top = this.scroller.scrollTop;
    const first = Math.max(0, this.layout.rowAt(top) - MARGIN);
    const last = Math.min(this.sections.rowCount, this.layout.rowAt(top + this.scroller.clientHeight) + 1 + MARGIN);
    return [first, last];
  }

  draw() {
    if (this.version !== this.sections.version) { this.version = this.sections.version; this.invalidate(); }
    const [first, last] = this.visibleRange();
    const wanted = new Set();
    let html = '';
    const added = [];
    for (let r = first; r < last; r++) {
      const i = this.sections.lineAt(r);
      wanted.add(i);
      if (!this.els.has(i)) { html += this.rowHtml(i); added.push(i, r); }
    }
    for (const [i, el] of this.els) if (!wanted.has(i)) { el.remove(); this.els.delete(i); }
    if (added.length) this.insertRows(html, added);
    if (this.refocus !== undefined && this.els.has(this.refocus)) {
      this.els.get(this.refocus).querySelector('.title')?.focus({ preventScroll: true });
      this.refocus = undefined;
    }
    this.updateRunningMeta();
  }

  insertRows(html, added) {
    const tpl = document.createElement('template');
    tpl.innerHTML = html;
    const nodes = Array.from(tpl.content.children);
    nodes.forEach((el, k) => {
      const [i, r] = [added[2 * k], added[2 * k + 1]];
      // Positions and indents go through the CSSOM, not style attributes, so a strict CSP can stay on.
      el.style.top = `${this.layout.top(r)}px`;
      if (this.layout.wrap) el.style.height = `${this.layout.height(r)}px`;
      const depth = this.sections.depthOf(i);
      if (depth) el.lastElementChild.style.paddingLeft = `${depth * 16}px`;
      this.els.set(i, el);
      if (this.decorate) this.decorate(i, el);
    });
    this.spacer.append(tpl.content);
  }

  rowHtml(i) {
    const n = i + 1;
    const head = this.sections.headerAt(i);
    let cls = 'row';
    if (this.highlight && i >= this.highlight.from && i <= this.highlight.to) cls += ' hl';
    if (this.sections.kindOf(i) === KIND_END) cls += ' sec-end';
    for (const fn of this.rowClasses) cls += fn(i);
    let body;
    if (head) {
      cls += ` sec-head${head.collapsed ? ' collapsed' : ''}${head.end === -1 ? ' running' : ''}`;
      const open = head.collapsed ? 'false' : 'true';
      body = `<span class="chev" aria-hidden="true"></span><span class="title" role="button" tabindex="0" aria-expanded="${open}">${escapeHtml(head.title)}</span> <span class="meta">${this.metaText(head)}</span>`;
    } else {
      const progress = progressOf(this.store.plain(i));
      body = progress ? progressHtml(progress) : this.store.html(i);
      if (progress) cls += ' progress-line';
    }
    const ts = this.tsMode === 'off' ? '' : `<span class="ts">${this.tsText(i)}</span>`;
    return `<div class="${cls}" data-i="${i}"><a class="num" href="#L${n}" data-n="${n}">${n}</a>${ts}<span class="txt">${body}</span>${this.rowExtras.map((fn) => fn(i)).join('')}</div>`;
  }

  metaText(s) {
    const { count, duration: d, running } = this.sections.stats(s);
    return `${count} line${count === 1 ? '' : 's'} · ${duration(d)}${running ? ' · running' : ''}`;
  }

  tsText(i) {
    const t = this.store.times[i];
    if (this.tsMode === 'abs') return clock(t);
    if (this.tsMode === 'delta') return i ? delta(t - this.store.times[i - 1]) : delta(t - (this.tsOrigin ?? t));
    return elapsed(t, this.tsOrigin ?? this.store.times[0]);
  }

  updateRunningMeta() {
    const now = performance.now();
    if (now - this.metaAt < 250) return;
    this.metaAt = now;
    for (const id of this.sections.open) {
      const s = this.sections.list[id];
      const el = this.els.get(s.start);
      const meta = el && el.querySelector('.meta');
      if (meta) meta.textContent = this.metaText(s);
    }
  }

  onClick(e) {
    const row = e.target.closest('.row');
    if (!row || e.target.closest('a.num')) return;
    const s = this.sections.headerAt(Number(row.dataset.i));
    if (s && !window.getSelection().toString()) {
      this.sections.setCollapsed(s, !s.collapsed);
      this.request();
    }
  }

  /** Enter or Space on a section header's title opens or closes it, and keeps the focus on that title. */
  onSectionKey(e) {
    if ((e.key !== 'Enter' && e.key !== ' ') || !e.target.classList.contains('title')) return;
    const i = Number(e.target.closest('.row').dataset.i);
    const s = this.sections.headerAt(i);
    if (!s) return;
    e.preventDefault();
    this.sections.setCollapsed(s, !s.collapsed);
    this.refocus = i;  // the row is rebuilt by the next frame
    this.request();
  }

  onScroll() {
    const top = this.scroller.scrollTop;
    if (Math.abs(top - this.expectTop) > 1) {
      this.moved = true;
      const wasFollowing = this.follow;
      this.follow = this.atBottom();
      if (wasFollowing !== this.follow) for (const hook of this.frameHooks) hook();
    }
    this.request();
  }

  /** True when the last row is in sight. */
  atBottom() {
    const sc = this.scroller;
    return sc.scrollTop + sc.clientHeight >= sc.scrollHeight - LINE_HEIGHT;
  }

  /** The spacer as tall as the laid-out rows. */
  sizeSpacer() {
    this.layout.update();
    this.spacer.style.height = `${this.layout.total()}px`;
  }

  /** Wrap long rows at the pane's width (on) or scroll sideways (off); the line at the top stays there. */
  setWrap(on) {
    const line = this.sections.rowCount ? this.sections.lineAt(Math.min(this.layout.rowAt(this.scroller.scrollTop), this.sections.rowCount - 1)) : 0;
    this.root.dataset.wrap = on ? '1' : '';
    this.layout.set(on, on ? this.columns() : 0);
    this.sizeSpacer();
    this.invalidate();
    if (!this.follow && this.sections.rowCount) this.scrollToRow(this.sections.rowOf(line), 'start');
  }

  /** Text columns a row has at the pane's width: the pane less the gutter, in character widths. */
  columns() {
    const probe = document.createElement('div');
    probe.className = 'row';
    probe.innerHTML = `<a class="num">1</a>${this.tsMode === 'off' ? '' : '<span class="ts">x</span>'}<span class="txt"><span>${'0'.repeat(100)}</span></span>`;
    probe.style.visibility = 'hidden';
    this.spacer.append(probe);
    const text = probe.lastElementChild.firstElementChild;
    const char = text.getBoundingClientRect().width / 100;
    const room = this.scroller.clientWidth - (text.getBoundingClientRect().left - probe.getBoundingClientRect().left) - 16;
    probe.remove();
    return Math.max(8, Math.floor(room / char));
  }

  /** Visible row at the middle of the pane, and whether line i's row is in sight. */
  rowInSight() { return this.layout.rowAt(this.scroller.scrollTop + this.scroller.clientHeight / 2); }

  inSight(i) {
    const y = this.layout.top(this.sections.rowOf(i));
    return y >= this.scroller.scrollTop && y < this.scroller.scrollTop + this.scroller.clientHeight;
  }

  scrollToRow(r, where = 'center') {
    const sc = this.scroller;
    let top = this.layout.top(r);
    if (where === 'end') top = sc.scrollHeight - sc.clientHeight;
    else if (where === 'center') top -= (sc.clientHeight - LINE_HEIGHT) / 2;
    top = Math.max(0, Math.min(top, sc.scrollHeight - sc.clientHeight));
    if (Math.abs(sc.scrollTop - top) < 1) return;
    this.expectTop = top;
    sc.scrollTop = top;
  }

  /** Expand sections around line i and scroll it into the middle of the pane. */
  revealLine(i, where = 'center') {
    this.sections.reveal(i);
    this.follow = false;
    this.sizeSpacer();
    this.scrollToRow(this.sections.rowOf(i), where);
    this.request();
  }

  /** Scroll only if line i is out of sight (search hits). */
  ensureVisible(i) {
    this.sections.reveal(i);
    this.sizeSpacer();
    const r = this.sections.rowOf(i);
    const sc = this.scroller;
    const y = this.layout.top(r);
    if (y < sc.scrollTop || y + LINE_HEIGHT > sc.scrollTop + sc.clientHeight) {
      this.follow = false;
      this.scrollToRow(r, 'center');
    }
    this.request();
  }

  stopFollow() {
    if (!this.follow) return;
    this.follow = false;
    for (const hook of this.frameHooks) hook();
  }

  /** Resume following the end of the log. */
  followEnd() {
    this.follow = true;
    this.request();
    for (const hook of this.frameHooks) hook();
  }

  setTimestamps(mode, origin) {
    this.tsMode = mode;
    if (origin != null) this.tsOrigin = origin;
    this.root.dataset.ts = mode;
    if (this.layout.wrap) this.setWrap(true);  // the gutter's width changed
    this.invalidate();
  }

  setHighlight(range) {
    this.highlight = range;
    this.invalidate();
  }

  /** Call fn after every frame (follow button, permalinks, live search). */
  onFrame(fn) { this.frameHooks.push(fn); }
}

/** A progress marker line as a ten-cell bar and its text, e.g. "██████░░░░ 60% step 3 of 5". */
export function progressHtml({ percent, message }) {
  const cells = Math.round(percent / 10);
  const bar = `<span class="on">${'\u2588'.repeat(cells)}</span>${'\u2591'.repeat(10 - cells)}`;
  return `<span class="prog-bar" aria-hidden="true">${bar}</span> <span class="prog-text">${percent}%${message ? ` ${escapeHtml(message)}` : ''}</span>`;
}
