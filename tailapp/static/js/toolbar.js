// The log toolbar's own buttons: expand / collapse all groups, and the wrap toggle.

/** "Expand all" / "Collapse all" for the log's groups; disabled while the log has none. */
export class GroupButtons {
  constructor(view, { expand, collapse }) {
    this.view = view;
    this.buttons = [expand, collapse];
    expand.addEventListener('click', () => this.setAll(false));
    collapse.addEventListener('click', () => this.setAll(true));
    view.onFrame(() => this.sync());
    this.sync();
  }

  setAll(collapsed) {
    this.view.sections.setAll(collapsed);
    this.view.request();
  }

  sync() {
    const none = this.view.sections.list.length === 0;
    for (const b of this.buttons) if (b.disabled !== none) b.disabled = none;
  }
}

/** The `count` longest silences of a log: [{line, gap}] (the row that ended each, and its gap in ms), longest first. */
export function slowestGaps(times, count = 10) {
  const top = [];  // ascending by gap, at most `count`
  for (let i = 1; i < times.length; i++) {
    const gap = times[i] - times[i - 1];
    if (top.length === count && gap <= top[0].gap) continue;
    let k = 0;
    while (k < top.length && top[k].gap < gap) k++;
    top.splice(k, 0, { line: i, gap });
    if (top.length > count) top.shift();
  }
  return top.reverse();
}

/** "Slowest gaps": the top ten, computed when the list is opened; a click goes to the row. */
export class GapList {
  constructor(view, { details, list }, format) {
    this.view = view;
    this.list = list;
    this.format = format;
    details.addEventListener('toggle', () => { if (details.open) this.fill(); });
    list.addEventListener('click', (e) => {
      const item = e.target.closest('[data-line]');
      if (!item) return;
      const i = Number(item.dataset.line);
      view.revealLine(i);
      view.setHighlight({ from: i - 1, to: i });  // the last row before the silence and the first after
      details.open = false;
    });
  }

  fill() {
    const store = this.view.store;
    const items = slowestGaps(store.times).filter((g) => g.gap > 0).map(({ line, gap }) => {
      const li = document.createElement('li');
      const button = Object.assign(document.createElement('button'), { type: 'button', className: 'gap' });
      button.dataset.line = line;
      const head = this.view.sections.headerAt(line);
      const text = (head ? head.title : store.plain(line)).trim().slice(0, 80);
      button.append(Object.assign(document.createElement('b'), { textContent: this.format(gap) }),
        ` before line ${line + 1}`, Object.assign(document.createElement('span'), { textContent: text }));
      li.append(button);
      return li;
    });
    if (!items.length) items.push(Object.assign(document.createElement('li'), { textContent: 'no gaps yet' }));
    this.list.replaceChildren(...items);
  }
}

const WRAP_KEY = 'tailapp.wrap';

/** Wrap long rows or scroll sideways; the choice is remembered across pages. */
export class WrapToggle {
  constructor(view, checkbox) {
    let on = false;
    try { on = localStorage.getItem(WRAP_KEY) === '1'; } catch { /* storage disabled */ }
    checkbox.checked = on;
    view.setWrap(on);
    checkbox.addEventListener('change', () => {
      try { localStorage.setItem(WRAP_KEY, checkbox.checked ? '1' : '0'); } catch { /* storage disabled */ }
      view.setWrap(checkbox.checked);
    });
  }
}
