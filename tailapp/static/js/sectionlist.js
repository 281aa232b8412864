// The header's list of the log's sections: title, duration, and a failed mark; a click jumps into the log.
import { duration } from './format.js';

// A row that reads like a failure; the first one marks its section on a job that failed.
const ERROR = /\b(error|fatal|failed|failure|exception)\b|traceback/i;
const FAILED_STATES = ['failed', 'lost'];

export class SectionList {
  constructor(nav, view, sections, store) {
    this.nav = nav;
    this.list = nav.querySelector('ol');
    this.view = view;
    this.sections = sections;
    this.store = store;
    this.scanned = 0;        // rows searched for the first error so far
    this.firstError = -1;
    this.failed = false;
    this.shown = '';
    store.onAppend(() => this.refresh());
    setInterval(() => this.refresh(), 1000);
  }

  /** The job's state decides whether a section gets the failed mark. */
  setState(state) {
    this.failed = FAILED_STATES.includes(state);
    this.refresh();
  }

  /** Row index of the first error-looking row (the last row of a failed job without one), or -1. */
  errorRow() {
    const store = this.store;
    for (; this.firstError === -1 && this.scanned < store.length; this.scanned++) {
      if (ERROR.test(store.plain(this.scanned))) this.firstError = this.scanned;
    }
    if (this.firstError !== -1) return this.firstError;
    return this.failed ? store.length - 1 : -1;
  }

  /** The innermost section holding row i, or null. */
  sectionAt(i) {
    const id = i >= 0 && i < this.sections.owner.n ? this.sections.owner.get(i) : -1;
    const header = this.sections.headerAt(i);
    return header || (id === -1 ? null : this.sections.list[id]);
  }

  refresh() {
    const all = this.sections.list;
    this.nav.hidden = all.length === 0;
    if (!all.length) return;
    const bad = this.failed ? this.sectionAt(this.errorRow()) : null;
    const items = all.map((s) => ({ s, stats: this.sections.stats(s), bad: s === bad }));
    const key = items.map(({ s, stats, bad: b }) => `${s.id}:${stats.duration}:${stats.running}:${b}`).join(',');
    if (key === this.shown) return;
    this.shown = key;
    this.list.replaceChildren(...items.map((item) => this.item(item)));
  }

  /** Open the section and bring it into view: at its first error when it failed, else at its header. */
  jump(s, bad) {
    if (s.collapsed) this.sections.setCollapsed(s, false);
    if (bad) this.view.revealLine(this.errorRow(), 'center');
    else this.view.revealLine(s.start, 'start');
  }

  item({ s, stats, bad }) {
    const li = document.createElement('li');
    li.className = bad ? 'sec-failed' : (stats.running ? 'sec-running' : 'sec-done');
    if (s.parent !== -1) li.classList.add('sec-nested');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sec-link';
    button.dataset.line = s.start;
    const mark = document.createElement('span');
    mark.className = 'sec-mark';
    mark.setAttribute('aria-hidden', 'true');
    mark.textContent = bad ? '✗' : (stats.running ? '●' : '✓');
    const title = document.createElement('span');
    title.className = 'sec-title';
    title.textContent = s.title;
    const time = document.createElement('span');
    time.className = 'sec-time mono';
    time.textContent = duration(stats.duration);
    button.append(mark, title, time);
    if (bad) button.setAttribute('aria-label', `${s.title} (failed here)`);
    button.addEventListener('click', () => this.jump(s, bad));
    li.append(button);
    return li;
  }
}
