// Line permalinks: #L12 and #L12-L20, set by clicking line numbers (shift-click for a range).

/** {from, to} line indices (0-based) from "#L12" or "#L12-L20", else null. */
export function parseHash(hash) {
  const m = /^#L(\d+)(?:-L?(\d+))?$/.exec(hash || '');
  if (!m) return null;
  const a = Number(m[1]) - 1;
  const b = m[2] ? Number(m[2]) - 1 : a;
  if (a < 0 || b < 0) return null;
  return { from: Math.min(a, b), to: Math.max(a, b) };
}

/** "#L12" or "#L12-L20" for a range of line indices. */
export function formatHash({ from, to }) {
  return from === to ? `#L${from + 1}` : `#L${from + 1}-L${to + 1}`;
}

/** Keeps the highlighted range, the URL hash and the scroll position in step. */
export class Permalinks {
  constructor(view) {
    this.view = view;
    this.anchor = null;
    this.pending = null;
    view.spacer.addEventListener('click', (e) => this.onClick(e));
    window.addEventListener('hashchange', () => this.load(location.hash));
    view.onFrame(() => this.tryReveal());
    this.load(location.hash);
  }

  /** Highlight the range in `hash` and scroll to it as soon as its first line exists. */
  load(hash) {
    const range = parseHash(hash);
    if (!range) return;
    this.anchor = range.from;
    this.pending = range;
    this.view.follow = false;
    this.view.setHighlight(range);
  }

  tryReveal() {
    if (!this.pending || this.view.store.length <= this.pending.from) return;
    const { from } = this.pending;
    this.pending = null;
    this.view.revealLine(from);
  }

  onClick(e) {
    const a = e.target.closest('a.num');
    if (!a) return;
    e.preventDefault();
    const i = Number(a.dataset.n) - 1;
    const range = e.shiftKey && this.anchor != null
      ? { from: Math.min(this.anchor, i), to: Math.max(this.anchor, i) }
      : { from: i, to: i };
    if (!e.shiftKey) this.anchor = i;
    history.replaceState(null, '', formatHash(range));
    this.view.follow = false;
    this.view.setHighlight(range);
  }
}
