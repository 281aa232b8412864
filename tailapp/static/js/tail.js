// A big log's end first. The whole log goes through the terminal model from its first line, which takes
// seconds for a million lines; meanwhile its last lines, which the page asked for while it loaded (a
// preload link the server puts in a big log's page), are shown over the log pane, read-only, numbered as
// in the log. When the whole log has caught up with them (or the reader jumps somewhere: a search, an
// error, a line number), the full view takes over at the same line.
import { escapeHtml } from './ansi.js';
import { parseLines } from './backlog.js';
import { LineStore } from './lines.js';
import { markerOf, KIND_END } from './sections.js';

/** The last lines of a big log over the log pane until the full view has them. */
export class TailPreview {
  constructor(pane, view, total) {
    this.pane = pane;
    this.view = view;
    this.total = total;  // the log's lines when the page opened
    this.end = 0;        // seq of the preview's last line, once shown
    this.el = null;
    view.onFrame(() => this.check());
  }

  /** Fetch the log's last lines (the preloaded answer) and show them, unless the full view got there first. */
  async load(url) {
    let res;
    try {
      res = await fetch(url, { credentials: 'same-origin' });
      if (!res.ok) return;
      const text = await res.text();
      const first = Number(res.headers.get('X-First-Seq'));
      const [lines, times] = parseLines(text, 0, text.lastIndexOf('\n'));
      if (!lines.length || this.caughtUp(first + lines.length) || !this.view.follow) return;
      this.show(first, lines, times);
    } catch (e) {
      console.warn('the log\'s end was not fetched; the whole log still loads', e);
    }
  }

  caughtUp(end) { return this.view.store.rawCount >= end; }

  show(first, lines, times) {
    const rows = new LineStore();  // the preview's own terminal model: colours and \r as the view draws them
    rows.enqueue(lines, times);
    rows.pump(Infinity);
    let html = '';
    for (let r = 0; r < rows.length; r++) {
      const i = first + r;
      const marker = markerOf(rows.plain(r));
      const body = marker ? (marker.kind === KIND_END ? '' : `<b>${escapeHtml(marker.title)}</b>`) : rows.html(r);
      html += `<div class="trow" data-t="${i}"><a class="num" href="#L${i + 1}">${i + 1}</a><span class="txt">${body}</span></div>`;
    }
    this.el = document.createElement('div');
    this.el.className = 'log-tail';
    this.el.dataset.phase = 'tail';
    this.el.setAttribute('aria-busy', 'true');
    this.el.innerHTML = `<p class="log-tail-note" role="status"></p><div class="log-tail-rows">${html}</div>`;
    this.note = this.el.firstElementChild;
    this.end = first + lines.length;
    this.first = first;
    this.pane.append(this.el);
    this.el.scrollTop = this.el.scrollHeight;
    performance.mark('tailapp:tail-shown');
    const el = this.el;  // a scroll event can come after handOver() let go of this.el
    el.addEventListener('scroll', () => {
      this.moved = el.scrollTop + el.clientHeight < el.scrollHeight - 20;  // away from the end
    });
    this.el.addEventListener('click', (e) => this.onLink(e));
    this.check();
  }

  /** After each frame of the full view: say how far it is, and hand over once it has caught up. */
  check() {
    if (!this.el) return;
    const done = this.view.store.rawCount;
    if (done >= this.end || !this.view.follow) { this.handOver(); return; }
    const share = Math.floor((100 * done) / this.total);
    if (share === this.share) return;
    this.share = share;
    this.note.textContent = `Showing the last ${(this.end - this.first).toLocaleString('en')} lines while the whole log `
      + `(${this.total.toLocaleString('en')} lines) loads: ${share}%`;
  }

  /** Remove the preview; a reader who scrolled it finds the line that was at its top in the full view. */
  handOver() {
    const top = this.moved ? this.lineAtTop() : null;
    this.el.remove();
    this.el = null;
    if (top !== null && this.view.follow) this.view.revealLine(Math.min(top, this.view.store.length - 1), 'start');
  }

  lineAtTop() {
    const y = this.el.getBoundingClientRect().top + this.note.offsetHeight;
    for (const row of this.el.querySelectorAll('.trow')) if (row.getBoundingClientRect().bottom > y) return Number(row.dataset.t);
    return null;
  }

  /** A line number clicked in the preview: the full view takes over at that line (the permalink's work). */
  onLink(e) {
    const a = e.target.closest('a.num');
    if (!a) return;
    this.moved = false;
    this.handOver();
  }
}
